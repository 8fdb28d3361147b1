//! *Daftar Pengguna* and the actions on one membership.

use std::sync::Arc;

use axum::extract::{Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use myintress_core::api::{
    BULK_MAX_ITEMS, BulkAction, BulkAnswer, BulkRequest, BulkResult, ContactCorrection, HistoryEntry, Membership, MembershipDetail, Page,
    Problem, ReasonBody, Role,
};
use myintress_core::error::{Coded, ErrorCode, FieldError};
use myintress_core::registration::{DeletionInput, parse_reason};
use myintress_core::status::{Action, Status};
use serde::Deserialize;
use uuid::Uuid;

use crate::error::ApiError;
use crate::http::problem::replayed;
use crate::http::registrations::idempotent_write;
use crate::http::{AppJson, body_bytes, idempotency, if_match, parse_json, read_multipart, request_id};
use crate::registry::{self, ActionInput, Caller, CheckedPdf, RequestCtx, Written, membership_in_scope, to_api};
use crate::state::AppState;
use crate::store::ListFilter;

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 500;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this satker.
    satker_code: Option<String>,
    /// Only this status (`0|1|2|3|5`).
    status: Option<String>,
    /// Search in name and NIK.
    q: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Rows per page, 1–500 (default 100).
    limit: Option<String>,
}

fn encode_cursor(name: &str, nik: &str, seq: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::json!([name, nik, seq]).to_string())
}

fn decode_cursor(text: &str) -> Result<(String, String, i64), ApiError> {
    let bad = || ApiError::BadRequest("cursor tidak valid".into());
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
    serde_json::from_slice::<(String, String, i64)>(&bytes).map_err(|_| bad())
}

/// `GET /api/v1/memberships`: the visible rows of *Daftar Pengguna* in scope.
#[utoipa::path(get, path = "/api/v1/memberships", tag = "memberships", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, description = "One page of rows, ordered by name", body = Page<Membership>),
        (status = 400, description = "a query parameter is malformed", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<AppJson<Page<Membership>>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let status = match query.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => {
            let code: u8 = text.parse().map_err(|_| ApiError::BadRequest("status harus 0, 1, 2, 3 atau 5".into()))?;
            Some(Status::from_code(code).ok_or_else(|| ApiError::BadRequest("status harus 0, 1, 2, 3 atau 5".into()))?.code() as i64)
        }
    };
    let limit = match query.limit.as_deref() {
        None => DEFAULT_LIMIT,
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| ApiError::BadRequest(format!("limit harus 1–{MAX_LIMIT}")))?,
    };
    let filter = ListFilter {
        satker_code: query.satker_code.filter(|s| !s.trim().is_empty()),
        status,
        query: query.q.map(|q| q.trim().to_lowercase()).filter(|q| !q.is_empty()),
        after: query.cursor.as_deref().map(decode_cursor).transpose()?,
        limit: limit + 1,
    };
    let mut conn = state.store.read().await?;
    let mut rows = conn.list_memberships(&caller.filter, &filter).await?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| encode_cursor(&r.name, &r.nik, r.registered_seq))
    } else {
        None
    };
    Ok(AppJson(Page { items: rows.iter().map(to_api).collect(), next_cursor }))
}

fn parse_id(text: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(text).map_err(|_| ApiError::NotFound)
}

