//! [`AppState`]: what every request handler and background job shares.

use std::sync::Arc;

use anyhow::{Context, Result};

use crate::documents::{DocumentStore, PdfChecker};
use crate::dukcapil::{self, Dukcapil};
use crate::limits::Limits;
use crate::settings::{CaptchaMode, Settings};
use crate::store::{self, Store};
use crate::{credentials, mail, reference};

/// Everything a request handler needs.
pub struct AppState {
    pub settings: Settings,
    pub store: Arc<dyn Store>,
    pub dukcapil: Arc<dyn Dukcapil>,
    pub mailer: mail::Mailer,
    /// Letters and decrees, by SHA-256.
    pub documents: DocumentStore,
    pub pdf: PdfChecker,
    pub passwords: credentials::CommonPasswords,
    pub limits: Limits,
    /// Wakes the mail sender after a transaction queued mail.
    pub mail_wake: tokio::sync::Notify,
    /// Signs captcha challenges and derives their answers; one key for every replica.
    pub captcha: crate::captcha::CaptchaKey,
}

impl AppState {
    /// Opens the database (migrating it), loads reference data and sets up the adapters.
    pub async fn open(settings: Settings) -> Result<Arc<AppState>> {
        std::fs::create_dir_all(&settings.data_dir).with_context(|| format!("membuat {}", settings.data_dir.display()))?;
        let store = store::migrate_and_open(&settings.database_url()).await.context("membuka basis data")?;
        if let Some(dir) = &settings.reference_dir {
            reference::load(store.as_ref(), dir).await.context("memuat data referensi")?;
        }
        let dukcapil: Arc<dyn Dukcapil> = match (&settings.dukcapil_url, &settings.residents) {
            (Some(url), _) => Arc::new(dukcapil::HttpRegistry::new(url.clone())?),
            (None, Some(path)) => {
                let sim = dukcapil::Simulator::from_csv(path)?;
                tracing::info!(residents = sim.len(), "Dukcapil simulator");
                Arc::new(sim)
            }
            (None, None) => {
                tracing::warn!("no --residents and no --dukcapil-url: every NIK reads as not found");
                Arc::new(dukcapil::Simulator::empty())
            }
        };
        if settings.captcha == CaptchaMode::Disabled {
            tracing::warn!("CAPTCHA DISABLED (--captcha disabled): for tests and demos only, never in production");
        }
        let captcha = {
            let mut tx = store.write().await?;
            let key = tx.server_key("captcha", &crate::credentials::new_token()).await?;
            tx.commit().await?;
            crate::captcha::CaptchaKey::new(&key)
        };
        let mailer = mail::Mailer::new(settings.smtp_url(), settings.mail_dir.as_ref(), &settings.mail_from)?;
        let documents = DocumentStore::open(&settings.documents_url()?).context("membuka penyimpanan dokumen")?;
        tracing::info!(store = documents.url(), "documents");
        let checker = match &settings.pdf_checker {
            Some(p) => p.clone(),
            None => std::env::current_exe().context("letak program server")?,
        };
        let pdf = if settings.pdf_check_in_process {
            tracing::warn!("PDF CHECK IN-PROCESS (--pdf-check-in-process): for benchmarks only, a hostile PDF can stop the server");
            PdfChecker::new(checker, ["check-pdf"]).in_process()
        } else {
            PdfChecker::new(checker, ["check-pdf"])
        };
        Ok(Arc::new(AppState {
            pdf,
            settings,
            store,
            dukcapil,
            mailer,
            documents,
            passwords: credentials::CommonPasswords::shipped(),
            limits: Limits::new(),
            mail_wake: tokio::sync::Notify::new(),
            captcha,
        }))
    }
}
