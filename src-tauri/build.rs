//! Declares the app's own commands so tauri-build generates an `allow-…`/`deny-…`
//! permission for each; `capabilities/*.json` then grants each window only what it uses.

include!("command_list.rs");

/// The command names of `command_list.rs`, without their modules.
macro_rules! command_names {
    ($($module:ident :: $command:ident),* $(,)?) => {
        &[$(stringify!($command)),*]
    };
}

fn main() {
    println!("cargo:rerun-if-changed=src-tauri/command_list.rs");
    // The built UI is embedded in the app: a new `vite build` must rebuild the app even
    // when no Rust changed (cargo scans the folder's files), or a test would drive the
    // screens of an older build.
    println!("cargo:rerun-if-changed=ui/dist");
    let commands: &[&str] = for_each_command!(command_names);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(commands)))
        .expect("tauri-build failed");
}
