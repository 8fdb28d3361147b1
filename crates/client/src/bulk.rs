//! Bulk decisions in the Antrean: approve or reject several requests at once, but only
//! those whose letter the verifier opened in this app (docs/rules.md, "Deciding many at once": no decision made blind). Each
//! request is checked with the core's rules and queued on its own — one outbox entry per
//! request, all with one batch id, in one transaction — so one refusal does not stop the
//! others. The push sends a batch's entries together to `/memberships/bulk` and applies
//! each item's answer on its own (see `sync`).

use std::collections::HashSet;

use chrono::Utc;
use myintress_core::api::{BULK_MAX_ITEMS, BulkAction, Problem};
use myintress_core::error::{Coded, ErrorCode};
use myintress_core::registration::parse_reason;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::outbox::{self, Action, OutboxState};
use crate::{Client, ClientError, ClientResult, store};

/// One request of a bulk decision as it was queued: refused here (with the reason) or queued.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct BulkQueuedItem {
    pub id: Uuid,
    pub name: String,
    /// Why this request was not queued (its letter not opened, already decided, …).
    pub refused: Option<Refusal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Refusal {
    pub code: ErrorCode,
    pub detail: String,
}

impl From<&ClientError> for Refusal {
    fn from(e: &ClientError) -> Self {
        Refusal { code: e.code(), detail: e.message() }
    }
}

/// A bulk decision as queued: its batch id and every request's outcome here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct BulkQueued {
    pub batch_id: Uuid,
    pub items: Vec<BulkQueuedItem>,
}

/// Where a request of a bulk decision is now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum BatchItemState {
    /// Queued, waiting for the server.
    Waiting,
    /// The server applied it.
    Done,
    /// The server refused it (another verifier decided first, …): to redo or dismiss in
    /// Sinkronisasi.
    Refused { key: String, detail: String },
}

impl Client {
    /// Remembers that the letter of membership `id` (the one it has now) was opened in this
    /// app, so the request may join a bulk decision.
    pub async fn letter_seen(&self, id: Uuid) -> ClientResult<()> {
        let mut conn = self.pool().acquire().await?;
        let Some((view, _)) = store::view(&mut conn, id).await? else { return Err(ClientError::refused(ErrorCode::NotFound)) };
        sqlx::query("INSERT OR IGNORE INTO letters_seen (membership_id, document_id, seen_at) VALUES ($1, $2, $3)")
            .bind(id.to_string())
            .bind(view.letter_document_id.to_string())
            .bind(Utc::now().to_rfc3339())
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    /// Approves or rejects (`reason` for all) the requests `ids`: each one is checked on
    /// its own (letter opened here, the rules of its status) and queued with the others
    /// under one batch id; the answer says, per request, whether it was queued or why not.
    pub async fn bulk(&self, ids: &[Uuid], action: BulkAction, reason: Option<String>) -> ClientResult<BulkQueued> {
        if ids.is_empty() {
            return Err(ClientError::Fields(vec![myintress_core::error::FieldError::new("items", ErrorCode::FieldRequired)]));
        }
        if ids.len() > BULK_MAX_ITEMS {
            return Err(ClientError::refused(ErrorCode::BulkTooLarge));
        }
        let action = match action {
            BulkAction::Approve => Action::Approve,
            BulkAction::Reject => {
                let reason = reason.unwrap_or_default();
                parse_reason(&reason).map_err(|e| ClientError::Fields(vec![e.for_field("reason")]))?;
                Action::Reject { reason }
            }
        };
        let account = self.require_account().await?;
        let acting = account.acting()?;
        let batch_id = Uuid::new_v4();
        let mut items = Vec::with_capacity(ids.len());
        let mut once = HashSet::new();
        let mut tx = self.actions().begin().await?;
        let seen = letters_seen(&mut tx).await?;
        for &id in ids.iter().filter(|id| once.insert(**id)) {
            let Some(base) = store::action_base(&mut tx, id).await? else {
                items.push(BulkQueuedItem { id, name: String::new(), refused: Some((&ClientError::refused(ErrorCode::NotFound)).into()) });
                continue;
            };
            let refused = if !seen.contains(&(id, base.view.letter_document_id)) {
                Some(ClientError::refused(ErrorCode::LetterNotSeen))
            } else {
                match Self::check_allowed(&account, &base.view, &action) {
                    Ok(()) => {
                        outbox::push(&mut tx, id, &action, base.version, Some(batch_id)).await?;
                        store::rebuild_view_from(&mut tx, id, base.server, &acting).await?;
                        None
                    }
                    Err(e @ ClientError::Refused(..)) => Some(e),
                    Err(e) => return Err(e),
                }
            };
            items.push(BulkQueuedItem { id, name: base.view.name, refused: refused.as_ref().map(Refusal::from) });
        }
        tx.commit().await?;
        self.publish_counts().await?;
        self.wake();
        Ok(BulkQueued { batch_id, items })
    }

    /// Where each request of bulk decision `batch` is now (`ids`: the requests it queued).
    pub async fn batch(&self, batch: Uuid, ids: &[Uuid]) -> ClientResult<Vec<(Uuid, BatchItemState)>> {
        let entries = outbox::batch(&mut *self.pool().acquire().await?, batch).await?;
        Ok(ids
            .iter()
            .map(|id| {
                let state = match entries.iter().find(|(m, ..)| m == id) {
                    None => BatchItemState::Done,
                    Some((_, _, OutboxState::Pending, _)) => BatchItemState::Waiting,
                    Some((_, key, OutboxState::Conflict, answer)) => BatchItemState::Refused {
                        key: key.clone(),
                        detail: answer.as_ref().map(|p: &Problem| p.detail.clone()).unwrap_or_default(),
                    },
                };
                (*id, state)
            })
            .collect())
    }
}

/// (membership, letter) pairs whose letter was opened in this app.
async fn letters_seen(conn: &mut sqlx::SqliteConnection) -> sqlx::Result<HashSet<(Uuid, Uuid)>> {
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT membership_id, document_id FROM letters_seen").fetch_all(conn).await?;
    Ok(rows.into_iter().filter_map(|(m, d)| Some((Uuid::parse_str(&m).ok()?, Uuid::parse_str(&d).ok()?))).collect())
}