/// `GET /api/v1/memberships/{id}`: one membership with its history.
#[utoipa::path(get, path = "/api/v1/memberships/{id}", tag = "memberships", security(("bearer" = [])),
    params(("id" = String, Path, description = "Membership id (UUID)")),
    responses((status = 200, description = "The membership and its history", body = MembershipDetail),
        (status = 404, description = "not found or out of scope", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json")))]
pub async fn detail(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<AppJson<MembershipDetail>, ApiError> {
    let id = parse_id(&id)?;
    let mut conn = state.store.read().await?;
    let (row, _) = membership_in_scope(conn.as_mut(), &caller, id).await?;
    let history = conn
        .history(id)
        .await?
        .into_iter()
        .map(|h| HistoryEntry {
            at: h.at,
            event: h.event,
            from_status: h.from_status,
            to_status: h.to_status,
            actor_name: h.actor_name,
            reason: h.reason,
            letter_number: h.letter_number,
            document_id: h.document_id,
        })
        .collect();
    Ok(AppJson(MembershipDetail { membership: to_api(&row), history }))
}

/// What differs between the action endpoints: how the body is read.
enum Body {
    None,
    Reason,
    Deletion,
}

async fn run(
    state: Arc<AppState>,
    caller: Caller,
    id: String,
    request: Request,
    action: Action,
    body_kind: Body,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let (parts, body) = body_bytes(request).await?;
    let caller = &caller;
    idempotent_write(&state, caller, parts, body, |state, parts, body, ctx| async move {
        let if_match = if_match(&parts.headers)?;
        let mut input = ActionInput { action, if_match, reason: None, deletion: None, batch: None };
        match body_kind {
            Body::None => {}
            Body::Reason => {
                let body: ReasonBody = parse_json(&parts.headers, &body)?;
                input.reason = Some(parse_reason(&body.reason).map_err(|e| ApiError::Fields(vec![e.for_field("reason")]))?);
            }
            Body::Deletion => {
                // No work before authorization: scope, role, status and version are checked
                // before the decree is read and checked (again in the write transaction).
                let mut conn = state.store.read().await?;
                registry::authorize(conn.as_mut(), caller, id, action, if_match).await?;
                drop(conn);
                let is_multipart = parts
                    .headers
                    .get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|ct| ct.starts_with("multipart/form-data"));
                if !is_multipart {
                    return Err(ApiError::UnsupportedMediaType);
                }
                let request = Request::from_parts(parts, axum::body::Body::from(body));
                input.deletion = Some(read_deletion(&state, request).await?);
            }
        }
        Ok(match registry::act(&state, caller, id, input, &ctx).await? {
            Written::Created(membership) | Written::Updated(membership) => AppJson(membership).into_response(),
            Written::Replayed(replay) => replayed(replay),
        })
    })
    .await
}

/// Reads the deletion form: `reason`, `decree_number` and one `decree` PDF.
async fn read_deletion(state: &AppState, request: Request) -> Result<(myintress_core::registration::DeletionForm, CheckedPdf), ApiError> {
    let mut parts = read_multipart(request, Some("decree"), &["reason", "decree_number"]).await?;
    let input = DeletionInput {
        reason: parts.fields.remove("reason").unwrap_or_default(),
        decree_number: parts.fields.remove("decree_number").unwrap_or_default(),
    };
    let decree = parts.file;
    let mut errors = Vec::new();
    let form = input.validate().map_err(|e| errors.extend(e)).ok();
    if decree.is_none() {
        errors.push(FieldError::new("decree", ErrorCode::FieldRequired));
    }
    let (Some(form), Some(decree)) = (form, decree) else { return Err(ApiError::Fields(errors)) };
    let report =
        state.check_pdf(&decree).await.map_err(crate::error::checker_fault)?.map_err(|e| ApiError::Fields(vec![e.for_field("decree")]))?;
    Ok((form, CheckedPdf::new(decree, report)))
}

/// The deletion form, for the OpenAPI document.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct DeletionFormSchema {
    reason: String,
    /// Nomor SK.
    decree_number: String,
    /// The SK: one PDF, at most 5 MB.
    #[schema(value_type = String, format = Binary)]
    decree: Vec<u8>,
}

#[utoipa::path(post, path = "/api/v1/memberships/{id}/approve", tag = "memberships", security(("bearer" = [])),
    params(("id" = String, Path, description = "Membership id"),
        ("If-Match" = Option<String>, Header, description = "The version the decision is based on"),
        ("Idempotency-Key" = Option<String>, Header, description = "Same key and body replay the first response")),
    responses((status = 200, description = "1 → 2", body = Membership),
        (status = 403, description = "not a KPPN verifier", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "not found or out of scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "invalid_transition, version_conflict, request_superseded (body has the membership)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json")))]
pub async fn approve(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    run(state, caller, id, request, Action::Approve, Body::None).await
}

#[utoipa::path(post, path = "/api/v1/memberships/{id}/reject", tag = "memberships", security(("bearer" = [])),
    request_body = ReasonBody,
    params(("id" = String, Path, description = "Membership id"),
        ("If-Match" = Option<String>, Header, description = "The version the decision is based on"),
        ("Idempotency-Key" = Option<String>, Header, description = "Same key and body replay the first response")),
    responses((status = 200, description = "1 → 5 with the reason", body = Membership),
        (status = 403, description = "not a KPPN verifier", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "not found or out of scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "invalid_transition, version_conflict, request_superseded", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "reason_required", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json")))]
pub async fn reject(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    run(state, caller, id, request, Action::Reject, Body::Reason).await
}

#[utoipa::path(post, path = "/api/v1/memberships/{id}/deactivate", tag = "memberships", security(("bearer" = [])),
    request_body = ReasonBody,
    params(("id" = String, Path, description = "Membership id"),
        ("If-Match" = Option<String>, Header, description = "The version the action is based on"),
        ("Idempotency-Key" = Option<String>, Header, description = "Same key and body replay the first response")),
    responses((status = 200, description = "2/3 → 0", body = Membership),
        (status = 403, description = "cannot_deactivate_self or wrong role", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "not found or out of scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "invalid_transition, version_conflict, request_superseded", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "reason_required", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json")))]
