//! Starts what an end-to-end test needs and cleans all of it up, even when the test
//! fails: a display (Xvfb) and a session bus when the environment has none, then
//! `tauri-driver` on free ports, then a WebDriver session that launches the app.
//!
//! WebDriver is spoken directly over HTTP (W3C protocol) with a blocking `reqwest`
//! client: a handful of endpoints, no extra crate.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;

pub use crate::webdriver::{Element, Guarded, RemoveOnDrop, Session, free_port, wait_for};

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The display and session bus the app runs in: the caller's if set, otherwise our own.
struct Desktop {
    display: String,
    bus: String,
    _xvfb: Option<Guarded>,
    _dbus: Option<Guarded>,
}

impl Desktop {
    fn start() -> Desktop {
        let (display, xvfb) = match std::env::var("DISPLAY") {
            Ok(d) if !d.is_empty() => (d, None),
            _ => {
                let n = (99..200)
                    .find(|n| !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() && !Path::new(&format!("/tmp/.X{n}-lock")).exists())
                    .expect("no free X display number");
                let xvfb = Guarded::spawn(
                    "Xvfb",
                    Command::new("Xvfb")
                        .args([format!(":{n}"), "-screen".into(), "0".into(), "1920x1080x24".into(), "-nolisten".into(), "tcp".into()])
                        .stdout(Stdio::null())
                        .stderr(Stdio::null()),
                );
                let socket = format!("/tmp/.X11-unix/X{n}");
                wait_for("Xvfb to listen", Duration::from_secs(10), || Path::new(&socket).exists().then_some(()));
                (format!(":{n}"), Some(xvfb))
            }
        };
        let (bus, dbus) = match std::env::var("DBUS_SESSION_BUS_ADDRESS") {
            Ok(b) if !b.is_empty() => (b, None),
            _ => {
                let mut dbus = Guarded::spawn(
                    "dbus-daemon",
                    Command::new("dbus-daemon")
                        .args(["--session", "--nofork", "--print-address=1"])
                        .stdout(Stdio::piped())
                        .stderr(Stdio::null()),
                );
                let mut line = String::new();
                BufReader::new(dbus.child.stdout.take().unwrap()).read_line(&mut line).unwrap();
                (line.trim().to_owned(), Some(dbus))
            }
        };
        Desktop { display, bus, _xvfb: xvfb, _dbus: dbus }
    }
}

/// A running app under WebDriver. Dropping it deletes the session (which closes the
/// app), stops tauri-driver, then the display and bus if they were ours.
pub struct App {
    session: Session,
    name: String,
    // Dropped after the session, in this order.
    _driver: Guarded,
    _desktop: Desktop,
    _home: RemoveOnDrop,
}

impl App {
    /// Launches the built app for test `name`, with its own empty data folders.
    pub fn launch(name: &str) -> App {
        let desktop = Desktop::start();
        let home = std::env::temp_dir().join(format!("myintress-e2e-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&home);
        std::fs::create_dir_all(&home).unwrap();

        // `cargo xtask test` puts its tools folder first on PATH.
        let driver_path = std::env::var("TAURI_DRIVER").unwrap_or_else(|_| "tauri-driver".into());
        let port = free_port();
        let native_port = free_port();
        let driver = Guarded::spawn(
            "tauri-driver",
            Command::new(&driver_path)
                .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
                .env("DISPLAY", &desktop.display)
                .env("DBUS_SESSION_BUS_ADDRESS", &desktop.bus)
                .env("XDG_DATA_HOME", home.join("data"))
                .env("XDG_CONFIG_HOME", home.join("config"))
                .env("XDG_CACHE_HOME", home.join("cache"))
                // Leave WebKit's compositing on: with it off, a screenshot of a page that
                // has not repainted since loading never completes.
                .env_remove("WEBKIT_DISABLE_COMPOSITING_MODE")
                .stdout(Stdio::null())
                .stderr(Stdio::inherit()),
        );
        let application = env!("CARGO_BIN_EXE_myintress-satker");
        let session = Session::open(
            &format!("http://127.0.0.1:{port}"),
            json!({ "browserName": "wry", "tauri:options": { "application": application } }),
        );
        App { session, name: name.to_owned(), _driver: driver, _desktop: desktop, _home: RemoveOnDrop(home) }
    }

    pub fn title(&self) -> String {
        self.session.title()
    }

    pub fn find(&self, css: &str) -> Element<'_> {
        self.session.find(css)
    }

    pub fn wait_for_text(&self, css: &str, needle: &str) -> String {
        self.session.wait_for_text(css, needle)
    }

    /// Saves a screenshot of the window as `test-artifacts/e2e/<test>-<label>.png`.
    pub fn screenshot(&self, label: &str) -> PathBuf {
        let png = self.session.screenshot_png();
        let dir = workspace_root().join("test-artifacts/e2e");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{}-{label}.png", self.name));
        std::fs::write(&path, png).unwrap();
        path
    }
}
