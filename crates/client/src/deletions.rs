//! Deletion requests on the desktop, offline-first like every action: a satker operator
//! asks the KPPN to delete a user in status 0 or 5 (with the request letter), a KPPN
//! verifier declines a request (deleting the membership closes it on the server). Each
//! request is kept as memberships are: the server's last word and a view with this desk's
//! pending entries applied, so a pull never undoes what was done offline. Every statement
//! on the `deletion_requests` table is in this module, but the removal of a satker's
//! requests with the rest of its data when it leaves the scope (`store::forget_satkers`).

use chrono::{DateTime, Utc};
use myintress_core::api::{DeletionRequest, DeletionRequestState};
use myintress_core::error::{Coded, ErrorCode};
use myintress_core::pdf::PdfError;
use myintress_core::registration::{DeletionRequestInput, parse_reason};
use myintress_core::status::{Actor, may_request_deletion};
use serde::{Deserialize, Serialize};
use sqlx::{Row, SqliteConnection};
use uuid::Uuid;

use crate::outbox::{self, Acting, Action};
use crate::{CheckedPdf, Client, ClientError, ClientResult, store};

/// A deletion request as the screens show it: the view, and whether this desk's action on
/// it still waits for the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DeletionRequestRow {
    pub request: DeletionRequest,
    pub pending: i64,
}

/// Applies one pending action to a request's view; `None` in is "not known yet" (a request
/// made at this desk), `None` out "no such request".
fn overlay(
    view: Option<DeletionRequest>,
    action: &Action,
    id: Uuid,
    membership: Option<&myintress_core::api::Membership>,
    acting: &Acting,
    at: DateTime<Utc>,
) -> Option<DeletionRequest> {
    match action {
        Action::RequestDeletion { reason, letter_number, .. } => match (view, membership) {
            (Some(v), _) => Some(v),
            (None, Some(m)) => Some(DeletionRequest {
                id,
                membership_id: m.id,
                satker_code: m.satker_code.clone(),
                nik: m.nik.clone(),
                name: m.name.clone(),
                reason: reason.trim().to_owned(),
                letter_number: letter_number.trim().to_owned(),
                // The letter is on this computer only until the server has it.
                letter_document_id: Uuid::nil(),
                requested_by: acting.name.clone(),
                requested_at: at,
                state: DeletionRequestState::Open,
                decided_at: None,
                decided_by: None,
                decline_reason: None,
                version: 0,
            }),
            (None, None) => None,
        },
        Action::DeclineDeletion { reason, .. } => view.map(|mut v| {
            if v.state == DeletionRequestState::Open {
                v.state = DeletionRequestState::Declined;
                v.decided_at = Some(at);
                v.decided_by = Some(acting.name.clone());
                v.decline_reason = Some(reason.trim().to_owned());
            }
            v
        }),
        _ => view,
    }
}

/// Records the server's word on a request (never replacing a newer one) and rebuilds its view.
pub(crate) async fn apply_server(conn: &mut SqliteConnection, request: &DeletionRequest, acting: &Acting) -> sqlx::Result<()> {
    let json = serde_json::to_string(request).expect("deletion request serialises");
    sqlx::query(
        "INSERT INTO deletion_requests (id, membership_id, server_json, server_version, state, requested_at, view_json) \
         VALUES ($1, $2, $3, $4, $5, $6, $3) \
         ON CONFLICT (id) DO UPDATE SET server_json = excluded.server_json, server_version = excluded.server_version \
         WHERE deletion_requests.server_version IS NULL OR excluded.server_version >= deletion_requests.server_version",
    )
    .bind(request.id.to_string())
    .bind(request.membership_id.to_string())
    .bind(&json)
    .bind(request.version)
    .bind(request.state.as_str())
    .bind(request.requested_at.to_rfc3339())
    .execute(&mut *conn)
    .await?;
    rebuild(conn, request.id, request.membership_id, acting).await
}

