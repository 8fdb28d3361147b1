//! The account side seen from the desk: "Lupa kata sandi?" in the app, the e-mailed link
//! opened in a real browser (headless Chromium) to set a new password, and back in the app
//! a sign-in with it. A person active in two satkers picks one, switches, restarts the
//! app and is still in it; a central operator manages verifiers in Administrasi.

use crate::flows::{go, sign_in};
use crate::harness::App;
use crate::world::{OPERATOR_PASSWORD, World};
use myintress_testkit::Registration;
use myintress_testkit::webdriver::Chromium;

#[test]
fn a_forgotten_password_is_reset_through_the_e_mailed_link() {
    let world = World::new("lupa-sandi");
    let kppn = world.verifier("019");
    let me: myintress_core::api::Me = world.block_on(kppn.get_json("/api/v1/me"));
    let app = App::launch_with("lupa-sandi", Some(&world.url()));

    app.wait_for_text("h2", "Masuk");
    app.click("#lupa");
    app.type_into("#nik-lupa", &kppn.nik);
    app.type_into("#captcha-lupa", "kode");
    app.screenshot("lupa-sandi");
    app.click("#kirim-tautan");
    app.wait_for_text("[data-testid=tautan-terkirim]", "Permintaan diterima");

    // The link went to the account's e-mail; a browser sets the new password.
    let link = world.block_on(world.server.reset_link(&me.account.email)).expect("the reset e-mail");
    let chromium = Chromium::start();
    let page = &chromium.session;
    page.navigate(&link);
    page.wait_for_text("h1", "Atur ulang kata sandi MyIntress");
    page.find("#password").type_text("Sandi#Baru#KPPN2026");
    page.find("#password_confirmation").type_text("Sandi#Baru#KPPN2026");
    page.find("button[type=submit]").click();
    page.wait_for_text("h1", "Kata sandi berhasil diganti");
    drop(chromium);

    // Back in the app: the new password signs in.
    app.click("[data-testid=kembali-masuk]");
    app.find("#nik").clear();
    sign_in(&app, &kppn.nik, "Sandi#Baru#KPPN2026");
    app.wait_for_text("h2", "Beranda");
    app.screenshot("masuk-sandi-baru");
}

#[test]
fn a_person_in_two_satkers_switches_and_the_choice_survives_a_restart() {
    let world = World::new("dua-satker");
    let kppn = world.verifier("019");
    let operator = world.block_on(world.server.operator(&kppn, "019001", 41));
    // The KPPN registers the same person in a second satker: active there at once.
    world.register(&kppn, &Registration::new(41, "019002"));
    let app = App::launch_with("dua-satker", Some(&world.url()));

    // At sign-in the person picks a satker, shown by name.
    app.type_into("#nik", &operator.nik);
    app.click("#selanjutnya");
    app.type_into("#password", OPERATOR_PASSWORD);
    app.type_into("#captcha", "kode");
    app.click("#masuk");
    app.wait_for_text("[data-satker='019002']", "Satker Dua");
    app.screenshot("pilih-satker");
    app.click("[data-satker='019002']");
    app.wait_for_text("[data-testid=pengguna]", "019002 · Satker Dua");
    go(&app, "tambah");
    assert_eq!(app.value("#unit"), "019002", "Unit Kerja is the chosen satker");

    // Switched from the header, without signing out.
    app.select("#ganti-satker", "019001");
    app.wait_for_text("[data-testid=pengguna]", "019001 · Satker Satu");
    go(&app, "beranda");
    go(&app, "tambah");
    assert_eq!(app.value("#unit"), "019001");

    // After a restart: still signed in, still in the satker chosen last.
    let app = app.restart();
    app.wait_for_text("[data-testid=pengguna]", "019001 · Satker Satu");
    go(&app, "tambah");
    assert_eq!(app.value("#unit"), "019001");
    app.screenshot("satker-setelah-mulai-ulang");
}

#[test]
fn an_administrator_adds_and_disables_verifiers() {
    let world = World::new("administrasi");
    let admin = world.block_on(world.server.admin());
    let leaving = world.verifier("019");
    let app = App::launch_with("administrasi", Some(&world.url()));
    sign_in(&app, &admin.nik, myintress_testkit::ADMIN_PASSWORD);
    app.wait_for_text("h2", "Administrasi");
    app.wait_for_text("[data-testid=pengguna]", "Pengelola pusat");
    assert_eq!(app.count("[data-nav=daftar]") + app.count("[data-nav=verifikasi]"), 0, "no membership screens");

    // A new verifier: a mistake is named beside its field, then the activation link goes out.
    app.type_into("#v-nik", "3171014101900004");
    app.type_into("#v-nama", "Dewi Lestari");
    app.type_into("#v-email", "dewi.lestari@");
    app.select("#v-kppn", "020");
    app.click("#v-supervisor");
    app.click("#v-simpan");
    app.wait_for_page_text("Format email tidak valid");
    app.find("#v-email").type_text("kemenkeu.go.id");
    app.click("#v-simpan");
    let row = "tr[data-nik='3171014101900004']";
    app.wait_for_text(&format!("{row} [data-testid=status-verifikator]"), "Menunggu aktivasi");
    assert!(app.find(row).text().contains("Supervisor"));
    assert!(world.block_on(world.server.activation_link("dewi.lestari@kemenkeu.go.id")).is_some(), "the activation e-mail");

    // Disabling is asked twice; the verifier's session ends at once.
    let row = format!("tr[data-nik='{}']", leaving.nik);
    app.click(&format!("{row} [data-act=nonaktifkan]"));
    app.click(&format!("{row} [data-act=nonaktifkan-ya]"));
    app.wait_for_text(&format!("{row} [data-testid=status-verifikator]"), "Nonaktif sejak");
    assert_eq!(world.block_on(leaving.get("/api/v1/me")).status().as_u16(), 401);
    app.screenshot("administrasi");
}
