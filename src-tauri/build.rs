//! Declares the app's own commands so tauri-build generates an `allow-…`/`deny-…`
//! permission for each; `capabilities/*.json` then grants each window only what it uses.

include!("command_list.rs");

/// The command names of `command_list.rs`, without their modules.
macro_rules! command_names {
    ($($module:ident :: $command:ident),* $(,)?) => {
        &[$(stringify!($command)),*]
    };
}

/// What `tauri.conf.json` holds as the updater's public key until a release key is put
/// there (`commands::update::PLACEHOLDER_KEY`).
const PLACEHOLDER_KEY: &str = "GANTI-";

/// A release build must trust the publisher's update key: with the placeholder, every
/// installed copy would be stuck on its version. The key comes from `tauri.conf.json` or
/// from the Tauri CLI's `--config` (`TAURI_CONFIG`, as `cargo xtask bundle` passes it).
/// Only a build that is never installed (`cargo xtask bench`) may opt out, with
/// `MYINTRESS_BUILD_WITHOUT_UPDATER`; such a build never checks for updates.
fn refuse_placeholder_updater_key() {
    println!("cargo:rerun-if-changed=tauri.conf.json");
    println!("cargo:rerun-if-env-changed=TAURI_CONFIG");
    println!("cargo:rerun-if-env-changed=MYINTRESS_BUILD_WITHOUT_UPDATER");
    if std::env::var("PROFILE").as_deref() != Ok("release") || std::env::var_os("MYINTRESS_BUILD_WITHOUT_UPDATER").is_some() {
        return;
    }
    let key = |json: &str| {
        let config: serde_json::Value = serde_json::from_str(json).ok()?;
        config.pointer("/plugins/updater/pubkey")?.as_str().map(str::to_owned)
    };
    let configured = std::env::var("TAURI_CONFIG")
        .ok()
        .and_then(|c| key(&c))
        .or_else(|| key(&std::fs::read_to_string("tauri.conf.json").unwrap_or_default()));
    if configured.is_none_or(|k| k.starts_with(PLACEHOLDER_KEY) || k.trim().is_empty()) {
        panic!(
            "A release build needs the updater's public key: put the publisher's key (`tauri signer generate`) in \
             tauri.conf.json plugins.updater.pubkey, or set MYINTRESS_UPDATER_PUBKEY for `cargo xtask bundle`. \
             See docs/operator.md, \"Releases and updates of the desktop app\"."
        );
    }
}

fn main() {
    refuse_placeholder_updater_key();
    println!("cargo:rerun-if-changed=src-tauri/command_list.rs");
    // The built UI is embedded in the app: a new `vite build` must rebuild the app even
    // when no Rust changed (cargo scans the folder's files), or a test would drive the
    // screens of an older build.
    println!("cargo:rerun-if-changed=ui/dist");
    let commands: &[&str] = for_each_command!(command_names);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(commands)))
        .expect("tauri-build failed");
}
