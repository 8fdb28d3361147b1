//! Sign-in and sessions, without HTTP: `http::auth` reads the requests and answers them.
//!
//! - NIK + password + captcha. Before the password is known to be right, every failure
//!   reads `credentials_invalid`, so nobody learns which NIKs exist; after it, the refusal
//!   says why (waiting for the KPPN, dormant, rejected, deactivated).
//! - Lockout: 10 consecutive failures within 12 hours lock sign-in for that NIK for
//!   15 minutes (`423 account_locked`). Keycloak's defaults (30 failures, waits growing by
//!   a minute up to 15 minutes, reset after 12 hours) are the anchor; we lock sooner
//!   because these accounts approve access to treasury data. Failures are counted for
//!   every well-formed NIK, existing or not, so a lockout reveals nothing either. Each is
//!   counted in one SQL statement, so wrong passwords sent in parallel (to one server or
//!   to several replicas) count one by one: the tenth locks, later ones are told the NIK
//!   is locked. The password is verified outside any transaction.
//! - Access tokens: opaque, 15 minutes. Refresh tokens: opaque, rotated on every use; a
//!   rotated token used again revokes its whole family; a family expires 30 days after
//!   sign-in however often it is rotated. Only SHA-256 hashes are stored.

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use myintress_core::api::{Account, CaptchaChallenge, LoginRequest, Me, RefreshRequest, Role, TokenPair};
use myintress_core::error::ErrorCode;
use myintress_core::nik::Nik;
use myintress_core::status::Status;

use crate::credentials::{new_token, token_hash, verify_against_nothing, verify_password};
use crate::error::{ApiError, SESSION_EXPIRED};
use crate::registry::{Caller, access_refused, to_api};
use crate::settings::CaptchaMode;
use crate::state::AppState;
use crate::store::{AccountRow, LoginFailure, ReadConn, RefreshRow, SessionRow, WriteConn};

pub const MAX_FAILURES: i64 = 10;
pub const FAILURE_WINDOW_HOURS: i64 = 12;
pub const LOCK_MINUTES: i64 = 15;
const CAPTCHA_MINUTES: i64 = 10;

fn credentials_invalid() -> ApiError {
    ApiError::code(ErrorCode::CredentialsInvalid)
}

/// A new captcha challenge, remembered for ten minutes.
pub async fn new_captcha(state: &AppState) -> Result<CaptchaChallenge, ApiError> {
    let (answer, png) = match state.settings.captcha {
        CaptchaMode::Image => {
            // Rendering takes a few milliseconds of CPU: off the async threads.
            tokio::task::spawn_blocking(|| {
                let c = captcha::generate(captcha::Difficulty::Easy);
                (c.chars_as_string().to_lowercase(), c.as_png().unwrap_or_default())
            })
            .await
            .map_err(anyhow::Error::from)?
        }
        CaptchaMode::Disabled => (String::new(), disabled_captcha_png()),
    };
    let id = new_token();
    let mut tx = state.store.write().await?;
    tx.insert_captcha(&id, &answer, Utc::now() + Duration::minutes(CAPTCHA_MINUTES)).await?;
    tx.commit().await?;
    Ok(CaptchaChallenge { captcha_id: id, image_png_base64: base64::engine::general_purpose::STANDARD.encode(png) })
}

/// A 1×1 transparent PNG: with the captcha disabled there is nothing to read.
fn disabled_captcha_png() -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")
        .expect("constant PNG")
}

async fn check_captcha(state: &AppState, id: &str, answer: &str) -> Result<(), ApiError> {
    let mut tx = state.store.write().await?;
    let expected = tx.take_captcha(id, Utc::now()).await?;
    tx.commit().await?;
    match (state.settings.captcha, expected) {
        (CaptchaMode::Disabled, _) => Ok(()),
        (CaptchaMode::Image, Some(expected)) if expected == answer.trim().to_lowercase() => Ok(()),
        _ => Err(ApiError::code(ErrorCode::CaptchaInvalid)),
    }
}

