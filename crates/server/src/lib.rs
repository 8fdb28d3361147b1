//! The central MyIntress API server: the authority that enforces every rule of the
//! registration guide, stores memberships, documents and the audit trail, and feeds the
//! desktop clients' sync.
//!
//! - [`settings`]: flags and `MYINTRESS_*` variables.
//! - [`store`]: the storage trait and its SQLite and PostgreSQL backends.
//! - [`state`]: [`AppState`], what every request and job shares.
//! - [`registry`]: registering and deciding, applying the core's rules in transactions.
//! - [`deletions`]: the satkers' deletion requests, declined or closed by the deletion.
//! - [`session`]: sign-in, captcha, sessions, lockout.
//! - [`session_cache`]: who recent access tokens belong to, for a few seconds.
//! - [`error`]: the server's one error type, in the contract's codes.
//! - [`idempotency`]: `Idempotency-Key` records.
//! - [`limits`]: per-address rate limits.
//! - [`http`]: routes, handlers, middleware, OpenAPI; the only module that knows axum.
//! - [`jobs`]: the background round (dormancy, purge, document collection, feed
//!   compaction, Antrean flags), one per interval across all replicas.
//! - [`queue`]: the Antrean's working-day deadlines (overdue, escalated) and their flags.
//! - [`dukcapil`], [`mail`], [`documents`], [`credentials`], [`reference`]: the adapters.
//! - [`demo`]: demo data for `cargo xtask demo`.
//!
//! The integration-test harness is its own crate, `myintress-testkit` (never in this binary).

pub mod admin;
pub mod backup;
pub mod captcha;
pub mod credentials;
pub mod deletions;
pub mod demo;
pub mod documents;
pub mod dukcapil;
pub mod error;
pub mod http;
pub mod idempotency;
pub mod jobs;
pub mod limits;
pub mod mail;
pub mod metrics;
pub mod queue;
pub mod reference;
pub mod registry;
pub mod session;
pub mod session_cache;
pub mod settings;
pub mod state;
pub mod store;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::settings::Settings;
use crate::state::AppState;

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
    settings.check_public_url()?;
    let listener = TcpListener::bind(settings.listen).await.with_context(|| format!("listen {}", settings.listen))?;
    let addr = listener.local_addr()?;
    // Links in e-mails point at the port actually bound (`--listen 127.0.0.1:0` in tests).
    if settings.public_url.is_none() {
        settings.public_url = Some(format!("http://{addr}").parse().context("alamat publik")?);
    }
    let state = AppState::open(settings).await?;
    let (stop, stopped) = watch::channel(false);
    let app = http::router(state.clone());
    let jobs = jobs::spawn(state.clone(), stop.subscribe());
    let mail = mail::spawn(state.clone(), stop.subscribe());
    let limits = http::serve::ConnectionLimits {
        header_read: std::time::Duration::from_secs(state.settings.header_read_timeout.max(1)),
        max_connections: state.settings.max_connections,
        shutdown_grace: std::time::Duration::from_secs(state.settings.shutdown_grace),
    };
    let task = tokio::spawn(async move {
        http::serve::serve(listener, app, limits, stopped).await.context("serve")?;
        jobs.abort();
        mail.abort();
        Ok(())
    });
    Ok(RunningServer { addr, state, stop, task })
}
