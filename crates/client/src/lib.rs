//! The desktop client without the window: the local store, the outbox of the user's
//! actions, the sync engine and the typed API client. It knows no Tauri, so all of it is
//! tested headless against a real server.
//!
//! - [`Client`] is the one handle the desktop shell holds: sign-in, actions, sync, reads.
//! - [`api`]: the HTTP client of the central API.
//! - [`store`], [`queries`]: the SQLite store and the screens' reads.
//! - [`outbox`]: actions and their optimistic effect on the local view.
//! - [`sync`]: pushing the outbox, pulling the change feed, prefetching PDFs.
//! - [`keychain`]: the refresh token in the OS keychain.

pub mod api;
pub mod documents;
pub mod events;
pub mod keychain;
pub mod outbox;
pub mod queries;
pub mod store;
pub mod sync;

use std::path::PathBuf;

use chrono::{DateTime, Duration, Utc};
use myintress_core::api::{LoginRequest, Membership, Role, TokenPair};
use myintress_core::error::{Coded, ErrorCode, FieldError};
use myintress_core::registration::{DeletionInput, RegistrationInput, parse_reason};
use myintress_core::reregistration::{Registration, decide_registration};
use myintress_core::scope::Scope;
use myintress_core::status::{self, Actor, Status};
use myintress_core::text::{KppnCode, SatkerCode};
use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;
use tokio::sync::{Mutex, Notify, broadcast, watch};
use uuid::Uuid;

use crate::api::{ApiClient, ApiError};
use crate::documents::DocumentCache;
use crate::events::{Notice, SyncStatus};
use crate::keychain::{Keychain, KeychainError};
use crate::outbox::{Acting, Action, OutboxState};

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

/// The signed-in account, kept in the local store so the app opens offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Account {
    pub nik: String,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub kppn_code: Option<String>,
    /// Satkers where a satker operator is active.
    pub active_satkers: Vec<String>,
}

impl Account {
    fn from_pair(pair: &TokenPair) -> Account {
        Account {
            nik: pair.account.nik.clone(),
            name: pair.account.name.clone(),
            email: pair.account.email.clone(),
            role: pair.role,
            kppn_code: pair.kppn_code.clone(),
            active_satkers: pair.memberships.iter().map(|m| m.satker_code.clone()).collect(),
        }
    }

    pub fn acting(&self) -> Acting {
        let actor = match self.role {
            Role::Kppn => Actor::KppnVerifier,
            Role::Satker => Actor::SatkerOperator,
        };
        Acting { actor, nik: self.nik.clone(), name: self.name.clone() }
    }

    /// What the account may see and act for. A stored account whose codes do not parse
    /// is corrupt, never a guessed scope.
    pub fn scope(&self) -> ClientResult<Scope> {
        Ok(match self.role {
            Role::Kppn => {
                Scope::Kppn { kppn_code: KppnCode::parse(self.kppn_code.as_deref().unwrap_or_default()).map_err(ClientError::corrupt)? }
            }
            Role::Satker => Scope::Satker {
                active_satkers: self
                    .active_satkers
                    .iter()
                    .map(|s| SatkerCode::parse(s))
                    .collect::<Result<_, _>>()
                    .map_err(ClientError::corrupt)?,
            },
        })
    }
}

