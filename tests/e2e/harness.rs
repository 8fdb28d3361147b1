//! Starts what an end-to-end test needs and cleans all of it up, even when the test
//! fails: a display (Xvfb) and a session bus when the environment has none, then
//! `tauri-driver` on free ports, then a WebDriver session that launches the app.
//!
//! WebDriver is spoken directly over HTTP (W3C protocol) with a blocking `reqwest`
//! client: a handful of endpoints, no extra crate.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;

pub use myintress_testkit::webdriver::{Element, Guarded, RemoveOnDrop, Session, free_port, wait_for};

pub fn workspace_root() -> PathBuf {
    // `cargo test` sets it at run time; prefer that over the compile-time path (see xtask).
    std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// The display (the caller's if set, otherwise our own Xvfb) and the session bus the app
/// runs in (always our own).
struct Desktop {
    display: String,
    bus: String,
    _xvfb: Option<Guarded>,
    _dbus: Option<Guarded>,
    // After the bus: the keyring's files outlive the daemon that wrote them.
    _keyring: RemoveOnDrop,
}

impl Desktop {
    fn start() -> Desktop {
        let (display, xvfb) = match std::env::var("DISPLAY") {
            Ok(d) if !d.is_empty() => (d, None),
            _ => {
                // Xvfb picks a free display number itself and writes it to stdout
                // (-displayfd): two tests choosing "the first free number" at once
                // would share one server, and the first to finish would take it away.
                let mut xvfb = Guarded::spawn(
                    "Xvfb",
                    Command::new("Xvfb")
                        .args(["-displayfd", "1", "-screen", "0", "1920x1080x24", "-nolisten", "tcp"])
                        .stdout(Stdio::piped())
                        .stderr(Stdio::null()),
                );
                let mut n = String::new();
                BufReader::new(xvfb.child.stdout.take().unwrap()).read_line(&mut n).expect("Xvfb names its display");
                let n = n.trim().to_owned();
                assert!(!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()), "Xvfb did not start (display {n:?})");
                (format!(":{n}"), Some(xvfb))
            }
        };
        // Always a session bus of our own: the single-instance plugin names itself on the
        // session bus, so two apps of two tests on one bus would see each other; and the
        // keychain (a Secret Service on that bus) is then private to this test.
        let mut dbus = Guarded::spawn(
            "dbus-daemon",
            Command::new("dbus-daemon").args(["--session", "--nofork", "--print-address=1"]).stdout(Stdio::piped()).stderr(Stdio::null()),
        );
        let mut line = String::new();
        BufReader::new(dbus.child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let bus = line.trim().to_owned();
        let keyring = std::env::temp_dir().join(format!("myintress-e2e-keyring-{}-{}", std::process::id(), dbus.child.id()));
        let _ = std::fs::create_dir_all(&keyring);
        let mut daemon = Command::new("gnome-keyring-daemon")
            .args(["--unlock", "--components=secrets"])
            .env("DBUS_SESSION_BUS_ADDRESS", &bus)
            .env("XDG_DATA_HOME", &keyring)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon is installed");
        {
            use std::io::Write;
            let _ = daemon.stdin.take().map(|mut i| i.write_all(b"myintress-e2e"));
        }
        // It forks into the background and exits; the daemon ends with the bus.
        let _ = daemon.wait();
        let dbus = Some(dbus);
        Desktop { display, bus, _xvfb: xvfb, _dbus: dbus, _keyring: RemoveOnDrop(keyring) }
    }
}

/// A running app under WebDriver. Dropping it deletes the session (which closes the
/// app), stops tauri-driver, then the display and bus if they were ours.
pub struct App {
    session: Session,
    name: String,
    /// The program tauri-driver starts: the built app, or an installed one.
    application: String,
    display: String,
    server_url: Option<String>,
    /// More environment of the app (the update address of a test, say).
    env: Vec<(String, String)>,
    // Dropped after the session, in this order.
    _driver: Guarded,
    _desktop: Desktop,
    _home: RemoveOnDrop,
}

impl App {
    /// Launches the built app for test `name`, with its own empty data folders and no
    /// server configured (the first-run screen).
    pub fn launch(name: &str) -> App {
        Self::launch_with(name, None)
    }

    /// Launches the app pointed at `server_url` (as `cargo xtask demo` does).
    pub fn launch_with(name: &str, server_url: Option<&str>) -> App {
        Self::launch_program(name, server_url, env!("CARGO_BIN_EXE_myintress-satker"))
    }

    /// Launches `application` (an installed app, say) pointed at `server_url`.
    pub fn launch_program(name: &str, server_url: Option<&str>, application: &str) -> App {
        Self::launch_full(name, server_url, application, &[])
    }

    /// Launches the built app with more environment (`MYINTRESS_UPDATE_URL`, say).
    pub fn launch_env(name: &str, server_url: Option<&str>, env: &[(&str, &str)]) -> App {
        Self::launch_full(name, server_url, env!("CARGO_BIN_EXE_myintress-satker"), env)
    }

    fn launch_full(name: &str, server_url: Option<&str>, application: &str, env: &[(&str, &str)]) -> App {
        let desktop = Desktop::start();
        let home = std::env::temp_dir().join(format!("myintress-e2e-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&home);
        std::fs::create_dir_all(&home).unwrap();
        let env = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Self::open(name.to_owned(), application.to_owned(), server_url.map(str::to_owned), env, desktop, RemoveOnDrop(home))
    }

    /// Closes the app and starts it again on the same machine: the same data folders, the
    /// same keychain, the same display (what a person sees after a restart).
    pub fn restart(self) -> App {
        let App { session, name, application, server_url, env, _driver, _desktop, _home, .. } = self;
        drop(session);
        drop(_driver);
        // The single-instance plugin holds a name on the session bus until the app has
        // exited; a new app started before that would hand over to the old one and quit.
        // An app still there after a while is closed as a person would force it to.
        let bus = _desktop.bus.clone();
        let dbus = |method: &str, arg: Option<&str>| {
            let mut command = Command::new("dbus-send");
            command.args(["--session", "--dest=org.freedesktop.DBus", "--type=method_call", "--print-reply", "/org/freedesktop/DBus"]);
            command.arg(format!("org.freedesktop.DBus.{method}"));
            if let Some(arg) = arg {
                command.arg(format!("string:{arg}"));
            }
            command
                .env("DBUS_SESSION_BUS_ADDRESS", &bus)
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default()
        };
        let app_name = || dbus("ListNames", None).split('"').find(|n| n.contains("myintress")).map(str::to_owned);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while let Some(held) = app_name() {
            assert!(std::time::Instant::now() < deadline + Duration::from_secs(20), "the app did not exit ({held})");
            if std::time::Instant::now() > deadline {
                let reply = dbus("GetConnectionUnixProcessID", Some(&held));
                if let Some(pid) = reply.split_whitespace().last().and_then(|p| p.parse::<i32>().ok()) {
                    eprintln!("the app (pid {pid}) did not exit after its WebDriver session ended; terminating it");
                    let _ = Command::new("kill").arg(pid.to_string()).status();
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Self::open(name, application, server_url, env, _desktop, _home)
    }

    fn open(
        name: String,
        application: String,
        server_url: Option<String>,
        env: Vec<(String, String)>,
        desktop: Desktop,
        home: RemoveOnDrop,
    ) -> App {
        // `cargo xtask test` puts its tools folder first on PATH.
        let driver_path = std::env::var("TAURI_DRIVER").unwrap_or_else(|_| "tauri-driver".into());
        let port = free_port();
        let native_port = free_port();
        let mut command = Command::new(&driver_path);
        if let Some(url) = &server_url {
            command.env("MYINTRESS_SERVER_URL", url);
        }
        command.envs(env.iter().map(|(k, v)| (k, v)));
        let dir = &home.0;
        let driver = Guarded::spawn(
            "tauri-driver",
            command
                .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
                .env("DISPLAY", &desktop.display)
                .env("DBUS_SESSION_BUS_ADDRESS", &desktop.bus)
                .env("XDG_DATA_HOME", dir.join("data"))
                .env("XDG_CONFIG_HOME", dir.join("config"))
                .env("XDG_CACHE_HOME", dir.join("cache"))
                // WebKit's compositing on for the tests (the app turns it off by default,
                // BENCHMARKS.md 8): with it off, WebKitWebDriver's screenshot of a page
                // that has not repainted since loading never completes. "0" is WebKit's
                // own "not disabled", and the app leaves a value the user set alone.
                .env("WEBKIT_DISABLE_COMPOSITING_MODE", "0")
                .stdout(Stdio::null())
                .stderr(Stdio::inherit()),
        );
        let session = Session::open(
            &format!("http://127.0.0.1:{port}"),
            json!({ "browserName": "wry", "tauri:options": { "application": application } }),
        );
        App {
            session,
            name,
            application,
            display: desktop.display.clone(),
            server_url,
            env,
            _driver: driver,
            _desktop: desktop,
            _home: home,
        }
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    pub fn click(&self, css: &str) {
        self.find(css).click();
    }

    pub fn type_into(&self, css: &str, text: &str) {
        self.find(css).type_text(text);
    }

    /// Presses one key on the page, as a person does (W3C key actions): the screens'
    /// shortcuts listen on the window.
    pub fn press(&self, key: &str) {
        let actions = json!({"actions": [{"type": "key", "id": "papan-ketik", "actions": [
            {"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}
        ]}]});
        self.session.call(reqwest::Method::POST, "/actions", Some(actions)).unwrap();
    }

    /// The current value of an input or select (the property, as the person sees it).
    pub fn value(&self, css: &str) -> String {
        self.find(css);
        let script = "return document.querySelector(arguments[0]).value;";
        let value = self.session.call(reqwest::Method::POST, "/execute/sync", Some(json!({"script": script, "args": [css]}))).unwrap();
        value.as_str().unwrap_or_default().to_owned()
    }

    /// Chooses an option of a `<select>` the way a person does, firing `change`.
    pub fn select(&self, css: &str, value: &str) {
        // Options may arrive after the field (a list read from the store): wait for this one.
        self.wait_count(&format!("{css} option[value=\"{value}\"]"), 1);
        let script = "const s = document.querySelector(arguments[0]); s.value = arguments[1]; \
                      s.dispatchEvent(new Event('change', { bubbles: true })); return s.value;";
        let chosen =
            self.session.call(reqwest::Method::POST, "/execute/sync", Some(json!({"script": script, "args": [css, value]}))).unwrap();
        assert_eq!(chosen, value, "{css} has no option {value}");
    }

    /// Waits until the page shows `needle` anywhere.
    pub fn wait_for_page_text(&self, needle: &str) -> String {
        self.wait_for_text("body", needle)
    }

    /// How many elements match `css` right now.
    pub fn count(&self, css: &str) -> usize {
        let script = "return document.querySelectorAll(arguments[0]).length;";
        self.session
            .call(reqwest::Method::POST, "/execute/sync", Some(json!({"script": script, "args": [css]})))
            .ok()
            .and_then(|v| v.as_u64())
            .unwrap_or(0) as usize
    }

    /// Waits until at least `n` elements match `css`.
    pub fn wait_count(&self, css: &str, n: usize) -> usize {
        wait_for(&format!("{n} × {css}"), myintress_testkit::webdriver::UI_TIMEOUT, || Some(self.count(css)).filter(|c| *c >= n))
    }

    /// Chooses `path` in the native file dialog that clicking `button_css` opens: the real
    /// GTK dialog, driven with xdotool (the path typed into its location entry, Enter), as
    /// a person would.
    pub fn pick_file(&self, button_css: &str, title: &str, path: &std::path::Path) {
        let button = self.find(button_css);
        // The click returns only when the dialog closes, so it runs on its own thread.
        std::thread::scope(|scope| {
            let clicking = scope.spawn(|| button.click());
            let xdotool = |args: &[&str]| {
                let status = Command::new("xdotool").args(args).env("DISPLAY", &self.display).status().expect("xdotool is installed");
                assert!(status.success(), "xdotool {args:?}");
            };
            // Focus the dialog once it is mapped (a window being created refuses focus).
            wait_for("the file dialog to take focus", Duration::from_secs(15), || {
                let focused = Command::new("xdotool")
                    .args(["search", "--onlyvisible", "--name", title, "windowfocus", "--sync"])
                    .env("DISPLAY", &self.display)
                    .stderr(Stdio::null())
                    .status()
                    .ok()?;
                focused.success().then_some(())
            });
            // A "/" opens the location entry; the rest goes in once it has the focus.
            let path = path.to_str().unwrap();
            xdotool(&["type", "/"]);
            std::thread::sleep(Duration::from_millis(400));
            xdotool(&["type", "--delay", "15", &path[1..]]);
            std::thread::sleep(Duration::from_millis(200));
            xdotool(&["key", "Return"]);
            clicking.join().unwrap();
        });
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
