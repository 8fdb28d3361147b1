//! What a person does, step by step, on the app's screens.

use std::path::Path;
use std::time::Duration;

use myintress_testkit::resident;

use crate::harness::{App, wait_for};

/// Masuk: NIK → "Selanjutnya" → password and captcha → "Masuk dan Izinkan Akses".
pub fn sign_in(app: &App, nik: &str, password: &str) {
    app.type_into("#nik", nik);
    app.click("#selanjutnya");
    app.type_into("#password", password);
    app.type_into("#captcha", "kode");
    app.click("#masuk");
    app.find("[data-testid=pengguna]");
}

/// "Keluar", once every action reached the server.
pub fn sign_out(app: &App) {
    wait_synced(app);
    app.click(".bilah button.tombol.kecil");
    app.find("#selanjutnya");
}

/// Waits until the outbox is empty and the app is online.
pub fn wait_synced(app: &App) {
    app.click("[data-nav=sinkronisasi]");
    app.click("#sinkron-sekarang");
    app.wait_for_text("[data-testid=status-sinkron]", "Daring");
    wait_for("the outbox to empty", Duration::from_secs(30), || (app.count("[data-testid=antrean-kirim-kosong]") == 1).then_some(()));
}

pub fn go(app: &App, screen: &str) {
    app.click(&format!("[data-nav={screen}]"));
}

/// Tambah Pengguna for resident `n`: NIK and "Cari", the form, the letter from the native
/// dialog, "Kirim". `satker` is chosen for a KPPN verifier (an operator's is fixed).
pub fn register(app: &App, n: u32, satker: Option<&str>, number: &str, letter: &Path, email: &str) {
    let (nik, name) = resident(n);
    go(app, "tambah");
    app.type_into("#nik", &nik);
    app.click("#cari");
    app.wait_for_text("[data-testid=digit]", "DIGIT");
    // Found in DIGIT: the name is filled in (and, for a KPPN verifier, the e-mail; a satker
    // operator sees it masked and types it).
    if app.value("#nama").is_empty() {
        app.type_into("#nama", &name);
    }
    if app.value("#email").is_empty() {
        app.type_into("#email", email);
    }
    app.type_into("#telp", "0812 3456 7890");
    if let Some(code) = satker {
        app.select("#unit", code);
    }
    app.type_into("#nost", number);
    app.pick_file("#surat-pilih", "Pilih dokumen PDF", letter);
    app.wait_for_text("[data-testid=surat-nama]", letter.file_name().unwrap().to_str().unwrap());
    app.click("#kirim");
    app.wait_for_text("h2", "Daftar Pengguna");
}

/// Searches Daftar Pengguna and returns the status codes of the rows shown, in order.
pub fn statuses_of(app: &App, nik: &str) -> Vec<String> {
    go(app, "daftar");
    let field = app.find("#cari");
    field.clear();
    field.type_text(nik);
    // Each keystroke queries the store; the list shows the whole NIK's rows once its
    // answer arrived.
    app.wait_count(&format!("[data-testid=daftar-badan][data-cari=\"{nik}\"]"), 1);
    let script = "return Array.from(document.querySelectorAll('[data-testid=baris] [data-status]')).map(e => e.dataset.status);";
    let value =
        app.session().call(reqwest::Method::POST, "/execute/sync", Some(serde_json::json!({"script": script, "args": []}))).unwrap();
    value.as_array().unwrap().iter().map(|v| v.as_str().unwrap_or_default().to_owned()).collect()
}
