//! The account side seen from the desk: "Lupa kata sandi?" in the app, the e-mailed link
//! opened in a real browser (headless Chromium) to set a new password, and back in the app
//! a sign-in with it.

use crate::flows::sign_in;
use crate::harness::App;
use crate::world::World;
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
