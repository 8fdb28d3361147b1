//! Deletion requests (docs/rules.md, "Deleting"; it replaces the guide's HAI CSO ticket): a satker operator
//! asks the KPPN to delete a membership in status 0 or 5, with the request letter and a
//! reason; the KPPN sees it in its Antrean and deletes the membership (the existing
//! deletion, which closes the request) or declines it with a reason the satker sees.
//!
//! Every write runs as the registry's do: under the person's lock, the caller and the
//! scope read again inside the transaction, the idempotency key checked before and after
//! the lock; one open request per membership (checked under the lock, and by a partial
//! unique index for any other writer). Each step is in the membership's history and the
//! audit trail, and the request travels in the change feed (`deletion_request`).

use chrono::{DateTime, Utc};
use myintress_core::api::{ChangeKind, DeletionRequest, DeletionRequestState, Role};
use myintress_core::error::ErrorCode;
use myintress_core::registration::DeletionRequestForm;
use myintress_core::status::{Event, TransitionError, may_request_deletion};
use myintress_core::text::Reason;
use uuid::Uuid;

use crate::error::ApiError;
use crate::registry::{
    Caller, Changeset, CheckedPdf, Opened, RequestCtx, Written, membership_in_scope, open_person_write, store_document,
    to_api as membership_to_api,
};
use crate::state::AppState;
use crate::store::{DeletionRequestRow, DocumentKind, MembershipRow, NewChange, ReadConn, WriteConn};

pub fn to_api(row: &DeletionRequestRow) -> DeletionRequest {
    DeletionRequest {
        id: row.id,
        membership_id: row.membership_id,
        satker_code: row.satker_code.clone(),
        nik: row.nik.clone(),
        name: row.name.clone(),
        reason: row.reason.clone(),
        letter_number: row.letter_number.clone(),
        letter_document_id: row.letter_document_id,
        requested_by: row.requested_by_name.clone(),
        requested_at: row.created_at,
        state: row.state,
        decided_at: row.decided_at,
        decided_by: row.decided_by.clone(),
        decline_reason: row.decline_reason.clone(),
        version: row.version,
    }
}

/// The change-feed entry of a request as it now is.
pub fn change(row: &DeletionRequestRow) -> NewChange {
    NewChange {
        kind: ChangeKind::DeletionRequest,
        entity_id: row.id.to_string(),
        satker_code: row.satker_code.clone(),
        addressed_to: None,
        entity: serde_json::to_value(to_api(row)).expect("deletion request serialises"),
    }
}

/// Whether `caller` may ask for the deletion of membership `id` as the store holds it now:
/// out of scope 404, not a satker operator 403, a status other than 0 or 5 409, an open
/// request already there 409 `deletion_request_exists`. Run before the letter is read
/// (no work before authorization), and again inside the write transaction.
pub async fn authorize_request(conn: &mut dyn ReadConn, caller: &Caller, id: Uuid) -> Result<MembershipRow, ApiError> {
    let (row, _) = membership_in_scope(conn, caller, id).await?;
    may_request_deletion(caller.actor(), row.status).map_err(|e| match e {
        TransitionError::InvalidTransition { .. } => ApiError::with_membership(e.code(), membership_to_api(&row)),
        _ => ApiError::Forbidden,
    })?;
    if conn.open_deletion_request(id).await?.is_some() {
        return Err(ApiError::code(ErrorCode::DeletionRequestExists));
    }
    Ok(row)
}

