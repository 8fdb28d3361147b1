//! Sign-in and sessions, without HTTP: `http::auth` reads the requests and answers them.
//!
//! - NIK + password + captcha. Before the password is known to be right, every failure
//!   reads `credentials_invalid`, so nobody learns which NIKs exist; after it, the refusal
//!   says why (waiting for the KPPN, dormant, rejected, deactivated, the account disabled).
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
//!   sign-in however often it is rotated, and after `--session-idle-hours` (12) without
//!   use (ASVS L2). Only SHA-256 hashes are stored.

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use myintress_core::api::{
    Account, CaptchaChallenge, LoginRequest, Me, PasswordChange, PasswordResetRequest, RefreshRequest, Role, TokenPair,
};
use myintress_core::error::{ErrorCode, FieldError};
use myintress_core::nik::Nik;
use myintress_core::status::Status;

use crate::credentials::{hash_off_thread, new_token, token_hash, verify_off_thread};
use crate::error::{ApiError, SESSION_EXPIRED};
use crate::registry::{Caller, access_refused, to_api};
use crate::settings::CaptchaMode;
use crate::state::AppState;
use crate::store::{AccountRow, ActivationRow, LoginFailure, ReadConn, RefreshRow, SessionRow, TokenPurpose, WriteConn};

pub const MAX_FAILURES: i64 = 10;
pub const FAILURE_WINDOW_HOURS: i64 = 12;
pub const LOCK_MINUTES: i64 = 15;

fn credentials_invalid() -> ApiError {
    ApiError::code(ErrorCode::CredentialsInvalid)
}

/// A new captcha challenge: drawn, signed, and stored nowhere (see [`crate::captcha`]).
pub async fn new_captcha(state: &AppState) -> Result<CaptchaChallenge, ApiError> {
    let challenge = state.captcha.challenge(Utc::now());
    let png = match state.settings.captcha {
        // Drawing takes a few milliseconds of CPU: off the async threads.
        CaptchaMode::Image => {
            let answer = challenge.answer.clone();
            tokio::task::spawn_blocking(move || crate::captcha::image(&answer)).await.map_err(anyhow::Error::from)?
        }
        CaptchaMode::Disabled => disabled_captcha_png(),
    };
    Ok(CaptchaChallenge { captcha_id: challenge.id, image_png_base64: base64::engine::general_purpose::STANDARD.encode(png) })
}

/// A 1×1 transparent PNG: with the captcha disabled there is nothing to read.
fn disabled_captcha_png() -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")
        .expect("constant PNG")
}

async fn check_captcha(state: &AppState, id: &str, answer: &str) -> Result<(), ApiError> {
    if state.settings.captcha == CaptchaMode::Disabled {
        return Ok(());
    }
    let invalid = || ApiError::code(ErrorCode::CaptchaInvalid);
    let presented = state.captcha.presented(id, Utc::now()).ok_or_else(invalid)?;
    // Spent whether the answer is right or not: one guess per challenge.
    let mut tx = state.store.write().await?;
    let fresh = tx.spend_captcha(&presented.nonce, presented.expires_at).await?;
    tx.commit().await?;
    if fresh && state.captcha.is_answer(&presented, answer) { Ok(()) } else { Err(invalid()) }
}

/// Signs in with NIK, password and captcha: a new session family.
pub async fn login(state: &AppState, body: &LoginRequest) -> Result<TokenPair, ApiError> {
    check_captcha(state, &body.captcha_id, &body.captcha_answer).await?;
    let now = Utc::now();
    let Ok(nik) = Nik::parse(&body.nik) else {
        // The same time as a real check.
        verify_off_thread(&body.password, None).await?;
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
    let password_ok = verify_off_thread(&body.password, account.as_ref().and_then(|a| a.password_hash.as_deref())).await?;

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
            issued_at: Some(now),
        },
    )
    .await?;
    let (role, memberships, satkers) = role_and_memberships(tx, account).await?;
    Ok(TokenPair {
        access_token: access,
        refresh_token: refresh,
        expires_in: state.settings.access_token_seconds,
        account: account_to_api(account),
        role,
        kppn_code: account.kppn_code.clone(),
        memberships,
        satkers,
    })
}

