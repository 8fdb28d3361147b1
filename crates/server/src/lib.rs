//! The central MyIntress API server: the authority that enforces every rule of the
//! registration guide, stores memberships, documents and the audit trail, and feeds the
//! desktop clients' sync.
//!
//! - [`settings`]: flags and `MYINTRESS_*` variables.
//! - [`store`]: the storage trait and its SQLite and PostgreSQL backends.
//! - [`registry`]: registering and deciding, applying the core's rules in transactions.
//! - [`auth`]: sign-in, captcha, sessions, lockout.
//! - [`http`]: routes, middleware, OpenAPI.
//! - [`jobs`]: the background round (dormancy, purge, document collection, feed
//!   compaction), one per interval across all replicas.
//! - [`dukcapil`], [`mail`], [`documents`], [`credentials`], [`reference`]: the adapters.
//! - [`demo`]: demo data for `cargo xtask demo`.
//! - `testkit`: the integration-test harness shared by the server's and client's tests.

pub mod auth;
pub mod credentials;
pub mod demo;
pub mod documents;
pub mod dukcapil;
pub mod error;
pub mod http;
pub mod idempotency;
pub mod jobs;
pub mod mail;
pub mod reference;
pub mod registry;
pub mod settings;
pub mod store;
#[doc(hidden)]
pub mod testkit;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::documents::{DocumentStore, PdfChecker};
use crate::dukcapil::Dukcapil;
use crate::settings::{CaptchaMode, Settings};
use crate::store::Store;

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
    pub limits: http::Limits,
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
        let mailer = mail::Mailer::new(settings.smtp_url.as_deref(), settings.mail_dir.as_ref(), &settings.mail_from)?;
        let documents = DocumentStore::open(&settings.documents_url()?).context("membuka penyimpanan dokumen")?;
        tracing::info!(store = documents.url(), "documents");
        let checker = match &settings.pdf_checker {
            Some(p) => p.clone(),
            None => std::env::current_exe().context("letak program server")?,
        };
        let pdf = if settings.pdf_check_in_process {
            tracing::warn!("PDF CHECK IN-PROCESS (--pdf-check-in-process): for benchmarks only, a hostile PDF can stop the server");
            PdfChecker::new(checker).in_process()
        } else {
            PdfChecker::new(checker)
        };
        Ok(Arc::new(AppState {
            pdf,
            settings,
            store,
            dukcapil,
            mailer,
            documents,
            passwords: credentials::CommonPasswords::shipped(),
            limits: http::Limits::new(),
        }))
    }
}

/// A running server: its address, and a handle that stops it gracefully.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub state: Arc<AppState>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<()>>,
}

impl RunningServer {
    /// Stops accepting, lets requests in flight finish, and waits.
    pub async fn stop(self) -> Result<()> {
        let _ = self.stop.send(true);
        self.task.await.context("server task")?
    }
}

/// Binds `settings.listen` and serves until stopped; background jobs run alongside, and
/// `SIGHUP` reloads the reference lists (Unix).
pub async fn start(mut settings: Settings) -> Result<RunningServer> {
    let listener = TcpListener::bind(settings.listen).await.with_context(|| format!("listen {}", settings.listen))?;
    let addr = listener.local_addr()?;
    // Links in e-mails point at the port actually bound (`--listen 127.0.0.1:0` in tests).
    if settings.public_url.is_none() {
        settings.public_url = Some(format!("http://{addr}").parse().context("alamat publik")?);
    }
    let state = AppState::open(settings).await?;
    let (stop, mut stopped) = watch::channel(false);
    let app = http::router(state.clone());
    let jobs = jobs::spawn(state.clone(), stop.subscribe());
    let task = tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async move {
                let _ = stopped.wait_for(|s| *s).await;
            })
            .await
            .context("serve")?;
        jobs.abort();
        Ok(())
    });
    Ok(RunningServer { addr, state, stop, task })
}
