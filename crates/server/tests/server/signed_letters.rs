//! Signed letters on the server (docs/rules.md, "Signed letters"): the registration's letter is
//! checked for electronic signatures and QR codes while it is checked for validity, the
//! verdicts against `--trust-dir` are stored with the membership and travel with it, and
//! `/trust` hands the same certificates to the desktop so it reaches the same verdict
//! offline. The letters are signed by pyHanko under a test CA made by openssl.

use myintress_core::api::{Membership, MembershipDetail, TrustAnswer};
use myintress_core::signature::Verdict;
use myintress_testkit::signed::make_signed_corpus;

use crate::support::{Backend, Registration, TestServer, letter, resident};

myintress_testkit::on_both_backends!(signed_letters_carry_their_verdict,);

async fn signed_letters_carry_their_verdict(backend: &Backend) {
    let which = if matches!(backend, Backend::Sqlite) { "sqlite" } else { "postgres" };
    let corpus_dir = myintress_testkit::scratch_dir().join(format!("myintress-ttd-server-{which}-{}", std::process::id()));
    let signed_for = |n: u32| {
        let (nik, name) = resident(n);
        letter(&nik, &name, &format!("ST-{n:04}/UJI/2026"))
    };
    let corpus = make_signed_corpus(&corpus_dir, &signed_for(83));
    let (_, changed) = corpus.sign_another(&signed_for(84), "warga-84");
    let trust_dir = corpus.trust_dir();
    let server = TestServer::start_with(backend, |s| s.trust_dir = Some(trust_dir.clone())).await;
    let kppn = server.verifier("019").await;
    let operator = server.operator(&kppn, "019001", 85).await;

    // The desktop's copy of the trust list: the CA's PEM, to anyone signed in.
    let trust: TrustAnswer = operator.get_json("/api/v1/trust").await;
    assert_eq!(trust.certificates, vec![corpus.trusted_ca()]);

    let verdicts = |m: &Membership| {
        let check = m.letter_check.as_ref().expect("every letter checked since this version has a letter_check");
        check.signatures.iter().map(|s| (s.verdict, s.reason.clone())).collect::<Vec<_>>()
    };
    let signed = operator.registered(&Registration::new(83, "019001").letter(corpus.read("satu.pdf"))).await;
    assert_eq!(
        verdicts(&signed),
        vec![(Verdict::Valid, "Ditandatangani secara elektronik oleh Budi Santoso (Kementerian Keuangan) — dokumen utuh".to_owned())]
    );
    let tampered = operator.registered(&Registration::new(84, "019001").letter(changed)).await;
    assert_eq!(verdicts(&tampered), vec![(Verdict::Invalid, "tanda tangan tidak sah: dokumen diubah setelah ditandatangani".to_owned())]);
    let plain = operator.registered(&Registration::new(86, "019001")).await;
    assert!(verdicts(&plain).is_empty(), "an unsigned letter has no verdict");

    // The verdict is stored: the KPPN reads it in the list it syncs from.
    let stored: MembershipDetail = kppn.get_json(&format!("/api/v1/memberships/{}", signed.id)).await;
    assert_eq!(stored.membership.letter_check, signed.letter_check);
    let stored: MembershipDetail = kppn.get_json(&format!("/api/v1/memberships/{}", tampered.id)).await;
    assert_eq!(verdicts(&stored.membership)[0].0, Verdict::Invalid);

    // A server without a trust list still checks the letter, but knows no signer.
    let bare = TestServer::start(backend).await;
    let kppn = bare.verifier("019").await;
    let operator = bare.operator(&kppn, "019001", 85).await;
    assert!(operator.get_json::<TrustAnswer>("/api/v1/trust").await.certificates.is_empty());
    let unknown = operator.registered(&Registration::new(83, "019001").letter(corpus.read("satu.pdf"))).await;
    assert_eq!(verdicts(&unknown)[0].0, Verdict::Indeterminate);
    assert!(verdicts(&unknown)[0].1.contains("penanda tangan tidak dikenal"), "{:?}", verdicts(&unknown));
    let _ = std::fs::remove_dir_all(&corpus_dir);
}
