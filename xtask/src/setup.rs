//! Installs what the project needs on a Debian or Ubuntu machine: system packages (apt,
//! as root or through sudo), Node modules (`npm ci`), the UI build, and test tools
//! (`tauri-driver` into a tools folder beside the build output). Each step checks first
//! and does nothing when the thing is already there, so running it again is cheap.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{root, run_in};

/// Packages the app needs to build and run (Tauri on WebKitGTK).
const APP_PACKAGES: &[&str] = &[
    "build-essential",
    "pkg-config",
    "libssl-dev",
    "libwebkit2gtk-4.1-dev",
    "libgtk-3-dev",
    "libsoup-3.0-dev",
    "libjavascriptcoregtk-4.1-dev",
    "librsvg2-dev",
    "libayatana-appindicator3-dev",
    "libxdo-dev",
    "libdbus-1-dev",
    "dbus",
    "dbus-x11",
    "gnome-keyring",
    "libsecret-tools",
];

/// Packages only tests need: a virtual display, the WebKit WebDriver, and the real PDF
/// producers the letter check is tested against.
const TEST_PACKAGES: &[&str] = &[
    "xvfb",
    "xauth",
    "webkit2gtk-driver",
    "xdotool",
    "libreoffice-writer-nogui",
    "ghostscript",
    "qpdf",
    "img2pdf",
    // JPEG 2000 scans (opj_compress), as some scanners write them.
    "libopenjp2-tools",
    "poppler-utils",
    "cairosvg",
    "postgresql",
    "chromium",
    "chromium-driver",
    // The HTTP load generator of benchmark 4 (also run at a tiny size by the tests).
    "wrk",
    // The private CA of the TLS tests, and the test CA of the signed letters.
    "openssl",
    // QR codes on the signed-letter corpus.
    "qrencode",
    "ca-certificates",
    // `systemd-analyze verify` of deploy/myintress-server.service (xtask's tidy test).
    "systemd",
];

/// npm's launcher: a `.cmd` script on Windows, which `Command` must be given by its full name.
pub const NPM: &str = if cfg!(windows) { "npm.cmd" } else { "npm" };

/// The oldest Node.js the UI tool chain (Vite 8) runs on.
const MIN_NODE: (u32, u32) = (20, 19);

pub fn all(for_tests: bool) -> Result<()> {
    let mut packages: Vec<&str> = APP_PACKAGES.to_vec();
    if for_tests {
        packages.extend(TEST_PACKAGES);
    }
    system_packages(&packages)?;
    node()?;
    build_ui()?;
    if for_tests {
        rust_components()?;
        cargo_tool("tauri-driver", "tauri-driver")?;
        python_tool(SCHEMATHESIS)?;
        python_tool(MOTO)?;
        python_tool(AIOSMTPD)?;
        python_tool(PYHANKO)?;
    }
    Ok(())
}

/// `rustfmt` and `clippy`, which the test command runs, through `rustup` unless present.
fn rust_components() -> Result<()> {
    let present = |tool: &str| Command::new("cargo").args([tool, "--version"]).output().is_ok_and(|o| o.status.success());
    if present("fmt") && present("clippy") {
        return Ok(());
    }
    println!("== rustup component add rustfmt clippy");
    run_in(&root(), "rustup", &["component", "add", "rustfmt", "clippy"], &[])
}

/// The API fuzzer run against `/openapi.json`, pinned.
pub const SCHEMATHESIS: &str = "schemathesis==4.32.5";

/// The S3-compatible server the tests store documents in (moto in server mode), pinned.
pub const MOTO: &str = "moto[server]==5.2.5";

/// The real SMTP server the mail tests deliver to (stopped and started by the tests), pinned.
pub const AIOSMTPD: &str = "aiosmtpd==1.4.6";

/// What signs the test corpus of signed letters (PAdES, RSA and ECDSA), pinned.
pub const PYHANKO: &str = "pyHanko==0.38.0";

/// `pip install` of a pinned tool into `<tools>/venv` unless that version is there.
pub fn python_tool(requirement: &str) -> Result<()> {
    let venv = tools_dir()?.join("venv");
    let (name, version) = requirement.split_once("==").context("requirement must pin a version")?;
    let stamp = venv.join(format!(".installed-{name}-{version}"));
    if stamp.exists() {
        return Ok(());
    }
    if is_debian_like() {
        system_packages(&["python3-venv"])?;
    }
    println!("== pip install {requirement}");
    let venv_str = venv.to_str().context("tools path is not UTF-8")?;
    run_in(&root(), "python3", &["-m", "venv", venv_str], &[])?;
    let pip = venv.join("bin/pip");
    run_in(&root(), pip.to_str().context("path")?, &["install", "--quiet", "--disable-pip-version-check", requirement], &[])?;
    std::fs::write(stamp, "")?;
    Ok(())
}

/// Where `python_tool` puts a tool's executable.
pub fn venv_bin(name: &str) -> Result<PathBuf> {
    Ok(tools_dir()?.join("venv/bin").join(name))
}

fn is_debian_like() -> bool {
    std::path::Path::new("/usr/bin/dpkg-query").exists() && std::path::Path::new("/usr/bin/apt-get").exists()
}

fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

