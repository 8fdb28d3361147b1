//! `cargo xtask …`: everything needed to go from a fresh clone to a running app or a
//! green test run, in Rust so it works the same on every machine (the cargo-xtask
//! pattern; alias in `.cargo/config.toml`).
//!
//! - `demo`: install what is missing, build the UI, run the main job.
//! - `test`: install what is missing (including the tools tests need), run every test.
//! - `setup [--test]`: only the installation part.
//! - `bindings`: regenerate `ui/src/lib/bindings.ts` from the Rust commands.
//! - `fuzz [--seconds N] [TARGET]`: run a core fuzz target (nightly + cargo-fuzz).
//! - `bundle`: this OS's installers, release build (Tauri's bundler through its CLI).

#[path = "../../crates/testkit/src/postgres.rs"]
mod postgres;
mod s3;
mod setup;
#[cfg(test)]
mod tidy;
mod tls;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

fn main() {
    if let Err(e) = run() {
        eprintln!("xtask: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (task, rest) = args.split_first().map(|(t, r)| (t.as_str(), r)).unwrap_or(("help", &[]));
    match task {
        "setup" => setup::all(rest.iter().any(|a| a == "--test")),
        "demo" => demo(),
        "test" => test(rest),
        "bindings" => bindings(),
        "fuzz" => fuzz(rest),
        "bench" => bench(rest),
        "demo-letters" => demo_letters(),
        "bundle" => bundle(rest),
        "screenshots" => screenshots(),
        _ => {
            println!(
                "cargo xtask demo       install what is missing, build, open the app\n\
                 cargo xtask test       install what is missing, run every test\n\
                 cargo xtask setup      only install (add --test for test tools)\n\
                 cargo xtask bindings   regenerate ui/src/lib/bindings.ts\n\
                 cargo xtask bench [--size tiny|full] [--growth] [N…]   run the benchmarks, update BENCHMARKS.md\n\
                 cargo xtask fuzz [--seconds N] [pdf_check|value_parsers|signature]\n\
                 cargo xtask bundle     build this OS's installers (Linux .deb + AppImage, Windows MSI + NSIS, macOS .app + DMG)\n\
                 cargo xtask demo-letters   re-sign the demo's signed letters (crates/server/demo/)\n\
                 cargo xtask screenshots    run the app's end-to-end tests and copy their screenshots into the user guide (docs/gambar/)"
            );
            if task == "help" { Ok(()) } else { bail!("unknown task {task}") }
        }
    }
}

/// The repository root (the workspace manifest's folder). `cargo run` sets
/// `CARGO_MANIFEST_DIR` at run time too; that one wins, because a build folder shared
/// between clones at different paths can hand us a binary compiled in another clone.
pub fn root() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest.parent().expect("xtask is one level down").to_path_buf()
}

/// Runs a command in `dir`, failing with its command line when it fails.
pub fn run_in(dir: &Path, program: &str, args: &[&str], envs: &[(&str, &str)]) -> Result<()> {
    let status = Command::new(program)
        .args(args)
        .current_dir(dir)
        .envs(envs.iter().copied())
        .status()
        .with_context(|| format!("cannot start {program}"))?;
    if !status.success() {
        bail!("`{program} {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

/// Re-signs the demo's electronically signed letters with the test tools (openssl,
/// pyHanko): a new demo CA, the intact letter and the one changed after signing.
fn demo_letters() -> Result<()> {
    setup::all(true)?;
    let root = root();
    let python = setup::venv_bin("python")?;
    let out = root.join("crates/server/demo");
    run_in(
        &root,
        "cargo",
        &["run", "-p", "myintress-testkit", "--bin", "demo-letters", "--", out.to_str().context("path")?],
        &[("MYINTRESS_TEST_PYHANKO", python.to_str().context("path")?)],
    )
}

fn demo() -> Result<()> {
    setup::all(false)?;
    let root = root();
    let headless = std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() && cfg!(target_os = "linux");

    println!("== Membangun server pusat dan aplikasi");
    run_in(&root, "cargo", &["build", "--package", "myintress-server", "--package", "myintress-satker"], &[])?;
    let target = setup::target_dir()?;
    let server_bin = target.join("debug").join(exe("myintress-server"));
    let app_bin = target.join("debug").join(exe("myintress-satker"));

    // The central server on SQLite with demo data, in the background while the app runs.
    let data = target.join("demo-data");
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let listen = format!("127.0.0.1:{port}");
    let mut server = ChildGuard(
        Command::new(&server_bin)
            .args(["--listen", &listen, "--data-dir"])
            .arg(&data)
            .arg("demo")
            .spawn()
            .context("menjalankan server pusat")?,
    );
    let health = format!("http://{listen}/healthz");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !http_ok(&health) {
        if std::time::Instant::now() > deadline {
            bail!("server pusat tidak menjawab di {health}");
        }
        if let Some(status) = server.0.try_wait()? {
            bail!("server pusat berhenti ({status})");
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    if headless {
        println!(
            "Tidak ada layar (DISPLAY kosong): server pusat berjalan di http://{listen}; \
             aplikasi desktop memerlukan sesi desktop (atau `xvfb-run -a cargo xtask demo`). Ctrl-C untuk berhenti."
        );
        server.0.wait()?;
        return Ok(());
    }
    println!("Membuka MyIntress Satker (server pusat: http://{listen})…");
    let status = Command::new(&app_bin).env("MYINTRESS_SERVER_URL", format!("http://{listen}")).status()?;
    drop(server);
    if !status.success() {
        bail!("aplikasi berhenti ({status})");
    }
    Ok(())
}

/// The Tauri CLI of `ui/node_modules` (on the `tauri` crate's major.minor: xtask's tidy
/// test `tauri_crates_and_npm_packages_are_in_step`).
fn tauri_cli() -> Result<PathBuf> {
    let cli = root().join("ui/node_modules/.bin").join(if cfg!(windows) { "tauri.cmd" } else { "tauri" });
    if !cli.exists() {
        bail!("{} tidak ada: jalankan `cargo xtask setup`", cli.display());
    }
    Ok(cli)
}

/// The installers each OS gets.
fn host_bundles() -> Result<&'static str> {
    Ok(match std::env::consts::OS {
        "linux" => "deb,appimage",
        "windows" => "msi,nsis",
        "macos" => "app,dmg",
        other => bail!("tidak ada penginstal untuk {other}"),
    })
}

/// `cargo xtask bundle [tauri build flags…]`: a release build of the app with the UI
/// embedded, and this OS's installers in `<target>/release/bundle/`.
///
/// The installed app trusts one update key. `MYINTRESS_UPDATER_PUBKEY` (the `.pub` file
/// of `tauri signer generate`) puts it in the build, and with `TAURI_SIGNING_PRIVATE_KEY`
/// set the bundler also signs each installer for the updater (`.sig` beside it). Without
/// a key, here or in `tauri.conf.json`, the build is refused before it starts.
fn bundle(args: &[String]) -> Result<()> {
    let root = root();
    let conf: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(root.join("tauri.conf.json"))?)?;
    let built_in = conf.pointer("/plugins/updater/pubkey").and_then(|k| k.as_str()).unwrap_or_default();
    let key = std::env::var("MYINTRESS_UPDATER_PUBKEY").ok().filter(|k| !k.trim().is_empty());
    if key.is_none() && built_in.starts_with("GANTI-") {
        bail!(
            "Kunci publik pembaruan belum diisi: setel MYINTRESS_UPDATER_PUBKEY (isi file .pub dari `tauri signer generate`) \
             atau isi plugins.updater.pubkey di tauri.conf.json. Lihat docs/operator.md, \"Releases and updates of the desktop app\"."
        );
    }
    setup::all(false)?;
    let cli = tauri_cli()?;
    let mut overrides = serde_json::json!({});
    if let Some(key) = &key {
        overrides["plugins"] = serde_json::json!({ "updater": { "pubkey": key.trim() } });
    }
    if std::env::var_os("TAURI_SIGNING_PRIVATE_KEY").is_some() || std::env::var_os("TAURI_SIGNING_PRIVATE_KEY_PATH").is_some() {
        overrides["bundle"] = serde_json::json!({ "createUpdaterArtifacts": true });
    }
    let overrides = overrides.to_string();
    let mut argv: Vec<&str> = vec!["build", "--bundles", host_bundles()?, "--ci", "--config", &overrides];
    argv.extend(args.iter().map(String::as_str));
    println!("== Penginstal ({}), build rilis", host_bundles()?);
    run_in(&root, cli.to_str().context("path")?, &argv, &[])?;
    let target = setup::target_dir()?;
    println!("Penginstal ada di {}", target.join("release/bundle").display());
    Ok(())
}

/// The `.deb` of the test command, from the debug app `cargo test` runs (so nothing is
/// built twice): a copy without debug info (600 MB → 60 MB) in a folder of its own, which
/// `tauri bundle` takes as its target folder. Returns the package's path.
fn debug_deb(target: &Path) -> Result<PathBuf> {
    let root = root();
    let stage = target.join("deb-stage");
    let debug = stage.join("debug");
    let _ = std::fs::remove_dir_all(&stage);
    std::fs::create_dir_all(&debug)?;
    let app = target.join("debug").join(exe("myintress-satker"));
    let copy = debug.join(exe("myintress-satker"));
    run_in(&root, "objcopy", &["--strip-debug", app.to_str().context("path")?, copy.to_str().context("path")?], &[])?;
    let cli = tauri_cli()?;
    run_in(
        &root,
        cli.to_str().context("path")?,
        &["bundle", "--debug", "--bundles", "deb", "--ci"],
        &[("CARGO_TARGET_DIR", stage.to_str().context("path")?)],
    )?;
    let debs = debug.join("bundle/deb");
    let deb = std::fs::read_dir(&debs)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
        .with_context(|| format!("tidak ada .deb di {}", debs.display()))?;
    Ok(deb)
}

fn exe(name: &str) -> String {
    format!("{name}{}", std::env::consts::EXE_SUFFIX)
}

/// A plain HTTP/1.1 GET over std, so xtask needs no HTTP client crate.
fn http_ok(url: &str) -> bool {
    use std::io::{Read, Write};
    let Some(rest) = url.strip_prefix("http://") else { return false };
    let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap_or((rest, "/".into()));
    let Ok(mut stream) = std::net::TcpStream::connect(host) else { return false };
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(2)));
    if write!(stream, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}

/// Stops a child process on drop (SIGTERM through `kill`, so the server shuts down cleanly).
struct ChildGuard(std::process::Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let term = Command::new("kill").arg(self.0.id().to_string()).status();
            if !matches!(term, Ok(s) if s.success()) {
                let _ = self.0.kill();
            }
            let _ = self.0.wait();
        }
    }
}

fn test(extra: &[String]) -> Result<()> {
    setup::all(true)?;
    let root = root();
    let path = setup::path_with_tools()?;

    println!("== Rust: formatting (rustfmt.toml) and lints (clippy, every warning an error)");
    run_in(&root, "cargo", &["fmt", "--all", "--check"], &[])?;
    run_in(&root, "cargo", &["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"], &[])?;

    println!("== UI: svelte-check and Vitest");
    run_in(&root.join("ui"), setup::NPM, &["run", "check"], &[])?;
    run_in(&root.join("ui"), setup::NPM, &["test"], &[])?;

    println!("== Supply chain: cargo deny (deny.toml) and npm audit");
    supply_chain(&root, &path)?;

    println!("== PostgreSQL: a throwaway cluster for the server's tests");
    let cluster = postgres::Cluster::start(&setup::tools_dir()?)?;
    println!("== S3: a throwaway object store (moto) for the documents of the PostgreSQL and replica tests");
    let s3 = s3::S3Server::start(&setup::tools_dir()?)?;
    let s3_env = s3.env();

    println!("== Rust: every crate, including the end-to-end tests of the app");
    // On Linux the tests get their own D-Bus session with an unlocked gnome-keyring, so
    // the keychain tests use a real Secret Service and no bus outlives the run.
    let mut args: Vec<&str> = Vec::new();
    if cfg!(target_os = "linux") {
        args.extend([
            "--",
            "sh",
            "-c",
            // A fresh keyring of its own, so a developer's login keyring (and its password)
            // never meets the tests.
            WITH_KEYRING,
            "sh",
        ]);
    }
    args.extend(["cargo", "test", "--workspace"]);
    args.extend(extra.iter().map(String::as_str));
    let (program, args) = if cfg!(target_os = "linux") { ("dbus-run-session", args) } else { ("cargo", args[1..].to_vec()) };
    let schemathesis = setup::venv_bin("schemathesis")?;
    let smtpd = setup::venv_bin("aiosmtpd")?;
    let pyhanko = setup::venv_bin("python")?;
    let keyring = setup::tools_dir()?.join("keyring");
    let ca = tls::make(&setup::tools_dir()?)?;
    let mut env: Vec<(&str, &str)> = vec![
        ("SSL_CERT_FILE", ca.bundle.to_str().context("path")?),
        ("MYINTRESS_TEST_TLS_CERT", ca.cert.to_str().context("path")?),
        ("MYINTRESS_TEST_TLS_KEY", ca.key.to_str().context("path")?),
        ("PATH", &path),
        ("MYINTRESS_BENCH_POSTGRES_URL", &cluster.url),
        ("MYINTRESS_TEST_POSTGRES_URL", &cluster.url),
        ("MYINTRESS_SCHEMATHESIS", schemathesis.to_str().context("path")?),
        ("MYINTRESS_TEST_SMTPD", smtpd.to_str().context("path")?),
        ("MYINTRESS_TEST_PYHANKO", pyhanko.to_str().context("path")?),
        ("MYINTRESS_TEST_TOOLS_REQUIRED", "1"),
        ("KEYRING", keyring.to_str().context("path")?),
    ];
    env.extend(s3_env.iter().map(|(k, v)| (*k, v.as_str())));
    // Linux: the tests install the app's .deb, bundled from the very build they test.
    let deb;
    if cfg!(target_os = "linux") {
        println!("== Build, then the debug .deb of this build (installed and removed by the e2e test `installed`)");
        run_in(&root, "cargo", &["test", "--workspace", "--no-run"], &env)?;
        deb = debug_deb(&setup::target_dir()?)?;
        env.push(("MYINTRESS_TEST_DEB", deb.to_str().context("path")?));
    }
    run_in(&root, program, &args, &env)?;
    drop(s3);
    drop(cluster);
    println!("Semua pengujian lulus.");
    Ok(())
}

/// `cargo deny` on deny.toml's rules (licences, sources, banned duplicates), then the
/// known advisories of both dependency trees when their databases answer. From a machine
/// that cannot reach them (the RustSec database is on GitHub; some registries refuse npm's
/// audit request) it says so plainly instead of passing in silence: README, "Supply chain".
fn supply_chain(root: &Path, path: &str) -> Result<()> {
    setup::cargo_tool("cargo-deny", "cargo-deny")?;
    let env = [("PATH", path)];
    run_in(root, "cargo", &["deny", "check", "--hide-inclusion-graph", "bans", "licenses", "sources"], &env)?;
    let fetched = Command::new("cargo")
        .args(["deny", "fetch", "db"])
        .env("PATH", path)
        .current_dir(root)
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if fetched {
        run_in(root, "cargo", &["deny", "--offline", "check", "--hide-inclusion-graph", "advisories"], &env)?;
    } else {
        println!("   Rust advisories: NOT CHECKED, the RustSec database (github.com/RustSec/advisory-db) cannot be reached from here");
    }
    let audit = Command::new(setup::NPM).args(["audit", "--omit=dev", "--json"]).current_dir(root.join("ui")).output()?;
    let report: serde_json::Value = serde_json::from_slice(&audit.stdout).unwrap_or_default();
    match report.pointer("/metadata/vulnerabilities/total").and_then(serde_json::Value::as_u64) {
        Some(0) => println!("   npm audit: no known vulnerability in the app's npm packages"),
        Some(n) => bail!("npm audit: {n} known vulnerabilities in the app's npm packages (cd ui && npm audit --omit=dev)"),
        None => println!(
            "   npm audit: NOT CHECKED, the registry refused the audit request ({})",
            report["message"].as_str().unwrap_or("no answer")
        ),
    }
    Ok(())
}

/// The user guide's pictures (`docs/panduan-pengguna.md`): each the screenshot an
/// end-to-end test takes (`test-artifacts/e2e/<app>-<label>.png`), under the name the
/// guide uses in `docs/gambar/`. A tidy test keeps this list, the guide and the tests in
/// step.
pub const GUIDE_SCREENSHOTS: &[(&str, &str)] = &[
    ("first-run-first-run.png", "pertama-kali.png"),
    ("lupa-sandi-lupa-sandi.png", "lupa-sandi.png"),
    ("story-01-beranda-kppn.png", "beranda.png"),
    ("ttd-tambah.png", "tambah-pengguna.png"),
    ("story-04-verifikasi-pratinjau.png", "verifikasi.png"),
    ("ttd-diubah.png", "tanda-tangan-diubah.png"),
    ("story-05-tolak-alasan.png", "tolak.png"),
    ("sekaligus-sekaligus-terpilih.png", "sekaligus.png"),
    ("antrean-antrean-terlambat.png", "antrean-terlambat.png"),
    ("minta-hapus-minta-hapus-formulir.png", "minta-hapus.png"),
    ("story-07-penghapusan.png", "penghapusan.png"),
    ("conflict-konflik.png", "konflik.png"),
    ("updates-pembaruan-siap.png", "pembaruan.png"),
    ("updates-pembaruan-ditolak.png", "pembaruan-ditolak.png"),
    ("administrasi-administrasi.png", "administrasi.png"),
];

/// `cargo xtask screenshots`: the app's end-to-end tests (with everything the test
/// command sets up), then their screenshots copied into the user guide, so its pictures
/// are those of this version.
fn screenshots() -> Result<()> {
    test(&["--test".into(), "e2e".into()])?;
    let root = root();
    let shots = root.join("test-artifacts/e2e");
    let guide = root.join("docs/gambar");
    std::fs::create_dir_all(&guide)?;
    for (taken, named) in GUIDE_SCREENSHOTS {
        std::fs::copy(shots.join(taken), guide.join(named)).with_context(|| format!("{taken}: not taken by the e2e tests"))?;
    }
    println!("{} gambar panduan diperbarui di {}", GUIDE_SCREENSHOTS.len(), guide.display());
    Ok(())
}

/// The part of a shell line that gives the command its own D-Bus session with an
/// unlocked, fresh gnome-keyring (Linux), then runs `"$@"`.
const WITH_KEYRING: &str = "rm -rf \"$KEYRING\" && mkdir -p \"$KEYRING\" && echo -n myintress-uji | \
     XDG_DATA_HOME=\"$KEYRING\" gnome-keyring-daemon --unlock --components=secrets >/dev/null && exec \"$@\"";

/// `cargo xtask bench [--size tiny|full] [N…]`: release builds of the server, the bench
/// runner, the app and the empty window; a durable PostgreSQL cluster; then the
/// benchmarks under Xvfb and a D-Bus session. A full run of all eight rewrites the table
/// in BENCHMARKS.md; other runs only print it (and leave it in target/bench/). A full run
/// also runs benchmarks 1, 3 and 4 at 10,000 and 1,000,000 memberships and rewrites the
/// growth table and `BENCHMARKS-growth.svg`; `--growth` runs only those (and 100,000).
fn bench(args: &[String]) -> Result<()> {
    setup::all(true)?;
    let root = root();
    let path = setup::path_with_tools()?;
    println!("== Release builds: server, bench runner, app and the empty window");
    run_in(&root, "cargo", &["build", "--release", "--package", "myintress-server", "--package", "myintress-bench"], &[])?;
    run_in(
        &root,
        "cargo",
        &[
            "build",
            "--release",
            "--package",
            "myintress-satker",
            "--features",
            "custom-protocol",
            "--bin",
            "myintress-satker",
            "--example",
            "empty_window",
        ],
        // Measured, never installed: no updater key needed (build.rs refuses a release
        // build without one otherwise).
        &[("MYINTRESS_BUILD_WITHOUT_UPDATER", "1")],
    )?;
    let target = setup::target_dir()?;
    let release = target.join("release");
    println!("== PostgreSQL: a durable cluster (fsync on) for benchmarks 4 and 7");
    let cluster = postgres::Cluster::start_with(&setup::tools_dir()?, true)?;
    let out = target.join("bench");
    let runner = release.join(exe("myintress-bench"));
    // The runner under Xvfb and its own D-Bus session and keyring, into `out`.
    let run_bench = |out: &Path, extra: &[String]| -> Result<()> {
        let mut command: Vec<String> = Vec::new();
        if cfg!(target_os = "linux") {
            command.extend(["--", "sh", "-c", WITH_KEYRING, "sh", "xvfb-run", "-a", "-s", "-screen 0 1920x1080x24"].map(String::from));
        }
        command.push(runner.to_str().context("path")?.to_owned());
        command.extend([
            "--work".into(),
            out.join("work").to_str().context("path")?.to_owned(),
            "--out".into(),
            out.to_str().context("path")?.to_owned(),
            "--server-bin".into(),
            release.join(exe("myintress-server")).to_str().context("path")?.to_owned(),
            "--app-bin".into(),
            release.join(exe("myintress-satker")).to_str().context("path")?.to_owned(),
            "--empty-bin".into(),
            release.join("examples").join(exe("empty_window")).to_str().context("path")?.to_owned(),
            "--pdfjs-dir".into(),
            root.join("ui/node_modules/pdfjs-dist/legacy/build").to_str().context("path")?.to_owned(),
            "--postgres-url".into(),
            cluster.url.clone(),
        ]);
        command.extend(extra.iter().cloned());
        let argv: Vec<&str> = command.iter().map(String::as_str).collect();
        let (program, argv) = if cfg!(target_os = "linux") { ("dbus-run-session", argv) } else { (argv[0], argv[1..].to_vec()) };
        // Benchmark 6b signs its letter with pyHanko, as the tests do.
        let python = setup::venv_bin("python")?;
        run_in(
            &root,
            program,
            &argv,
            &[
                ("PATH", &path),
                ("KEYRING", setup::tools_dir()?.join("bench-keyring").to_str().context("path")?),
                ("MYINTRESS_TEST_PYHANKO", python.to_str().context("path")?),
            ],
        )
    };
    let growth = args.iter().any(|a| a == "--growth");
    let args: Vec<String> = args.iter().filter(|a| *a != "--growth").cloned().collect();
    let full_run = !args.iter().any(|a| a == "tiny") && !args.iter().any(|a| a.parse::<u8>().is_ok());
    if !growth || full_run {
        println!("== Benchmarks");
        run_bench(&out, &args)?;
    }
    // How cost grows: benchmarks 1, 3 and 4 at 10,000 and 1,000,000 memberships beside the
    // full run's 100,000 (with `--growth` alone, 100,000 is run too).
    let mut steps = vec![10_000, 1_000_000];
    if !full_run {
        steps.insert(1, 100_000);
    }
    let mut growth_runs = if full_run { vec![out.clone()] } else { Vec::new() };
    if growth || full_run {
        for rows in steps {
            println!("== Benchmarks 1, 3 and 4 at {rows} memberships");
            let step = target.join(format!("bench-{rows}"));
            let mut extra = args.clone();
            extra.extend(["--rows".into(), rows.to_string(), "1".into(), "3".into(), "4".into()]);
            run_bench(&step, &extra)?;
            let _ = std::fs::remove_dir_all(step.join("work"));
            growth_runs.push(step);
        }
    }
    drop(cluster);
    let root_file = |name: &str| root.join(name);
    if full_run {
        let table = std::fs::read_to_string(out.join("results.md"))?;
        replace_block(&root_file("BENCHMARKS.md"), "bench", &table)?;
        println!("BENCHMARKS.md diperbarui.");
    } else {
        println!("Hasil di {} (BENCHMARKS.md hanya diperbarui oleh run penuh semua tolok ukur).", out.join("results.md").display());
    }
    if !growth_runs.is_empty() && (full_run || growth) {
        let mut argv = vec!["--out".to_owned(), out.join("growth").to_str().context("path")?.to_owned()];
        argv.extend(growth_runs.iter().map(|p| p.to_str().map(str::to_owned).context("path")).collect::<Result<Vec<_>>>()?);
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        run_in(&root, release.join(exe("myintress-bench-growth")).to_str().context("path")?, &argv, &[])?;
        if args.iter().all(|a| a != "tiny") {
            let table = std::fs::read_to_string(out.join("growth").join("growth.md"))?;
            replace_block(&root_file("BENCHMARKS.md"), "growth", &table)?;
            std::fs::copy(out.join("growth").join("growth.svg"), root_file("BENCHMARKS-growth.svg"))?;
            println!("BENCHMARKS.md (growth) dan BENCHMARKS-growth.svg diperbarui.");
        }
    }
    Ok(())
}

/// Replaces what lies between `<!-- {name}:begin -->` and `<!-- {name}:end -->` in `file`.
fn replace_block(file: &Path, name: &str, table: &str) -> Result<()> {
    let text = std::fs::read_to_string(file).with_context(|| file.display().to_string())?;
    let (begin, end) = (format!("<!-- {name}:begin -->"), format!("<!-- {name}:end -->"));
    let (Some(a), Some(b)) = (text.find(&begin), text.find(&end)) else { bail!("{} lacks the {begin} … {end} markers", file.display()) };
    std::fs::write(file, format!("{}{begin}\n{table}{}", &text[..a], &text[b..]))?;
    Ok(())
}

fn bindings() -> Result<()> {
    // The app embeds `ui/dist` at compile time, so one must exist; a stale one is fine for
    // exporting types. A UI written against bindings not yet exported (the usual reason to
    // run this) cannot be built, so a missing one becomes a placeholder page that the
    // next `demo`, `test` or UI build replaces.
    let dist = root().join("ui/dist");
    if !dist.join("index.html").exists() && setup::build_ui().is_err() {
        std::fs::create_dir_all(&dist)?;
        std::fs::write(dist.join("index.html"), "<!doctype html><title>MyIntress Satker</title><p>Jalankan npm run build di ui/.</p>")?;
    }
    run_in(
        &root(),
        "cargo",
        &["test", "--package", "myintress-satker", "--lib", "typescript_bindings_are_current"],
        &[("UPDATE_BINDINGS", "1")],
    )?;
    println!("ui/src/lib/bindings.ts diperbarui.");
    Ok(())
}

fn fuzz(args: &[String]) -> Result<()> {
    let mut seconds = "60".to_owned();
    let mut target = "pdf_check".to_owned();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seconds" => seconds = it.next().context("--seconds needs a number")?.clone(),
            other => target = other.to_owned(),
        }
    }
    setup::cargo_tool("cargo-fuzz", "cargo-fuzz")?;
    let core = root().join("crates/core");
    let corpus = core.join("fuzz/corpus").join(&target);
    std::fs::create_dir_all(&corpus)?;
    // Seed the PDF target with the crafted corpus: libFuzzer mutates from real structure.
    // The signature target starts from the signed letters the core tests made.
    if target == "signature" {
        let made = root().join("target/tmp/signed-letters/berkas");
        for entry in std::fs::read_dir(&made).with_context(|| format!("{}: run `cargo xtask test` first", made.display()))? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "pdf") {
                std::fs::copy(&path, corpus.join(path.file_name().unwrap()))?;
            }
        }
    }
    if target == "pdf_check" {
        for dir in ["tests/pdf/bad", "tests/pdf/accepted"] {
            for entry in std::fs::read_dir(core.join(dir))? {
                let path = entry?.path();
                std::fs::copy(&path, corpus.join(path.file_name().unwrap()))?;
            }
        }
    }
    let max_time = format!("-max_total_time={seconds}");
    let corpus = corpus.to_str().context("corpus path is not UTF-8")?;
    run_in(
        &core,
        "cargo",
        &["+nightly", "fuzz", "run", &target, corpus, "--", &max_time, "-rss_limit_mb=2048", "-max_len=1048576"],
        &[("PATH", &setup::path_with_tools()?)],
    )
}
