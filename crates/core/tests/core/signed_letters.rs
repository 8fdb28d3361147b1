//! Signed letters (docs/rules.md, "Signed letters"): every verdict of the signature check on PDFs made fresh here
//! with real tools — a test CA and signers (openssl), signatures by pyHanko (RSA, ECDSA
//! P-256 and P-384, two signatures, a signer under an unknown CA, an incremental update
//! after signing), the same files damaged the ways an attacker would (a `/ByteRange` that
//! skips bytes, a swapped message digest), and letters carrying QR codes (qrencode,
//! img2pdf, a 300 dpi scan by Ghostscript) pointing inside and outside `go.id`.

use std::path::Path;
use std::sync::OnceLock;

use myintress_core::pdf::check;
use myintress_core::signature::{SignatureCheck, TrustList, Verdict, evaluate_all};

use crate::signed;

struct Corpus {
    files: signed::SignedCorpus,
    trust: TrustList,
}

fn corpus() -> &'static Corpus {
    static CORPUS: OnceLock<Corpus> = OnceLock::new();
    CORPUS.get_or_init(|| {
        // Under Cargo's per-target scratch folder: cleared at the start of the next run.
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("signed-letters");
        std::fs::create_dir_all(&dir).unwrap();
        // The letter, as Ghostscript writes a simple page.
        let ps = dir.join("surat.ps");
        std::fs::write(
            &ps,
            "/Helvetica findfont 12 scalefont setfont\n72 720 moveto (SURAT TUGAS Nomor: ST-9/KPPN/2026) show\n\
             72 700 moveto (Nama : Budi Santoso  NIK : 3171011203880001) show\nshowpage\n",
        )
        .unwrap();
        let out = dir.join("surat-awal.pdf");
        let made = std::process::Command::new("gs").args(["-q", "-sDEVICE=pdfwrite", "-o"]).arg(&out).arg(&ps).status();
        assert!(made.is_ok_and(|s| s.success()), "ghostscript is not installed; `cargo xtask test` installs it");
        let letter = std::fs::read(&out).unwrap();
        let files = signed::make_signed_corpus(&dir.join("berkas"), &letter);
        let trust = TrustList::from_pem(&[files.trusted_ca()]);
        Corpus { files, trust }
    })
}

fn verdicts(name: &str) -> Vec<SignatureCheck> {
    let c = corpus();
    let bytes = c.files.read(name);
    let report = check(&bytes).unwrap_or_else(|e| panic!("{name} is a letter like any other: {e}"));
    evaluate_all(&report.signatures, &c.trust)
}

#[test]
fn a_letter_signed_once_is_valid_and_names_its_signer() {
    let checks = verdicts("satu.pdf");
    assert_eq!(checks.len(), 1);
    let s = &checks[0];
    assert_eq!(s.verdict, Verdict::Valid);
    assert_eq!((s.signer_name.as_deref(), s.signer_organization.as_deref()), (Some("Budi Santoso"), Some("Kementerian Keuangan")));
    assert_eq!(s.issuer.as_deref(), Some("CA Uji TTE"));
    assert!(s.covers_whole_file && !s.modified_after_signing && s.signed_at.is_some());
    assert_eq!(s.reason, "Ditandatangani secara elektronik oleh Budi Santoso (Kementerian Keuangan) — dokumen utuh");
}

#[test]
fn two_signatures_are_both_valid_the_second_is_no_change() {
    let checks = verdicts("dua.pdf");
    let names: Vec<_> = checks.iter().map(|c| (c.verdict, c.signer_name.clone().unwrap())).collect();
    assert_eq!(names, vec![(Verdict::Valid, "Budi Santoso".into()), (Verdict::Valid, "Siti Aminah".into())]);
}

#[test]
fn ecdsa_signatures_verify_on_both_curves() {
    for name in ["p256.pdf", "p384.pdf"] {
        let checks = verdicts(name);
        assert_eq!(checks.iter().map(|c| c.verdict).collect::<Vec<_>>(), vec![Verdict::Valid], "{name}");
    }
}

#[test]
fn an_update_after_signing_that_changes_the_page_is_invalid() {
    let checks = verdicts("diubah.pdf");
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0].verdict, Verdict::Invalid);
    assert!(checks[0].modified_after_signing && checks[0].covers_whole_file);
    assert_eq!(checks[0].reason, "tanda tangan tidak sah: dokumen diubah setelah ditandatangani");
}

#[test]
fn a_signer_under_an_unknown_ca_is_indeterminate() {
    let checks = verdicts("asing.pdf");
    assert_eq!(checks[0].verdict, Verdict::Indeterminate);
    assert!(checks[0].reason.contains("penanda tangan tidak dikenal"), "{}", checks[0].reason);
    // With that CA trusted, the same letter is valid: the verdict follows the trust list.
    let c = corpus();
    let both = TrustList::from_pem(&[std::fs::read_to_string(c.files.path("asing.pem")).unwrap()]);
    let report = check(&c.files.read("asing.pdf")).unwrap();
    assert_eq!(evaluate_all(&report.signatures, &both)[0].verdict, Verdict::Valid);
}

#[test]
fn a_byte_range_that_skips_bytes_is_invalid() {
    let checks = verdicts("byterange-melompat.pdf");
    assert_eq!(checks[0].verdict, Verdict::Invalid);
    assert!(!checks[0].covers_whole_file);
}

#[test]
fn a_swapped_message_digest_is_invalid() {
    let checks = verdicts("ringkasan-ditukar.pdf");
    assert_eq!(checks[0].verdict, Verdict::Invalid);
    assert_eq!(checks[0].reason, "tanda tangan tidak sah: dokumen diubah setelah ditandatangani");
    let report = check(&corpus().files.read("ringkasan-ditukar.pdf")).unwrap();
    assert!(!report.signatures[0].intact && report.signatures[0].problem.is_some());
}

#[test]
fn an_unsigned_letter_has_no_signatures() {
    assert!(verdicts("surat.pdf").is_empty());
}

#[test]
fn qr_codes_are_read_and_their_hosts_flagged() {
    let c = corpus();
    let links = |name: &str| check(&c.files.read(name)).unwrap().qr_links;
    let official = links("qr-resmi.pdf");
    assert_eq!(official.len(), 1);
    assert_eq!((official[0].host.as_str(), official[0].official), ("tte.kemenkeu.go.id", true));
    assert_eq!(official[0].url, "https://tte.kemenkeu.go.id/verifikasi/ST-9-2026");
    let other = links("qr-lain.pdf");
    assert_eq!((other[0].host.as_str(), other[0].official), ("verifikasi-dokumen.example.com", false));
    // The same code on a 300 dpi scan of a whole page (a JPEG), found after reduction.
    let scanned = links("pindaian-qr.pdf");
    assert_eq!(scanned.iter().map(|l| l.host.as_str()).collect::<Vec<_>>(), vec!["tte.kemenkeu.go.id"]);
    assert!(links("surat.pdf").is_empty());
}

#[test]
fn hosts_that_only_look_official_are_not() {
    use myintress_core::qr::QrLink;
    for (text, official) in [
        ("https://go.id/x", true),
        ("https://tte.kemenkeu.go.id:8443/v", true),
        ("https://kemenkeu.go.id.example.com/v", false),
        ("https://tte.kemenkeu.go.id@evil.example/v", false),
        ("https://notgo.id/v", false),
        ("verifikasi: 12345", false),
    ] {
        assert_eq!(QrLink::from_text(text).official, official, "{text}");
    }
}
