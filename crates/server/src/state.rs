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
    /// The certificates signed letters are checked against (`--trust-dir`), as PEM texts
    /// (what desktops receive) and parsed.
    pub trust: Trust,
    /// This process's figures for `GET /metrics`.
    pub metrics: crate::metrics::Metrics,
    /// Who recent access tokens belong to (`--session-cache-seconds`).
    pub sessions: crate::session_cache::SessionCache,
}

/// The trust list of signed letters, read from `--trust-dir` at start.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    pub pem: Vec<String>,
    pub list: myintress_core::signature::TrustList,
}

impl Trust {
    /// Every `.pem`/`.crt`/`.cer` file of `dir` (none without a folder). A folder that cannot
    /// be read stops the start: a wrong path must not make every signature "unknown".
    pub fn load(dir: Option<&std::path::Path>) -> Result<Trust> {
        let Some(dir) = dir else { return Ok(Trust::default()) };
        let mut pem = Vec::new();
        let mut entries: Vec<_> = std::fs::read_dir(dir).with_context(|| format!("membaca --trust-dir {}", dir.display()))?.collect();
        entries.sort_by_key(|e| e.as_ref().map(|e| e.path()).ok());
        for entry in entries {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "pem" || e == "crt" || e == "cer") {
                pem.push(std::fs::read_to_string(&path).with_context(|| format!("membaca {}", path.display()))?);
            }
        }
        let list = myintress_core::signature::TrustList::from_pem(&pem);
        tracing::info!(certificates = list.len(), dir = %dir.display(), "trust list for signed letters");
        Ok(Trust { pem, list })
    }
}

impl AppState {
    /// Opens the database (migrating it), loads reference data and sets up the adapters.
    pub async fn open(settings: Settings) -> Result<Arc<AppState>> {
        std::fs::create_dir_all(&settings.data_dir).with_context(|| format!("membuat {}", settings.data_dir.display()))?;
        let store =
            store::migrate_and_open(&settings.database_url(), settings.database_connections()).await.context("membuka basis data")?;
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
        let trust = Trust::load(settings.trust_dir.as_deref())?;
        let settings_cache_seconds = settings.session_cache_seconds;
        Ok(Arc::new(AppState {
            trust,
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
            metrics: Default::default(),
            sessions: crate::session_cache::SessionCache::new(std::time::Duration::from_secs(settings_cache_seconds)),
        }))
    }

    /// Checks an uploaded PDF in the sandboxed child ([`PdfChecker::check`]), counting how
    /// long it took and how it ended for `/metrics`.
    pub async fn check_pdf(&self, bytes: &[u8]) -> Result<Result<myintress_core::pdf::PdfReport, myintress_core::pdf::PdfError>> {
        use crate::metrics::CheckOutcome;
        let started = std::time::Instant::now();
        let outcome = self.pdf.check(bytes).await;
        let label = match &outcome {
            Ok(Ok(_)) => CheckOutcome::Accepted,
            Ok(Err(_)) => CheckOutcome::Refused,
            Err(_) => CheckOutcome::Failed,
        };
        self.metrics.pdf_check(label, started.elapsed());
        outcome
    }
}