/// Signs in with NIK, password and captcha: a new session family.
pub async fn login(state: &AppState, body: &LoginRequest) -> Result<TokenPair, ApiError> {
    check_captcha(state, &body.captcha_id, &body.captcha_answer).await?;
    let now = Utc::now();
    let Ok(nik) = Nik::parse(&body.nik) else {
        verify_against_nothing(&body.password);
        return Err(credentials_invalid());
    };
    let nik = nik.as_str().to_owned();

    // Read, then verify the password outside any transaction (argon2 takes tens of
    // milliseconds; no write lock or pooled transaction waits on it).
    let mut conn = state.store.read().await?;
    if is_locked(conn.as_mut(), &nik, now).await? {
        return Err(ApiError::code(ErrorCode::AccountLocked));
    }
    let account = conn.account(&nik).await?;
    drop(conn);
    let password_ok = match account.as_ref().and_then(|a| a.password_hash.as_deref()) {
        Some(hash) => {
            let (password, hash) = (body.password.clone(), hash.to_owned());
            tokio::task::spawn_blocking(move || verify_password(&password, &hash)).await.map_err(anyhow::Error::from)?
        }
        None => {
            let password = body.password.clone();
            tokio::task::spawn_blocking(move || verify_against_nothing(&password)).await.map_err(anyhow::Error::from)?;
            false
        }
    };

    let mut tx = state.store.write().await?;
    let Some(account) = account.filter(|_| password_ok) else {
        let failure = LoginFailure {
            at: now,
            window_start: now - Duration::hours(FAILURE_WINDOW_HOURS),
            max_failures: MAX_FAILURES,
            lock_until: now + Duration::minutes(LOCK_MINUTES),
        };
        let attempts = tx.record_login_failure(&nik, &failure).await?;
        tx.commit().await?;
        // Counted in SQL, one by one, also when many arrive at once: the failure that made
        // the count reach the limit locked the NIK and still reads as a wrong password;
        // those counted after it (while locked) are told it is locked.
        if attempts.failures > MAX_FAILURES && attempts.locked_until.is_some_and(|until| until > now) {
            return Err(ApiError::code(ErrorCode::AccountLocked));
        }
        if attempts.failures == MAX_FAILURES {
            tracing::warn!(nik = %myintress_core::nik::mask_nik(&nik), "sign-in locked after repeated failures");
        }
        return Err(credentials_invalid());
    };
    // Failures of others may have locked the NIK while the password was being checked.
    if is_locked(tx.as_mut(), &nik, now).await? {
        return Err(ApiError::code(ErrorCode::AccountLocked));
    }
    tx.clear_login_attempts(&nik).await?;

    // The password was right: now the refusal may say why.
    if let Some(code) = access_refused(tx.as_mut(), &account).await? {
        tx.commit().await?;
        return Err(ApiError::code(code));
    }
    tx.set_last_sign_in(&nik, now).await?;
    let family = uuid::Uuid::new_v4().to_string();
    let pair = issue_tokens(state, tx.as_mut(), &account, &family, now + Duration::days(state.settings.session_days), now).await?;
    tx.commit().await?;
    Ok(pair)
}

async fn is_locked(conn: &mut dyn ReadConn, nik: &str, now: DateTime<Utc>) -> Result<bool, ApiError> {
    Ok(conn.login_attempts(nik).await?.is_some_and(|a| a.locked_until.is_some_and(|until| until > now)))
}

