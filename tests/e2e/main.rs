//! End-to-end tests of the real desktop app: the built binary in a real window, driven
//! through WebDriver (`tauri-driver` → `WebKitWebDriver`), against a real central server
//! (the server's test kit, on 127.0.0.1, behind a fault proxy), with assertions on what
//! the window shows. One test binary; `harness` starts and stops every process it needs.
//!
//! Needs: `tauri-driver` on PATH or in `TAURI_DRIVER` (`cargo xtask test` installs it),
//! `WebKitWebDriver` (Debian `webkit2gtk-driver`), `xdotool` (to drive the native file
//! dialog), `Xvfb` when no display is set, and `dbus-daemon` with `gnome-keyring-daemon`
//! when no session bus is set. Screenshots land in `test-artifacts/e2e/`.

mod accounts;
mod bad_input;
mod deletions;
mod flows;
mod harness;
mod installed;
mod letters;
mod offline;
mod shell;
mod signed;
mod story;
mod updates;
mod world;
