//! The commands the UI calls. Each is a few lines over the core or the client; errors
//! cross to the UI as `{code, message}` so the UI branches on `code`, never on text.

use chrono::NaiveDate;
use myintress_core::error::Coded;
use myintress_core::nik::Nik;
use serde::Serialize;
use specta::Type;

/// An error as the UI receives it.
#[derive(Debug, Serialize, Type)]
pub struct CommandError {
    /// A stable snake_case code from the API contract (`nik_invalid`, …).
    pub code: String,
    /// The Indonesian sentence to show.
    pub message: String,
}

impl<E: Coded> From<E> for CommandError {
    fn from(e: E) -> Self {
        CommandError { code: e.code().as_str().to_owned(), message: e.detail() }
    }
}

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
