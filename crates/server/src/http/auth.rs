//! `/api/v1/auth/…` and `/api/v1/me`: the sign-in endpoints over [`crate::session`], and
//! the [`Caller`] extractor every signed-in endpoint takes.

use std::sync::Arc;

use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use myintress_core::api::{CaptchaChallenge, LoginRequest, Me, PasswordChange, PasswordResetRequest, Problem, RefreshRequest, TokenPair};

use crate::error::ApiError;
use crate::http::AppJson;
use crate::registry::Caller;
use crate::session::{self, Administrator, SignedIn};
use crate::state::AppState;

/// `GET /api/v1/auth/captcha`
#[utoipa::path(get, path = "/api/v1/auth/captcha", tag = "auth",
    responses((status = 200, description = "A new challenge", body = CaptchaChallenge)))]
pub async fn captcha(State(state): State<Arc<AppState>>) -> Result<AppJson<CaptchaChallenge>, ApiError> {
    Ok(AppJson(session::new_captcha(&state).await?))
}

/// `POST /api/v1/auth/login`
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenPair),
        (status = 401, description = "captcha_invalid, credentials_invalid, account_dormant, account_pending, account_rejected, account_inactive", body = Problem, content_type = "application/problem+json"),
        (status = 423, description = "account_locked", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "rate_limited", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn login(State(state): State<Arc<AppState>>, AppJson(body): AppJson<LoginRequest>) -> Result<AppJson<TokenPair>, ApiError> {
    Ok(AppJson(session::login(&state, &body).await?))
}

/// `POST /api/v1/auth/refresh`
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new pair; the old refresh token stops working", body = TokenPair),
        (status = 401, description = "unknown, expired, revoked or reused refresh token", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn refresh(State(state): State<Arc<AppState>>, AppJson(body): AppJson<RefreshRequest>) -> Result<AppJson<TokenPair>, ApiError> {
    Ok(AppJson(session::refresh(&state, &body).await?))
}

/// `POST /api/v1/auth/logout`
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "The session family is revoked"),
        (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json")))]
pub async fn logout(State(state): State<Arc<AppState>>, caller: SignedIn) -> Result<StatusCode, ApiError> {
    session::logout(&state, &caller).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/me`
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, description = "The signed-in account", body = Me),
        (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json")))]
pub async fn me(State(state): State<Arc<AppState>>, caller: SignedIn) -> Result<AppJson<Me>, ApiError> {
    Ok(AppJson(session::me(&state, &caller).await?))
}

/// `POST /api/v1/auth/password-reset`
#[utoipa::path(post, path = "/api/v1/auth/password-reset", tag = "auth", request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "Taken. Whether or not the NIK has an account, the answer is the same; when it has, a single-use link /reset/{token} goes to its e-mail"),
        (status = 401, description = "captcha_invalid", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "rate_limited", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn password_reset(
    State(state): State<Arc<AppState>>,
    AppJson(body): AppJson<PasswordResetRequest>,
) -> Result<StatusCode, ApiError> {
    session::request_password_reset(&state, &body).await?;
    Ok(StatusCode::ACCEPTED)
}

/// `POST /api/v1/auth/password`
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", security(("bearer" = [])), request_body = PasswordChange,
    responses(
        (status = 204, description = "Changed; the account's other sessions ended"),
        (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "credentials_invalid (current_password), password_too_weak (new_password)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn change_password(
    State(state): State<Arc<AppState>>,
    caller: SignedIn,
    AppJson(body): AppJson<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    session::change_password(&state, &caller, &body).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/auth/logout-all`
#[utoipa::path(post, path = "/api/v1/auth/logout-all", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "Every session of the account ended, on every device"),
        (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json")))]
pub async fn logout_all(State(state): State<Arc<AppState>>, caller: SignedIn) -> Result<StatusCode, ApiError> {
    session::logout_all(&state, &caller).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn bearer(parts: &Parts) -> Option<&str> {
    parts.headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|h| h.strip_prefix("Bearer "))
}

/// Any signed-in account: the account's own endpoints.
impl FromRequestParts<Arc<AppState>> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        session::authenticate(state, bearer(parts)).await
    }
}

/// A verifier or satker operator with its scope: every membership endpoint (`403` to an
/// administrator).
impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        session::authenticate_caller(state, bearer(parts)).await
    }
}

/// A central operator: every `/api/v1/admin/…` endpoint (`403` to anyone else).
impl FromRequestParts<Arc<AppState>> for Administrator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        session::authenticate_admin(state, bearer(parts)).await
    }
}
