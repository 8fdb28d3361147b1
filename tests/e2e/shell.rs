//! The window opens with the UI shell and the NIK check answers through the real
//! command, with the core's rule and its Indonesian text.

use crate::harness::App;

#[test]
fn app_window_shows_the_shell_in_indonesian() {
    let app = App::launch("shell");
    assert_eq!(app.title(), "MyIntress Satker", "window title");
    assert_eq!(app.find("h1").text(), "MyIntress Satker");
    // The version comes from Rust over IPC: the command pipe works.
    app.wait_for_text("[data-testid=versi]", env!("CARGO_PKG_VERSION"));
    app.screenshot("opened");
}

#[test]
fn nik_check_uses_the_core_rule() {
    let app = App::launch("nik-check");
    let field = app.find("#nik");

    // 16 digits with an impossible birth date (day 32): refused with the contract's text.
    field.type_text("3171013201900001");
    app.wait_for_text("[data-testid=nik-error]", "NIK harus 16 digit angka dengan tanggal lahir yang valid");
    assert_eq!(field.attribute("aria-invalid").as_deref(), Some("true"));

    // A woman's NIK (day + 40): the facts read back in Indonesian.
    field.clear();
    field.type_text("3171 0152 0190 0002");
    let facts = app.wait_for_text("[data-testid=nik-facts]", "Perempuan");
    assert!(facts.contains("12 Januari 1990"), "{facts}");
    assert!(facts.contains("3171 0152 0190 0002"), "{facts}");
    app.screenshot("valid-nik");
}
