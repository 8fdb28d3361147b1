//! The background sync of the signed-in client: its state and notices forwarded to the UI
//! as events, and to the desktop's notifications.

use myintress_client::events::{Notice, SyncStatus};
use serde::Serialize;
use specta::Type;
use tauri::Manager;
use tauri_plugin_notification::NotificationExt;
use tauri_specta::Event;

use crate::state::AppState;

/// The sync state changed (connection, progress, counts).
#[derive(Debug, Clone, Serialize, Type, Event)]
pub struct SyncStatusChanged(pub SyncStatus);

/// A one-off notice (new registrations, a status change, a refused action).
#[derive(Debug, Clone, Serialize, Type, Event)]
pub struct NoticeRaised(pub Notice);

/// Starts (or restarts) the background sync of the configured server's client, and
/// forwards its state and notices to the UI and the desktop's notifications.
pub async fn start_sync(app: &tauri::AppHandle) {
    let state = app.state::<AppState>();
    let Ok(client) = state.client().await else { return };
    let mut task = state.sync_task.lock().await;
    if let Some(old) = task.take() {
        old.abort();
    }
    let handle = app.clone();
    *task = Some(tauri::async_runtime::spawn(async move {
        let mut status = client.subscribe();
        let mut notices = client.notices();
        let runner = client.clone();
        let run = tauri::async_runtime::spawn(async move { runner.run(std::time::Duration::from_secs(30)).await });
        loop {
            tokio::select! {
                changed = status.changed() => {
                    if changed.is_err() { break; }
                    let current = status.borrow_and_update().clone();
                    let _ = SyncStatusChanged(current).emit(&handle);
                }
                notice = notices.recv() => match notice {
                    Ok(n) => {
                        notify_desktop(&handle, &n);
                        let _ = NoticeRaised(n).emit(&handle);
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(_) => break,
                },
            }
        }
        run.abort();
    }));
}

/// A desktop notification for what the person should not miss while the window is in
/// the background.
fn notify_desktop(app: &tauri::AppHandle, notice: &Notice) {
    let (title, body) = match notice {
        Notice::NewRegistrations { count } => {
            ("Pendaftaran baru".to_owned(), format!("{count} pendaftaran pengguna menunggu verifikasi KPPN."))
        }
        Notice::StatusChanged { name, status, .. } => ("Status pengguna berubah".to_owned(), format!("{name}: {}", status.display_label())),
        Notice::Conflict { detail, .. } => ("Tindakan ditolak server".to_owned(), detail.clone()),
    };
    if let Err(e) = app.notification().builder().title(title).body(body).show() {
        tracing::warn!(error = %e, "desktop notification not shown");
    }
}
