//! Signed letters made with real tools, for the tests of the signature check (core's
//! `signed_letters`, the server's and the app's): a test CA and signers (openssl), PDFs
//! signed by pyHanko (RSA, ECDSA P-256 and P-384, two signatures, a signer under a CA
//! nobody trusts, an incremental update after signing), the same letter damaged the ways
//! an attacker would (a `/ByteRange` that skips bytes, a swapped message digest), and
//! letters carrying QR codes (qrencode, img2pdf, a 300 dpi scan by Ghostscript).
//!
//! Self-contained (std only), so core's tests include it by path without depending on
//! this crate. The Python with pyHanko is `MYINTRESS_TEST_PYHANKO`, which `cargo xtask
//! test` installs and sets.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The files of the corpus, under `dir`.
pub struct SignedCorpus {
    pub dir: PathBuf,
}

impl SignedCorpus {
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    /// The PEM of the test CA the signatures are trusted under.
    pub fn trusted_ca(&self) -> String {
        std::fs::read_to_string(self.dir.join("ca.pem")).unwrap()
    }

    /// A folder holding only the trusted CA: a server's `--trust-dir`.
    pub fn trust_dir(&self) -> PathBuf {
        let dir = self.dir.join("trust");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("ca.pem"), self.trusted_ca()).unwrap();
        dir
    }

    /// Signs another letter as the RSA signer under the trusted CA (`<name>-ttd.pdf`), and
    /// changes the signed copy by an incremental update (`<name>-diubah.pdf`). Returns the
    /// two files' bytes.
    pub fn sign_another(&self, letter: &[u8], name: &str) -> (Vec<u8>, Vec<u8>) {
        let (src, signed, changed) = (format!("{name}.pdf"), format!("{name}-ttd.pdf"), format!("{name}-diubah.pdf"));
        std::fs::write(self.dir.join(&src), letter).unwrap();
        let python = pyhanko_python();
        run(&python, &["sign.py", "sign", &src, &signed, "rsa.key", "rsa.pem", "ca.pem", "TTE1"], &self.dir);
        run(&python, &["sign.py", "ubah", &signed, &changed], &self.dir);
        (self.read(&signed), self.read(&changed))
    }
}

