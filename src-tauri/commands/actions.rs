//! The actions: Tambah Pengguna, Setujui, Tolak, Nonaktifkan, Aktifkan kembali, Hapus.
//! Each is checked with the core, applied to the local view and queued in one transaction
//! by the client; it reaches the server when the network allows.

use myintress_client::outbox::Action;
use myintress_client::{BatchItemState, BulkQueued};
use myintress_core::api::Membership;
use myintress_core::api::{BulkAction, DeletionRequest};
use myintress_core::registration::{DeletionInput, DeletionRequestInput, RegistrationInput};
use tauri::State;
use uuid::Uuid;

use myintress_core::ErrorCode;

use super::{CommandError, CommandResult, client, files};
use crate::state::AppState;

fn id(text: &str) -> CommandResult<Uuid> {
    Uuid::parse_str(text).map_err(|_| CommandError::new(ErrorCode::NotFound, "Data pengguna tidak ditemukan."))
}

/// "Kirim" on Tambah Pengguna, with the staged letter.
#[tauri::command]
#[specta::specta]
pub async fn register(
    state: State<'_, AppState>,
    input: RegistrationInput,
    letter_token: String,
    replaces: Option<String>,
) -> CommandResult<Membership> {
    let client = client(&state).await?;
    let letter = files::checked(&state, &letter_token, "letter").await?;
    let membership = match replaces {
        Some(key) => client.register_correction(input, letter, &key).await?,
        None => client.register_checked(input, letter).await?,
    };
    files::forget(&state, &letter_token).await;
    Ok(membership)
}

#[tauri::command]
#[specta::specta]
pub async fn approve(state: State<'_, AppState>, id: String) -> CommandResult<Membership> {
    Ok(client(&state).await?.act(self::id(&id)?, Action::Approve).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn reject(state: State<'_, AppState>, id: String, reason: String) -> CommandResult<Membership> {
    Ok(client(&state).await?.act(self::id(&id)?, Action::Reject { reason }).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn deactivate(state: State<'_, AppState>, id: String, reason: String) -> CommandResult<Membership> {
    Ok(client(&state).await?.act(self::id(&id)?, Action::Deactivate { reason }).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn reactivate(state: State<'_, AppState>, id: String) -> CommandResult<Membership> {
    Ok(client(&state).await?.act(self::id(&id)?, Action::Reactivate).await?)
}

/// "Kirim" on Penghapusan Pengguna, with the staged SK.
#[tauri::command]
#[specta::specta]
pub async fn delete_membership(state: State<'_, AppState>, id: String, input: DeletionInput, decree_token: String) -> CommandResult<()> {
    let client = client(&state).await?;
    let decree = files::checked(&state, &decree_token, "decree").await?;
    client.delete_checked(self::id(&id)?, input, decree).await?;
    files::forget(&state, &decree_token).await;
    Ok(())
}

/// The letter of a request was drawn on screen in Verifikasi: from now on the request may
/// join a bulk decision.
#[tauri::command]
#[specta::specta]
pub async fn letter_seen(state: State<'_, AppState>, id: String) -> CommandResult<()> {
    Ok(client(&state).await?.letter_seen(self::id(&id)?).await?)
}

/// "Setujui terpilih" / "Tolak terpilih": one decision for the selected requests, each
/// checked and queued on its own under one batch id.
#[tauri::command]
#[specta::specta]
pub async fn bulk_decide(
    state: State<'_, AppState>,
    ids: Vec<String>,
    action: BulkAction,
    reason: Option<String>,
) -> CommandResult<BulkQueued> {
    let ids = ids.iter().map(|i| self::id(i)).collect::<CommandResult<Vec<_>>>()?;
    Ok(client(&state).await?.bulk(&ids, action, reason).await?)
}

/// One request of a bulk decision and where it is now.
#[derive(Debug, Clone, serde::Serialize, specta::Type)]
pub struct BatchItem {
    pub id: String,
    #[serde(flatten)]
    pub state: BatchItemState,
}

/// Where each request of a bulk decision is (waiting, done, refused by the server).
#[tauri::command]
#[specta::specta]
pub async fn batch_state(state: State<'_, AppState>, batch_id: String, ids: Vec<String>) -> CommandResult<Vec<BatchItem>> {
    let batch = self::id(&batch_id)?;
    let ids = ids.iter().map(|i| self::id(i)).collect::<CommandResult<Vec<_>>>()?;
    let states = client(&state).await?.batch(batch, &ids).await?;
    Ok(states.into_iter().map(|(id, state)| BatchItem { id: id.to_string(), state }).collect())
}

/// "Kirim" on Permintaan Penghapusan (satker operators): the reason, the number of the
/// request letter, and the staged letter.
#[tauri::command]
#[specta::specta]
pub async fn request_deletion(
    state: State<'_, AppState>,
    id: String,
    input: DeletionRequestInput,
    letter_token: String,
) -> CommandResult<DeletionRequest> {
    let client = client(&state).await?;
    let letter = files::checked(&state, &letter_token, "letter").await?;
    let request = client.request_deletion_checked(self::id(&id)?, input, letter).await?;
    files::forget(&state, &letter_token).await;
    Ok(request)
}

/// "Tolak permintaan" in the Antrean (KPPN verifiers): the satker sees the reason.
#[tauri::command]
#[specta::specta]
pub async fn decline_deletion(state: State<'_, AppState>, request_id: String, reason: String) -> CommandResult<DeletionRequest> {
    Ok(client(&state).await?.decline_deletion(self::id(&request_id)?, reason).await?)
}

/// "Perbaiki kontak" (KPPN verifiers): a new phone or e-mail, sent to the server at once.
#[tauri::command]
#[specta::specta]
pub async fn correct_contact(
    state: State<'_, AppState>,
    id: String,
    phone: Option<String>,
    email: Option<String>,
) -> CommandResult<Membership> {
    Ok(client(&state).await?.correct_contact(self::id(&id)?, phone, email).await?)
}

/// "Kirim ulang tautan aktivasi" (KPPN verifiers).
#[tauri::command]
#[specta::specta]
pub async fn resend_activation(state: State<'_, AppState>, id: String) -> CommandResult<()> {
    Ok(client(&state).await?.resend_activation(self::id(&id)?).await?)
}

/// A registration the server refused after it was queued, to correct in Tambah Pengguna:
/// its form as sent and its letter, staged again. Sending the corrected form replaces the
/// refusal in the outbox.
#[derive(Debug, Clone, serde::Serialize, specta::Type)]
pub struct CorrectionDraft {
    pub input: RegistrationInput,
    pub letter: files::StagedFile,
}

#[tauri::command]
#[specta::specta]
pub async fn correction_draft(state: State<'_, AppState>, key: String) -> CommandResult<CorrectionDraft> {
    let client = client(&state).await?;
    let (input, letter) = client.correction(&key).await?;
    let name = format!("{}.pdf", input.letter_number.replace(['/', '\\'], "-"));
    let letter = files::stage_bytes(&state, name, letter).await;
    Ok(CorrectionDraft { input, letter })
}