/// Rebuilds the view of request `id` (on membership `membership_id`) from the server's
/// state and this desk's pending entries on it; a request neither has is removed.
pub(crate) async fn rebuild(conn: &mut SqliteConnection, id: Uuid, membership_id: Uuid, acting: &Acting) -> sqlx::Result<()> {
    let server: Option<String> = sqlx::query_scalar("SELECT server_json FROM deletion_requests WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?
        .flatten();
    let mut view: Option<DeletionRequest> = server.and_then(|j| serde_json::from_str(&j).ok());
    let pending = outbox::pending_for_request(conn, id).await?;
    if !pending.is_empty() {
        let membership = store::view(conn, membership_id).await?.map(|(m, _)| m);
        for entry in &pending {
            view = overlay(view, &entry.action, id, membership.as_ref(), acting, entry.created_at);
        }
    }
    match view {
        None => {
            sqlx::query("DELETE FROM deletion_requests WHERE id = $1").bind(id.to_string()).execute(conn).await?;
        }
        Some(v) => {
            sqlx::query(
                "INSERT INTO deletion_requests (id, membership_id, state, requested_at, pending, view_json) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (id) DO UPDATE SET state = excluded.state, requested_at = excluded.requested_at, \
                 pending = excluded.pending, view_json = excluded.view_json",
            )
            .bind(id.to_string())
            .bind(v.membership_id.to_string())
            .bind(v.state.as_str())
            .bind(v.requested_at.to_rfc3339())
            .bind(pending.len() as i64)
            .bind(serde_json::to_string(&v).expect("deletion request serialises"))
            .execute(conn)
            .await?;
        }
    }
    Ok(())
}

/// Every request's view, oldest first.
pub(crate) async fn all(conn: &mut SqliteConnection) -> sqlx::Result<Vec<DeletionRequestRow>> {
    let rows = sqlx::query("SELECT view_json, pending FROM deletion_requests ORDER BY requested_at, id").fetch_all(conn).await?;
    rows.into_iter().map(decode).collect()
}

/// The open requests whose membership this desk still shows, oldest first (the Antrean).
pub(crate) async fn open(conn: &mut SqliteConnection) -> sqlx::Result<Vec<DeletionRequestRow>> {
    let rows = sqlx::query(
        "SELECT r.view_json, r.pending FROM deletion_requests r JOIN memberships m ON m.id = r.membership_id \
         WHERE r.state = $1 ORDER BY r.requested_at, r.id",
    )
    .bind(DeletionRequestState::Open.as_str())
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(decode).collect()
}

/// The open request on a membership, if any.
async fn open_on(conn: &mut SqliteConnection, membership_id: Uuid) -> sqlx::Result<Option<DeletionRequest>> {
    let json: Option<String> = sqlx::query_scalar("SELECT view_json FROM deletion_requests WHERE membership_id = $1 AND state = $2")
        .bind(membership_id.to_string())
        .bind(DeletionRequestState::Open.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    json.map(|j| serde_json::from_str(&j).map_err(|e| sqlx::Error::Decode(Box::new(e)))).transpose()
}

async fn one(conn: &mut SqliteConnection, id: Uuid) -> sqlx::Result<Option<DeletionRequest>> {
    let json: Option<String> =
        sqlx::query_scalar("SELECT view_json FROM deletion_requests WHERE id = $1").bind(id.to_string()).fetch_optional(&mut *conn).await?;
    json.map(|j| serde_json::from_str(&j).map_err(|e| sqlx::Error::Decode(Box::new(e)))).transpose()
}

/// The refused action an "Ulangi" sends again leaves the outbox with the new one's
/// transaction; gone meanwhile (another click), nothing is queued twice.
async fn dismiss_replaced(conn: &mut SqliteConnection, replaces: Option<&str>) -> ClientResult<()> {
    if let Some(key) = replaces
        && !outbox::dismiss(conn, key).await?
    {
        return Err(ClientError::Refused(ErrorCode::NotFound, "Tindakan tidak ditemukan.".into()));
    }
    Ok(())
}

fn decode(r: sqlx::sqlite::SqliteRow) -> sqlx::Result<DeletionRequestRow> {
    let json: String = r.try_get("view_json")?;
    Ok(DeletionRequestRow {
        request: serde_json::from_str(&json).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        pending: r.try_get("pending")?,
    })
}

impl Client {
    /// A satker operator asks the KPPN to delete membership `id` (status 0 or 5) with the
    /// request letter (checked here; the app calls [`Client::request_deletion_checked`]).
    pub async fn request_deletion(&self, id: Uuid, input: DeletionRequestInput, letter: Vec<u8>) -> ClientResult<DeletionRequest> {
        self.request_deletion_with(id, input, CheckedPdf::check_here(letter), None).await
    }

    /// [`Client::request_deletion`] with a letter that already passed the check.
    pub async fn request_deletion_checked(
        &self,
        id: Uuid,
        input: DeletionRequestInput,
        letter: CheckedPdf,
    ) -> ClientResult<DeletionRequest> {
        self.request_deletion_with(id, input, Ok(letter), None).await
    }

    /// `replaces`: the refused request this one sends again ("Ulangi"); it leaves the
    /// outbox in the same transaction, and stays when this one is refused.
    pub(crate) async fn request_deletion_with(
        &self,
        id: Uuid,
        input: DeletionRequestInput,
        letter: Result<CheckedPdf, PdfError>,
        replaces: Option<&str>,
    ) -> ClientResult<DeletionRequest> {
        let account = self.require_account().await?;
        let acting = account.acting()?;
        let mut errors = Vec::new();
        let form = input.validate().map_err(|e| errors.extend(e)).ok();
        let letter = letter.map_err(|e| errors.push(e.for_field("letter"))).ok();
        let (Some(_), Some(letter)) = (form.filter(|_| errors.is_empty()), letter) else { return Err(ClientError::Fields(errors)) };
        let mut tx = self.actions().begin().await?;
        dismiss_replaced(&mut tx, replaces).await?;
        let (view, _) = store::view(&mut tx, id).await?.ok_or(ClientError::refused(ErrorCode::NotFound))?;
        may_request_deletion(acting.actor, view.status).map_err(|e| match acting.actor {
            Actor::SatkerOperator => ClientError::refused(e.code()),
            _ => ClientError::refused(ErrorCode::Forbidden),
        })?;
        if open_on(&mut tx, id).await?.is_some() {
            return Err(ClientError::refused(ErrorCode::DeletionRequestExists));
        }
        let sha = self.documents().save(letter.bytes()).await?;
        let request_id = Uuid::new_v4();
        let action = Action::RequestDeletion { request_id, reason: input.reason, letter_number: input.letter_number, letter_sha256: sha };
        outbox::push(&mut tx, id, &action, None, None).await?;
        store::rebuild_view(&mut tx, id, &acting).await?;
        rebuild(&mut tx, request_id, id, &acting).await?;
        let request = one(&mut tx, request_id).await?.ok_or_else(|| ClientError::corrupt("a queued deletion request has no view"))?;
        tx.commit().await?;
        self.publish_counts().await?;
        self.wake();
        Ok(request)
    }

    /// A KPPN verifier declines an open deletion request, with a reason the satker sees.
    pub async fn decline_deletion(&self, request_id: Uuid, reason: String) -> ClientResult<DeletionRequest> {
        self.decline_deletion_replacing(request_id, reason, None).await
    }

    pub(crate) async fn decline_deletion_replacing(
        &self,
        request_id: Uuid,
        reason: String,
        replaces: Option<&str>,
    ) -> ClientResult<DeletionRequest> {
        let account = self.require_account().await?;
        let acting = account.acting()?;
        if acting.actor != Actor::KppnVerifier {
            return Err(ClientError::refused(ErrorCode::Forbidden));
        }
        parse_reason(&reason).map_err(|e| ClientError::Fields(vec![e.for_field("reason")]))?;
        let mut tx = self.actions().begin().await?;
        dismiss_replaced(&mut tx, replaces).await?;
        let request = one(&mut tx, request_id).await?.ok_or(ClientError::refused(ErrorCode::NotFound))?;
        if request.state != DeletionRequestState::Open {
            return Err(ClientError::refused(ErrorCode::InvalidTransition));
        }
        let action = Action::DeclineDeletion { request_id, reason };
        outbox::push(&mut tx, request.membership_id, &action, None, None).await?;
        store::rebuild_view(&mut tx, request.membership_id, &acting).await?;
        rebuild(&mut tx, request_id, request.membership_id, &acting).await?;
        let request = one(&mut tx, request_id).await?.ok_or_else(|| ClientError::corrupt("a declined request has no view"))?;
        tx.commit().await?;
        self.publish_counts().await?;
        self.wake();
        Ok(request)
    }

    /// Every deletion request in scope as this desk knows it, oldest first.
    pub async fn deletion_requests(&self) -> ClientResult<Vec<DeletionRequestRow>> {
        Ok(all(&mut *self.pool().acquire().await?).await?)
    }
}