/// Every failure a screen may show. [`ClientError::code`] is what a program branches on,
/// [`ClientError::message`] the Indonesian sentence; causes stay attached as sources.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{0}")]
    Api(#[from] ApiError),
    /// Form fields refused by the core's rules, before anything was queued.
    #[error("isian belum benar")]
    Fields(Vec<FieldError>),
    /// A rule refuses the action here and now (e.g. the person is already active), with
    /// the sentence to show.
    #[error("{1}")]
    Refused(ErrorCode, String),
    #[error("belum masuk")]
    NotSignedIn,
    #[error("{0}")]
    Keychain(#[from] KeychainError),
    /// The local database failed.
    #[error("penyimpanan lokal: {0}")]
    Store(#[from] sqlx::Error),
    /// The local database could not be brought to this version's schema.
    #[error("penyimpanan lokal: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A file of the app's data folder could not be read or written.
    #[error("berkas lokal: {0}")]
    Io(#[from] std::io::Error),
    /// Something stored locally that this build cannot read (a bad row, a broken JSON).
    #[error("data lokal rusak: {0}")]
    Corrupt(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ClientError {
    /// A refusal with the code's own sentence.
    pub fn refused(code: ErrorCode) -> ClientError {
        let detail = code.detail().to_owned();
        ClientError::Refused(code, detail)
    }

    pub fn corrupt(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> ClientError {
        ClientError::Corrupt(cause.into())
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            ClientError::Api(e) => e.code(),
            ClientError::Fields(errors) => errors.first().map_or(ErrorCode::FieldRequired, |e| e.code.clone()),
            ClientError::Refused(code, _) => code.clone(),
            ClientError::NotSignedIn => ErrorCode::NotSignedIn,
            ClientError::Keychain(_) => ErrorCode::KeychainUnavailable,
            ClientError::Store(_) | ClientError::Migrate(_) | ClientError::Io(_) | ClientError::Corrupt(_) => ErrorCode::LocalStore,
        }
    }

    /// The sentence to show.
    pub fn message(&self) -> String {
        match self {
            ClientError::Api(ApiError::Problem { problem, .. }) => problem.detail.clone(),
            ClientError::Fields(errors) if errors.len() == 1 => errors[0].detail.clone(),
            ClientError::Fields(_) => "Beberapa isian belum benar; periksa kembali formulir.".into(),
            ClientError::Refused(_, text) => text.clone(),
            ClientError::Api(_) | ClientError::NotSignedIn => self.code().detail().to_owned(),
            other => format!("{} ({other})", other.code().detail()),
        }
    }
}

impl From<serde_json::Error> for ClientError {
    fn from(e: serde_json::Error) -> Self {
        ClientError::Corrupt(Box::new(e))
    }
}

impl From<uuid::Error> for ClientError {
    fn from(e: uuid::Error) -> Self {
        ClientError::Corrupt(Box::new(e))
    }
}

pub type ClientResult<T> = Result<T, ClientError>;

struct AccessToken {
    token: String,
    expires_at: DateTime<Utc>,
}

/// The client: one per signed-in desktop.
pub struct Client {
    config: ClientConfig,
    pool: SqlitePool,
    api: ApiClient,
    keychain: Keychain,
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
}

const KEY_ACCOUNT: &str = "account";
const KEY_CURSOR: &str = "cursor";
const KEY_SERVER: &str = "server_url";

impl Client {
    pub async fn open(config: ClientConfig) -> ClientResult<Client> {
        std::fs::create_dir_all(&config.data_dir)?;
        let pool = store::open(&config.data_dir.join("myintress.db")).await?;
        let api = ApiClient::new(&config.server_url)?;
        let docs = DocumentCache::new(config.data_dir.join("dokumen"))?;
        let client = Client {
            keychain: Keychain::new(&config.keychain_service),
            confirmed: std::sync::Mutex::new(None),
            api,
            docs,
            pool,
            access: Mutex::new(None),
            status: watch::channel(SyncStatus::default()).0,
            notices: broadcast::channel(64).0,
            syncing: Mutex::new(()),
            wake: Notify::new(),
            config,
        };
        client.publish_counts().await?;
        Ok(client)
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    pub fn api(&self) -> &ApiClient {
        &self.api
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
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

    /// The account signed in on this machine, also when offline. `None` when nobody is,
    /// or when the keychain has no refresh token for it any more.
    pub async fn account(&self) -> ClientResult<Option<Account>> {
        let mut conn = self.pool.acquire().await?;
        let Some(json) = store::meta(&mut conn, KEY_ACCOUNT).await? else { return Ok(None) };
        let account: Account = serde_json::from_str(&json)?;
        if self.confirmed_nik().as_deref() == Some(account.nik.as_str()) {
            return Ok(Some(account));
        }
        if self.keychain.load(&self.config.server_url, &account.nik)?.is_none() {
            return Ok(None);
        }
        self.confirm(Some(&account.nik));
        Ok(Some(account))
    }

    fn confirmed_nik(&self) -> Option<String> {
        self.confirmed.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn confirm(&self, nik: Option<&str>) {
        *self.confirmed.lock().unwrap_or_else(|e| e.into_inner()) = nik.map(str::to_owned);
    }

    async fn require_account(&self) -> ClientResult<Account> {
        self.account().await?.ok_or(ClientError::NotSignedIn)
    }

    /// Signs in (NIK, password, captcha). When a different person was signed in on this
    /// machine, their local data is removed first, unless actions of theirs still wait.
    pub async fn sign_in(&self, nik: &str, password: &str, captcha_id: &str, captcha_answer: &str) -> ClientResult<Account> {
        let request = LoginRequest {
            nik: nik.to_owned(),
            password: password.to_owned(),
            captcha_id: captcha_id.to_owned(),
            captcha_answer: captcha_answer.to_owned(),
        };
        let pair = self.api.login(&request).await?;
        let account = Account::from_pair(&pair);
        let mut tx = self.pool.begin().await?;
        let mut leftovers = Vec::new();
        let previous: Option<Account> = store::meta(&mut tx, KEY_ACCOUNT).await?.and_then(|j| serde_json::from_str(&j).ok());
        if previous.as_ref().is_some_and(|p| p.nik != account.nik) {
            let waiting: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox").fetch_one(&mut *tx).await?;
            if waiting > 0 {
                // Give the session back: the previous person's actions must go first.
                let _ = self.api.logout(&pair.access_token).await;
                return Err(ClientError::Refused(
                    ErrorCode::PendingActions,
                    format!(
                        "Masih ada {waiting} tindakan akun sebelumnya yang belum terkirim. Masuk dengan akun tersebut dan sinkronkan dahulu."
                    ),
                ));
            }
            leftovers.extend(clear_local(&mut tx).await?);
        }
        leftovers.extend(self.adopt(&mut tx, &account, previous.as_ref()).await?);
        store::set_meta(&mut tx, KEY_SERVER, &self.config.server_url).await?;
        // The keychain write comes before commit: a crash in between leaves a token
        // without an account row, which the next sign-in overwrites.
        self.keychain.store(&self.config.server_url, &account.nik, &pair.refresh_token)?;
        tx.commit().await?;
        self.remove_unneeded_files(&leftovers).await?;
        self.confirm(Some(&account.nik));
        *self.access.lock().await =
            Some(AccessToken { token: pair.access_token, expires_at: Utc::now() + Duration::seconds(pair.expires_in) });
        self.wake();
        Ok(account)
    }

    /// Records the account; when its scope changed, drops what left it (satkers, their
    /// people, details and cached-letter rows) and reads the change feed from the start.
    /// Returns the cached files that may no longer be needed (removed after commit).
    async fn adopt(&self, conn: &mut sqlx::SqliteConnection, account: &Account, previous: Option<&Account>) -> ClientResult<Vec<String>> {
        let scope_changed = previous.is_none_or(|p| {
            p.role != account.role || p.kppn_code != account.kppn_code || {
                let mut a = p.active_satkers.clone();
                let mut b = account.active_satkers.clone();
                a.sort();
                b.sort();
                a != b
            }
        });
        let mut leftovers = Vec::new();
        if scope_changed {
            let keep: Vec<String> = match account.role {
                Role::Kppn => {
                    sqlx::query_scalar("SELECT code FROM satkers WHERE kppn_code = $1")
                        .bind(&account.kppn_code)
                        .fetch_all(&mut *conn)
                        .await?
                }
                Role::Satker => account.active_satkers.clone(),
            };
            leftovers = store::forget_satkers(conn, &keep, store::Forget::AllBut).await?;
            store::set_meta(conn, KEY_CURSOR, "0").await?;
        }
        store::set_meta(conn, KEY_ACCOUNT, &serde_json::to_string(account).expect("serialises")).await?;
        Ok(leftovers)
    }

    /// Removes cached files that no cached-document row and no waiting action needs.
    pub(crate) async fn remove_unneeded_files(&self, candidates: &[String]) -> ClientResult<()> {
        if candidates.is_empty() {
            return Ok(());
        }
        let unneeded = store::unneeded_files(&mut *self.pool.acquire().await?, candidates).await?;
        for sha in unneeded {
            self.docs.remove(&sha).await;
        }
        Ok(())
    }

    /// Signs out: ends the session on the server when reachable, removes the refresh token
    /// from the keychain and this person's local data. Refused while actions wait, unless
    /// `discard_pending`.
    pub async fn sign_out(&self, discard_pending: bool) -> ClientResult<()> {
        let account = self.account().await?;
        let mut tx = self.pool.begin().await?;
        let waiting: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE state = $1")
            .bind(OutboxState::Pending.as_str())
            .fetch_one(&mut *tx)
            .await?;
        if waiting > 0 && !discard_pending {
            return Err(ClientError::Refused(
                ErrorCode::PendingActions,
                format!("Masih ada {waiting} tindakan menunggu sinkronisasi. Sinkronkan dahulu sebelum keluar."),
            ));
        }
        if let Some(token) = self.access.lock().await.take() {
            let _ = self.api.logout(&token.token).await;
        }
        if let Some(account) = &account {
            self.confirm(None);
            self.keychain.remove(&self.config.server_url, &account.nik)?;
        }
        let leftovers = clear_local(&mut tx).await?;
        sqlx::query("DELETE FROM meta").execute(&mut *tx).await?;
        tx.commit().await?;
        self.remove_unneeded_files(&leftovers).await?;
        self.publish_counts().await?;
        Ok(())
    }

    /// A valid access token: the one in memory, or a fresh one from the refresh token in
    /// the keychain (rotated: the new refresh token replaces the old one at once).
    pub async fn access_token(&self, force_refresh: bool) -> ClientResult<String> {
        let mut access = self.access.lock().await;
        if !force_refresh && let Some(a) = access.as_ref().filter(|a| a.expires_at > Utc::now() + Duration::seconds(30)) {
            return Ok(a.token.clone());
        }
        let mut conn = self.pool.acquire().await?;
        let Some(json) = store::meta(&mut conn, KEY_ACCOUNT).await? else { return Err(ClientError::NotSignedIn) };
        let previous: Account = serde_json::from_str(&json)?;
        let Some(refresh) = self.keychain.load(&self.config.server_url, &previous.nik)? else {
            self.confirm(None);
            return Err(ClientError::NotSignedIn);
        };
        let pair = match self.api.refresh(&refresh).await {
            Ok(pair) => pair,
            Err(e) if e.is_unauthorized() => {
                // The family is over (expired, revoked, reused, or the person lost access):
                // forget the token. The local data stays for when they sign in again,
                // unless the person has no access at all any more: then what they could
                // see leaves this machine (their waiting actions stay, for their next
                // sign-in).
                self.confirm(None);
                self.keychain.remove(&self.config.server_url, &previous.nik)?;
                *access = None;
                drop(conn);
                if e.code().means_access_lost() {
                    let mut tx = self.pool.begin().await?;
                    let leftovers = store::forget_satkers(&mut tx, &[], store::Forget::AllBut).await?;
                    store::set_meta(&mut tx, KEY_CURSOR, "0").await?;
                    tx.commit().await?;
                    self.remove_unneeded_files(&leftovers).await?;
                    self.publish_counts().await?;
                }
                return Err(e.into());
            }
            Err(e) => return Err(e.into()),
        };
        self.keychain.store(&self.config.server_url, &previous.nik, &pair.refresh_token)?;
        let account = Account::from_pair(&pair);
        let mut tx = self.pool.begin().await?;
        let leftovers = self.adopt(&mut tx, &account, Some(&previous)).await?;
        tx.commit().await?;
        drop(conn);
        self.remove_unneeded_files(&leftovers).await?;
        *access = Some(AccessToken { token: pair.access_token.clone(), expires_at: Utc::now() + Duration::seconds(pair.expires_in) });
        Ok(pair.access_token)
    }

    /// Runs one online request with a valid access token; on 401 the session is refreshed
    /// and the request sent once more.
    pub async fn online<T, F, Fut>(&self, call: F) -> ClientResult<T>
    where
        F: Fn(String) -> Fut,
        Fut: std::future::Future<Output = Result<T, ApiError>>,
    {
        match call(self.access_token(false).await?).await {
            Err(e) if e.is_unauthorized() => Ok(call(self.access_token(true).await?).await?),
            other => Ok(other?),
        }
    }

    /// Makes the in-memory access token look expired (tests and "resume after sleep").
    pub async fn forget_access_token(&self) {
        *self.access.lock().await = None;
    }

    /// Uses an access token obtained elsewhere (a sender process started by the app
    /// receives the app's token instead of rotating the refresh token itself).
    pub async fn seed_access_token(&self, token: &str, valid_for: std::time::Duration) {
        let expires_at = Utc::now() + Duration::from_std(valid_for).unwrap_or_else(|_| Duration::minutes(5));
        *self.access.lock().await = Some(AccessToken { token: token.to_owned(), expires_at });
    }

    /// *Tambah Pengguna*: checks the form with the core's rules (fields, unit kerja, the
    /// letter PDF, re-registration), then applies it to the local view and queues it in
    /// one transaction. Refusals come back at once, nothing queued.
    pub async fn register(&self, input: RegistrationInput, letter: Vec<u8>) -> ClientResult<Membership> {
        let account = self.require_account().await?;
        let scope = account.scope()?;
        let mut errors = Vec::new();
        let form = input.validate(scope.route()).map_err(|e| errors.extend(e)).ok();
        if let Err(e) = myintress_core::pdf::check(&letter) {
            errors.push(e.for_field("letter"));
        }
        let Some(form) = form.filter(|_| errors.is_empty()) else { return Err(ClientError::Fields(errors)) };

        let mut tx = self.pool.begin().await?;
        let satker = store::satkers(&mut tx).await?.into_iter().find(|s| s.code == form.satker_code.as_str());
        let satker = satker.ok_or_else(|| ClientError::refused(ErrorCode::SatkerOutOfScope))?;
        let kppn = KppnCode::parse(&satker.kppn_code).map_err(ClientError::corrupt)?;
        scope.may_register_for(&form.satker_code, &kppn).map_err(ClientError::refused)?;

        let rows = store::person_rows(&mut tx, form.nik.as_str(), form.satker_code.as_str()).await?;
        let pairs: Vec<(Uuid, Status)> = rows.iter().map(|m| (m.id, m.status)).collect();
        let target = match decide_registration(&pairs) {
            Ok(Registration::New) => Uuid::new_v4(),
            Ok(Registration::ReplacePending(id)) => id,
            Err(code) => return Err(ClientError::refused(code)),
        };
        // The letter is on disk (synced) before the action that needs it is recorded.
        let sha = self.docs.save(&letter).await?;
        let action = Action::Register { input, letter_sha256: sha };
        self.enqueue(&mut tx, &account, target, action, None).await?;
        let (view, _) = store::view(&mut tx, target)
            .await?
            .ok_or_else(|| ClientError::corrupt("the local view lost a membership inside a transaction"))?;
        tx.commit().await?;
        self.after_action().await?;
        Ok(view)
    }

    /// Approve, reject, deactivate or reactivate one membership, offline-first.
    pub async fn act(&self, id: Uuid, action: Action) -> ClientResult<Membership> {
        let account = self.require_account().await?;
        match &action {
            Action::Reject { reason } | Action::Deactivate { reason } => {
                parse_reason(reason).map_err(|e| ClientError::Fields(vec![e.for_field("reason")]))?;
            }
            Action::Register { .. } | Action::Delete { .. } => {
                unreachable!("registrations and deletions have their own calls: register, delete");
            }
            _ => {}
        }
        let mut tx = self.pool.begin().await?;
        self.check_transition(&mut tx, &account, id, &action).await?;
        let base = store::server_version(&mut tx, id).await?;
        self.enqueue(&mut tx, &account, id, action, base).await?;
        let view = store::view(&mut tx, id).await?.map(|(m, _)| m);
        tx.commit().await?;
        self.after_action().await?;
        view.ok_or_else(|| ClientError::corrupt("the local view lost a membership inside a transaction"))
    }

    /// *Penghapusan Pengguna*: reason, SK number and the SK PDF; only from 0 or 5.
    pub async fn delete(&self, id: Uuid, input: DeletionInput, decree: Vec<u8>) -> ClientResult<()> {
        let account = self.require_account().await?;
        let mut errors = Vec::new();
        let form = input.validate().map_err(|e| errors.extend(e)).ok();
        if let Err(e) = myintress_core::pdf::check(&decree) {
            errors.push(e.for_field("decree"));
        }
        let Some(form) = form.filter(|_| errors.is_empty()) else { return Err(ClientError::Fields(errors)) };
        let mut tx = self.pool.begin().await?;
        let sha = self.docs.save(&decree).await?;
        let action = Action::Delete {
            reason: form.reason.as_str().to_owned(),
            decree_number: form.decree_number.as_str().to_owned(),
            decree_sha256: sha,
        };
        self.check_transition(&mut tx, &account, id, &action).await?;
        let base = store::server_version(&mut tx, id).await?;
        self.enqueue(&mut tx, &account, id, action, base).await?;
        tx.commit().await?;
        self.after_action().await?;
        Ok(())
    }

    async fn check_transition(&self, conn: &mut sqlx::SqliteConnection, account: &Account, id: Uuid, action: &Action) -> ClientResult<()> {
        let (view, _) =
            store::view(conn, id).await?.ok_or(ClientError::Refused(ErrorCode::NotFound, "Data pengguna tidak ditemukan.".into()))?;
        let core = action.core().expect("not a registration");
        status::decide(account.acting().actor, core, view.status, view.nik == account.nik)
            .map(|_| ())
            .map_err(|e| ClientError::refused(e.code()))
    }

    async fn enqueue(
        &self,
        conn: &mut sqlx::SqliteConnection,
        account: &Account,
        membership_id: Uuid,
        action: Action,
        base_version: Option<i64>,
    ) -> ClientResult<()> {
        let now = Utc::now().to_rfc3339();
        sqlx::query(
            "INSERT INTO outbox (key, kind, membership_id, base_version, payload, state, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind(Uuid::new_v4().to_string())
        .bind(action.kind())
        .bind(membership_id.to_string())
        .bind(base_version)
        .bind(serde_json::to_string(&action).expect("serialises"))
        .bind(OutboxState::Pending.as_str())
        .bind(&now)
        .execute(&mut *conn)
        .await?;
        store::rebuild_view(conn, membership_id, &account.acting()).await?;
        Ok(())
    }

    async fn after_action(&self) -> ClientResult<()> {
        self.publish_counts().await?;
        self.wake();
        Ok(())
    }

    /// Drops a refused action (the view already shows the server's state).
    pub async fn dismiss(&self, key: &str) -> ClientResult<()> {
        sqlx::query("DELETE FROM outbox WHERE key = $1 AND state = $2")
            .bind(key)
            .bind(OutboxState::Conflict.as_str())
            .execute(&self.pool)
            .await?;
        self.publish_counts().await
    }

    /// Queues a refused action again, based on the server's current state (a new
    /// idempotency key: it is a new request).
    pub async fn redo(&self, key: &str) -> ClientResult<Membership> {
        let row: Option<(String, String)> = sqlx::query_as("SELECT payload, membership_id FROM outbox WHERE key = $1 AND state = $2")
            .bind(key)
            .bind(OutboxState::Conflict.as_str())
            .fetch_optional(&self.pool)
            .await?;
        let Some((payload, membership_id)) = row else {
            return Err(ClientError::Refused(ErrorCode::NotFound, "Tindakan tidak ditemukan.".into()));
        };
        let action: Action = serde_json::from_str(&payload)?;
        let id = Uuid::parse_str(&membership_id)?;
        sqlx::query("DELETE FROM outbox WHERE key = $1").bind(key).execute(&self.pool).await?;
        match action {
            Action::Register { input, letter_sha256 } => {
                let letter = self.docs.read(&letter_sha256).await?;
                self.register(input, letter).await
            }
            Action::Delete { reason, decree_number, decree_sha256 } => {
                let decree = self.docs.read(&decree_sha256).await?;
                self.delete(id, DeletionInput { reason, decree_number }, decree).await?;
                store::view(&mut *self.pool.acquire().await?, id).await?.map(|(m, _)| m).ok_or(ClientError::NotSignedIn)
            }
            other => self.act(id, other).await,
        }
    }

    /// *Daftar Pengguna*: one page of the filtered list.
    pub async fn list(&self, filter: &queries::ListFilter) -> ClientResult<queries::ListPage> {
        Ok(queries::list(&mut *self.pool.acquire().await?, filter).await?)
    }

    /// The verification queue: pending registrations, oldest first.
    pub async fn queue(&self) -> ClientResult<Vec<queries::ListRow>> {
        Ok(queries::queue(&mut *self.pool.acquire().await?).await?)
    }

    /// Listed rows by status code.
    pub async fn counts(&self) -> ClientResult<Vec<(u8, i64)>> {
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
    pub async fn outbox(&self) -> ClientResult<Vec<queries::OutboxItem>> {
        Ok(queries::outbox(&mut *self.pool.acquire().await?).await?)
    }

    /// Recounts what the status shows and publishes it.
    pub(crate) async fn publish_counts(&self) -> ClientResult<()> {
        let (outbox, conflicts, pending): (i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM outbox WHERE state = $1), (SELECT COUNT(*) FROM outbox WHERE state = $2), \
             (SELECT COUNT(*) FROM memberships WHERE status = $3)",
        )
        .bind(OutboxState::Pending.as_str())
        .bind(OutboxState::Conflict.as_str())
        .bind(Status::Registered.code())
        .fetch_one(&self.pool)
        .await?;
        self.status.send_modify(|s| {
            s.outbox = outbox;
            s.conflicts = conflicts;
            s.pending_registrations = pending;
        });
        Ok(())
    }
}

/// Removes everything of the previous account: memberships, satkers, details, outbox,
/// cursor, cached documents' rows. Returns the cached files those rows named (removed
/// after commit).
async fn clear_local(conn: &mut sqlx::SqliteConnection) -> ClientResult<Vec<String>> {
    let files: Vec<String> = sqlx::query_scalar("SELECT sha256 FROM documents").fetch_all(&mut *conn).await?;
    for table in ["memberships", "satkers", "details", "outbox", "documents"] {
        sqlx::query(&format!("DELETE FROM {table}")).execute(&mut *conn).await?;
    }
    sqlx::query("DELETE FROM meta WHERE key IN ('cursor', 'account')").execute(&mut *conn).await?;
    Ok(files)
}
