//! Masuk and Keluar.

use myintress_client::Account;
use myintress_client::events::SyncStatus;
use myintress_core::api::CaptchaChallenge;
use serde::Serialize;
use specta::Type;
use tauri::State;

use myintress_core::ErrorCode;

use super::{CommandResult, client};
use crate::state::AppState;

/// Where the app stands at start: which server, who is signed in (also offline), and the
/// sync state.
#[derive(Debug, Serialize, Type)]
pub struct SessionState {
    pub server_url: Option<String>,
    pub account: Option<Account>,
    /// The satker a satker operator works in (their last choice; the only one when there is one).
    pub working_satker: Option<String>,
    pub status: SyncStatus,
}

#[tauri::command]
#[specta::specta]
pub async fn session_state(state: State<'_, AppState>) -> CommandResult<SessionState> {
    let server_url = state.settings.read().await.server_url.clone();
    let client = match state.client().await {
        Ok(client) => client,
        Err(e) if e.code() == ErrorCode::ServerNotSet => {
            return Ok(SessionState { server_url, account: None, working_satker: None, status: SyncStatus::default() });
        }
        // A saved address this version no longer uses (plain http to another computer):
        // asked for again, as on the first run.
        Err(e) if e.code() == ErrorCode::ServerUrlInvalid => {
            return Ok(SessionState { server_url: None, account: None, working_satker: None, status: SyncStatus::default() });
        }
        Err(e) => return Err(e.into()),
    };
    let account = client.account().await?;
    let working_satker = client.working_satker().await?;
    let status = client.subscribe().borrow().clone();
    Ok(SessionState { server_url, account, working_satker, status })
}

/// A captcha image for the password step.
#[tauri::command]
#[specta::specta]
pub async fn captcha(state: State<'_, AppState>) -> CommandResult<CaptchaChallenge> {
    let client = client(&state).await?;
    Ok(client.api().captcha().await.map_err(myintress_client::ClientError::from)?)
}

/// "Masuk dan Izinkan Akses".
#[tauri::command]
#[specta::specta]
pub async fn sign_in(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    nik: String,
    password: String,
    captcha_id: String,
    captcha_answer: String,
) -> CommandResult<Account> {
    let client = client(&state).await?;
    let nik: String = nik.split_whitespace().collect();
    let account = client.sign_in(&nik, &password, &captcha_id, &captcha_answer).await?;
    tracing::info!(nik = %myintress_core::nik::mask_nik(&account.nik), "signed in");
    crate::background::start_sync(&app).await;
    Ok(account)
}

/// "Keluar". Refused while actions wait, unless `discard_pending`.
#[tauri::command]
#[specta::specta]
pub async fn sign_out(state: State<'_, AppState>, discard_pending: bool) -> CommandResult<()> {
    let client = client(&state).await?;
    client.sign_out(discard_pending).await?;
    Ok(())
}

/// "Lupa kata sandi?": a reset link goes to the account's e-mail (the answer is the same
/// whether or not the NIK has an account).
#[tauri::command]
#[specta::specta]
pub async fn request_password_reset(
    state: State<'_, AppState>,
    nik: String,
    captcha_id: String,
    captcha_answer: String,
) -> CommandResult<()> {
    let client = client(&state).await?;
    let nik: String = nik.split_whitespace().collect();
    Ok(client.request_password_reset(&nik, &captcha_id, &captcha_answer).await?)
}

/// "Ganti kata sandi" in Pengaturan: the other devices are signed out, this one stays.
#[tauri::command]
#[specta::specta]
pub async fn change_password(state: State<'_, AppState>, current_password: String, new_password: String) -> CommandResult<()> {
    Ok(client(&state).await?.change_password(&current_password, &new_password).await?)
}

/// "Keluar dari semua perangkat" in Pengaturan.
#[tauri::command]
#[specta::specta]
pub async fn sign_out_everywhere(state: State<'_, AppState>) -> CommandResult<()> {
    Ok(client(&state).await?.sign_out_everywhere().await?)
}

/// Chooses the satker to work in (a person active in several); kept across restarts.
#[tauri::command]
#[specta::specta]
pub async fn choose_satker(state: State<'_, AppState>, code: String) -> CommandResult<()> {
    Ok(client(&state).await?.choose_satker(&code).await?)
}
