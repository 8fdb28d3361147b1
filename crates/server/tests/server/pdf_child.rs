//! The child-process entry point of the letter check, and the kept children that serve
//! the server's checks.

use std::io::{Read, Write};
use std::process::{Command, Stdio};

use myintress_core::pdf::{PdfError, parse_wire};
use myintress_server::documents::PdfChecker;

fn frame(bytes: &[u8]) -> Vec<u8> {
    let mut out = (bytes.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(bytes);
    out
}

/// Runs one `check-pdf` child, sends it `input` (frames, or anything), closes its stdin
/// and returns the frames it answered.
fn check_pdf(input: &[u8]) -> Vec<String> {
    let mut child =
        Command::new(env!("CARGO_BIN_EXE_myintress-server")).arg("check-pdf").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    // The child may stop reading early (an oversized frame); a broken pipe is fine then.
    let _ = child.stdin.take().unwrap().write_all(input);
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let mut answers = Vec::new();
    let mut rest = &output.stdout[..];
    while !rest.is_empty() {
        let mut header = [0u8; 8];
        rest.read_exact(&mut header).unwrap();
        let mut body = vec![0u8; u64::from_le_bytes(header) as usize];
        rest.read_exact(&mut body).unwrap();
        answers.push(String::from_utf8(body).unwrap());
    }
    answers
}

fn minimal() -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/pdf/accepted/minimal-hand-written.pdf")).unwrap()
}

#[test]
fn check_pdf_child_answers_each_letter_with_the_core_outcome_until_its_input_ends() {
    let mut input = frame(&minimal());
    input.extend(frame(b"not a pdf"));
    input.extend(frame(&minimal()));
    let answers = check_pdf(&input);
    assert_eq!(answers.len(), 3, "{answers:?}");
    assert_eq!(parse_wire(answers[0].as_bytes()).unwrap().unwrap().pages, 1);
    assert_eq!(parse_wire(answers[1].as_bytes()).unwrap(), Err(PdfError::NotPdf));
    assert_eq!(parse_wire(answers[2].as_bytes()).unwrap().unwrap().pages, 1);
}

#[test]
fn check_pdf_child_refuses_a_letter_over_the_limit_unread() {
    // Announced as one byte over the limit; only a little of it follows.
    let mut input = ((myintress_core::pdf::MAX_DOCUMENT_BYTES + 1) as u64).to_le_bytes().to_vec();
    input.extend_from_slice(b"%PDF-1.7\n");
    let answers = check_pdf(&input);
    assert_eq!(answers.len(), 1);
    assert!(matches!(parse_wire(answers[0].as_bytes()).unwrap(), Err(PdfError::TooLarge { .. })), "{answers:?}");
}

/// The server's checker keeps its children: one serves `LETTERS_PER_CHILD` letters, then
/// a fresh one takes over; letters checked at once each get their own child.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_checker_keeps_a_child_for_many_letters_then_replaces_it() {
    let checker = PdfChecker::new(env!("CARGO_BIN_EXE_myintress-server").into(), ["check-pdf"]);
    let letters = myintress_pdfcheck::LETTERS_PER_CHILD + 2;
    for _ in 0..letters {
        assert_eq!(checker.check(&minimal()).await.unwrap().unwrap().pages, 1);
        assert!(checker.check(b"%PDF-1.7\nbukan surat").await.unwrap().is_err(), "refused by the child, which stays");
    }
    let expected = (2 * letters).div_ceil(myintress_pdfcheck::LETTERS_PER_CHILD) as u64;
    assert_eq!(checker.children_started(), expected, "one child per {} letters", myintress_pdfcheck::LETTERS_PER_CHILD);

    let before = checker.children_started();
    let at_once = checker.capacity().max(2);
    let checks = (0..at_once).map(|_| {
        let checker = checker.clone();
        tokio::spawn(async move { checker.check(&minimal()).await.unwrap().unwrap().pages })
    });
    for pages in futures_util::future::join_all(checks).await {
        assert_eq!(pages.unwrap(), 1);
    }
    assert!(checker.children_started() - before <= at_once as u64, "no more children than letters at once");
}
