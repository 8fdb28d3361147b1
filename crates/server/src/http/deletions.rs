//! Deletion requests: a satker operator asks (`POST /memberships/{id}/deletion-request`),
//! both sides list them in scope, a KPPN verifier declines one; deleting the membership
//! (`POST /memberships/{id}/delete`) closes it.

use std::sync::Arc;

use axum::extract::{Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use myintress_core::api::{DeletionRequest, DeletionRequestState, Page, Problem, ReasonBody, Role};
use myintress_core::error::{Coded, ErrorCode, FieldError};
use myintress_core::registration::{DeletionRequestInput, parse_reason};
use serde::Deserialize;
use uuid::Uuid;

use crate::error::ApiError;
use crate::http::problem::replayed;
use crate::http::registrations::idempotent_write;
use crate::http::{AppJson, body_bytes, parse_json, read_multipart};
use crate::registry::{Caller, CheckedPdf, Written};
use crate::state::AppState;

fn parse_id(text: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(text).map_err(|_| ApiError::NotFound)
}

fn answer(written: Written<DeletionRequest>) -> Response {
    match written {
        Written::Created(request) => (StatusCode::CREATED, AppJson(request)).into_response(),
        Written::Updated(request) => AppJson(request).into_response(),
        Written::Replayed(replay) => replayed(replay),
    }
}

/// The deletion request form, for the OpenAPI document.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct DeletionRequestFormSchema {
    reason: String,
    /// The number of the satker's request letter.
    letter_number: String,
    /// The request letter and form: one PDF, at most 5 MB.
    #[schema(value_type = String, format = Binary)]
    letter: Vec<u8>,
}

/// `POST /api/v1/memberships/{id}/deletion-request`
#[utoipa::path(post, path = "/api/v1/memberships/{id}/deletion-request", tag = "deletion requests", security(("bearer" = [])),
    request_body(content = DeletionRequestFormSchema, content_type = "multipart/form-data"),
    params(("id" = String, Path, description = "Membership id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Same key and request replay the first response")),
    responses((status = 201, description = "Asked: the KPPN sees it in its Antrean", body = DeletionRequest),
        (status = 403, description = "not a satker operator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "not found or out of scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "invalid_transition (only status 0 or 5), deletion_request_exists", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "not multipart/form-data", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "reason_required, letter_number_*, field_required, letter_*", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json")))]
pub async fn request(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let (parts, body) = body_bytes(request).await?;
    let caller = &caller;
    idempotent_write(&state, caller, parts, body, |state, parts, body, ctx| async move {
        // No work before authorization: scope, role, status and an open request are
        // checked before the letter is read and checked (again in the write transaction).
        crate::deletions::authorize_request(state.store.read().await?.as_mut(), caller, id).await?;
        let is_multipart =
            parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| ct.starts_with("multipart/form-data"));
        if !is_multipart {
            return Err(ApiError::UnsupportedMediaType);
        }
        let mut form =
            read_multipart(Request::from_parts(parts, axum::body::Body::from(body)), Some("letter"), &["reason", "letter_number"]).await?;
        let input = DeletionRequestInput {
            reason: form.fields.remove("reason").unwrap_or_default(),
            letter_number: form.fields.remove("letter_number").unwrap_or_default(),
        };
        let mut errors = Vec::new();
        let checked = input.validate().map_err(|e| errors.extend(e)).ok();
        if form.file.is_none() {
            errors.push(FieldError::new("letter", ErrorCode::FieldRequired));
        }
        let (Some(checked), Some(letter)) = (checked.filter(|_| errors.is_empty()), form.file) else {
            return Err(ApiError::Fields(errors));
        };
        let report = state
            .pdf
            .check(&letter)
            .await
            .map_err(crate::error::checker_fault)?
            .map_err(|e| ApiError::Fields(vec![e.for_field("letter")]))?;
        let letter = CheckedPdf::new(letter, report);
        Ok(answer(crate::deletions::request(&state, caller, id, &checked, &letter, &ctx).await?))
    })
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `open`, `declined` or `done`; every request when absent.
    status: Option<String>,
}

/// `GET /api/v1/deletion-requests`
#[utoipa::path(get, path = "/api/v1/deletion-requests", tag = "deletion requests", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, description = "Deletion requests in scope, oldest first", body = Page<DeletionRequest>),
        (status = 400, description = "status is not open, declined or done", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "administrators see no membership data", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<AppJson<Page<DeletionRequest>>, ApiError> {
    if caller.role == Role::Admin {
        return Err(ApiError::Forbidden);
    }
    let Query(query) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let wanted = match query.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => {
            Some(DeletionRequestState::parse(text).ok_or_else(|| ApiError::BadRequest("status harus open, declined atau done".into()))?)
        }
    };
    let rows = state.store.read().await?.deletion_requests(Some(&caller.filter), wanted).await?;
    Ok(AppJson(Page { items: rows.iter().map(crate::deletions::to_api).collect(), next_cursor: None }))
}

/// `POST /api/v1/deletion-requests/{id}/decline`
#[utoipa::path(post, path = "/api/v1/deletion-requests/{id}/decline", tag = "deletion requests", security(("bearer" = [])),
    request_body = ReasonBody,
    params(("id" = String, Path, description = "Deletion request id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Same key and body replay the first response")),
    responses((status = 200, description = "Declined; the satker sees the reason", body = DeletionRequest),
        (status = 403, description = "not a KPPN verifier", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "not found or out of scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "invalid_transition (no longer open)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "reason_required", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json")))]
pub async fn decline(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    if caller.role != Role::Kppn {
        return Err(ApiError::Forbidden);
    }
    let (parts, body) = body_bytes(request).await?;
    let caller = &caller;
    idempotent_write(&state, caller, parts, body, |state, parts, body, ctx| async move {
        let body: ReasonBody = parse_json(&parts.headers, &body)?;
        let reason = parse_reason(&body.reason).map_err(|e| ApiError::Fields(vec![e.for_field("reason")]))?;
        Ok(answer(crate::deletions::decline(&state, caller, id, &reason, &ctx).await?))
    })
    .await
}
