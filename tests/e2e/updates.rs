//! The app's own updates, as a KPPN desk meets them: a release manifest served over HTTP
//! on this machine (Python's `http.server`, a static folder as a release mirror would
//! be), signed with keys made by the Tauri CLI exactly as a release is signed. The app
//! checks at start, shows the new version and what is new, and downloads only when asked;
//! a correctly signed update is verified and offered for install, while one signed with
//! another key, or a genuine signature replayed for another version, is refused with a
//! clear message and never offered for install.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::harness::{App, Guarded, RemoveOnDrop, free_port, wait_for, workspace_root};

const PASSWORD: &str = "uji-pembaruan";

fn tauri_cli() -> PathBuf {
    let cli = workspace_root().join("ui/node_modules/.bin/tauri");
    assert!(cli.exists(), "{} is missing: run `npm ci` in ui/ (cargo xtask test does)", cli.display());
    cli
}

/// The Tauri CLI in `dir`, failing the test with its output when it fails.
fn run(cli: &Path, dir: &Path, args: &[&str]) {
    myintress_testkit::signed::run(cli.to_str().expect("a UTF-8 path"), args, dir);
}

/// A minisign key pair made as a publisher makes one; returns (private key file, public key).
fn key_pair(cli: &Path, dir: &Path, name: &str) -> (PathBuf, String) {
    let private = dir.join(format!("{name}.key"));
    run(cli, dir, &["signer", "generate", "--ci", "--password", PASSWORD, "--write-keys", private.to_str().unwrap()]);
    let public = std::fs::read_to_string(dir.join(format!("{name}.key.pub"))).unwrap();
    (private, public.trim().to_owned())
}

/// Writes an update package for `version` and returns its signature by `key`, bound to
/// `signed_for` (the version the signature names).
fn package(cli: &Path, dir: &Path, key: &Path, file: &str, signed_for: &str) -> String {
    let path = dir.join(file);
    let body: Vec<u8> = (0..200_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).chain(file.bytes()).collect();
    std::fs::write(&path, body).unwrap();
    run(
        cli,
        dir,
        &[
            "signer",
            "sign",
            "--private-key-path",
            key.to_str().unwrap(),
            "--password",
            PASSWORD,
            "--app-version",
            signed_for,
            path.to_str().unwrap(),
        ],
    );
    std::fs::read_to_string(dir.join(format!("{file}.sig"))).unwrap()
}

/// The release manifest the updater reads, in the format the Tauri bundler documents.
fn publish(dir: &Path, base: &str, version: &str, file: &str, signature: &str) {
    let platform = format!("linux-{}", std::env::consts::ARCH);
    let manifest = serde_json::json!({
        "version": version,
        "notes": "Yang baru:\n• Antrean verifikasi terbuka lebih cepat.\n• Pratinjau surat menampilkan pindaian JPEG 2000.",
        "pub_date": "2026-12-01T08:00:00Z",
        "platforms": { platform: { "url": format!("{base}/{file}"), "signature": signature } },
    });
    std::fs::write(dir.join("latest.json"), serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
}

#[test]
fn a_signed_update_is_offered_and_a_forged_one_refused() {
    let cli = tauri_cli();
    let dir = std::env::temp_dir().join(format!("myintress-update-mirror-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let _cleanup = RemoveOnDrop(dir.clone());
    let (publisher, public) = key_pair(&cli, &dir, "penerbit");
    let (stranger, _) = key_pair(&cli, &dir, "orang-lain");

    // The mirror: a static folder over HTTP on this machine.
    let port = free_port();
    let _mirror = Guarded::spawn(
        "http.server",
        Command::new("python3")
            .args(["-m", "http.server", "--bind", "127.0.0.1", &port.to_string(), "--directory", dir.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    let base = format!("http://127.0.0.1:{port}");
    let genuine = package(&cli, &dir, &publisher, "myintress-0.2.0.AppImage", "0.2.0");
    publish(&dir, &base, "0.2.0", "myintress-0.2.0.AppImage", &genuine);
    wait_for("the update mirror", Duration::from_secs(10), || {
        reqwest::blocking::get(format!("{base}/latest.json")).ok().filter(|r| r.status().is_success())
    });

    let manifest = format!("{base}/latest.json");
    let app = App::launch_env("updates", None, &[("MYINTRESS_UPDATE_URL", &manifest), ("MYINTRESS_UPDATE_PUBKEY", &public)]);

    // Checked at start: the banner and, on the first-run screen, the offer with its notes.
    app.wait_for_text("[data-testid=spanduk-pembaruan]", "versi 0.2.0 tersedia");
    app.wait_for_text("[data-testid=pembaruan]", "Versi 0.2.0");
    app.wait_for_text("[data-testid=catatan-pembaruan]", "Antrean verifikasi terbuka lebih cepat");
    assert_eq!(app.count("#pasang-pembaruan"), 0, "nothing is installed before it is downloaded and verified");

    // Downloaded on the user's word; the signature is the publisher's: ready to install.
    app.click("#unduh-pembaruan");
    app.wait_for_text("[data-testid=pembaruan-siap]", "tanda tangannya sah");
    assert_eq!(app.count("#pasang-pembaruan"), 1);
    app.screenshot("pembaruan-siap");

    // A newer version signed with someone else's key: offered (the manifest is not
    // signed), but refused once downloaded, and never offered for install.
    let forged = package(&cli, &dir, &stranger, "myintress-0.2.1.AppImage", "0.2.1");
    publish(&dir, &base, "0.2.1", "myintress-0.2.1.AppImage", &forged);
    app.click("#periksa-pembaruan");
    app.wait_for_text("[data-testid=pembaruan]", "Versi 0.2.1");
    app.click("#unduh-pembaruan");
    app.wait_for_text("[data-testid=pembaruan-salah]", "tanda tangannya tidak sah");
    assert_eq!(app.count("#pasang-pembaruan"), 0, "a refused update cannot be installed");
    app.screenshot("pembaruan-ditolak");

    // The publisher's genuine signature of 0.2.0, replayed as if it were 0.2.2: the
    // signature names the version it was made for, so this is refused too.
    publish(&dir, &base, "0.2.2", "myintress-0.2.0.AppImage", &genuine);
    app.click("#periksa-pembaruan");
    app.wait_for_text("[data-testid=pembaruan]", "Versi 0.2.2");
    app.click("#unduh-pembaruan");
    app.wait_for_text("[data-testid=pembaruan-salah]", "tanda tangannya tidak sah");
    assert_eq!(app.count("#pasang-pembaruan"), 0);

    // Nothing newer than the installed version: said plainly, and the banner goes.
    publish(&dir, &base, env!("CARGO_PKG_VERSION"), "myintress-0.2.0.AppImage", &genuine);
    app.click("#periksa-pembaruan");
    app.wait_for_text("[data-testid=pembaruan-terbaru]", "sudah versi terbaru");
    app.wait_count("[data-testid=spanduk-pembaruan]", 0);

    // An address that does not answer: a clear message, not a hang.
    drop(_mirror);
    app.click("#periksa-pembaruan");
    app.wait_for_text("[data-testid=pembaruan-salah]", "alamat pembaruan tidak dapat dihubungi");
}
