//! Sinkronisasi: the outbox with its conflicts, and "sinkronkan sekarang".

use myintress_client::outbox::OutboxItem;
use myintress_core::api::Membership;
use tauri::State;

use super::{CommandResult, client};
use crate::state::AppState;

#[tauri::command]
#[specta::specta]
pub async fn outbox(state: State<'_, AppState>) -> CommandResult<Vec<OutboxItem>> {
    Ok(client(&state).await?.outbox().await?)
}

/// Drops a refused action (the view already shows the server's state).
#[tauri::command]
#[specta::specta]
pub async fn dismiss_conflict(state: State<'_, AppState>, key: String) -> CommandResult<()> {
    Ok(client(&state).await?.dismiss(&key).await?)
}

/// Queues a refused action again, on the server's current state; the membership as it now
/// shows (none once a deletion is queued).
#[tauri::command]
#[specta::specta]
pub async fn redo_conflict(state: State<'_, AppState>, key: String) -> CommandResult<Option<Membership>> {
    Ok(client(&state).await?.redo(&key).await?)
}

/// Asks the background sync to run now.
#[tauri::command]
#[specta::specta]
pub async fn sync_now(state: State<'_, AppState>) -> CommandResult<()> {
    client(&state).await?.wake();
    Ok(())
}
