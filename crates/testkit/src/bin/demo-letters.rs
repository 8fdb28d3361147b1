//! Rewrites the demo's signed letters (`crates/server/demo/`): the assignment letters of
//! two pending demo requests, signed by pyHanko under a fresh demo CA made by openssl, the
//! second changed by an incremental update after signing. Run by `cargo xtask
//! demo-letters` (which sets `MYINTRESS_TEST_PYHANKO`); the demo server trusts the CA.

use myintress_server::demo::{assignment_letter, residents, signed};
use myintress_testkit::signed::make_signed_corpus;

fn main() {
    let out = std::path::PathBuf::from(std::env::args().nth(1).expect("usage: demo-letters <folder>"));
    let people = residents();
    let letter_of = |(person, number): (usize, &str)| {
        let p = &people[person];
        assignment_letter(&p.nik, p.name, number, signed::SATKER_NAME)
    };
    let work = std::env::temp_dir().join(format!("myintress-demo-letters-{}", std::process::id()));
    let corpus = make_signed_corpus(&work, &letter_of(signed::INTACT));
    let (_, tampered) = corpus.sign_another(&letter_of(signed::TAMPERED), "diubah");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("tte-demo.pem"), corpus.trusted_ca()).unwrap();
    std::fs::write(out.join("surat-tugas-ttd.pdf"), corpus.read("satu.pdf")).unwrap();
    std::fs::write(out.join("surat-tugas-ttd-diubah.pdf"), tampered).unwrap();
    std::fs::remove_dir_all(&work).unwrap();
    println!("Surat bertanda tangan demo ditulis ke {}", out.display());
}
