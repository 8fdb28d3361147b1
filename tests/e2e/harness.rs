//! Starts what an end-to-end test needs and cleans all of it up, even when the test
//! fails: a display (Xvfb) and a session bus when the environment has none, then
//! `tauri-driver` on free ports, then a WebDriver session that launches the app.
//!
//! WebDriver is spoken directly over HTTP (W3C protocol) with a blocking `reqwest`
//! client: a handful of endpoints, no extra crate.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long to wait for something the app does on its own (a render, a command).
const UI_TIMEOUT: Duration = Duration::from_secs(15);
/// The W3C key under which an element reference is returned.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Polls `probe` until it returns `Some`, or panics with `what` after `timeout`.
pub fn wait_for<T>(what: &str, timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = probe() {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A child process stopped with SIGTERM on drop (SIGKILL would orphan WebKitWebDriver,
/// which tauri-driver stops on SIGTERM), and SIGKILL only if it ignores that.
struct Guarded {
    name: &'static str,
    child: Child,
}

impl Guarded {
    fn spawn(name: &'static str, command: &mut Command) -> Guarded {
        let child = command.spawn().unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Guarded { name, child }
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        // SAFETY: kill(2) on a pid we spawned and have not yet reaped.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("{} ignored SIGTERM; killing it", self.name);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
    http: reqwest::blocking::Client,
    base: String,
    session: String,
    name: String,
    // Dropped in this order, after `Drop for App` deleted the session.
    _driver: Guarded,
    _desktop: Desktop,
    _home: PathBuf,
}

pub struct Element<'a> {
    app: &'a App,
    id: String,
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

        let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
        let base = format!("http://127.0.0.1:{port}");
        wait_for("tauri-driver to answer", Duration::from_secs(20), || {
            http.get(format!("{base}/status")).send().ok().filter(|r| r.status().is_success())
        });

        let application = env!("CARGO_BIN_EXE_myintress-satker");
        let caps = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "wry",
                    "tauri:options": { "application": application }
                }
            }
        });
        let response: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .and_then(|r| r.json())
            .unwrap_or_else(|e| panic!("cannot create a WebDriver session: {e}"));
        let session = response["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session in {response}"))
            .to_owned();
        App { http, base, session, name: name.to_owned(), _driver: driver, _desktop: desktop, _home: home }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/session/{}{}", self.base, self.session, path)
    }

    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value, String> {
        let mut request = self.http.request(method, self.url(path));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().map_err(|e| e.to_string())?;
        let status = response.status();
        let value: Value = response.json().map_err(|e| e.to_string())?;
        if status.is_success() { Ok(value["value"].clone()) } else { Err(value["value"].to_string()) }
    }

    pub fn title(&self) -> String {
        self.call(reqwest::Method::GET, "/title", None).unwrap().as_str().unwrap_or_default().to_owned()
    }

    fn try_find(&self, css: &str) -> Option<Element<'_>> {
        let value = self
            .call(reqwest::Method::POST, "/element", Some(json!({"using": "css selector", "value": css})))
            .ok()?;
        Some(Element { app: self, id: value[ELEMENT_KEY].as_str()?.to_owned() })
    }

    /// Waits until an element matching `css` is present.
    pub fn find(&self, css: &str) -> Element<'_> {
        wait_for(&format!("element {css}"), UI_TIMEOUT, || self.try_find(css))
    }

    /// Waits until the element matching `css` shows text containing `needle`.
    pub fn wait_for_text(&self, css: &str, needle: &str) -> String {
        wait_for(&format!("{css} to show {needle:?}"), UI_TIMEOUT, || {
            self.try_find(css).map(|e| e.text()).filter(|t| t.contains(needle))
        })
    }

    /// Saves a screenshot of the window as `test-artifacts/e2e/<test>-<label>.png`.
    pub fn screenshot(&self, label: &str) -> PathBuf {
        use base64::Engine;
        // Let the compositor draw the current DOM first; otherwise the snapshot may show
        // the frame before the last change.
        let two_frames = "const done = arguments[arguments.length - 1]; \
                          requestAnimationFrame(() => requestAnimationFrame(() => done(true)));";
        self.call(reqwest::Method::POST, "/execute/async", Some(json!({"script": two_frames, "args": []})))
            .expect("waiting for a frame");
        // WebKit answers "unknown error" while the first frame is not composited yet.
        let value = wait_for("a screenshot", UI_TIMEOUT, || self.call(reqwest::Method::GET, "/screenshot", None).ok());
        let png = base64::engine::general_purpose::STANDARD.decode(value.as_str().unwrap()).unwrap();
        let dir = workspace_root().join("test-artifacts/e2e");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{}-{label}.png", self.name));
        std::fs::write(&path, png).unwrap();
        path
    }
}

impl Drop for App {
    fn drop(&mut self) {
        // Closing the session closes the app; the guards then stop the driver.
        let _ = self.http.delete(format!("{}/session/{}", self.base, self.session)).send();
        let _ = std::fs::remove_dir_all(&self._home);
    }
}

impl Element<'_> {
    pub fn text(&self) -> String {
        self.app
            .call(reqwest::Method::GET, &format!("/element/{}/text", self.id), None)
            .map(|v| v.as_str().unwrap_or_default().to_owned())
            .unwrap_or_default()
    }

    pub fn type_text(&self, text: &str) {
        self.app
            .call(reqwest::Method::POST, &format!("/element/{}/value", self.id), Some(json!({"text": text})))
            .unwrap();
    }

    pub fn clear(&self) {
        self.app.call(reqwest::Method::POST, &format!("/element/{}/clear", self.id), Some(json!({}))).unwrap();
    }

    pub fn attribute(&self, name: &str) -> Option<String> {
        self.app
            .call(reqwest::Method::GET, &format!("/element/{}/attribute/{name}", self.id), None)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
    }
}