/// A satker operator asks for the deletion of membership `id` (the letter already checked).
pub async fn request(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    form: &DeletionRequestForm,
    letter: &CheckedPdf,
    ctx: &RequestCtx,
) -> Result<Written<DeletionRequest>, ApiError> {
    let now = Utc::now();
    let (mut tx, caller) = match open_person_write(state, caller, id, Some(ctx)).await? {
        Opened::Replayed(replay) => return Ok(Written::Replayed(replay)),
        Opened::Locked { tx, caller } => (tx, *caller),
    };
    let row = authorize_request(tx.as_mut(), &caller, id).await?;
    let satker = tx.satker(&row.satker_code).await?.ok_or(ApiError::NotFound)?;
    let letter_id = store_document(state, tx.as_mut(), letter, DocumentKind::Letter, &row.satker_code, now).await?;
    let request = DeletionRequestRow {
        id: Uuid::new_v4(),
        membership_id: row.id,
        satker_code: row.satker_code.clone(),
        nik: row.nik.clone(),
        name: row.name.clone(),
        reason: form.reason.as_str().to_owned(),
        letter_number: form.letter_number.as_str().to_owned(),
        letter_document_id: letter_id,
        requested_by_nik: caller.account.nik.clone(),
        requested_by_name: caller.account.name.clone(),
        created_at: now,
        state: DeletionRequestState::Open,
        decided_at: None,
        decided_by: None,
        decline_reason: None,
        version: 1,
    };
    tx.insert_deletion_request(&request)
        .await
        .map_err(|e| if e.is_unique_violation() { ApiError::code(ErrorCode::DeletionRequestExists) } else { e.into() })?;
    let mut changeset = Changeset::by(&caller, &satker, ctx, now);
    let detail = serde_json::json!({ "deletion_request_id": request.id, "letter_number": request.letter_number });
    changeset.record(tx.as_mut(), &row, Event::DeletionRequested, Some(row.status), Some(&request.reason), Some(letter_id), detail).await?;
    changeset.changes.push(change(&request));
    let answer = to_api(&request);
    let body = serde_json::to_string(&answer).map_err(anyhow::Error::from)?;
    changeset.finish(state, tx, 201, &body).await?;
    Ok(Written::Created(answer))
}

/// A KPPN verifier declines an open request in scope, with a reason the satker sees.
pub async fn decline(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    reason: &Reason,
    ctx: &RequestCtx,
) -> Result<Written<DeletionRequest>, ApiError> {
    if caller.role != Role::Kppn {
        return Err(ApiError::Forbidden);
    }
    let now = Utc::now();
    let membership_id = {
        let mut conn = state.store.read().await?;
        let request = conn.deletion_request(id).await?.ok_or(ApiError::NotFound)?;
        membership_in_scope(conn.as_mut(), caller, request.membership_id).await?;
        request.membership_id
    };
    let (mut tx, caller) = match open_person_write(state, caller, membership_id, Some(ctx)).await? {
        Opened::Replayed(replay) => return Ok(Written::Replayed(replay)),
        Opened::Locked { tx, caller } => (tx, *caller),
    };
    let (row, satker) = membership_in_scope(tx.as_mut(), &caller, membership_id).await?;
    let request = tx.deletion_request(id).await?.ok_or(ApiError::NotFound)?;
    if request.state != DeletionRequestState::Open {
        return Err(ApiError::code(ErrorCode::InvalidTransition));
    }
    let closed = closed(&request, DeletionRequestState::Declined, &caller.account.name, Some(reason.as_str()), now);
    if !tx.close_deletion_request(&closed).await? {
        return Err(ApiError::code(ErrorCode::InvalidTransition));
    }
    let mut changeset = Changeset::by(&caller, &satker, ctx, now);
    let detail = serde_json::json!({ "deletion_request_id": request.id });
    changeset.record(tx.as_mut(), &row, Event::DeletionDeclined, Some(row.status), Some(reason.as_str()), None, detail).await?;
    changeset.changes.push(change(&closed));
    let answer = to_api(&closed);
    let body = serde_json::to_string(&answer).map_err(anyhow::Error::from)?;
    changeset.finish(state, tx, 200, &body).await?;
    Ok(Written::Updated(answer))
}

/// The membership was deleted: its open request (if any) is done, in the same transaction;
/// returns the request's change for the feed.
pub async fn close_on_delete(
    tx: &mut dyn WriteConn,
    membership_id: Uuid,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Option<NewChange>, ApiError> {
    let Some(request) = tx.open_deletion_request(membership_id).await? else { return Ok(None) };
    let done = closed(&request, DeletionRequestState::Done, by, None, now);
    Ok(tx.close_deletion_request(&done).await?.then(|| change(&done)))
}

fn closed(
    request: &DeletionRequestRow,
    state: DeletionRequestState,
    by: &str,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> DeletionRequestRow {
    DeletionRequestRow {
        state,
        decided_at: Some(now),
        decided_by: Some(by.to_owned()),
        decline_reason: reason.map(str::to_owned),
        version: request.version + 1,
        ..request.clone()
    }
}
