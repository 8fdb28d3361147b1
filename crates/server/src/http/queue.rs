//! The verifier's Antrean: pending registrations and open deletion requests in scope, oldest first, each with its age in
//! working days and its overdue / escalated flags (computed now, by the same rule as the
//! flags the background round sends to the desktops).

use std::sync::Arc;

use axum::extract::State;
use myintress_core::api::{DeletionRequestState, Page, Problem, QueueItem, QueueItemKind, Role};

use crate::error::ApiError;
use crate::http::AppJson;
use crate::registry::{Caller, to_api};
use crate::state::AppState;

/// `GET /api/v1/queue`
#[utoipa::path(get, path = "/api/v1/queue", tag = "memberships", security(("bearer" = [])),
    responses((status = 200, description = "Pending registrations and open deletion requests in scope, oldest first, with working days pending and the overdue / escalated flags", body = Page<QueueItem>),
        (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "only KPPN verifiers have an Antrean", body = Problem, content_type = "application/problem+json")))]
pub async fn queue(State(state): State<Arc<AppState>>, caller: Caller) -> Result<AppJson<Page<QueueItem>>, ApiError> {
    if caller.role != Role::Kppn {
        return Err(ApiError::Forbidden);
    }
    let deadlines = crate::queue::deadlines(&state);
    let now = chrono::Utc::now();
    let mut conn = state.store.read().await?;
    let holidays = conn.holidays().await?;
    let pending = conn.pending_registrations(Some(&caller.filter)).await?;
    let mut items: Vec<QueueItem> = pending
        .iter()
        .map(|row| QueueItem {
            kind: QueueItemKind::Registration,
            membership: to_api(row),
            deletion_request: None,
            flags: crate::queue::flags_of(deadlines, row, now, &holidays),
        })
        .collect();
    for request in conn.deletion_requests(Some(&caller.filter), Some(DeletionRequestState::Open)).await? {
        let Some(row) = conn.membership(request.membership_id).await? else { continue };
        items.push(QueueItem {
            kind: QueueItemKind::DeletionRequest,
            membership: to_api(&row),
            flags: deadlines.flags(request.created_at, now, &holidays),
            deletion_request: Some(crate::deletions::to_api(&request)),
        });
    }
    // Oldest first, whatever the kind: a registration by when it came, a deletion by when
    // it was asked for.
    items.sort_by_key(|i| i.deletion_request.as_ref().map_or(i.membership.created_at, |d| d.requested_at));
    Ok(AppJson(Page { items, next_cursor: None }))
}
