//! *Administrasi*: central operators manage KPPN verifiers' accounts and upload the
//! reference lists. Online only; the CSV file is chosen in the native dialog here, read
//! (at most 5 MB) and sent, so the web view never sees a path.

use std::io::Read;

use myintress_client::VerifierChange;
use myintress_core::ErrorCode;
use myintress_core::api::{Kppn, NewVerifier, ReferenceLoaded, Verifier};
use serde::Deserialize;
use specta::Type;
use tauri::{AppHandle, State};
use tauri_plugin_dialog::DialogExt;

use super::{CommandError, CommandResult, client};
use crate::state::AppState;

/// Which reference list a file is.
#[derive(Debug, Clone, Copy, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum ReferenceList {
    Kppn,
    Satker,
}

#[tauri::command]
#[specta::specta]
pub async fn verifiers(state: State<'_, AppState>) -> CommandResult<Vec<Verifier>> {
    Ok(client(&state).await?.verifiers().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn kppns(state: State<'_, AppState>) -> CommandResult<Vec<Kppn>> {
    Ok(client(&state).await?.kppns().await?)
}

/// "Tambah Verifikator": the activation link goes to the new verifier's e-mail.
#[tauri::command]
#[specta::specta]
pub async fn create_verifier(state: State<'_, AppState>, verifier: NewVerifier) -> CommandResult<Verifier> {
    Ok(client(&state).await?.create_verifier(&verifier).await?)
}

/// "Nonaktifkan", "Aktifkan", "Pindahkan".
#[tauri::command]
#[specta::specta]
pub async fn change_verifier(state: State<'_, AppState>, nik: String, change: VerifierChange) -> CommandResult<Verifier> {
    Ok(client(&state).await?.change_verifier(&nik, &change).await?)
}

/// Opens the native dialog for `kppn.csv` or `satker.csv` and uploads the chosen file.
/// `None` when the person cancelled.
#[tauri::command]
#[specta::specta]
pub async fn upload_reference(app: AppHandle, state: State<'_, AppState>, list: ReferenceList) -> CommandResult<Option<ReferenceLoaded>> {
    let client = client(&state).await?;
    let (title, name) = match list {
        ReferenceList::Kppn => ("Pilih berkas kppn.csv", "kppn.csv"),
        ReferenceList::Satker => ("Pilih berkas satker.csv", "satker.csv"),
    };
    let dialog = app.dialog().file().add_filter("Berkas CSV", &["csv", "CSV"]).set_title(title).set_file_name(name);
    let picked = tauri::async_runtime::spawn_blocking(move || dialog.blocking_pick_file())
        .await
        .map_err(|e| CommandError::because(ErrorCode::DialogFailed, &e))?;
    let Some(file) = picked else { return Ok(None) };
    let path = file.into_path().map_err(|e| CommandError::because(ErrorCode::DialogFailed, &e))?;
    let limit = myintress_core::pdf::MAX_DOCUMENT_BYTES as u64;
    let mut bytes = Vec::new();
    std::fs::File::open(&path)
        .and_then(|f| f.take(limit + 1).read_to_end(&mut bytes))
        .map_err(|e| CommandError::because(ErrorCode::FileUnreadable, &e))?;
    if bytes.len() as u64 > limit {
        return Err(CommandError::from_code(ErrorCode::PayloadTooLarge));
    }
    let (kppn, satker) = match list {
        ReferenceList::Kppn => (Some(bytes.as_slice()), None),
        ReferenceList::Satker => (None, Some(bytes.as_slice())),
    };
    Ok(Some(client.upload_reference(kppn, satker).await?))
}
