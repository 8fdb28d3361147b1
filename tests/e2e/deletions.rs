//! Deletion requests through the app (replacing the juknis' helpdesk ticket): a satker
//! operator asks the KPPN to delete a rejected user, with the request letter; the KPPN
//! finds it in the Antrean with the letter beside it, deletes the user with the existing
//! form (the satker's reason prefilled), and the row leaves Daftar Pengguna on both sides.

use myintress_core::api::{DeletionRequest, DeletionRequestState, Page};
use myintress_testkit::Registration;

use crate::flows::{go, sign_in, sign_out, statuses_of, wait_synced};
use crate::harness::App;
use crate::world::{KPPN_PASSWORD, OPERATOR_PASSWORD, World};

#[test]
fn a_satker_asks_for_a_deletion_and_the_kppn_deletes() {
    let world = World::new("minta-hapus");
    let kppn = world.verifier("019");
    let operator = world.block_on(world.server.operator(&kppn, "019001", 1));
    let rejected = world.register(&operator, &Registration::new(20, "019001"));
    let response = world.block_on(kppn.act(rejected.id, "reject", Some("Surat tugas tidak lengkap")));
    assert_eq!(response.status().as_u16(), 200);

    // The satker asks, from the row in Daftar Pengguna.
    let app = App::launch_with("minta-hapus", Some(&world.url()));
    sign_in(&app, &operator.nik, OPERATOR_PASSWORD);
    wait_synced(&app);
    assert_eq!(statuses_of(&app, &rejected.nik), vec!["5"]);
    app.click("[data-testid=minta-hapus]");
    app.wait_for_text("h2", "Permintaan Penghapusan Pengguna");
    app.type_into("#alasan-hapus", "Pegawai pindah tugas ke satker lain");
    app.type_into("#nomor-sk", "ND-20/SATKER/2026");
    app.pick_file("#surat-permohonan-pilih", "Pilih dokumen PDF", &world.letter_file(20, "ND-20/SATKER/2026"));
    app.wait_for_text("[data-testid=surat-permohonan-nama]", "ND-20");
    app.screenshot("minta-hapus-formulir");
    app.click("#kirim-hapus");
    app.wait_for_text("h2", "Daftar Pengguna");
    wait_synced(&app);
    statuses_of(&app, &rejected.nik);
    app.wait_count("[data-testid=hapus-diminta]", 1);
    app.screenshot("minta-hapus-terkirim");
    let open: Page<DeletionRequest> = world.block_on(kppn.get_json("/api/v1/deletion-requests?status=open"));
    assert_eq!(open.items.len(), 1, "the request reached the server");
    sign_out(&app);

    // The KPPN sees it in the Antrean with the request letter, and deletes the user.
    sign_in(&app, &kppn.nik, KPPN_PASSWORD);
    go(&app, "verifikasi");
    app.wait_for_text("[data-testid=antrean-hapus]", "Permintaan penghapusan");
    app.wait_for_text("[data-testid=permintaan-hapus]", "Pegawai pindah tugas ke satker lain");
    // The request letter is drawn beside it, its number marked.
    app.wait_count(".textLayer .sorot-letter_number", 1);
    app.screenshot("minta-hapus-antrean");
    app.click("#hapus-diminta");
    app.wait_for_text("h2", "Penghapusan Pengguna");
    assert_eq!(app.value("#alasan-hapus"), "Pegawai pindah tugas ke satker lain", "the satker's reason, prefilled");
    app.type_into("#nomor-sk", "SK-20/KPPN.019/2026");
    app.pick_file("#sk-pilih", "Pilih dokumen PDF", &world.letter_file(901, "SK-20"));
    app.wait_for_text("[data-testid=sk-nama]", "SK-20");
    app.click("#kirim-hapus");
    app.wait_for_text("[data-testid=antrean-kosong]", "Tidak ada pendaftaran");
    wait_synced(&app);
    app.screenshot("minta-hapus-dihapus");
    let done: Page<DeletionRequest> = world.block_on(kppn.get_json("/api/v1/deletion-requests?status=done"));
    assert_eq!(done.items.iter().map(|d| d.state).collect::<Vec<_>>(), vec![DeletionRequestState::Done]);
    assert!(statuses_of(&app, &rejected.nik).is_empty(), "the deleted row is gone");
}