fn account_to_api(a: &AccountRow) -> Account {
    Account { nik: a.nik.clone(), name: a.name.clone(), email: a.email.clone(), nip: a.nip.clone() }
}

/// The account's role, its active memberships and their satkers (with names).
async fn role_and_memberships(
    tx: &mut dyn ReadConn,
    account: &AccountRow,
) -> Result<(Role, Vec<myintress_core::api::Membership>, Vec<myintress_core::api::Satker>), ApiError> {
    if account.role != Role::Satker {
        return Ok((account.role, Vec::new(), Vec::new()));
    }
    let active: Vec<_> = tx.memberships_of_person(&account.nik).await?.iter().filter(|m| m.status == Status::Active).map(to_api).collect();
    let mut satkers = Vec::new();
    for m in &active {
        if let Some(row) = tx.satker(&m.satker_code).await?
            && !satkers.iter().any(|s: &myintress_core::api::Satker| s.code == row.code)
        {
            satkers.push(crate::registry::satker_to_api(&row));
        }
    }
    Ok((Role::Satker, active, satkers))
}

/// Rotates a refresh token: a new pair, the old refresh token spent.
pub async fn refresh(state: &AppState, body: &RefreshRequest) -> Result<TokenPair, ApiError> {
    let now = Utc::now();
    let hash = token_hash(&body.refresh_token);
    let mut tx = state.store.write().await?;
    let Some(row) = tx.refresh(&hash).await? else { return Err(SESSION_EXPIRED) };
    // Not used for --session-idle-hours: the family ends (ASVS L2 idle timeout).
    let idle = row.issued_at.is_some_and(|at| at + Duration::hours(state.settings.session_idle_hours) <= now);
    if idle && row.revoked_at.is_none() {
        tx.revoke_family(&row.family_id, now).await?;
        tx.commit().await?;
        state.sessions.forget_family(&row.family_id);
        return Err(SESSION_EXPIRED);
    }
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
        state.sessions.forget_family(&row.family_id);
        tracing::warn!(nik = %myintress_core::nik::mask_nik(&row.nik), "refresh token reuse; family revoked");
        return Err(ApiError::Unauthorized(ErrorCode::RefreshTokenReused));
    }
    let Some(account) = tx.account(&row.nik).await? else { return Err(SESSION_EXPIRED) };
    if let Some(code) = access_refused(tx.as_mut(), &account).await? {
        tx.revoke_family(&row.family_id, now).await?;
        tx.commit().await?;
        state.sessions.forget_family(&row.family_id);
        return Err(ApiError::code(code));
    }
    let pair = issue_tokens(state, tx.as_mut(), &account, &row.family_id, row.expires_at, now).await?;
    tx.commit().await?;
    Ok(pair)
}

/// Ends the caller's session family.
pub async fn logout(state: &AppState, caller: &SignedIn) -> Result<(), ApiError> {
    let mut tx = state.store.write().await?;
    tx.revoke_family(&caller.family_id, Utc::now()).await?;
    tx.commit().await?;
    state.sessions.forget_family(&caller.family_id);
    Ok(())
}

/// The signed-in account, its role and its active memberships.
pub async fn me(state: &AppState, caller: &SignedIn) -> Result<Me, ApiError> {
    let mut conn = state.store.read().await?;
    let (role, memberships, satkers) = role_and_memberships(conn.as_mut(), &caller.account).await?;
    if role == Role::Satker && memberships.is_empty() {
        // A satker user's sessions end with the last active membership; the backstop.
        return Err(SESSION_EXPIRED);
    }
    Ok(Me { account: account_to_api(&caller.account), role, kppn_code: caller.account.kppn_code.clone(), memberships, satkers })
}

