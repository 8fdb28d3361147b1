//! End-to-end tests of the real desktop app: the built binary in a real window, driven
//! through WebDriver (`tauri-driver` → `WebKitWebDriver`), with assertions on what the
//! window shows. One test binary; `harness` starts and stops every process it needs.
//!
//! Needs: `tauri-driver` on PATH or in `TAURI_DRIVER` (`cargo xtask test` installs it),
//! `WebKitWebDriver` (Debian `webkit2gtk-driver`), `Xvfb` when no display is set and
//! `dbus-daemon` when no session bus is set. Screenshots land in `test-artifacts/e2e/`.

mod harness;
mod shell;
#[path = "../support/webdriver.rs"]
#[allow(dead_code)]
mod webdriver;
