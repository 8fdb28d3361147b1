//! What the shell keeps while the app runs: the server address (remembered in the app's
//! config folder), the client for that server with its background sync, and PDFs the user
//! picked or dropped, held in memory until a form is sent (the UI never handles paths).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use myintress_client::{CheckedPdf, Client, ClientConfig, ClientError, ClientResult, PdfChecker};
use myintress_core::ErrorCode;
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, RwLock};

/// The keychain service of this app.
pub const KEYCHAIN_SERVICE: &str = "id.go.kemenkeu.myintress.satker";

/// Largest PDF cache on disk; letters of decided registrations are evicted first.
const CACHE_LIMIT_BYTES: u64 = 1024 * 1024 * 1024;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Settings {
    pub server_url: Option<String>,
    /// Where the app looks for its updates, when not the address built into it (an
    /// office mirror, say). `{{target}}`, `{{arch}}` and `{{current_version}}` are
    /// filled in by the updater.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_url: Option<String>,
}

/// A PDF chosen by the user, checked, waiting to be sent with a form.
pub struct StagedPdf {
    pub pdf: CheckedPdf,
}

/// The hidden argument that makes the app's executable check one PDF (stdin → stdout) and
/// exit: the letter check runs in a child process, as on the server.
pub const CHECK_PDF_ARG: &str = "--myintress-check-pdf";

pub struct AppState {
    pub config_dir: PathBuf,
    pub data_dir: PathBuf,
    pub log_dir: PathBuf,
    pub settings: RwLock<Settings>,
    pub client: RwLock<Option<Arc<Client>>>,
    pub sync_task: Mutex<Option<tauri::async_runtime::JoinHandle<()>>>,
    pub staged: Mutex<HashMap<String, StagedPdf>>,
    /// Checks chosen PDFs in a child process of this executable, with limits.
    pub pdf: PdfChecker,
}

impl AppState {
    pub fn new(config_dir: PathBuf, data_dir: PathBuf, log_dir: PathBuf) -> AppState {
        let mut settings: Settings =
            std::fs::read(config_dir.join("pengaturan.json")).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
        // The demo and the end-to-end tests point the app at their server.
        if let Ok(url) = std::env::var("MYINTRESS_SERVER_URL") {
            settings.server_url = Some(url);
        }
        // Set by a deployment (or a test) for every user of the machine.
        if let Ok(url) = std::env::var("MYINTRESS_UPDATE_URL") {
            settings.update_url = Some(url);
        }
        AppState {
            config_dir,
            data_dir,
            log_dir,
            settings: RwLock::new(settings),
            client: RwLock::new(None),
            sync_task: Mutex::new(None),
            staged: Mutex::new(HashMap::new()),
            pdf: PdfChecker::new(std::env::current_exe().unwrap_or_else(|_| PathBuf::from("myintress-satker")), [CHECK_PDF_ARG]),
        }
    }

    pub async fn save_settings(&self) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.config_dir)?;
        let json = serde_json::to_vec_pretty(&*self.settings.read().await).expect("settings serialise");
        std::fs::write(self.config_dir.join("pengaturan.json"), json)
    }

    /// The client of the configured server, created on first use. Each server gets its
    /// own local store, so switching servers never mixes data.
    /// No server yet is [`ErrorCode::ServerNotSet`] (the settings screen asks for one); a
    /// local store that cannot be opened is the store's own error.
    pub async fn client(&self) -> ClientResult<Arc<Client>> {
        if let Some(c) = self.client.read().await.as_ref() {
            return Ok(c.clone());
        }
        let url = self.settings.read().await.server_url.clone().ok_or_else(|| ClientError::refused(ErrorCode::ServerNotSet))?;
        let mut slot = self.client.write().await;
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let folder: String = url.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
        let config = ClientConfig {
            data_dir: self.data_dir.join(folder),
            server_url: url,
            keychain_service: KEYCHAIN_SERVICE.into(),
            cache_limit_bytes: CACHE_LIMIT_BYTES,
        };
        match Client::open(config).await {
            Ok(client) => {
                let client = Arc::new(client);
                *slot = Some(client.clone());
                Ok(client)
            }
            Err(e) => {
                tracing::error!(error = %e, "local store could not be opened");
                Err(e)
            }
        }
    }
}
