//! First run and the sign-in screen: the server address setting, and the NIK checked by
//! the core's rule through the real command pipe.

use crate::harness::App;
use crate::world::World;

#[test]
fn first_run_asks_for_the_server_then_signs_in() {
    let world = World::new("first-run");
    let app = App::launch("first-run");
    assert_eq!(app.title(), "MyIntress Satker", "window title");
    app.wait_for_text("h2", "Selamat datang di MyIntress Satker");
    app.wait_for_text("[data-testid=versi]", env!("CARGO_PKG_VERSION"));
    // A build without the publisher's update key says so instead of pretending to check.
    app.wait_for_text("[data-testid=pembaruan-tidak-diatur]", "Pembaruan otomatis tidak diatur");
    app.screenshot("first-run");

    // An address nobody answers at is refused with a clear message.
    let field = app.find("#server");
    field.clear();
    field.type_text("http://127.0.0.1:9");
    app.click("form button.tombol.utama");
    app.wait_for_page_text("Server pusat tidak menjawab di alamat ini");

    field.clear();
    field.type_text(&world.url());
    app.click("form button.tombol.utama");
    app.wait_for_text("h2", "Masuk");

    // The NIK step uses the core's rule: an impossible birth date is refused at once.
    app.type_into("#nik", "3171013201900001");
    app.click("#selanjutnya");
    app.wait_for_text("[data-testid=masuk-salah]", "NIK harus 16 digit angka dengan tanggal lahir yang valid");
    app.screenshot("nik-refused");
}

#[test]
fn wrong_password_reads_the_same_as_an_unknown_nik() {
    let world = World::new("wrong-password");
    let kppn = world.verifier("019");
    let app = App::launch_with("wrong-password", Some(&world.url()));
    for nik in [kppn.nik.as_str(), "3171011201999999"] {
        app.type_into("#nik", nik);
        app.click("#selanjutnya");
        app.type_into("#password", "bukan-kata-sandinya");
        app.type_into("#captcha", "kode");
        app.click("#masuk");
        app.wait_for_text("[data-testid=masuk-salah]", "NIK atau kata sandi salah");
        app.click("p.bantuan button");
        app.find("#nik").clear();
    }
}
