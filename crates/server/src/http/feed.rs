//! Reading what the registry holds: the change feed, documents, the audit trail.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use myintress_core::api::{AuditEntry, ChangesPage, Page, Problem, RawChange, RawChangesPage, Role};
use myintress_core::nik::Nik;
use serde::Deserialize;
use uuid::Uuid;

use crate::error::ApiError;
use crate::http::AppJson;
use crate::registry::{Caller, field_error};
use crate::state::AppState;

const DEFAULT_CHANGES: i64 = 500;
const MAX_CHANGES: i64 = 2000;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangesQuery {
    /// The `last_seq` of the previous page; 0 (the default) for everything.
    after: Option<String>,
    /// Changes per page, 1–2000 (default 500).
    limit: Option<String>,
    /// `true`: the page also says how many changes in scope come after `after`
    /// (`remaining`), for a progress of "n dari m".
    count: Option<String>,
}

/// `GET /api/v1/changes`: everything in scope after `seq`, by the satkers' current KPPN.
/// When an account's scope changes (a satker operator becomes active in another satker, or
/// loses one), the client drops what left it and starts again from 0.
#[utoipa::path(get, path = "/api/v1/changes", tag = "sync", security(("bearer" = [])), params(ChangesQuery),
    responses((status = 200, description = "Changes in seq order", body = ChangesPage),
        (status = 400, description = "a query parameter is malformed", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json")))]
pub async fn changes(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    query: Result<Query<ChangesQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<AppJson<RawChangesPage>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let after = match query.after.as_deref() {
        None => 0,
        Some(t) => t.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| ApiError::BadRequest("after harus bilangan ≥ 0".into()))?,
    };
    let limit = match query.limit.as_deref() {
        None => DEFAULT_CHANGES,
        Some(t) => t
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=MAX_CHANGES).contains(n))
            .ok_or_else(|| ApiError::BadRequest(format!("limit harus 1–{MAX_CHANGES}")))?,
    };
    let count = match query.count.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(ApiError::BadRequest("count harus true atau false".into())),
    };
    let mut conn = state.store.read().await?;
    let remaining = if count { Some(conn.count_changes(&caller.filter, after).await?) } else { None };
    let mut rows = conn.changes(&caller.filter, after, limit + 1).await?;
    let has_more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let last_seq = rows.last().map(|r| r.seq).unwrap_or(after);
    let changes = rows
        .into_iter()
        .map(|r| {
            let kind = r.kind;
            // The entity was stored as JSON: it goes out as stored, checked but not
            // parsed into a tree and written again (most of a page's cost otherwise).
            let entity = serde_json::value::RawValue::from_string(r.entity).map_err(|e| ApiError::Internal(e.into()))?;
            Ok(RawChange { seq: r.seq, kind, entity })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(AppJson(RawChangesPage { changes, last_seq, has_more, remaining }))
}

/// `GET /api/v1/documents/{id}`: the PDF bytes, only for accounts in scope.
#[utoipa::path(get, path = "/api/v1/documents/{id}", tag = "documents", security(("bearer" = [])),
    params(("id" = String, Path, description = "Document id (UUID)")),
    responses((status = 200, description = "The PDF", content_type = "application/pdf", body = Vec<u8>),
        (status = 404, description = "not found or out of scope", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json")))]
pub async fn document(State(state): State<Arc<AppState>>, caller: Caller, Path(id): Path<String>) -> Result<Response, ApiError> {
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound)?;
    let mut conn = state.store.read().await?;
    let doc = conn.document(id).await?.ok_or(ApiError::NotFound)?;
    let satker = conn.satker(&doc.satker_code).await?.ok_or(ApiError::NotFound)?;
    if !caller.covers(&satker) {
        return Err(ApiError::NotFound);
    }
    drop(conn);
    let bytes = state.documents.get(&doc.sha256).await?;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
    let name = format!("inline; filename=\"{}-{}.pdf\"", doc.kind.as_str(), id);
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_str(&name).map_err(anyhow::Error::from)?);
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("content-security-policy", HeaderValue::from_static("default-src 'none'; sandbox"));
    Ok(response)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// The person's NIK.
    nik: Option<String>,
}

/// `GET /api/v1/audit?nik=`: the audit trail of a person within the verifier's KPPN.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", security(("bearer" = [])), params(AuditQuery),
    responses((status = 200, description = "Every recorded change, oldest first", body = Page<AuditEntry>),
        (status = 403, description = "only KPPN verifiers read the audit trail", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "nik_invalid or field_required", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json")))]
pub async fn audit(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<AppJson<Page<AuditEntry>>, ApiError> {
    if caller.role != Role::Kppn {
        return Err(ApiError::Forbidden);
    }
    let Query(query) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let text = query.nik.unwrap_or_default();
    let nik = Nik::parse(&text).map_err(|e| field_error("nik", e))?;
    let kppn = caller.account.kppn_code.clone().unwrap_or_default();
    let mut conn = state.store.read().await?;
    let rows = conn.audit_of_person(nik.as_str(), &kppn).await?;
    let items = rows
        .into_iter()
        .map(|a| AuditEntry {
            id: a.id,
            at: a.at,
            actor_nik: a.actor_nik,
            actor_name: a.actor_name,
            event: a.event,
            membership_id: a.membership_id,
            nik: a.nik,
            satker_code: a.satker_code,
            from_status: a.from_status,
            to_status: a.to_status,
            reason: a.reason,
            batch_id: serde_json::from_str::<serde_json::Value>(&a.detail)
                .ok()
                .and_then(|d| d["batch_id"].as_str().and_then(|b| uuid::Uuid::parse_str(b).ok())),
            request_id: a.request_id,
        })
        .collect();
    Ok(AppJson(Page { items, next_cursor: None }))
}
