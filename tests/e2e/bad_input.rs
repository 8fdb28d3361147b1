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