/// Debian's name of a package as this distribution spells it: Ubuntu ships Chromium and
/// its driver as `chromium-browser` and `chromium-chromedriver` (through snap).
fn package_here(debian_name: &str) -> &str {
    let ubuntu = std::fs::read_to_string("/etc/os-release").is_ok_and(|t| t.lines().any(|l| l == "ID=ubuntu"));
    match (ubuntu, debian_name) {
        (true, "chromium") => "chromium-browser",
        (true, "chromium-driver") => "chromium-chromedriver",
        _ => debian_name,
    }
}

fn system_packages(packages: &[&str]) -> Result<()> {
    if !is_debian_like() {
        println!("Bukan Debian/Ubuntu: lewati paket sistem (lihat README untuk Windows dan macOS).");
        return Ok(());
    }
    let missing: Vec<&str> = packages.iter().map(|p| package_here(p)).filter(|p| !installed(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    println!("== Memasang paket sistem: {}", missing.join(" "));
    let as_root = Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0")).unwrap_or(false);
    let (program, mut prefix): (&str, Vec<&str>) = if as_root { ("apt-get", vec![]) } else { ("sudo", vec!["apt-get"]) };
    let mut update = prefix.clone();
    update.extend(["update", "-qq"]);
    run_in(&root(), program, &update, &[])?;
    prefix.extend(["install", "-y", "-qq", "--no-install-recommends"]);
    prefix.extend(missing.iter().copied());
    run_in(&root(), program, &prefix, &[("DEBIAN_FRONTEND", "noninteractive")])
}

fn node_version() -> Option<(u32, u32)> {
    let out = Command::new("node").arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text.trim().trim_start_matches('v').split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// How to get a new enough Node.js where the distribution's own is older (Debian 12 has
/// 18, Ubuntu 24.04 has 18): README, "Node.js".
const NODE_ADVICE: &str = "Paket nodejs bawaan Debian 12 dan Ubuntu lebih lama dari itu. Pasang Node.js 22 LTS dari NodeSource:\n  \
     curl -fsSL https://deb.nodesource.com/setup_22.x | sudo -E bash - && sudo apt-get install -y nodejs\n\
     atau dengan fnm/nvm (fnm install 22), lalu jalankan perintah ini lagi. Windows/macOS: https://nodejs.org";

fn node() -> Result<()> {
    if node_version().is_none() && is_debian_like() {
        system_packages(&["nodejs", "npm"])?;
    }
    match node_version() {
        Some(v) if v >= MIN_NODE => Ok(()),
        Some((major, minor)) => {
            bail!("Node.js {major}.{minor} terlalu lama: UI memerlukan Node.js ≥ {}.{}.\n{NODE_ADVICE}", MIN_NODE.0, MIN_NODE.1)
        }
        None => bail!("Node.js tidak ditemukan: pasang Node.js ≥ {}.{}.\n{NODE_ADVICE}", MIN_NODE.0, MIN_NODE.1),
    }
}

/// `npm ci` when the installed modules are missing or older than the lock file, then
/// `vite build` into `ui/dist`, which the app embeds.
pub fn build_ui() -> Result<()> {
    let ui = root().join("ui");
    let lock = ui.join("package-lock.json");
    let stamp = ui.join("node_modules/.package-lock.json");
    let stale = match (std::fs::metadata(&lock), std::fs::metadata(&stamp)) {
        (Ok(l), Ok(s)) => l.modified()? > s.modified()?,
        _ => true,
    };
    if stale {
        println!("== npm ci");
        run_in(&ui, NPM, &["ci", "--no-audit", "--no-fund"], &[])?;
    }
    run_in(&ui, NPM, &["run", "build", "--silent"], &[])
}

/// Where project tools are installed: `<target dir>/tools`, so a shared
/// `CARGO_TARGET_DIR` keeps them between clones.
pub fn tools_dir() -> Result<PathBuf> {
    let out = Command::new("cargo")
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(root())
        .output()
        .context("cargo metadata")?;
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).context("cargo metadata output")?;
    let target = meta["target_directory"].as_str().context("no target_directory")?;
    Ok(PathBuf::from(target).join("tools"))
}

/// The build folder (`target/`, or `CARGO_TARGET_DIR`): the tools folder's parent.
pub fn target_dir() -> Result<PathBuf> {
    Ok(tools_dir()?.parent().context("target dir")?.to_path_buf())
}

/// `cargo install --locked` of `krate` into the tools folder unless `binary` is there.
pub fn cargo_tool(krate: &str, binary: &str) -> Result<()> {
    let tools = tools_dir()?;
    if tools.join("bin").join(binary).exists() || which(binary) {
        return Ok(());
    }
    println!("== cargo install {krate}");
    let root_arg = tools.to_str().context("tools path is not UTF-8")?;
    run_in(&root(), "cargo", &["install", "--locked", "--root", root_arg, krate], &[])
}

/// `PATH` with the tools folder first, for commands that look tools up by name
/// (`tauri-driver` for the end-to-end tests, `cargo fuzz`).
pub fn path_with_tools() -> Result<String> {
    let mut paths = vec![tools_dir()?.join("bin")];
    if let Some(existing) = std::env::var_os("PATH") {
        paths.extend(std::env::split_paths(&existing));
    }
    let joined = std::env::join_paths(paths).context("PATH")?;
    joined.into_string().map_err(|_| anyhow::anyhow!("PATH is not UTF-8"))
}

fn which(binary: &str) -> bool {
    std::env::var_os("PATH").map(|paths| std::env::split_paths(&paths).any(|p| p.join(binary).is_file())).unwrap_or(false)
}
