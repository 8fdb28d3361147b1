//! The whole story of the guide, by hand through the app: a KPPN verifier registers a
//! satker user (status 2); that user, once activated, registers a colleague (status 1);
//! the verifier approves one with the letter on screen (the marks found) and rejects
//! another with a reason; the satker registers the rejected person again and sees the
//! Ali-style rows; the verifier deletes the rejected row with an SK, and it disappears.

use myintress_testkit::resident;

use crate::flows::{go, register, sign_in, sign_out, statuses_of, wait_synced};
use crate::harness::App;
use crate::world::{KPPN_PASSWORD, OPERATOR_PASSWORD, World};

#[test]
fn registration_verification_rejection_and_deletion() {
    let world = World::new("story");
    let kppn = world.verifier("019");
    let app = App::launch_with("story", Some(&world.url()));

    // 1. The KPPN registers the satker's first user: active at once.
    sign_in(&app, &kppn.nik, KPPN_PASSWORD);
    app.screenshot("01-beranda-kppn");
    register(&app, 1, Some("019001"), "ST-0001", &world.letter_file(1, "ST-0001"), "operator1@satker.go.id");
    assert_eq!(statuses_of(&app, &resident(1).0), vec!["2"], "route A: 2 Aktif");
    app.screenshot("02-terdaftar-aktif");
    wait_synced(&app);

    // 2. That user activates the DIGIT account (the e-mailed link) and signs in.
    world.activate("operator1@satker.go.id", OPERATOR_PASSWORD);
    sign_out(&app);
    sign_in(&app, &resident(1).0, OPERATOR_PASSWORD);

    // 3. The satker registers two colleagues itself: they wait for the KPPN.
    register(&app, 2, None, "ST-0002", &world.letter_file(2, "ST-0002"), "warga2@satker.go.id");
    register(&app, 3, None, "ST-0003", &world.letter_file(3, "ST-0003"), "warga3@satker.go.id");
    assert_eq!(statuses_of(&app, &resident(2).0), vec!["1"], "route B: 1 Terdaftar, belum disetujui");
    app.screenshot("03-mandiri-menunggu");
    sign_out(&app);

    // 4. The verifier approves one with the letter beside the data, rejects the other.
    sign_in(&app, &kppn.nik, KPPN_PASSWORD);
    go(&app, "verifikasi");
    app.wait_for_text("[data-testid=verifikasi-data] h3", &resident(2).1);
    app.wait_for_text("[data-testid=tanda-nik]", "NIK ditemukan");
    app.wait_for_text("[data-testid=tanda-name]", "Nama ditemukan");
    app.wait_for_text("[data-testid=tanda-letter_number]", "No. ST ditemukan");
    // The NIK, name and letter number are marked where they occur on the letter.
    app.wait_count(".textLayer .sorot-nik", 1);
    app.wait_count(".textLayer .sorot-name", 1);
    app.screenshot("04-verifikasi-pratinjau");
    app.click("#setujui");
    app.wait_for_text("[data-testid=verifikasi-data] h3", &resident(3).1);
    app.click("#tolak");
    app.select("#alasan-umum", "Nomor surat tidak sesuai dengan isian No. ST");
    app.screenshot("05-tolak-alasan");
    app.click("#konfirmasi-alasan");
    app.wait_for_text("[data-testid=antrean-kosong]", "Tidak ada pendaftaran");
    assert_eq!(statuses_of(&app, &resident(2).0), vec!["2"]);
    assert_eq!(statuses_of(&app, &resident(3).0), vec!["5"]);
    sign_out(&app);

    // 5. The satker registers the rejected person again: both rows show (Tip 4).
    sign_in(&app, &resident(1).0, OPERATOR_PASSWORD);
    register(&app, 3, None, "ST-0003-REVISI", &world.letter_file(3, "ST-0003-REVISI"), "warga3@satker.go.id");
    assert_eq!(statuses_of(&app, &resident(3).0), vec!["5", "1"], "Ali 5, Ali 1");
    app.screenshot("06-baris-ali");
    // The reason is in the row, as in the guide's table ("5 – ditolak dengan alasan: …").
    app.wait_count("[data-testid=alasan-tolak]", 1);
    let whole = app.find("[data-testid=alasan-tolak]").attribute("title").unwrap_or_default();
    assert_eq!(whole, "5 – ditolak dengan alasan: Nomor surat tidak sesuai dengan isian No. ST");
    sign_out(&app);

    // 6. The verifier deletes the rejected row with an SK; it leaves Daftar Pengguna.
    sign_in(&app, &kppn.nik, KPPN_PASSWORD);
    let rows = statuses_of(&app, &resident(3).0);
    assert_eq!(rows, vec!["5", "1"]);
    app.click("[data-testid=baris] button.nama");
    app.wait_for_text("[data-testid=detail-nama]", &resident(3).1);
    app.click("#hapus");
    app.type_into("#alasan-hapus", "Permintaan penghapusan dari satker");
    app.type_into("#nomor-sk", "SK-7/KPPN.019/2026");
    app.pick_file("#sk-pilih", "Pilih dokumen PDF", &world.letter_file(900, "SK-7"));
    app.wait_for_text("[data-testid=sk-nama]", "SK-7");
    app.screenshot("07-penghapusan");
    app.click("#kirim-hapus");
    app.wait_for_text("h2", "Daftar Pengguna");
    wait_synced(&app);
    assert_eq!(statuses_of(&app, &resident(3).0), vec!["1"], "the deleted row is gone");
    app.screenshot("08-setelah-hapus");
}
