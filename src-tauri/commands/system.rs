//! App facts, the NIK check, settings and the support log.

use chrono::NaiveDate;
use myintress_core::nik::Nik;
use serde::Serialize;
use specta::Type;
use tauri::State;

use myintress_core::ErrorCode;

use super::{CommandError, CommandResult};
use crate::state::AppState;

#[derive(Debug, Serialize, Type)]
pub struct AppInfo {
    pub name: String,
    pub version: String,
}

/// Name and version, for the title bar and the support log.
#[tauri::command]
#[specta::specta]
pub fn app_info(app: tauri::AppHandle) -> AppInfo {
    let pkg = app.package_info();
    AppInfo { name: pkg.name.clone(), version: pkg.version.to_string() }
}

/// What a NIK says about its holder, shown beside the field so the person at the desk can
/// compare it with the letter before anything is sent.
#[derive(Debug, Serialize, Type)]
pub struct NikFacts {
    /// The NIK as 16 digits, spaces removed.
    pub nik: String,
    /// Birth date, ISO 8601 (`1990-01-12`).
    pub birth_date: String,
    /// `Laki-laki` or `Perempuan`.
    pub sex: String,
    pub province_code: String,
    pub regency_code: String,
    pub district_code: String,
}

/// Checks a NIK as typed with the same rule the server applies, so a typo is caught at
/// once and offline.
#[tauri::command]
#[specta::specta]
pub fn check_nik(nik: String) -> Result<NikFacts, CommandError> {
    let nik = Nik::parse(&nik)?;
    let today: NaiveDate = chrono::Local::now().date_naive();
    Ok(NikFacts {
        nik: nik.as_str().to_owned(),
        birth_date: nik.birth_date(today).to_string(),
        sex: nik.sex().label().to_owned(),
        province_code: nik.province_code().to_owned(),
        regency_code: nik.regency_code().to_owned(),
        district_code: nik.district_code().to_owned(),
    })
}

#[derive(Debug, Serialize, Type)]
pub struct SettingsView {
    pub server_url: Option<String>,
}

/// Sets the central server's address (first run, or a move). Checked by asking the
/// server's `/healthz`; remembered in the app's config folder.
#[tauri::command]
#[specta::specta]
pub async fn set_server_url(app: tauri::AppHandle, state: State<'_, AppState>, url: String) -> CommandResult<SettingsView> {
    let url = url.trim().trim_end_matches('/').to_owned();
    let parsed = url::Url::parse(&url).map_err(|_| CommandError::from_code(ErrorCode::ServerUrlInvalid))?;
    if !matches!(parsed.scheme(), "http" | "https") || !myintress_core::text::server_address_allowed(&url) {
        return Err(CommandError::new(
            ErrorCode::ServerUrlInvalid,
            "Alamat server harus diawali https:// (http:// hanya untuk server di komputer ini)",
        ));
    }
    let health = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| CommandError::because(ErrorCode::Offline, &e))?
        .get(format!("{url}/healthz"))
        .send()
        .await;
    if !matches!(&health, Ok(r) if r.status().is_success()) {
        return Err(CommandError::new(ErrorCode::Offline, "Server pusat tidak menjawab di alamat ini. Periksa alamat dan jaringan."));
    }
    {
        let mut settings = state.settings.write().await;
        settings.server_url = Some(url.clone());
    }
    state.save_settings().await.map_err(|e| CommandError::because(ErrorCode::SettingsNotSaved, &e))?;
    // A new server means a new client and a new sync loop.
    *state.client.write().await = None;
    crate::background::start_sync(&app).await;
    Ok(SettingsView { server_url: Some(url) })
}

/// The end of today's log with the app version, for "Salin log untuk dukungan".
#[tauri::command]
#[specta::specta]
pub async fn support_log(app: tauri::AppHandle, state: State<'_, AppState>) -> CommandResult<String> {
    let pkg = app.package_info();
    let head = format!(
        "MyIntress Satker {} — {} {}\nServer: {}\n\n",
        pkg.version,
        std::env::consts::OS,
        std::env::consts::ARCH,
        state.settings.read().await.server_url.clone().unwrap_or_else(|| "-".into())
    );
    Ok(head + &crate::logs::recent(&state.log_dir, 200 * 1024))
}
