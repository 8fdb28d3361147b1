//! The desktop client without the window: the local store, the outbox of the user's
//! actions, the sync engine and the typed API client. It knows no Tauri, so all of it is
//! tested headless against a real server.
//!
//! - [`Client`] is the one handle the desktop shell holds: sign-in and session
//!   (`session`), the offline-first actions (`actions`), sync, reads; [`ClientError`]
//!   (`error`) what fails.
//! - [`api`]: the HTTP client of the central API.
//! - `store`, `queries` (private): the SQLite store and the screens' reads, reached only
//!   through [`Client`]; [`testing`] gives the benchmarks what they measure.
//! - [`outbox`]: actions, their optimistic effect on the local view, and every statement
//!   on the `outbox` table.
//! - [`sync`]: pushing the outbox, pulling the change feed, prefetching PDFs.
//! - [`keychain`]: the refresh token and the data folder's key in the OS keychain.

mod actions;
mod admin;
pub mod api;
mod bulk;
mod deletions;
pub mod documents;
mod error;
pub mod events;
pub mod keychain;
pub mod outbox;
mod queries;
mod session;
mod store;
pub mod sync;
pub mod testing;
mod trust;

use std::path::PathBuf;

use myintress_core::api::Membership;
use myintress_core::status::Status;
pub use myintress_pdfcheck::{CheckedPdf, PdfChecker};
use sqlx::SqlitePool;
use tokio::sync::{Mutex, Notify, broadcast, watch};
use uuid::Uuid;

pub use crate::admin::VerifierChange;
use crate::api::ApiClient;
pub use crate::bulk::{BatchItemState, BulkQueued, BulkQueuedItem, Refusal};
pub use crate::deletions::DeletionRequestRow;
use crate::documents::DocumentCache;
pub use crate::error::{ClientError, ClientResult};
use crate::events::{Notice, SyncStatus};
use crate::keychain::Keychain;
pub use crate::queries::{ListFilter, ListPage, ListRow, QueueRow};
use crate::session::AccessToken;
pub use crate::session::Account;

/// Where the client keeps its things and which server it talks to.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The app data dir: `myintress.db` and the `dokumen/` cache go here.
    pub data_dir: PathBuf,
    pub server_url: String,
    /// The keychain service name (one per installation kind).
    pub keychain_service: String,
    /// Upper bound of the PDF cache; letters of decided registrations are evicted first.
    pub cache_limit_bytes: u64,
}

/// The client: one per signed-in desktop.
pub struct Client {
    config: ClientConfig,
    pool: SqlitePool,
    /// One connection of its own for the user's actions (approve, reject, register,
    /// delete, bulk decisions, deletion requests, contact corrections) and the status
    /// line's counts read after each. SQLite empties a connection's page cache whenever
    /// another connection has written since its last read, and the pool hands out its
    /// connections in turn, so an action on the pool read its B-tree pages from disk
    /// again (and decrypted them) each time; on this connection, which wrote last, they
    /// stay in its cache.
    actions: SqlitePool,
    api: ApiClient,
    keychain: Keychain,
    /// The data folder's key (local store and cached letters).
    key: keychain::LocalKey,
    /// The NIK whose refresh token this process last saw in (or put into) the keychain:
    /// every action checks who is signed in, and a keychain lookup is a D-Bus or system
    /// call costing milliseconds, so it is asked once and remembered until sign-out or
    /// until the token is found gone.
    confirmed: std::sync::Mutex<Option<String>>,
    docs: DocumentCache,
    /// The access token lives only in memory. The lock is held across a refresh, so two
    /// callers never both rotate the refresh token (the second would look like reuse).
    access: Mutex<Option<AccessToken>>,
    status: watch::Sender<SyncStatus>,
    notices: broadcast::Sender<Notice>,
    /// One sync at a time.
    syncing: Mutex<()>,
    wake: Notify,
    checkpoints: std::sync::Arc<store::IdleCheckpoints>,
}

const KEY_ACCOUNT: &str = "account";
const KEY_CURSOR: &str = "cursor";
const KEY_SERVER: &str = "server_url";
/// The satker a person active in several chose to work in.
const KEY_WORKING_SATKER: &str = "working_satker";