async fn issue_tokens(
    state: &AppState,
    tx: &mut dyn WriteConn,
    account: &AccountRow,
    family: &str,
    family_expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<TokenPair, ApiError> {
    let access = new_token();
    let refresh = new_token();
    tx.insert_session(
        &token_hash(&access),
        &SessionRow {
            nik: account.nik.clone(),
            family_id: family.to_owned(),
            expires_at: now + Duration::seconds(state.settings.access_token_seconds),
        },
    )
    .await?;
    tx.insert_refresh(
        &token_hash(&refresh),
        &RefreshRow {
            family_id: family.to_owned(),
            nik: account.nik.clone(),
            expires_at: family_expires_at,
            used_at: None,
            revoked_at: None,
        },
    )
    .await?;
    let (role, memberships) = role_and_memberships(tx, account).await?;
    Ok(TokenPair {
        access_token: access,
        refresh_token: refresh,
        expires_in: state.settings.access_token_seconds,
        account: account_to_api(account),
        role,
        kppn_code: account.kppn_code.clone(),
        memberships,
    })
}

fn account_to_api(a: &AccountRow) -> Account {
    Account { nik: a.nik.clone(), name: a.name.clone(), email: a.email.clone(), nip: a.nip.clone() }
}

async fn role_and_memberships(
    tx: &mut dyn ReadConn,
    account: &AccountRow,
) -> Result<(Role, Vec<myintress_core::api::Membership>), ApiError> {
    if account.role == Role::Kppn {
        return Ok((Role::Kppn, Vec::new()));
    }
    let active = tx.memberships_of_person(&account.nik).await?.iter().filter(|m| m.status == Status::Active).map(to_api).collect();
    Ok((Role::Satker, active))
}

/// Rotates a refresh token: a new pair, the old refresh token spent.
pub async fn refresh(state: &AppState, body: &RefreshRequest) -> Result<TokenPair, ApiError> {
    let now = Utc::now();
    let hash = token_hash(&body.refresh_token);
    let mut tx = state.store.write().await?;
    let Some(row) = tx.refresh(&hash).await? else { return Err(SESSION_EXPIRED) };
    if row.revoked_at.is_some() || row.expires_at <= now {
        // A family ends when its person loses the last active membership: the desktop
        // holding it is told why, so it drops what it keeps for them (the holder of a real
        // refresh token of this account learns nothing new by it).
        if let Some(account) = tx.account(&row.nik).await?
            && let Some(code) = access_refused(tx.as_mut(), &account).await?
        {
            return Err(ApiError::code(code));
        }
        return Err(SESSION_EXPIRED);
    }
    if row.used_at.is_some() || !tx.mark_refresh_used(&hash, now).await? {
        // A rotated token came back: someone holds a copy. End the whole family.
        tx.revoke_family(&row.family_id, now).await?;
        tx.commit().await?;
        tracing::warn!(nik = %myintress_core::nik::mask_nik(&row.nik), "refresh token reuse; family revoked");
        return Err(ApiError::Unauthorized(ErrorCode::RefreshTokenReused));
    }
    let Some(account) = tx.account(&row.nik).await? else { return Err(SESSION_EXPIRED) };
    if let Some(code) = access_refused(tx.as_mut(), &account).await? {
        tx.revoke_family(&row.family_id, now).await?;
        tx.commit().await?;
        return Err(ApiError::code(code));
    }
    let pair = issue_tokens(state, tx.as_mut(), &account, &row.family_id, row.expires_at, now).await?;
    tx.commit().await?;
    Ok(pair)
}

/// Ends the caller's session family.
pub async fn logout(state: &AppState, caller: &Caller) -> Result<(), ApiError> {
    let mut tx = state.store.write().await?;
    tx.revoke_family(&caller.family_id, Utc::now()).await?;
    tx.commit().await?;
    Ok(())
}

/// The signed-in account, its role and its active memberships.
pub async fn me(state: &AppState, caller: &Caller) -> Result<Me, ApiError> {
    let mut conn = state.store.read().await?;
    let (role, memberships) = role_and_memberships(conn.as_mut(), &caller.account).await?;
    Ok(Me { account: account_to_api(&caller.account), role, kppn_code: caller.account.kppn_code.clone(), memberships })
}

/// The caller an access token (the `Bearer` credential) belongs to: `401` when it is
/// missing, unknown or expired, or the account gives no access any more.
pub async fn authenticate(state: &AppState, token: Option<&str>) -> Result<Caller, ApiError> {
    let Some(token) = token.map(str::trim).filter(|t| !t.is_empty()) else { return Err(SESSION_EXPIRED) };
    let mut conn = state.store.read().await?;
    let Some(session) = conn.session(&token_hash(token)).await? else { return Err(SESSION_EXPIRED) };
    if session.expires_at <= Utc::now() {
        return Err(SESSION_EXPIRED);
    }
    let Some(account) = conn.account(&session.nik).await? else { return Err(SESSION_EXPIRED) };
    // A satker user's sessions end with the last active membership; this is the backstop.
    Caller::resolve(conn.as_mut(), account, session.family_id).await?.ok_or(SESSION_EXPIRED)
}
