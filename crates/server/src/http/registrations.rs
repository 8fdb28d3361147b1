//! `POST /api/v1/registrations`: *Tambah Pengguna*, through the KPPN (status 2) or by the
//! satker itself (status 1).
//!
//! Order of checks, cheapest first, nothing stored until all pass: the form fields, the
//! scope (unit kerja), the letter PDF (in a child process), the civil registry. Only then
//! one transaction re-checks the scope and the re-registration rule under the person's
//! lock, stores the letter, and writes the membership, its history, audit, change and,
//! when the person has no DIGIT account yet, the account and its activation e-mail (into
//! the mail outbox, sent by the mail job).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use myintress_core::api::{Membership, Problem, RegistrationCheck, RegistrationCheckRequest};
use myintress_core::error::{Coded, ErrorCode, FieldError};
use myintress_core::name_match::{NameScore, NameThreshold, check_name};
use myintress_core::registration::RegistrationInput;

use crate::dukcapil::DukcapilError;
use crate::error::ApiError;
use crate::http::problem::replayed;
use crate::http::{AppJson, body_bytes, idempotency, read_multipart, request_id};
use crate::idempotency::Idempotency;
use crate::registry::{self, Caller, CheckedPdf, RequestCtx, Written};
use crate::state::AppState;

/// The multipart form of a registration, for the OpenAPI document.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct RegistrationForm {
    /// 16-digit NIK.
    nik: String,
    name: String,
    nip: Option<String>,
    phone: String,
    email: String,
    satker_code: String,
    letter_number: String,
    /// HAI CSO ticket number (KPPN route only).
    ticket_number: Option<String>,
    /// The ST / SK / ND letter: one PDF, at most 5 MB.
    #[schema(value_type = String, format = Binary)]
    letter: Vec<u8>,
}

