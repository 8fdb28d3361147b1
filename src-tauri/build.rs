//! Declares the app's own commands so tauri-build generates an `allow-…`/`deny-…`
//! permission for each; `capabilities/*.json` then grants each window only what it uses.

fn main() {
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(myintress_commands())))
        .expect("tauri-build failed");
}

/// Every `#[tauri::command]` of `src-tauri/commands/`. A command missing here cannot be
/// granted to a window, so forgetting it fails loudly in the WebDriver tests.
fn myintress_commands() -> &'static [&'static str] {
    &[
        "app_info",
        "check_nik",
        "get_settings",
        "set_server_url",
        "support_log",
        "session_state",
        "captcha",
        "sign_in",
        "sign_out",
        "satkers",
        "counts",
        "list_memberships",
        "queue",
        "membership_detail",
        "audit",
        "digit_lookup",
        "document",
        "pick_pdf",
        "staged_pdf",
        "discard_staged",
        "register",
        "approve",
        "reject",
        "deactivate",
        "reactivate",
        "delete_membership",
        "outbox",
        "sync_status",
        "dismiss_conflict",
        "redo_conflict",
        "sync_now",
        "export_list",
    ]
}
