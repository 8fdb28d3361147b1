//! Signed letters in the app (docs/rules.md, "Signed letters"): beside the letter in Verifikasi
//! the verifier reads each electronic signature's verdict — "dokumen utuh" for a letter
//! signed under the server's trust list, the refusal text for one changed after signing —
//! and a letter chosen in Tambah Pengguna gets the same verdict on the desktop, from the
//! trust list the app fetched from the server. Letters signed by pyHanko under a test CA.

use myintress_testkit::Registration;
use myintress_testkit::signed::make_signed_corpus;

use crate::flows::{go, sign_in, wait_synced};
use crate::harness::App;
use crate::world::{KPPN_PASSWORD, World};

#[test]
fn a_signed_letter_is_intact_and_a_tampered_one_is_refused() {
    let corpus_dir = myintress_testkit::scratch_dir().join(format!("myintress-e2e-berkas-ttd-{}", std::process::id()));
    let signed_for = |n: u32| {
        let (nik, name) = myintress_testkit::resident(n);
        myintress_testkit::letter(&nik, &name, &format!("ST-{n:04}/UJI/2026"))
    };
    let corpus = make_signed_corpus(&corpus_dir, &signed_for(30));
    let (_, tampered) = corpus.sign_another(&signed_for(31), "warga-31");
    let trust_dir = corpus.trust_dir();
    let world = World::with("ttd", |s| s.trust_dir = Some(trust_dir.clone()));
    let kppn = world.verifier("019");
    let operator = world.block_on(world.server.operator(&kppn, "019001", 32));
    let intact = world.register(&operator, &Registration::new(30, "019001").letter(corpus.read("satu.pdf")));
    world.register(&operator, &Registration::new(31, "019001").letter(tampered));

    let app = App::launch_with("ttd", Some(&world.url()));
    sign_in(&app, &kppn.nik, KPPN_PASSWORD);
    wait_synced(&app);
    go(&app, "verifikasi");
    // The oldest request first: the intact letter.
    app.wait_for_text("[data-testid=verifikasi-data] h3", &intact.name);
    app.wait_for_text("[data-testid=tanda-tangan][data-verdict=valid]", "Ditandatangani secara elektronik oleh Budi Santoso");
    app.wait_for_text("[data-testid=tanda-tangan][data-verdict=valid]", "dokumen utuh");
    app.wait_count(".textLayer .sorot-nik", 1);
    app.screenshot("utuh");
    app.press("j");
    app.wait_for_text("[data-testid=tanda-tangan][data-verdict=invalid]", "tanda tangan tidak sah: dokumen diubah setelah ditandatangani");
    app.screenshot("diubah");

    // The same verdict on the desktop, for a letter chosen here (the trust list came with
    // the sync), before anything is sent.
    go(&app, "tambah");
    let two_signatures = world.file("ttd-dua.pdf", &corpus.read("dua.pdf"));
    app.pick_file("#surat-pilih", "Pilih dokumen PDF", &two_signatures);
    app.wait_for_text("[data-testid=surat-nama]", "ttd-dua.pdf");
    app.wait_count("[data-testid=tanda-tangan][data-verdict=valid]", 2);
    app.screenshot("tambah");
    let _ = std::fs::remove_dir_all(&corpus_dir);
}
