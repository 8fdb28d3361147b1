//! `myintress-server`: the central MyIntress API server (issue P2).
//!
//! Today it carries the child-process entry point of the letter check, which the server
//! will run with time and memory limits for every upload: `myintress-server check-pdf`
//! reads a PDF on stdin and prints the outcome as JSON (`myintress_core::pdf::check_wire`).

use std::io::{Read, Write};

use anyhow::{Context, Result, bail};

fn main() -> Result<()> {
    let command = std::env::args().nth(1).unwrap_or_default();
    match command.as_str() {
        "check-pdf" => check_pdf(),
        "--version" | "-V" => {
            println!("myintress-server {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        _ => bail!("penggunaan: myintress-server check-pdf < surat.pdf"),
    }
}

/// Reads at most one byte over the limit, so an oversized upload is refused without
/// reading it all, then prints the check's outcome.
fn check_pdf() -> Result<()> {
    let limit = myintress_core::pdf::MAX_DOCUMENT_BYTES as u64 + 1;
    let mut bytes = Vec::new();
    std::io::stdin().take(limit).read_to_end(&mut bytes).context("membaca stdin")?;
    let outcome = myintress_core::pdf::check_wire(&bytes);
    std::io::stdout().write_all(outcome.as_bytes()).context("menulis stdout")?;
    Ok(())
}
