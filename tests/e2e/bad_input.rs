//! Bad input on Tambah Pengguna: a file that is not a PDF, a PDF over 5 MB, a NIK with an
//! impossible date. Each gets a clear message at once, and nothing is queued.

use myintress_testkit::resident;

use crate::flows::{go, sign_in};
use crate::harness::App;
use crate::world::{KPPN_PASSWORD, World};

#[test]
fn bad_files_and_a_bad_nik_are_refused_at_once() {
    let world = World::new("bad-input");
    let kppn = world.verifier("019");
    let app = App::launch_with("bad-input", Some(&world.url()));
    sign_in(&app, &kppn.nik, KPPN_PASSWORD);
    go(&app, "tambah");

    let not_pdf = world.file("foto-ktp.pdf", b"\x89PNG\r\n\x1a\n bukan dokumen");
    app.pick_file("#surat-pilih", "Pilih dokumen PDF", &not_pdf);
    app.wait_for_text("[data-testid=surat-salah]", "Dokumen ST harus berupa file PDF");

    let mut big = b"%PDF-1.7\n".to_vec();
    big.resize(6 * 1024 * 1024, b'0');
    let big = world.file("surat-6mb.pdf", &big);
    app.pick_file("#surat-pilih", "Pilih dokumen PDF", &big);
    app.wait_for_text("[data-testid=surat-salah]", "Ukuran dokumen ST maksimal 5MB");
    assert_eq!(app.count("[data-testid=surat-nama]"), 0, "nothing chosen");

    app.type_into("#nik", "3171013201900001");
    app.wait_for_text("[data-testid=salah-nik]", "NIK harus 16 digit angka dengan tanggal lahir yang valid");
    app.type_into("#nama", &resident(5).1);
    app.click("#kirim");
    app.wait_for_text("[data-testid=surat-salah]", "Pilih dokumen PDF terlebih dahulu");
    app.screenshot("isian-salah");

    go(&app, "sinkronisasi");
    app.wait_for_text("[data-testid=antrean-kirim-kosong]", "Semua tindakan sudah terkirim");
    go(&app, "daftar");
    app.wait_for_text("[data-testid=jumlah-baris]", "0 pengguna");
}

/// Online, Tambah Pengguna checks the NIK and name while they are typed, before a letter is
/// chosen: a name the civil registry does not hold is explained beside the field (the typed
/// words, found or not, never the registry's spelling); the corrected name is confirmed.
#[test]
fn a_name_the_registry_does_not_hold_is_explained_while_typing() {
    let world = World::new("name-explained");
    let kppn = world.verifier("019");
    let app = App::launch_with("name-explained", Some(&world.url()));
    sign_in(&app, &kppn.nik, KPPN_PASSWORD);
    go(&app, "tambah");
    app.select("#unit", "019001");
    let (nik, name) = resident(6);
    app.type_into("#nik", &nik);
    app.type_into("#nama", "Drs. Bambang Sutrisno");
    app.wait_for_text("[data-testid=salah-name]", "Nama lengkap tidak valid");
    let why = app.wait_for_text("[data-testid=penjelasan-nama]", "bambang sutrisno");
    assert!(why.contains("gelar Drs."), "{why}");
    assert!(!why.to_lowercase().contains(&name.to_lowercase()), "the registry's spelling stays hidden: {why}");
    app.screenshot("penjelasan-nama");

    app.find("#nama").clear();
    app.type_into("#nama", &name);
    app.wait_for_text("[data-testid=nama-sesuai]", "Sesuai data DUKCAPIL");
    assert_eq!(app.count("[data-testid=penjelasan-nama]"), 0, "the explanation goes once the name matches");
}

/// Sent anyway with the wrong name, the registration is refused after it was queued: in
/// Sinkronisasi the refusal shows its explanation and "Perbaiki" opens it again in the
/// form, filled in with its letter; the corrected one replaces the refusal and lands.
#[test]
fn a_refused_registration_is_corrected_in_its_form() {
    let world = World::new("perbaiki");
    let kppn = world.verifier("019");
    let app = App::launch_with("perbaiki", Some(&world.url()));
    sign_in(&app, &kppn.nik, KPPN_PASSWORD);
    go(&app, "tambah");
    let (nik, name) = resident(7);
    app.select("#unit", "019001");
    app.type_into("#nik", &nik);
    app.type_into("#nama", "Bambang Sutrisno");
    app.type_into("#telp", "0812 3456 7890");
    app.type_into("#email", "warga7@satker.go.id");
    app.type_into("#nost", "ST-0007/2026");
    let letter = world.letter_file(7, "ST-0007/2026");
    app.pick_file("#surat-pilih", "Pilih dokumen PDF", &letter);
    app.wait_for_text("[data-testid=surat-nama]", "surat-7");
    app.click("#kirim");
    app.wait_for_text("h2", "Daftar Pengguna");

    go(&app, "sinkronisasi");
    app.click("#sinkron-sekarang");
    app.wait_for_text("[data-testid=kirim-conflict]", "Nama lengkap tidak valid");
    app.wait_for_text("[data-testid=kirim-conflict] [data-testid=penjelasan-nama]", "bambang sutrisno");
    app.screenshot("sinkronisasi-penjelasan");
    app.click("[data-testid=perbaiki]");
    app.wait_for_text("h2", "Tambah Pengguna");
    app.wait_for_text("[data-testid=surat-nama]", "ST-0007-2026");
    assert_eq!(app.value("#nama"), "Bambang Sutrisno");
    assert_eq!(app.value("#nost"), "ST-0007/2026");
    app.find("#nama").clear();
    app.type_into("#nama", &name);
    app.screenshot("perbaiki");
    app.click("#kirim");
    app.wait_for_text("h2", "Daftar Pengguna");
    crate::flows::wait_synced(&app);
    assert_eq!(crate::flows::statuses_of(&app, &nik), vec!["2"], "registered once, through the KPPN");
}
