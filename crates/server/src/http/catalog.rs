//! Reference lookups: the satkers an account may act for, and DIGIT accounts by NIK.

use std::sync::Arc;

use axum::extract::{Path, State};
use myintress_core::api::{DigitAccount, Page, Problem, Role, Satker, TrustAnswer};
use myintress_core::error::ErrorCode;
use myintress_core::nik::Nik;

use crate::error::ApiError;
use crate::http::AppJson;
use crate::registry::{Caller, field_error, satker_to_api};
use crate::state::AppState;

/// `GET /api/v1/satkers`: a KPPN verifier's mitra satkers, or the satkers where a satker
/// operator is active.
#[utoipa::path(get, path = "/api/v1/satkers", tag = "reference", security(("bearer" = [])),
    responses((status = 200, description = "Satkers in scope", body = Page<Satker>),
        (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json")))]
pub async fn satkers(State(state): State<Arc<AppState>>, caller: Caller) -> Result<AppJson<Page<Satker>>, ApiError> {
    let mut conn = state.store.read().await?;
    let rows = conn.satkers_in_scope(&caller.filter).await?;
    Ok(AppJson(Page { items: rows.iter().map(satker_to_api).collect(), next_cursor: None }))
}

/// `GET /api/v1/trust`: the certificates (PEM) signed letters are checked against, so a
/// desktop's own verdicts (before a registration is sent, offline) agree with the server's.
#[utoipa::path(get, path = "/api/v1/trust", tag = "reference", security(("bearer" = [])),
    responses((status = 200, description = "The trust list of `--trust-dir`, one PEM text per file", body = TrustAnswer),
        (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json")))]
pub async fn trust(State(state): State<Arc<AppState>>, _caller: Caller) -> AppJson<TrustAnswer> {
    AppJson(TrustAnswer { certificates: state.trust.pem.clone() })
}

/// `GET /api/v1/digit/{nik}`: the DIGIT account of a person ("Cari" on the form). A KPPN
/// verifier gets what the form fills in; a satker operator the name, with NIP and e-mail
/// masked. Rate-limited per account and recorded (`digit_lookups`).
#[utoipa::path(get, path = "/api/v1/digit/{nik}", tag = "reference", security(("bearer" = [])),
    params(("nik" = String, Path, description = "16-digit NIK")),
    responses((status = 200, description = "The person has a DIGIT account", body = DigitAccount),
        (status = 404, description = "digit_account_not_found", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "nik_invalid", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "rate_limited: too many lookups by this account", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json")))]
pub async fn digit(State(state): State<Arc<AppState>>, caller: Caller, Path(nik): Path<String>) -> Result<AppJson<DigitAccount>, ApiError> {
    let nik = Nik::parse(&nik).map_err(|e| field_error("nik", e))?;
    if !state.limits.allow_lookup(&caller.account.nik) {
        return Err(ApiError::RateLimited);
    }
    let account = digit_account(&state, &caller, &nik).await?;
    account.map(AppJson).ok_or(ApiError::code(ErrorCode::DigitAccountNotFound))
}

/// The DIGIT account of `nik` as `caller` may see it (masked for a satker operator),
/// recorded in `digit_lookups`. The caller has already passed the lookup limit.
pub async fn digit_account(state: &AppState, caller: &Caller, nik: &Nik) -> Result<Option<DigitAccount>, ApiError> {
    let mut tx = state.store.write().await?;
    let account = tx.account(nik.as_str()).await?.filter(|a| a.role == Role::Satker);
    tx.record_digit_lookup(&caller.account.nik, nik.as_str(), account.is_some(), chrono::Utc::now()).await?;
    tx.commit().await?;
    let Some(a) = account else { return Ok(None) };
    let masked = caller.role != Role::Kppn;
    Ok(Some(if masked {
        DigitAccount {
            nik: a.nik,
            name: a.name,
            nip: a.nip.as_deref().map(myintress_core::nik::mask_nik),
            email: mask_email(&a.email),
            masked,
        }
    } else {
        DigitAccount { nik: a.nik, name: a.name, nip: a.nip, email: a.email, masked }
    }))
}

/// `b•••@contoh.go.id`: the first letter and the domain.
fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => format!("{}•••@{domain}", local.chars().next().unwrap_or('•')),
        None => "•••".into(),
    }
}
