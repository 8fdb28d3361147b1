//! The app's own updates: asked once at start and from Pengaturan ("Periksa pembaruan").
//! The updater plugin reads the release manifest at the configured address; a newer
//! version is shown with its notes, and only on the user's word is it downloaded, its
//! minisign signature checked against the key built into this app (bound to the version
//! the manifest announces), and installed. An update whose signature fails is thrown
//! away before anything touches the installed app.

use myintress_core::ErrorCode;
use serde::Serialize;
use specta::Type;
use tauri::State;
use tauri_plugin_updater::{Update, UpdaterExt};
use tauri_specta::Event;
use tokio::sync::Mutex;

use super::{CommandError, CommandResult};
use crate::state::AppState;

/// How the public key in `tauri.conf.json` starts until a release key is put there. A
/// release build refuses it (`build.rs`); a build that has it never checks for updates.
pub const PLACEHOLDER_KEY: &str = "GANTI-";

/// A newer version the update address offers.
#[derive(Debug, Clone, Serialize, Type)]
pub struct UpdateOffer {
    pub version: String,
    pub current_version: String,
    /// What is new, as the release manifest words it (written in Bahasa Indonesia).
    pub notes: Option<String>,
    /// The release date, `YYYY-MM-DD`.
    pub date: Option<String>,
}

/// Where the app's updates stand.
#[derive(Debug, Clone, Serialize, Type)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum UpdateState {
    /// The update address offers nothing newer.
    UpToDate { current_version: String },
    /// A newer version can be downloaded.
    Available { offer: UpdateOffer },
    /// Downloaded and its signature verified: ready to install on the user's word.
    Ready { offer: UpdateOffer },
}

/// Download progress of an update, in bytes.
#[derive(Debug, Clone, Serialize, Type, tauri_specta::Event)]
pub struct UpdateProgress {
    pub received: u64,
    /// The size the server announced, when it did.
    pub total: Option<u64>,
}

/// The update found by the last check, and its verified bytes once downloaded.
#[derive(Default)]
pub struct Pending(Mutex<Option<(Update, Option<Vec<u8>>)>>);

/// The public key this build trusts, unless it is the placeholder. Debug builds (the
/// tests) may take another from `MYINTRESS_UPDATE_PUBKEY`; release builds never do.
fn public_key(app: &tauri::AppHandle) -> Option<String> {
    #[cfg(debug_assertions)]
    if let Ok(key) = std::env::var("MYINTRESS_UPDATE_PUBKEY") {
        return Some(key);
    }
    let key = app.config().plugins.0.get("updater")?.get("pubkey")?.as_str()?;
    (!key.starts_with(PLACEHOLDER_KEY) && !key.trim().is_empty()).then(|| key.to_owned())
}

/// The plugin's refusals in our words: every signature failure is the same refusal, and
/// the cause goes to the log for the support desk.
fn refused(during: ErrorCode, error: tauri_plugin_updater::Error) -> CommandError {
    use tauri_plugin_updater::Error as E;
    tracing::warn!(%error, "update refused");
    match error {
        E::Minisign(_) | E::Base64(_) | E::SignatureUtf8(_) | E::SignedVersionMismatch { .. } | E::MissingSignedVersion => {
            CommandError::from_code(ErrorCode::UpdateSignatureInvalid)
        }
        // The plugin's own words are English and technical: they go to the log (above).
        _ => CommandError::from_code(during),
    }
}

fn offer(update: &Update) -> UpdateOffer {
    UpdateOffer {
        version: update.version.clone(),
        current_version: update.current_version.clone(),
        notes: update.body.clone().filter(|n| !n.trim().is_empty()),
        date: update.date.map(|d| d.date().to_string()),
    }
}

/// Asks the update address whether a newer version exists.
#[tauri::command]
#[specta::specta]
pub async fn check_update(app: tauri::AppHandle, state: State<'_, AppState>, pending: State<'_, Pending>) -> CommandResult<UpdateState> {
    let key = public_key(&app).ok_or_else(|| CommandError::from_code(ErrorCode::UpdateNotConfigured))?;
    let mut builder = app.updater_builder().pubkey(key).timeout(std::time::Duration::from_secs(60));
    if let Some(address) = state.settings.read().await.update_url.clone() {
        let url = url::Url::parse(&address).map_err(|_| CommandError::from_code(ErrorCode::UpdateCheckFailed))?;
        builder = builder.endpoints(vec![url]).map_err(|e| refused(ErrorCode::UpdateCheckFailed, e))?;
    }
    let found = builder.build().map_err(|e| refused(ErrorCode::UpdateCheckFailed, e))?.check().await;
    let found = found.map_err(|e| refused(ErrorCode::UpdateCheckFailed, e))?;
    let mut slot = pending.0.lock().await;
    match found {
        Some(update) => {
            let offer = offer(&update);
            tracing::info!(version = %offer.version, "update offered");
            *slot = Some((update, None));
            Ok(UpdateState::Available { offer })
        }
        None => {
            *slot = None;
            Ok(UpdateState::UpToDate { current_version: app.package_info().version.to_string() })
        }
    }
}

/// Downloads the offered update and verifies its signature; the bytes are kept for
/// [`install_update`]. Progress arrives as [`UpdateProgress`] events.
#[tauri::command]
#[specta::specta]
pub async fn download_update(app: tauri::AppHandle, pending: State<'_, Pending>) -> CommandResult<UpdateState> {
    let mut slot = pending.0.lock().await;
    let Some((update, bytes)) = slot.as_mut() else {
        return Err(CommandError::new(ErrorCode::UpdateFailed, "Periksa pembaruan dahulu."));
    };
    let mut received = 0u64;
    let downloaded = update
        .download(
            |chunk, total| {
                received += chunk as u64;
                let _ = UpdateProgress { received, total }.emit(&app);
            },
            || {},
        )
        .await
        .map_err(|e| refused(ErrorCode::UpdateFailed, e))?;
    tracing::info!(version = %update.version, bytes = downloaded.len(), "update downloaded and verified");
    *bytes = Some(downloaded);
    Ok(UpdateState::Ready { offer: offer(update) })
}

/// Installs the downloaded, verified update and starts the new version.
#[tauri::command]
#[specta::specta]
pub async fn install_update(app: tauri::AppHandle, pending: State<'_, Pending>) -> CommandResult<()> {
    let slot = pending.0.lock().await;
    let Some((update, Some(bytes))) = slot.as_ref() else {
        return Err(CommandError::new(ErrorCode::UpdateFailed, "Unduh pembaruan dahulu."));
    };
    tracing::info!(version = %update.version, "installing update");
    update.install(bytes).map_err(|e| refused(ErrorCode::UpdateFailed, e))?;
    // Every action is already durable in the local outbox: a restart loses nothing.
    app.restart();
}
