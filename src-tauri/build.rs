//! Declares the app's own commands so tauri-build generates an `allow-…`/`deny-…`
//! permission for each; `capabilities/*.json` then grants each window only what it uses.

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(myintress_commands())),
    )
    .expect("tauri-build failed");
}

/// Every `#[tauri::command]` of `src-tauri/commands.rs`. A command missing here cannot be
/// granted to a window, so forgetting it fails loudly in the WebDriver tests.
fn myintress_commands() -> &'static [&'static str] {
    &["app_info", "check_nik"]
}
