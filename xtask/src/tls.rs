//! A private certificate authority for the test run, made with `openssl`: a CA, and a
//! certificate for `127.0.0.1`/`localhost` signed by it. The tests see the CA through
//! `SSL_CERT_FILE` (the system's bundle plus this CA), which is how the system trust store
//! is read on Linux, so a test proves the desktop trusts what the machine trusts (a
//! government CA, an office TLS proxy) and nothing more.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

pub struct TestCa {
    /// The system's bundle with the test CA appended.
    pub bundle: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

pub fn make(tools: &Path) -> Result<TestCa> {
    let dir = tools.join("test-ca");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let openssl = |args: &[&str]| -> Result<()> {
        let status = Command::new("openssl").args(args).current_dir(&dir).status().context("menjalankan openssl")?;
        if !status.success() {
            bail!("openssl {args:?} gagal ({status})");
        }
        Ok(())
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=MyIntress Uji CA",
    ])?;
    openssl(&["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"])?;
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n")?;
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "san.ext",
    ])?;
    let system = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_default();
    let bundle = dir.join("bundle.pem");
    std::fs::write(&bundle, system + "\n" + &std::fs::read_to_string(dir.join("ca.pem"))?)?;
    Ok(TestCa { bundle, cert: dir.join("server.pem"), key: dir.join("server.key") })
}