/// Whoever a valid access token belongs to, whatever the role: what the account's own
/// endpoints (`/me`, password, sign-out) need.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub account: AccountRow,
    pub family_id: String,
}

/// A signed-in central operator ([`Role::Admin`]).
#[derive(Debug, Clone)]
pub struct Administrator(pub AccountRow);

/// The hash of the `Bearer` credential: `401` when it is missing.
fn bearer_hash(token: Option<&str>) -> Result<String, ApiError> {
    let Some(token) = token.map(str::trim).filter(|t| !t.is_empty()) else { return Err(SESSION_EXPIRED) };
    Ok(token_hash(token))
}

/// The account an access token belongs to, and when the token expires, read from the
/// database: `401` when the token is unknown or expired, or the account is disabled.
async fn signed_in(conn: &mut dyn ReadConn, hash: &str) -> Result<(SignedIn, DateTime<Utc>), ApiError> {
    let Some(session) = conn.session(hash).await? else { return Err(SESSION_EXPIRED) };
    if session.expires_at <= Utc::now() {
        return Err(SESSION_EXPIRED);
    }
    match conn.account(&session.nik).await? {
        Some(account) if account.disabled_at.is_none() => Ok((SignedIn { account, family_id: session.family_id }, session.expires_at)),
        _ => Err(SESSION_EXPIRED),
    }
}

/// Any signed-in account (see [`signed_in`]), from the session cache when it holds the
/// token ([`crate::session_cache`]).
pub async fn authenticate(state: &AppState, token: Option<&str>) -> Result<SignedIn, ApiError> {
    let hash = bearer_hash(token)?;
    if let Some(hit) = state.sessions.get(&hash) {
        return Ok(hit.signed_in.clone());
    }
    let ticket = state.sessions.ticket();
    let (who, expires_at) = signed_in(state.store.read().await?.as_mut(), &hash).await?;
    state.sessions.put(ticket, hash, who.clone(), None, expires_at);
    Ok(who)
}

/// A verifier or satker operator and its scope, for membership work: `401` as
/// [`authenticate`], or when the account gives no access any more; `403` for an
/// administrator, who sees no membership data. From the session cache when it holds the
/// token with its scope: then the request's own query is the only one it makes.
pub async fn authenticate_caller(state: &AppState, token: Option<&str>) -> Result<Caller, ApiError> {
    let hash = bearer_hash(token)?;
    if let Some(hit) = state.sessions.get(&hash) {
        if hit.signed_in.account.role == Role::Admin {
            return Err(ApiError::Forbidden);
        }
        if let Some(caller) = &hit.caller {
            return Ok(caller.clone());
        }
    }
    let ticket = state.sessions.ticket();
    let mut conn = state.store.read().await?;
    let (who, expires_at) = signed_in(conn.as_mut(), &hash).await?;
    if who.account.role == Role::Admin {
        return Err(ApiError::Forbidden);
    }
    // A satker user's sessions end with the last active membership; this is the backstop.
    let caller = Caller::resolve(conn.as_mut(), who.account.clone(), who.family_id.clone()).await?.ok_or(SESSION_EXPIRED)?;
    state.sessions.put(ticket, hash, who, Some(caller.clone()), expires_at);
    Ok(caller)
}

/// A central operator: `401` as [`authenticate`]; `403` for any other role.
pub async fn authenticate_admin(state: &AppState, token: Option<&str>) -> Result<Administrator, ApiError> {
    let who = authenticate(state, token).await?;
    if who.account.role != Role::Admin {
        return Err(ApiError::Forbidden);
    }
    Ok(Administrator(who.account))
}

/// How long a password-reset link works.
pub const RESET_MINUTES: i64 = 60;

