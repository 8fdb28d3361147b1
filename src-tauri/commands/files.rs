//! PDFs the user chooses: with the native dialog (opened here, on the Rust side) or by
//! dropping a file on the window. Each is read, checked once with the core's PDF check
//! (size, type, encryption, pages) in a child process of the app with the server's limits,
//! and held in memory under a token until a form sends it. The web view never sees a path, and the dialog's scope is never widened.

use std::io::Read;
use std::path::Path;

use myintress_core::error::Coded;
use serde::Serialize;
use specta::Type;
use tauri::{AppHandle, Manager, State};
use tauri_plugin_dialog::DialogExt;

use myintress_client::CheckedPdf;
use myintress_core::ErrorCode;
use myintress_core::api::LetterCheck;

use super::{CommandError, CommandResult};
use crate::state::{AppState, StagedPdf};

/// A checked PDF waiting for its form.
#[derive(Debug, Clone, Serialize, Type, tauri_specta::Event)]
pub struct StagedFile {
    pub token: String,
    pub name: String,
    pub size: u32,
    pub pages: u32,
    /// Set when the check refused the file: nothing is staged then.
    pub error: Option<String>,
    pub error_code: Option<ErrorCode>,
    /// Signatures and QR codes found on the letter, judged with the trust list this
    /// desktop last got from the server (the same verdict the server will store).
    pub letter_check: Option<LetterCheck>,
}

/// Reads and checks a file; stages it when the check passes.
pub async fn stage(state: &AppState, path: &Path) -> StagedFile {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "dokumen.pdf".into());
    let limit = myintress_core::pdf::MAX_DOCUMENT_BYTES as u64 + 1;
    let read = std::fs::File::open(path).and_then(|f| {
        let mut bytes = Vec::new();
        // Never more than one byte past the limit: a huge file is refused without reading it.
        f.take(limit).read_to_end(&mut bytes).map(|_| bytes)
    });
    match read {
        Ok(bytes) => stage_bytes(state, name, bytes).await,
        Err(e) => StagedFile::refused(name, ErrorCode::FileUnreadable, format!("{} {e}", ErrorCode::FileUnreadable.detail())),
    }
}

impl StagedFile {
    /// A file the check refused: nothing staged, the reason to show.
    fn refused(name: String, code: ErrorCode, message: String) -> StagedFile {
        StagedFile { token: String::new(), name, size: 0, pages: 0, error: Some(message), error_code: Some(code), letter_check: None }
    }
}

/// Checks bytes already in hand (a refused registration's cached letter, to correct it) and
/// stages them when the check passes.
pub async fn stage_bytes(state: &AppState, name: String, bytes: Vec<u8>) -> StagedFile {
    let refused = |code: ErrorCode, message: String| StagedFile::refused(name.clone(), code, message);
    let size = bytes.len() as u32;
    match state.pdf.check_document(bytes).await {
        Ok(Ok(pdf)) => {
            let token = uuid::Uuid::new_v4().to_string();
            let pages = pdf.report().pages;
            // The signed-in desk's trust list; choosing a file never opens a store of its own.
            let client = state.client.read().await.clone();
            let trust = match client {
                Some(client) => client.trust_list().await.unwrap_or_default(),
                None => Default::default(),
            };
            let letter_check = Some(LetterCheck::of(pdf.report(), &trust));
            state.staged.lock().await.insert(token.clone(), StagedPdf { pdf });
            StagedFile { token, name, size, pages, error: None, error_code: None, letter_check }
        }
        Ok(Err(e)) => refused(e.code(), e.detail()),
        Err(e) if e.downcast_ref::<myintress_pdfcheck::Busy>().is_some() => refused(
            ErrorCode::ServiceOverloaded,
            "Komputer ini sedang sibuk memeriksa dokumen lain. Pilih dokumen ini lagi sebentar lagi.".into(),
        ),
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "the PDF check could not run");
            refused(ErrorCode::LetterUnreadable, ErrorCode::LetterUnreadable.detail().into())
        }
    }
}

/// Opens the native file dialog (PDF only) and checks the chosen file. `None` when the
/// person cancelled.
#[tauri::command]
#[specta::specta]
pub async fn pick_pdf(app: AppHandle, state: State<'_, AppState>) -> CommandResult<Option<StagedFile>> {
    let dialog = app.dialog().file().add_filter("Dokumen PDF", &["pdf", "PDF"]).set_title("Pilih dokumen PDF");
    let picked = tauri::async_runtime::spawn_blocking(move || dialog.blocking_pick_file())
        .await
        .map_err(|e| CommandError::because(ErrorCode::DialogFailed, &e))?;
    let Some(file) = picked else { return Ok(None) };
    let path = file.into_path().map_err(|e| CommandError::because(ErrorCode::DialogFailed, &e))?;
    Ok(Some(stage(&state, &path).await))
}

/// Forgets a staged file (the person chose another, or left the form).
#[tauri::command]
#[specta::specta]
pub async fn discard_staged(state: State<'_, AppState>, token: String) -> CommandResult<()> {
    state.staged.lock().await.remove(&token);
    Ok(())
}

/// A staged (already checked) file for sending; it stays staged until [`forget`], so a
/// form refused for another field can be sent again without choosing the file again.
pub async fn checked(state: &AppState, token: &str, field: &str) -> CommandResult<CheckedPdf> {
    state.staged.lock().await.get(token).map(|f| f.pdf.clone()).ok_or_else(|| {
        let message = "Pilih dokumen PDF terlebih dahulu.";
        CommandError {
            code: ErrorCode::FieldRequired,
            message: message.into(),
            fields: vec![myintress_core::error::FieldError::with_detail(field, ErrorCode::FieldRequired, message.into())],
            explanation: None,
        }
    })
}

/// Drops a staged file once its form was accepted.
pub async fn forget(state: &AppState, token: &str) {
    state.staged.lock().await.remove(token);
}

/// A file dropped on the window: staged and announced to the UI.
pub fn on_drop(app: &AppHandle, paths: Vec<std::path::PathBuf>) {
    let Some(path) = paths.into_iter().next() else { return };
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let state = app.state::<AppState>();
        let staged = stage(&state, &path).await;
        use tauri_specta::Event;
        let _ = staged.emit(&app);
    });
}