/// Runs a tool in `cwd`, failing the test with its output when it fails.
pub fn run(program: &str, args: &[&str], cwd: &Path) {
    let output = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap_or_else(|e| panic!("{program} is not installed ({e}); `cargo xtask test` installs it"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The Python with pyHanko that `cargo xtask test` installs (`MYINTRESS_TEST_PYHANKO`).
pub fn pyhanko_python() -> String {
    std::env::var("MYINTRESS_TEST_PYHANKO").expect("MYINTRESS_TEST_PYHANKO: the Python with pyHanko; `cargo xtask test` sets it")
}

const SIGN_PY: &str = r#"
import sys
from pyhanko.sign import signers
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

cmd, src, dst = sys.argv[1], sys.argv[2], sys.argv[3]
with open(src, 'rb') as f:
    w = IncrementalPdfFileWriter(f)
    with open(dst, 'wb') as out:
        if cmd == 'sign':
            key, cert, chain, field = sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7]
            signer = signers.SimpleSigner.load(key, cert, ca_chain_files=[chain])
            meta = signers.PdfSignatureMetadata(field_name=field, reason='Surat tugas')
            signers.sign_pdf(w, meta, signer=signer, output=out)
        else:
            # An incremental update after signing that changes what the page shows.
            stream = generic.StreamObject(stream_data=b'BT /F1 12 Tf 72 650 Td (NIK : 3171011203880099) Tj ET')
            w.add_stream_to_page(0, w.add_object(stream))
            w.write(out)
"#;

/// Makes the corpus in `dir` (emptied first). `letter`: the unsigned letter to sign, a PDF.
pub fn make_signed_corpus(dir: &Path, letter: &[u8]) -> SignedCorpus {
    {
        let dir = dir.to_path_buf();
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let openssl = |args: &[&str]| run("openssl", args, &dir);
        // A root CA standing in for the Indonesian root, and one nobody trusts.
        for (name, subject) in [("ca", "/C=ID/O=Balai Sertifikasi Uji/CN=CA Uji TTE"), ("asing", "/C=ID/O=Entah/CN=CA Tidak Dikenal")] {
            let (key, pem) = (format!("{name}.key"), format!("{name}.pem"));
            openssl(&["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", &key, "-out", &pem, "-days", "3650", "-subj", subject]);
        }
        std::fs::write(dir.join("leaf.ext"), "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,nonRepudiation\n").unwrap();
        let signers = [
            ("rsa", "rsa:2048", "ca", "/C=ID/O=Kementerian Keuangan/CN=Budi Santoso"),
            ("p256", "ec", "ca", "/C=ID/O=Kementerian Keuangan/CN=Siti Aminah"),
            ("p384", "ec384", "ca", "/C=ID/O=Kementerian Keuangan/CN=Dewi Lestari"),
            ("orang-asing", "rsa:2048", "asing", "/C=ID/O=Entah/CN=Orang Lain"),
        ];
        for (name, kind, ca, subject) in signers {
            let (key, csr, pem) = (format!("{name}.key"), format!("{name}.csr"), format!("{name}.pem"));
            let curve = match kind {
                "ec" => Some("ec_paramgen_curve:P-256"),
                "ec384" => Some("ec_paramgen_curve:P-384"),
                _ => None,
            };
            match curve {
                Some(curve) => {
                    openssl(&["req", "-newkey", "ec", "-pkeyopt", curve, "-nodes", "-keyout", &key, "-out", &csr, "-subj", subject])
                }
                None => openssl(&["req", "-newkey", kind, "-nodes", "-keyout", &key, "-out", &csr, "-subj", subject]),
            }
            let (ca_pem, ca_key) = (format!("{ca}.pem"), format!("{ca}.key"));
            openssl(&[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                &ca_pem,
                "-CAkey",
                &ca_key,
                "-CAcreateserial",
                "-out",
                &pem,
                "-days",
                "365",
                "-extfile",
                "leaf.ext",
            ]);
        }

        std::fs::write(dir.join("surat.pdf"), letter).unwrap();

        std::fs::write(dir.join("sign.py"), SIGN_PY).unwrap();
        let python = pyhanko_python();
        let sign = |src: &str, dst: &str, signer: &str, ca: &str, field: &str| {
            let (key, pem, chain) = (format!("{signer}.key"), format!("{signer}.pem"), format!("{ca}.pem"));
            run(&python, &["sign.py", "sign", src, dst, &key, &pem, &chain, field], &dir);
        };
        sign("surat.pdf", "satu.pdf", "rsa", "ca", "TTE1");
        sign("satu.pdf", "dua.pdf", "p256", "ca", "TTE2");
        sign("surat.pdf", "p256.pdf", "p256", "ca", "TTE1");
        sign("surat.pdf", "p384.pdf", "p384", "ca", "TTE1");
        sign("surat.pdf", "asing.pdf", "orang-asing", "asing", "TTE1");
        run(&python, &["sign.py", "ubah", "satu.pdf", "diubah.pdf"], &dir);

        // Damaged copies of the one-signature letter.
        let satu = std::fs::read(dir.join("satu.pdf")).unwrap();
        std::fs::write(dir.join("byterange-melompat.pdf"), skip_bytes_in_range(&satu)).unwrap();
        std::fs::write(dir.join("ringkasan-ditukar.pdf"), swap_message_digest(&satu)).unwrap();

        // QR codes: one to a government host, one elsewhere, and a 300 dpi scan of a page
        // with the first.
        run("qrencode", &["-o", "qr-resmi.png", "-s", "6", "-m", "4", "https://tte.kemenkeu.go.id/verifikasi/ST-9-2026"], &dir);
        run("qrencode", &["-o", "qr-lain.png", "-s", "6", "-m", "4", "https://verifikasi-dokumen.example.com/st/9"], &dir);
        run("img2pdf", &["qr-resmi.png", "-o", "qr-resmi.pdf"], &dir);
        run("img2pdf", &["qr-lain.png", "-o", "qr-lain.pdf"], &dir);
        run("img2pdf", &["--pagesize", "A4", "--imgsize", "3cmx3cm", "qr-resmi.png", "-o", "qr-a4.pdf"], &dir);
        run("gs", &["-q", "-sDEVICE=jpeggray", "-r300", "-dJPEGQ=85", "-o", "pindaian.jpg", "qr-a4.pdf"], &dir);
        run("img2pdf", &["pindaian.jpg", "-o", "pindaian-qr.pdf"], &dir);

        SignedCorpus { dir }
    }
}

/// The first `/ByteRange [0 b c d]` rewritten so its first range ends 10 bytes early
/// (same width, so nothing else moves): those bytes are no longer signed.
fn skip_bytes_in_range(pdf: &[u8]) -> Vec<u8> {
    let at = find(pdf, b"/ByteRange [").expect("a signature") + b"/ByteRange [".len();
    let end = at + pdf[at..].iter().position(|b| *b == b']').unwrap();
    let text = std::str::from_utf8(&pdf[at..end]).unwrap();
    let numbers: Vec<usize> = text.split_whitespace().map(|n| n.parse().unwrap()).collect();
    let replaced = format!("{} {} {} {}", numbers[0], numbers[1] - 10, numbers[2], numbers[3]);
    let padded = format!("{replaced:<width$}", width = end - at);
    let mut out = pdf.to_vec();
    out[at..end].copy_from_slice(padded.as_bytes());
    out
}

/// The messageDigest attribute inside the signature's hex `/Contents` with one byte
/// changed, so the signed attributes claim another document.
fn swap_message_digest(pdf: &[u8]) -> Vec<u8> {
    // OID 1.2.840.113549.1.9.4, then SET { OCTET STRING (32) }, hex-encoded.
    let marker = b"06092a864886f70d01090431220420";
    let mut out = pdf.to_vec();
    let lower: Vec<u8> = out.iter().map(u8::to_ascii_lowercase).collect();
    let at = find(&lower, marker).expect("a SHA-256 messageDigest attribute") + marker.len();
    out[at] = if out[at] == b'0' { b'1' } else { b'0' };
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