pub async fn deactivate(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    run(state, caller, id, request, Action::Deactivate, Body::Reason).await
}

#[utoipa::path(post, path = "/api/v1/memberships/{id}/reactivate", tag = "memberships", security(("bearer" = [])),
    params(("id" = String, Path, description = "Membership id"),
        ("If-Match" = Option<String>, Header, description = "The version the action is based on"),
        ("Idempotency-Key" = Option<String>, Header, description = "Same key and body replay the first response")),
    responses((status = 200, description = "3 → 2", body = Membership),
        (status = 403, description = "not a KPPN verifier", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "not found or out of scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "invalid_transition, version_conflict", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json")))]
pub async fn reactivate(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    run(state, caller, id, request, Action::Reactivate, Body::None).await
}

#[utoipa::path(post, path = "/api/v1/memberships/{id}/delete", tag = "memberships", security(("bearer" = [])),
    request_body(content = DeletionFormSchema, content_type = "multipart/form-data"),
    params(("id" = String, Path, description = "Membership id"),
        ("If-Match" = Option<String>, Header, description = "The version the action is based on"),
        ("Idempotency-Key" = Option<String>, Header, description = "Same key and body replay the first response")),
    responses((status = 200, description = "Deleted (only from 0 or 5); the body is the membership as it was removed", body = Membership),
        (status = 403, description = "not a KPPN verifier", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "not found or out of scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "invalid_transition, version_conflict", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "not multipart/form-data", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "reason_required, field_required, letter_*", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json")))]
pub async fn delete(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    run(state, caller, id, request, Action::Delete, Body::Deletion).await
}

/// `POST /api/v1/memberships/{id}/contact`: a KPPN verifier corrects a phone or e-mail.
#[utoipa::path(post, path = "/api/v1/memberships/{id}/contact", tag = "memberships", security(("bearer" = [])),
    request_body = ContactCorrection,
    params(("id" = String, Path, description = "Membership id"),
        ("If-Match" = Option<String>, Header, description = "The version the correction is based on"),
        ("Idempotency-Key" = Option<String>, Header, description = "Same key and body replay the first response")),
    responses((status = 200, description = "Corrected (audited, in the change feed). A new e-mail on an account without a password gets a new activation link (older ones void); on one with a password, both addresses get a notice", body = Membership),
        (status = 403, description = "not a KPPN verifier", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "not found or out of scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "version_conflict (body has the membership)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "phone_invalid, email_invalid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json")))]
pub async fn contact(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let (parts, body) = body_bytes(request).await?;
    let caller = &caller;
    idempotent_write(&state, caller, parts, body, |state, parts, body, ctx| async move {
        let if_match = if_match(&parts.headers)?;
        let input: ContactCorrection = parse_json(&parts.headers, &body)?;
        Ok(match registry::correct_contact(&state, caller, id, if_match, &input, &ctx).await? {
            Written::Created(membership) | Written::Updated(membership) => AppJson(membership).into_response(),
            Written::Replayed(replay) => replayed(replay),
        })
    })
    .await
}

