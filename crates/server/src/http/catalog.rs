//! Reference lookups: the satkers an account may act for, and DIGIT accounts by NIK.

use std::sync::Arc;

use axum::extract::{Path, State};
use myintress_core::api::{DigitAccount, Page, Problem, Satker};
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

/// `GET /api/v1/digit/{nik}`: the DIGIT account of a person ("Cari" on the form).
#[utoipa::path(get, path = "/api/v1/digit/{nik}", tag = "reference", security(("bearer" = [])),
    params(("nik" = String, Path, description = "16-digit NIK")),
    responses((status = 200, description = "The person has a DIGIT account", body = DigitAccount),
        (status = 404, description = "digit_account_not_found", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "nik_invalid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json")))]
pub async fn digit(
    State(state): State<Arc<AppState>>,
    _caller: Caller,
    Path(nik): Path<String>,
) -> Result<AppJson<DigitAccount>, ApiError> {
    let nik = Nik::parse(&nik).map_err(|e| field_error("nik", e))?;
    let mut conn = state.store.read().await?;
    match conn.account(nik.as_str()).await? {
        Some(a) if a.role == myintress_core::api::Role::Satker => {
            Ok(AppJson(DigitAccount { nik: a.nik, name: a.name, nip: a.nip, email: a.email }))
        }
        _ => Err(ApiError::code(ErrorCode::DigitAccountNotFound)),
    }
}
