//! A minimal W3C WebDriver client over blocking HTTP, shared by the desktop app's
//! end-to-end tests (tauri-driver) and the server's browser test (chromedriver). A handful
//! of endpoints is all the tests need; no extra crate.

use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The W3C key under which an element reference is returned.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// How long to wait for something the page does on its own (a render, a command).
pub const UI_TIMEOUT: Duration = Duration::from_secs(15);

/// A TCP port free on 127.0.0.1 right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
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

/// A WebDriver session; deleted on drop, which closes the browser or app.
pub struct Session {
    http: reqwest::blocking::Client,
    base: String,
    id: String,
}

pub struct Element<'a> {
    session: &'a Session,
    id: String,
}

impl Session {
    /// Waits for the driver at `base` to answer, then opens a session.
    pub fn open(base: &str, capabilities: Value) -> Session {
        let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
        wait_for("the WebDriver server to answer", Duration::from_secs(20), || {
            http.get(format!("{base}/status")).send().ok().filter(|r| r.status().is_success())
        });
        let response: Value = http
            .post(format!("{base}/session"))
            .json(&json!({ "capabilities": { "alwaysMatch": capabilities } }))
            .send()
            .and_then(|r| r.json())
            .unwrap_or_else(|e| panic!("cannot create a WebDriver session: {e}"));
        let id = response["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session in {response}")).to_owned();
        Session { http, base: base.to_owned(), id }
    }

    pub fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value, String> {
        let mut request = self.http.request(method, format!("{}/session/{}{}", self.base, self.id, path));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().map_err(|e| e.to_string())?;
        let status = response.status();
        let value: Value = response.json().map_err(|e| e.to_string())?;
        if status.is_success() { Ok(value["value"].clone()) } else { Err(value["value"].to_string()) }
    }

    pub fn navigate(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url }))).unwrap();
    }

    pub fn title(&self) -> String {
        self.call(reqwest::Method::GET, "/title", None).unwrap().as_str().unwrap_or_default().to_owned()
    }

    pub fn try_find(&self, css: &str) -> Option<Element<'_>> {
        let value = self.call(reqwest::Method::POST, "/element", Some(json!({"using": "css selector", "value": css}))).ok()?;
        Some(Element { session: self, id: value[ELEMENT_KEY].as_str()?.to_owned() })
    }

    /// Waits until an element matching `css` is present.
    pub fn find(&self, css: &str) -> Element<'_> {
        wait_for(&format!("element {css}"), UI_TIMEOUT, || self.try_find(css))
    }

    /// Waits until the element matching `css` shows text containing `needle`.
    pub fn wait_for_text(&self, css: &str, needle: &str) -> String {
        wait_for(&format!("{css} to show {needle:?}"), UI_TIMEOUT, || self.try_find(css).map(|e| e.text()).filter(|t| t.contains(needle)))
    }

    /// A PNG of the page once the compositor has drawn the current DOM (two animation
    /// frames), retried while the first frame is not ready yet.
    pub fn screenshot_png(&self) -> Vec<u8> {
        use base64::Engine;
        let two_frames = "const done = arguments[arguments.length - 1]; \
                          requestAnimationFrame(() => requestAnimationFrame(() => done(true)));";
        // WebKit answers "unknown error" to both while the first frame is not composited yet.
        let value = wait_for("a screenshot", UI_TIMEOUT, || {
            self.call(reqwest::Method::POST, "/execute/async", Some(json!({"script": two_frames, "args": []}))).ok()?;
            self.call(reqwest::Method::GET, "/screenshot", None).ok()
        });
        base64::engine::general_purpose::STANDARD.decode(value.as_str().unwrap()).unwrap()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.http.delete(format!("{}/session/{}", self.base, self.id)).send();
    }
}

impl Element<'_> {
    pub fn text(&self) -> String {
        self.session
            .call(reqwest::Method::GET, &format!("/element/{}/text", self.id), None)
            .map(|v| v.as_str().unwrap_or_default().to_owned())
            .unwrap_or_default()
    }

    pub fn type_text(&self, text: &str) {
        self.session.call(reqwest::Method::POST, &format!("/element/{}/value", self.id), Some(json!({"text": text}))).unwrap();
    }

    pub fn clear(&self) {
        self.session.call(reqwest::Method::POST, &format!("/element/{}/clear", self.id), Some(json!({}))).unwrap();
    }

    pub fn click(&self) {
        self.session.call(reqwest::Method::POST, &format!("/element/{}/click", self.id), Some(json!({}))).unwrap();
    }

    pub fn attribute(&self, name: &str) -> Option<String> {
        self.session
            .call(reqwest::Method::GET, &format!("/element/{}/attribute/{name}", self.id), None)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
    }
}

/// A child process stopped with SIGTERM on drop (SIGKILL would orphan WebKitWebDriver,
/// which tauri-driver stops on SIGTERM), and SIGKILL only if it ignores that.
pub struct Guarded {
    name: &'static str,
    pub child: Child,
}

impl Guarded {
    pub fn spawn(name: &'static str, command: &mut Command) -> Guarded {
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

/// A folder removed on drop (declare it last so it outlives what writes into it).
pub struct RemoveOnDrop(pub PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Headless Chromium driven through chromedriver (Debian `chromium` and `chromium-driver`,
/// installed by the test command), with a profile of its own; everything goes on drop.
pub struct Chromium {
    pub session: Session,
    _profile: RemoveOnDrop,
    _driver: Guarded,
}

impl Chromium {
    pub fn start() -> Chromium {
        let port = free_port();
        let driver = Guarded::spawn(
            "chromedriver",
            Command::new("chromedriver")
                .arg(format!("--port={port}"))
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null()),
        );
        let profile = RemoveOnDrop(std::env::temp_dir().join(format!("myintress-chromium-{port}")));
        let binary = crate::producers::chromium();
        let session = Session::open(
            &format!("http://127.0.0.1:{port}"),
            json!({
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": binary,
                    "args": [
                        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        "--no-first-run", format!("--user-data-dir={}", profile.0.display()),
                    ]
                }
            }),
        );
        Chromium { session, _profile: profile, _driver: driver }
    }
}