/// `POST /api/v1/memberships/{id}/resend-activation`: a new activation link for a person
/// who has not set a password yet.
#[utoipa::path(post, path = "/api/v1/memberships/{id}/resend-activation", tag = "memberships", security(("bearer" = [])),
    params(("id" = String, Path, description = "Membership id")),
    responses((status = 202, description = "A new single-use link goes to the account's e-mail; older links stop working"),
        (status = 403, description = "not a KPPN verifier", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "not found or out of scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "already_activated", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json")))]
pub async fn resend_activation(State(state): State<Arc<AppState>>, caller: Caller, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    registry::resend_activation(&state, &caller, parse_id(&id)?).await?;
    Ok(StatusCode::ACCEPTED)
}

/// `POST /api/v1/memberships/bulk`: one decision for several requests, each applied on its
/// own (one may conflict while the others succeed), tied by a `batch_id` in the audit
/// trail. An `Idempotency-Key` covers the batch: a retry gets the first answer; a batch cut
/// short is safe to send again, as every item is guarded by its version.
#[utoipa::path(post, path = "/api/v1/memberships/bulk", tag = "memberships", security(("bearer" = [])),
    request_body = BulkRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Same key and body replay the first response")),
    responses((status = 200, description = "Each item's outcome", body = BulkAnswer),
        (status = 403, description = "not a KPPN verifier", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "field_required (action, items), reason_required, bulk_too_large, unknown_field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json")))]
pub async fn bulk(State(state): State<Arc<AppState>>, caller: Caller, request: Request) -> Result<Response, ApiError> {
    if caller.role != Role::Kppn {
        return Err(ApiError::Forbidden);
    }
    let (parts, body) = body_bytes(request).await?;
    let idem = idempotency(&parts.headers, &caller.account.nik, "POST", parts.uri.path(), &body).await?;
    if let Some(idem) = &idem
        && let Some(replay) = idem.replay(state.store.read().await?.as_mut()).await?
    {
        return Ok(replayed(replay));
    }
    let request: BulkRequest = parse_json(&parts.headers, &body)?;
    let Some(kind) = request.action else { return Err(ApiError::field("action", ErrorCode::FieldRequired)) };
    if request.items.is_empty() {
        return Err(ApiError::field("items", ErrorCode::FieldRequired));
    }
    if request.items.len() > BULK_MAX_ITEMS {
        return Err(ApiError::code(ErrorCode::BulkTooLarge));
    }
    let (action, reason) = match kind {
        BulkAction::Approve => (Action::Approve, None),
        BulkAction::Reject => {
            (Action::Reject, Some(parse_reason(&request.reason).map_err(|e| ApiError::Fields(vec![e.for_field("reason")]))?))
        }
    };
    let batch_id = uuid::Uuid::new_v4();
    let ctx = RequestCtx { request_id: request_id(&parts.headers), idempotency: None };
    let mut results = Vec::with_capacity(request.items.len());
    for item in &request.items {
        let input = ActionInput { action, if_match: Some(item.version), reason: reason.clone(), deletion: None, batch: Some(batch_id) };
        results.push(match registry::act(&state, &caller, item.id, input, &ctx).await {
            Ok(Written::Created(m) | Written::Updated(m)) => BulkResult { id: item.id, status: 200, membership: Some(m), problem: None },
            Ok(Written::Replayed(_)) => return Err(ApiError::Internal(anyhow::anyhow!("a bulk item replayed without a key"))),
            Err(e) => BulkResult { id: item.id, status: e.status().as_u16(), membership: None, problem: Some(e.problem()) },
        });
    }
    let answer = BulkAnswer { batch_id, results };
    if let Some(idem) = &idem {
        let body = serde_json::to_string(&answer).map_err(anyhow::Error::from)?;
        let saved = async {
            let mut tx = state.store.write().await?;
            idem.save(tx.as_mut(), 200, &body).await?;
            tx.commit().await
        };
        if let Err(e) = saved.await
            && !e.is_unique_violation()
        {
            tracing::warn!(error = %e, "bulk idempotency record not saved");
        }
    }
    Ok(AppJson(answer).into_response())
}
