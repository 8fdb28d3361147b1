//! The Debian package as a KPPN's IT staff would use it: `dpkg -i` of the `.deb` that
//! `cargo xtask test` bundles from this build (`MYINTRESS_TEST_DEB`), the installed app
//! started from its installed path against a server and seen through WebDriver, then
//! `dpkg -r`, after which nothing of it is left on the machine.

use std::path::Path;
use std::process::Command;

use crate::harness::App;
use crate::world::World;

const PACKAGE: &str = "my-intress-satker";
const INSTALLED: &str = "/usr/bin/myintress-satker";

/// Removes the package on drop, so a failing test leaves no app installed.
struct Installed;

impl Drop for Installed {
    fn drop(&mut self) {
        let _ = Command::new("dpkg").args(["--remove", PACKAGE]).status();
    }
}

fn dpkg(args: &[&str]) -> String {
    let out = Command::new("dpkg").args(args).output().expect("dpkg runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "dpkg {args:?}: {text}");
    text
}

#[test]
fn the_deb_installs_starts_and_uninstalls() {
    let Some(deb) = std::env::var_os("MYINTRESS_TEST_DEB") else {
        assert!(std::env::var_os("MYINTRESS_TEST_TOOLS_REQUIRED").is_none(), "MYINTRESS_TEST_DEB is not set (cargo xtask test sets it)");
        eprintln!("skipped: no MYINTRESS_TEST_DEB (cargo xtask test bundles one)");
        return;
    };
    let deb = Path::new(&deb);
    assert!(deb.exists(), "{} is missing", deb.display());
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    assert!(root, "installing a package needs root (the test command runs as root on CI)");
    assert!(!Path::new(INSTALLED).exists(), "{INSTALLED} is already there: remove the package {PACKAGE} first");

    // What the package declares: the WebKit and GTK it runs on.
    let info = dpkg(&["--info", deb.to_str().unwrap()]);
    assert!(info.contains(&format!("Package: {PACKAGE}")) && info.contains("libwebkit2gtk-4.1-0"), "{info}");
    assert!(info.contains(&format!("Version: {}", env!("CARGO_PKG_VERSION"))), "{info}");

    let guard = Installed;
    dpkg(&["--install", deb.to_str().unwrap()]);
    let files = dpkg(&["--listfiles", PACKAGE]);
    for file in
        [INSTALLED, "/usr/share/applications/MyIntress Satker.desktop", "/usr/share/icons/hicolor/128x128/apps/myintress-satker.png"]
    {
        assert!(files.lines().any(|l| l == file), "{file} not installed:\n{files}");
        assert!(Path::new(file).exists(), "{file}");
    }
    let desktop = std::fs::read_to_string("/usr/share/applications/MyIntress Satker.desktop").unwrap();
    assert!(desktop.contains("Exec=myintress-satker") && desktop.contains("Icon=myintress-satker"), "{desktop}");

    // The installed program, not the build: its first screen against a server.
    let world = World::new("deb");
    {
        let app = App::launch_program("deb", Some(&world.url()), INSTALLED);
        assert_eq!(app.title(), "MyIntress Satker", "window title");
        app.wait_for_text("h2", "Masuk");
        app.wait_for_text("[data-testid=versi]", env!("CARGO_PKG_VERSION"));
        app.screenshot("terpasang");
    }

    drop(guard);
    assert!(!Path::new(INSTALLED).exists(), "{INSTALLED} is gone after dpkg --remove");
    let status = Command::new("dpkg-query").args(["-W", "-f=${Status}", PACKAGE]).output().unwrap();
    let status = String::from_utf8_lossy(&status.stdout);
    assert!(!status.contains("install ok installed"), "still installed: {status}");
}
