//! The session: the signed-in account (kept in the local store so the app opens offline),
//! sign-in and sign-out, and the access token (in memory) refreshed from the refresh
//! token (in the OS keychain only).

use chrono::{DateTime, Duration, Utc};
use myintress_core::api::{LoginRequest, PasswordChange, PasswordResetRequest, Role, Satker, TokenPair};
use myintress_core::error::ErrorCode;
use myintress_core::scope::Scope;
use myintress_core::status::Actor;
use myintress_core::text::{KppnCode, SatkerCode};
use serde::{Deserialize, Serialize};

use crate::api::ApiError;
use crate::outbox::{self, Acting, OutboxState};
use crate::{Client, ClientError, ClientResult, KEY_ACCOUNT, KEY_CURSOR, KEY_SERVER, KEY_WORKING_SATKER, store};

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
    /// The same satkers with their names (empty for an account stored by an older version).
    #[serde(default)]
    pub satkers: Vec<Satker>,
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
            satkers: pair.satkers.clone(),
        }
    }

    /// Who acts on memberships: a verifier or a satker operator. A central operator
    /// (`admin`) acts on none (`forbidden`).
    pub fn acting(&self) -> ClientResult<Acting> {
        let actor = match self.role {
            Role::Kppn => Actor::KppnVerifier,
            Role::Satker => Actor::SatkerOperator,
            Role::Admin => return Err(ClientError::refused(ErrorCode::Forbidden)),
        };
        Ok(Acting { actor, nik: self.nik.clone(), name: self.name.clone() })
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
            Role::Admin => return Err(ClientError::refused(ErrorCode::Forbidden)),
        })
    }
}

pub(crate) struct AccessToken {
    pub(crate) token: String,
    pub(crate) expires_at: DateTime<Utc>,
}

impl Client {
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

    pub(crate) async fn require_account(&self) -> ClientResult<Account> {
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
            let waiting = outbox::count_all(&mut tx).await?;
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
                // A central operator keeps no membership data.
                Role::Admin => Vec::new(),
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

    /// The satker a person active in several works in now: their last choice, kept in the
    /// local store so it survives a restart; the only one when there is one; `None` until
    /// they choose (or when the choice is no longer an active satker of theirs).
    pub async fn working_satker(&self) -> ClientResult<Option<String>> {
        let Some(account) = self.account().await? else { return Ok(None) };
        if let [only] = account.active_satkers.as_slice() {
            return Ok(Some(only.clone()));
        }
        let chosen = store::meta(&mut *self.pool.acquire().await?, KEY_WORKING_SATKER).await?;
        Ok(chosen.filter(|c| account.active_satkers.contains(c)))
    }

    /// Chooses the satker to work in (one of the account's active satkers).
    pub async fn choose_satker(&self, code: &str) -> ClientResult<()> {
        let account = self.require_account().await?;
        if !account.active_satkers.iter().any(|s| s == code) {
            return Err(ClientError::refused(ErrorCode::SatkerOutOfScope));
        }
        store::set_meta(&mut *self.pool.acquire().await?, KEY_WORKING_SATKER, code).await?;
        Ok(())
    }

    /// "Lupa kata sandi?": asks the server to mail a reset link to the account of `nik`
    /// (the answer is the same whether or not it has one). Online only.
    pub async fn request_password_reset(&self, nik: &str, captcha_id: &str, captcha_answer: &str) -> ClientResult<()> {
        let request = PasswordResetRequest {
            nik: nik.trim().to_owned(),
            captcha_id: captcha_id.to_owned(),
            captcha_answer: captcha_answer.to_owned(),
        };
        Ok(self.api.password_reset(&request).await?)
    }

    /// Changes the signed-in person's password; the server ends their other sessions, this
    /// desk stays signed in. Online only.
    pub async fn change_password(&self, current_password: &str, new_password: &str) -> ClientResult<()> {
        let change = PasswordChange { current_password: current_password.to_owned(), new_password: new_password.to_owned() };
        let change = &change;
        self.online(|token| async move { self.api.change_password(&token, change).await }).await
    }

    /// "Keluar dari semua perangkat": ends every session of the account on the server, then
    /// signs out here. Refused while actions wait (they would need a session to go), and
    /// when the server cannot be reached (the other devices would stay signed in).
    pub async fn sign_out_everywhere(&self) -> ClientResult<()> {
        if let Some(warning) = unsent_actions(&mut *self.pool.acquire().await?).await? {
            return Err(ClientError::Refused(ErrorCode::PendingActions, warning));
        }
        self.online(|token| async move { self.api.logout_all(&token).await }).await?;
        self.sign_out(false).await
    }

    /// Signs out: ends the session on the server when reachable, removes the refresh token
    /// from the keychain and this person's local data. Refused while actions wait, unless
    /// `discard_pending`.
    pub async fn sign_out(&self, discard_pending: bool) -> ClientResult<()> {
        let account = self.account().await?;
        let mut tx = self.pool.begin().await?;
        if !discard_pending && let Some(warning) = unsent_actions(&mut tx).await? {
            return Err(ClientError::Refused(ErrorCode::PendingActions, warning));
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
}

/// What signing out would lose: actions waiting to be sent, and refused ones nobody has
/// redone or dismissed yet; `None` when there are none.
async fn unsent_actions(conn: &mut sqlx::SqliteConnection) -> ClientResult<Option<String>> {
    let waiting = outbox::count(&mut *conn, OutboxState::Pending).await?;
    let refused = outbox::count(&mut *conn, OutboxState::Conflict).await?;
    Ok(match (waiting, refused) {
        (0, 0) => None,
        (w, 0) => Some(format!("Masih ada {w} tindakan menunggu sinkronisasi. Sinkronkan dahulu sebelum keluar.")),
        (0, r) => Some(format!(
            "Masih ada {r} tindakan yang ditolak server dan belum ditangani. Buka Sinkronisasi, ulangi atau abaikan dahulu sebelum keluar."
        )),
        (w, r) => Some(format!(
            "Masih ada {w} tindakan menunggu sinkronisasi dan {r} tindakan ditolak server yang belum ditangani. Selesaikan di Sinkronisasi sebelum keluar."
        )),
    })
}

/// Removes everything of the previous account: memberships, satkers, details, outbox,
/// cursor, cached documents' rows. Returns the cached files those rows named (removed
/// after commit).
async fn clear_local(conn: &mut sqlx::SqliteConnection) -> ClientResult<Vec<String>> {
    let files: Vec<String> = sqlx::query_scalar("SELECT sha256 FROM documents").fetch_all(&mut *conn).await?;
    outbox::clear(&mut *conn).await?;
    for table in ["memberships", "satkers", "details", "documents", "queue_flags", "letters_seen", "deletion_requests"] {
        sqlx::query(&format!("DELETE FROM {table}")).execute(&mut *conn).await?;
    }
    sqlx::query("DELETE FROM meta WHERE key IN ('cursor', 'account', 'working_satker')").execute(&mut *conn).await?;
    Ok(files)
}