impl Client {
    pub async fn open(config: ClientConfig) -> ClientResult<Client> {
        if !myintress_core::text::server_address_allowed(&config.server_url) {
            return Err(ClientError::refused(myintress_core::ErrorCode::ServerUrlInvalid));
        }
        std::fs::create_dir_all(&config.data_dir)?;
        // People's data: only this OS account may enter the folder.
        #[cfg(unix)]
        std::fs::set_permissions(&config.data_dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
        let keychain = Keychain::new(&config.keychain_service);
        // The folder's key, made on first start. Asked before the store is touched: with the
        // keychain locked or gone the app stops here instead of making a key that could not
        // read what the old one wrote.
        let key = keychain.local_key(&config.data_dir)?;
        let db = config.data_dir.join("myintress.db");
        let docs = DocumentCache::new(config.data_dir.join("dokumen"), &key.documents())?;
        // A store of a version before encryption: its letters are sealed first, then the
        // store is encrypted (a crash in between redoes both on the next start). Later
        // starts touch no cached file.
        if store::is_plaintext(&db)? {
            docs.seal_plaintext_files()?;
        }
        let pool = store::open(&db, &key).await?;
        let actions = store::open_for_actions(&db, &key).await?;
        let api = ApiClient::new(&config.server_url)?;
        let client = Client {
            keychain,
            key,
            confirmed: std::sync::Mutex::new(None),
            api,
            docs,
            access: Mutex::new(None),
            status: watch::channel(SyncStatus::default()).0,
            notices: broadcast::channel(64).0,
            syncing: Mutex::new(()),
            wake: Notify::new(),
            checkpoints: store::IdleCheckpoints::start(pool.clone()),
            pool,
            actions,
            config,
        };
        client.publish_counts().await?;
        Ok(client)
    }

    /// Closes the local store, as the app does on exit. The write-ahead log is copied into
    /// the store and emptied first, while this call waits: the connections' own last
    /// checkpoint happens on their threads after `close` returns, and a store copied,
    /// backed up or set aside right after exit must be whole in its one file.
    pub async fn close(&self) {
        if let Ok(mut conn) = self.pool.acquire().await
            && let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&mut *conn).await
        {
            tracing::warn!(error = %e, "checkpoint before closing the store");
        }
        self.actions.close().await;
        self.pool.close().await;
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    pub fn api(&self) -> &ApiClient {
        &self.api
    }

    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The connection of the user's actions ([`Client::open`]).
    pub(crate) fn actions(&self) -> &SqlitePool {
        &self.actions
    }

    pub fn documents(&self) -> &DocumentCache {
        &self.docs
    }

    pub fn subscribe(&self) -> watch::Receiver<SyncStatus> {
        self.status.subscribe()
    }

    pub fn notices(&self) -> broadcast::Receiver<Notice> {
        self.notices.subscribe()
    }

    /// Asks the background sync to run now (after an action, or when the network is back).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// *Daftar Pengguna*: one page of the filtered list.
    pub async fn list(&self, filter: &ListFilter) -> ClientResult<ListPage> {
        Ok(queries::list(&mut *self.pool.acquire().await?, filter).await?)
    }

    /// The Antrean: pending registrations, oldest first, with their age and flags.
    pub async fn queue(&self) -> ClientResult<Vec<QueueRow>> {
        Ok(queries::queue(&mut *self.pool.acquire().await?).await?)
    }

    /// Listed rows by status code.
    pub async fn counts(&self) -> ClientResult<Vec<(Status, i64)>> {
        Ok(queries::counts(&mut *self.pool.acquire().await?).await?)
    }

    pub async fn satkers(&self) -> ClientResult<Vec<myintress_core::api::Satker>> {
        Ok(store::satkers(&mut *self.pool.acquire().await?).await?)
    }

    /// One membership as the user sees it, with how many actions on it wait.
    pub async fn view(&self, id: Uuid) -> ClientResult<Option<(Membership, i64)>> {
        Ok(store::view(&mut *self.pool.acquire().await?, id).await?)
    }

    /// All rows of a person in a satker, history rows included.
    pub async fn person_rows(&self, nik: &str, satker: &str) -> ClientResult<Vec<Membership>> {
        Ok(store::person_rows(&mut *self.pool.acquire().await?, nik, satker).await?)
    }

    /// The outbox as the sync screen shows it.
    pub async fn outbox(&self) -> ClientResult<Vec<outbox::OutboxItem>> {
        Ok(outbox::items(&mut *self.pool.acquire().await?).await?)
    }

    /// Publishes the status line's counts. Called after every write the client commits, so
    /// it also tells the idle checkpointer that the desk is busy.
    pub(crate) async fn publish_counts(&self) -> ClientResult<()> {
        self.checkpoints.wrote();
        let mut conn = self.actions.acquire().await?;
        let (outbox, conflicts, pending, overdue, escalated) = queries::status_counts(&mut conn).await?;
        self.status.send_modify(|s| {
            s.outbox = outbox;
            s.conflicts = conflicts;
            s.pending_registrations = pending;
            s.overdue_registrations = overdue;
            s.escalated_registrations = escalated;
        });
        Ok(())
    }
}