#[utoipa::path(post, path = "/api/v1/registrations", tag = "registrations", security(("bearer" = [])),
    request_body(content = RegistrationForm, content_type = "multipart/form-data"),
    params(("Idempotency-Key" = Option<String>, Header, description = "Same key and body replay the first response")),
    responses(
        (status = 201, description = "A new membership (2 through the KPPN, 1 by the satker)", body = Membership),
        (status = 200, description = "It replaced a pending request of the same person in the satker", body = Membership),
        (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "satker_out_of_scope, satker_has_no_active_user", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "already_active, dormant_exists", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "body over 5 MB plus form", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "not multipart/form-data", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "field errors, nik_not_found, name_mismatch, letter_*, idempotency_key_reused", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "dukcapil_unavailable: nothing was stored", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn register(State(state): State<Arc<AppState>>, caller: Caller, request: Request) -> Result<Response, ApiError> {
    let (parts, body) = body_bytes(request).await?;
    let is_multipart =
        parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| ct.starts_with("multipart/form-data"));
    if !is_multipart {
        return Err(ApiError::UnsupportedMediaType);
    }
    let caller = &caller;
    idempotent_write(&state, caller, parts, body, |state, parts, body, ctx| async move {
        let request = Request::from_parts(parts, axum::body::Body::from(body));
        let (form, letter) = check(&state, caller, request).await?;
        Ok(match registry::register(&state, caller, &form, &letter, &ctx).await? {
            Written::Created(registered) => (StatusCode::CREATED, AppJson(registered.membership)).into_response(),
            Written::Updated(registered) => (StatusCode::OK, AppJson(registered.membership)).into_response(),
            Written::Replayed(replay) => replayed(replay),
        })
    })
    .await
}

/// A write sent with an optional `Idempotency-Key`: a key seen before with the same request
/// answers the first answer again without any work; otherwise `write` runs with the
/// request's context, and a refusal it ends in is remembered under the key (so a retry
/// gets the same answer; faults of ours are not, so a retry tries again).
pub async fn idempotent_write<F, Fut>(
    state: &Arc<AppState>,
    caller: &Caller,
    parts: axum::http::request::Parts,
    body: axum::body::Bytes,
    write: F,
) -> Result<Response, ApiError>
where
    F: FnOnce(Arc<AppState>, axum::http::request::Parts, axum::body::Bytes, RequestCtx) -> Fut,
    Fut: std::future::Future<Output = Result<Response, ApiError>>,
{
    let idem = idempotency(&parts.headers, &caller.account.nik, "POST", parts.uri.path(), &body).await?;
    if let Some(idem) = &idem {
        let mut conn = state.store.read().await?;
        if let Some(replay) = idem.replay(conn.as_mut()).await? {
            return Ok(replayed(replay));
        }
    }
    let ctx = RequestCtx { request_id: request_id(&parts.headers), idempotency: idem.clone() };
    match write(state.clone(), parts, body, ctx).await {
        Ok(response) => Ok(response),
        Err(error) => {
            remember_refusal(state, idem.as_ref(), &error).await;
            Err(error)
        }
    }
}

/// Saves a refusal under the idempotency key so a retry gets the same answer; faults of
/// ours (5xx) are not saved, so a retry tries again.
pub async fn remember_refusal(state: &AppState, idem: Option<&Idempotency>, error: &ApiError) {
    let Some(idem) = idem else { return };
    let status = error.status();
    if status.is_server_error() || matches!(error, ApiError::IdempotencyKeyReused) {
        return;
    }
    let body = serde_json::to_string(&error.problem()).unwrap_or_default();
    let saved = async {
        let mut tx = state.store.write().await?;
        idem.save(tx.as_mut(), status.as_u16(), &body).await?;
        tx.commit().await
    };
    if let Err(e) = saved.await {
        // A concurrent request with the same key saved first: fine.
        if !e.is_unique_violation() {
            tracing::warn!(error = %e, "idempotency record not saved");
        }
    }
}

type Checked = (myintress_core::registration::RegistrationForm, CheckedPdf);

async fn check(state: &AppState, caller: &Caller, request: Request) -> Result<Checked, ApiError> {
    let (input, letter) = read_form(request).await?;

    // 1. The fields, all at once.
    let mut errors = Vec::new();
    let form = match input.validate(caller.scope.route()) {
        Ok(form) => Some(form),
        Err(e) => {
            errors = e;
            None
        }
    };
    if letter.is_none() {
        errors.push(FieldError::new("letter", ErrorCode::FieldRequired));
    }
    let (Some(form), Some(letter)) = (form, letter) else { return Err(ApiError::Fields(errors)) };
    if !errors.is_empty() {
        return Err(ApiError::Fields(errors));
    }

    // 2. Unit kerja: a satker that does not exist and one out of scope read the same.
    let mut conn = state.store.read().await?;
    registry::registration_satker(conn.as_mut(), caller, form.satker_code.as_str()).await?;
    drop(conn);

    // 3. The letter, in a child process with limits.
    let report =
        state.check_pdf(&letter).await.map_err(crate::error::checker_fault)?.map_err(|e| ApiError::Fields(vec![e.for_field("letter")]))?;

    // 4. The civil registry: the NIK exists and the name matches well enough.
    civil_registry(state, caller, &form.nik, form.name.as_str()).await?;

    Ok((form, CheckedPdf::new(letter, report)))
}

/// The civil registry's word on a NIK and a typed name: `nik_not_found` (on the `nik`
/// field), `dukcapil_unavailable`, or `name_mismatch` explained (its score and per-word
/// answers held back once the account has had its share this hour).
async fn civil_registry(state: &AppState, caller: &Caller, nik: &myintress_core::nik::Nik, name: &str) -> Result<NameScore, ApiError> {
    let resident = match state.dukcapil.lookup(nik.as_str()).await {
        Ok(Some(r)) => r,
        Ok(None) => return Err(ApiError::Fields(vec![FieldError::new("nik", ErrorCode::NikNotFound)])),
        Err(DukcapilError::Unavailable(why)) => {
            tracing::warn!(why, "Dukcapil unavailable");
            return Err(ApiError::code(ErrorCode::DukcapilUnavailable));
        }
    };
    let threshold = NameThreshold::new(state.settings.name_threshold).unwrap_or_default();
    let score = check_name(name, &resident.nama_lengkap, threshold);
    if !score.passes() {
        // The score helps a person fix a typo; given without limit it would let a script
        // climb towards the registry's spelling, so an account's later mismatches say
        // only that the name does not match.
        // The same holds for the explanation's per-word answers.
        let explanation = myintress_core::name_match::explain(name, &resident.nama_lengkap);
        let (shown, explanation) = if state.limits.allow_name_score(&caller.account.nik) {
            (Some((score.score, score.threshold)), explanation)
        } else {
            (None, explanation.without_words())
        };
        return Err(ApiError::Coded {
            code: ErrorCode::NameMismatch,
            detail: None,
            membership: None,
            score: shown,
            explanation: Some(Box::new(explanation)),
        });
    }
    Ok(score)
}

/// `POST /api/v1/registrations/check`: what a registration of this person would be told
/// about the NIK, the name and the unit, before a letter is chosen. Stores nothing but the
/// DIGIT lookup's record; limited per account with "Cari".
#[utoipa::path(post, path = "/api/v1/registrations/check", tag = "registrations", security(("bearer" = [])),
    request_body = RegistrationCheckRequest,
    responses(
        (status = 200, description = "The NIK exists and the name matches: the score, and the DIGIT account if any", body = RegistrationCheck),
        (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "satker_out_of_scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "nik_invalid and other field errors, nik_not_found, name_mismatch (with explanation), unknown_field", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "rate_limited: too many checks and lookups by this account", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "dukcapil_unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn check_registration(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    AppJson(request): AppJson<RegistrationCheckRequest>,
) -> Result<AppJson<RegistrationCheck>, ApiError> {
    if !state.limits.allow_lookup(&caller.account.nik) {
        return Err(ApiError::RateLimited);
    }
    let mut errors = Vec::new();
    let nik = myintress_core::nik::Nik::parse(&request.nik).map_err(|e| errors.push(e.for_field("nik"))).ok();
    let name = myintress_core::text::PersonName::parse(&request.name).map_err(|e| errors.push(e.for_field("name"))).ok();
    let (Some(nik), Some(name)) = (nik, name) else { return Err(ApiError::Fields(errors)) };
    let mut conn = state.store.read().await?;
    registry::registration_satker(conn.as_mut(), &caller, &request.satker_code).await?;
    drop(conn);
    let score = civil_registry(&state, &caller, &nik, name.as_str()).await?;
    let digit_account = super::catalog::digit_account(&state, &caller, &nik).await?;
    Ok(AppJson(RegistrationCheck { digit_account, score: score.score, threshold: score.threshold }))
}

/// Reads the multipart form: the text fields and exactly one `letter` file.
async fn read_form(request: Request) -> Result<(RegistrationInput, Option<Vec<u8>>), ApiError> {
    const FIELDS: [&str; 8] = ["nik", "name", "nip", "phone", "email", "satker_code", "letter_number", "ticket_number"];
    let mut parts = read_multipart(request, Some("letter"), &FIELDS).await?;
    let mut take = |k: &str| parts.fields.remove(k).unwrap_or_default();
    let input = RegistrationInput {
        nik: take("nik"),
        name: take("name"),
        nip: take("nip"),
        phone: take("phone"),
        email: take("email"),
        satker_code: take("satker_code"),
        letter_number: take("letter_number"),
        ticket_number: take("ticket_number"),
    };
    Ok((input, parts.file))
}