/// Asks for a password reset by NIK. Whatever the NIK, the same row is written and the
/// same answer given, so nobody learns which NIKs have accounts; the mail job resolves the
/// request ([`resolve_reset_requests`]). A wrong captcha is refused (it says nothing
/// about the NIK); a malformed NIK is taken like any other and resolves to nothing.
pub async fn request_password_reset(state: &AppState, body: &PasswordResetRequest) -> Result<(), ApiError> {
    check_captcha(state, &body.captcha_id, &body.captcha_answer).await?;
    let nik: String = body.nik.chars().filter(|c| !c.is_whitespace()).take(32).collect();
    let mut tx = state.store.write().await?;
    tx.insert_reset_request(uuid::Uuid::new_v4(), &nik, Utc::now()).await?;
    tx.commit().await?;
    state.mail_wake.notify_one();
    Ok(())
}

/// Turns waiting reset requests into links: for an account with a password or an e-mail,
/// a new single-use link (earlier reset links stop working) mailed through the outbox in
/// the same transaction; for anything else, nothing. Each request is taken once, also with
/// several replicas. Returns how many links were made.
pub async fn resolve_reset_requests(state: &AppState) -> Result<usize, ApiError> {
    let requests = state.store.read().await?.reset_requests(100).await?;
    let mut made = 0;
    for (id, nik) in requests {
        let now = Utc::now();
        let mut tx = state.store.write().await?;
        if !tx.take_reset_request(id).await? {
            continue;
        }
        if let Some(account) = tx.account(&nik).await?.filter(|a| !a.email.is_empty()) {
            tx.void_tokens(&nik, TokenPurpose::Reset, now).await?;
            let token = new_token();
            let row = ActivationRow {
                nik: nik.clone(),
                expires_at: now + Duration::minutes(RESET_MINUTES),
                used_at: None,
                purpose: TokenPurpose::Reset,
            };
            tx.insert_activation(&token_hash(&token), &row).await?;
            let link = format!("{}/reset/{token}", state.settings.public_url());
            tx.queue_mail(&crate::mail::password_reset(&account.name, &account.email, &link, RESET_MINUTES, now)).await?;
            made += 1;
        }
        tx.commit().await?;
    }
    Ok(made)
}

/// A signed-in person changes their password: the current one must be right, the new one
/// follow the rules; every other session of the account ends.
pub async fn change_password(state: &AppState, caller: &SignedIn, body: &PasswordChange) -> Result<(), ApiError> {
    // The password as the database holds it now (the caller's account may come from the
    // session cache, a few seconds old).
    let current = state.store.read().await?.account(&caller.account.nik).await?.ok_or(SESSION_EXPIRED)?;
    if !verify_off_thread(&body.current_password, current.password_hash.as_deref()).await? {
        return Err(ApiError::field("current_password", ErrorCode::CredentialsInvalid));
    }
    if let Err(rule) = state.passwords.check(&body.new_password, &body.new_password) {
        return Err(ApiError::Fields(vec![FieldError::with_detail("new_password", ErrorCode::PasswordTooWeak, rule.to_string())]));
    }
    let hash = hash_off_thread(&body.new_password).await?;
    let mut tx = state.store.write().await?;
    tx.set_password(&caller.account.nik, &hash).await?;
    tx.revoke_other_sessions(&caller.account.nik, &caller.family_id, Utc::now()).await?;
    tx.void_tokens(&caller.account.nik, TokenPurpose::Reset, Utc::now()).await?;
    tx.commit().await?;
    state.sessions.forget_person(&caller.account.nik);
    Ok(())
}

/// Ends every session of the caller's account, on every device ("keluar dari semua perangkat").
pub async fn logout_all(state: &AppState, caller: &SignedIn) -> Result<(), ApiError> {
    let mut tx = state.store.write().await?;
    tx.revoke_all_sessions_of(&caller.account.nik, Utc::now()).await?;
    tx.commit().await?;
    state.sessions.forget_person(&caller.account.nik);
    Ok(())
}
