//! The child-process entry point of the letter check.

use std::io::Write;
use std::process::{Command, Stdio};

fn check_pdf(bytes: &[u8]) -> String {
    let mut child =
        Command::new(env!("CARGO_BIN_EXE_myintress-server")).arg("check-pdf").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    // The child may stop reading early (oversized input); a broken pipe is fine then.
    let _ = child.stdin.take().unwrap().write_all(bytes);
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn check_pdf_child_entry_point_answers_with_the_core_outcome() {
    let good = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/pdf/accepted/minimal-hand-written.pdf")).unwrap();
    let outcome = myintress_core::pdf::parse_wire(check_pdf(&good).as_bytes()).unwrap();
    assert_eq!(outcome.unwrap().pages, 1);

    let refused = myintress_core::pdf::parse_wire(check_pdf(b"not a pdf").as_bytes()).unwrap();
    assert_eq!(refused, Err(myintress_core::pdf::PdfError::NotPdf));
}

#[test]
fn check_pdf_child_stops_reading_past_the_limit() {
    let mut huge = b"%PDF-1.7\n".to_vec();
    huge.resize(myintress_core::pdf::MAX_DOCUMENT_BYTES + 4096, b' ');
    let outcome = myintress_core::pdf::parse_wire(check_pdf(&huge).as_bytes()).unwrap();
    assert!(matches!(outcome, Err(myintress_core::pdf::PdfError::TooLarge { .. })), "{outcome:?}");
}
