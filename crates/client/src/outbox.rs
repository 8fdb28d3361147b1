//! The user's actions as outbox entries, and what each does to the local view before the
//! server has seen it (the overlay). The overlay uses the core's state machine, so the
//! optimistic view follows the same rules the server will apply. Every statement on the
//! `outbox` table is in this module.

use chrono::{DateTime, Utc};
use myintress_core::api::{Membership, Problem};
use myintress_core::registration::RegistrationInput;
use myintress_core::status::{self, Actor, Outcome, Route, Status};
use serde::{Deserialize, Serialize};
use sqlx::{Row, SqliteConnection};
use uuid::Uuid;

/// Where an outbox entry is: waiting to be sent, or refused by the server and waiting for
/// the person (dismiss or redo). Stored as its name; statements bind [`OutboxState::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    Pending,
    Conflict,
}

impl OutboxState {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Conflict => "conflict",
        }
    }

    /// The state stored as `text`; anything else is a corrupt row.
    pub fn decode(text: &str) -> Result<OutboxState, sqlx::Error> {
        [OutboxState::Pending, OutboxState::Conflict]
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| sqlx::Error::Decode(format!("outbox state {text}").into()))
    }
}

/// One action, as stored in the outbox (`payload`). `OutboxAction` in the bindings, beside
/// the core's [`status::Action`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename = "OutboxAction")]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    Register {
        input: RegistrationInput,
        letter_sha256: String,
    },
    Approve,
    Reject {
        reason: String,
    },
    Deactivate {
        reason: String,
    },
    Reactivate,
    Delete {
        reason: String,
        decree_number: String,
        decree_sha256: String,
    },
    /// A satker operator asks the KPPN to delete the membership (`request_id`: this desk's
    /// id for the request until the server gives its own).
    RequestDeletion {
        request_id: Uuid,
        reason: String,
        letter_number: String,
        letter_sha256: String,
    },
    /// A KPPN verifier declines a satker's deletion request.
    DeclineDeletion {
        request_id: Uuid,
        reason: String,
    },
}

impl Action {
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Register { .. } => "register",
            Action::Approve => "approve",
            Action::Reject { .. } => "reject",
            Action::Deactivate { .. } => "deactivate",
            Action::Reactivate => "reactivate",
            Action::Delete { .. } => "delete",
            Action::RequestDeletion { .. } => "request_deletion",
            Action::DeclineDeletion { .. } => "decline_deletion",
        }
    }

    /// The deletion request the action is about, if it is one of those.
    pub fn deletion_request(&self) -> Option<Uuid> {
        match self {
            Action::RequestDeletion { request_id, .. } | Action::DeclineDeletion { request_id, .. } => Some(*request_id),
            _ => None,
        }
    }

    /// The core's action on the membership (none for a registration or a deletion request).
    pub fn core(&self) -> Option<status::Action> {
        match self {
            Action::Register { .. } | Action::RequestDeletion { .. } | Action::DeclineDeletion { .. } => None,
            Action::Approve => Some(status::Action::Approve),
            Action::Reject { .. } => Some(status::Action::Reject),
            Action::Deactivate { .. } => Some(status::Action::Deactivate),
            Action::Reactivate => Some(status::Action::Reactivate),
            Action::Delete { .. } => Some(status::Action::Delete),
        }
    }

    /// The endpoint the action goes to.
    pub fn path(&self, membership_id: Uuid) -> String {
        match self {
            Action::Register { .. } => "/api/v1/registrations".to_owned(),
            Action::RequestDeletion { .. } => format!("/api/v1/memberships/{membership_id}/deletion-request"),
            Action::DeclineDeletion { request_id, .. } => format!("/api/v1/deletion-requests/{request_id}/decline"),
            other => format!("/api/v1/memberships/{membership_id}/{}", other.kind()),
        }
    }

    /// The Indonesian word for the action, for the sync screen.
    pub fn label(&self) -> &'static str {
        match self {
            Action::Register { .. } => myintress_core::vocabulary::REGISTER_LABEL,
            Action::RequestDeletion { .. } => myintress_core::vocabulary::REQUEST_DELETION_LABEL,
            Action::DeclineDeletion { .. } => myintress_core::vocabulary::DECLINE_DELETION_LABEL,
            other => other.core().map(|a| a.label()).unwrap_or_default(),
        }
    }
}

/// Who acts, for the overlay: the signed-in account's role and NIK.
#[derive(Debug, Clone)]
pub struct Acting {
    pub actor: Actor,
    pub nik: String,
    pub name: String,
}

/// Applies one pending action to the view of a membership. `None` in means "no row yet"
/// (a new registration); `None` out means "removed".
pub fn overlay(view: Option<Membership>, action: &Action, membership_id: Uuid, acting: &Acting, at: DateTime<Utc>) -> Option<Membership> {
    match action {
        Action::Register { input, .. } => {
            let route = Route::for_actor(acting.actor).unwrap_or(Route::Satker);
            // Queued only after the same check passed; a form that no longer passes is
            // left to the server, which refuses it as a conflict.
            let Ok(form) = input.validate(route) else { return view };
            let effect = form.effect(route);
            match view {
                // Re-entering a pending request replaces it in place (guide Tip 2).
                Some(mut m) if m.status == Status::Registered => {
                    effect.apply(&mut m, at, &acting.name);
                    Some(m)
                }
                Some(m) => Some(m),
                None => Some(effect.new_membership(membership_id, at, &acting.name)),
            }
        }
        // A deletion request leaves the membership as it is (its own view is kept apart).
        Action::RequestDeletion { .. } | Action::DeclineDeletion { .. } => view,
        other => {
            let mut m = view?;
            let core = other.core().expect("not a registration");
            let own = m.nik == acting.nik;
            // An action the rules refuse leaves the view as it is; the server will answer
            // with the conflict.
            let Ok(t) = status::decide(acting.actor, core, m.status, own) else { return Some(m) };
            match t.to {
                Outcome::Removed => None,
                Outcome::Status(to) => {
                    m.status = to;
                    m.status_label = to.label().to_owned();
                    m.updated_at = at;
                    match other {
                        Action::Approve => {
                            m.decided_at = Some(at);
                            m.decided_by = Some(acting.name.clone());
                        }
                        Action::Reject { reason } => {
                            m.decided_at = Some(at);
                            m.decided_by = Some(acting.name.clone());
                            m.rejection_reason = Some(reason.trim().to_owned());
                        }
                        _ => {}
                    }
                    Some(m)
                }
            }
        }
    }
}

// The outbox's statements: every read and write of the `outbox` table is here.

/// How many entries are in `state`.
pub(crate) async fn count(conn: &mut SqliteConnection, state: OutboxState) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE state = $1").bind(state.as_str()).fetch_one(conn).await
}

/// How many entries there are, in any state.
pub(crate) async fn count_all(conn: &mut SqliteConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM outbox").fetch_one(conn).await
}

/// Appends a pending action on `membership_id`, based on `base_version` (the `If-Match`
/// the user saw), under a new idempotency key; `batch` ties the entries of one bulk decision.
pub(crate) async fn push(
    conn: &mut SqliteConnection,
    membership_id: Uuid,
    action: &Action,
    base_version: Option<i64>,
    batch: Option<Uuid>,
) -> sqlx::Result<()> {
    let now = Utc::now().to_rfc3339();
    sqlx::query(
        "INSERT INTO outbox (key, kind, membership_id, base_version, payload, state, created_at, updated_at, batch_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)",
    )
    .bind(Uuid::new_v4().to_string())
    .bind(action.kind())
    .bind(membership_id.to_string())
    .bind(base_version)
    .bind(serde_json::to_string(action).expect("serialises"))
    .bind(OutboxState::Pending.as_str())
    .bind(&now)
    .bind(batch.map(|b| b.to_string()))
    .execute(conn)
    .await?;
    Ok(())
}

/// The next entries to send: the oldest pending one, or when it belongs to a bulk
/// decision, every pending entry of its batch (in order), sent together.
pub(crate) async fn next_pending(conn: &mut SqliteConnection) -> sqlx::Result<Vec<Entry>> {
    let row =
        sqlx::query("SELECT seq, key, membership_id, base_version, payload, batch_id FROM outbox WHERE state = $1 ORDER BY seq LIMIT 1")
            .bind(OutboxState::Pending.as_str())
            .fetch_optional(&mut *conn)
            .await?;
    let Some(first) = row else { return Ok(Vec::new()) };
    let batch: Option<String> = first.try_get("batch_id")?;
    let Some(batch) = batch else { return Ok(vec![entry(first)?]) };
    let rows = sqlx::query(
        "SELECT seq, key, membership_id, base_version, payload, batch_id FROM outbox WHERE batch_id = $1 AND state = $2 ORDER BY seq",
    )
    .bind(batch)
    .bind(OutboxState::Pending.as_str())
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(entry).collect()
}

fn entry(r: sqlx::sqlite::SqliteRow) -> sqlx::Result<Entry> {
    let payload: String = r.try_get("payload")?;
    let membership_id: String = r.try_get("membership_id")?;
    let batch: Option<String> = r.try_get("batch_id")?;
    Ok(Entry {
        seq: r.try_get("seq")?,
        key: r.try_get("key")?,
        membership_id: Uuid::parse_str(&membership_id).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        base_version: r.try_get("base_version")?,
        action: serde_json::from_str(&payload).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        batch: batch.map(|b| Uuid::parse_str(&b)).transpose().map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
    })
}

/// What of bulk decision `batch` is still in the outbox: each entry's membership, key,
/// state and (for a refused one) the server's answer. Entries the server accepted have left.
pub(crate) async fn batch(conn: &mut SqliteConnection, batch: Uuid) -> sqlx::Result<Vec<(Uuid, String, OutboxState, Option<Problem>)>> {
    let rows: Vec<(String, String, String, Option<String>)> =
        sqlx::query_as("SELECT membership_id, key, state, answer FROM outbox WHERE batch_id = $1 ORDER BY seq")
            .bind(batch.to_string())
            .fetch_all(conn)
            .await?;
    rows.into_iter()
        .map(|(id, key, state, answer)| {
            Ok((
                Uuid::parse_str(&id).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
                key,
                OutboxState::decode(&state)?,
                answer.and_then(|a| serde_json::from_str(&a).ok()),
            ))
        })
        .collect()
}

/// One more attempt at sending entry `seq`.
pub(crate) async fn count_attempt(conn: &mut SqliteConnection, seq: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE outbox SET attempts = attempts + 1, updated_at = $1 WHERE seq = $2")
        .bind(Utc::now().to_rfc3339())
        .bind(seq)
        .execute(conn)
        .await?;
    Ok(())
}

/// Why the last attempt at entry `seq` did not reach the server.
pub(crate) async fn note_error(conn: &mut SqliteConnection, seq: i64, error: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE outbox SET last_error = $1 WHERE seq = $2").bind(error).bind(seq).execute(conn).await?;
    Ok(())
}

/// The server accepted entry `seq`, answering `membership`: the entry goes, later entries
/// on a new registration's local id address the server's id, and later pending entries on
/// the membership are based on its new version.
pub(crate) async fn accepted(conn: &mut SqliteConnection, seq: i64, local_id: Uuid, membership: &Membership) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM outbox WHERE seq = $1").bind(seq).execute(&mut *conn).await?;
    if local_id != membership.id {
        sqlx::query("UPDATE outbox SET membership_id = $1 WHERE membership_id = $2")
            .bind(membership.id.to_string())
            .bind(local_id.to_string())
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query("UPDATE outbox SET base_version = $1 WHERE membership_id = $2 AND state = $3")
        .bind(membership.version)
        .bind(membership.id.to_string())
        .bind(OutboxState::Pending.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// The server refused entry `seq`: it becomes a conflict holding the answer.
pub(crate) async fn refused(conn: &mut SqliteConnection, seq: i64, problem: &Problem) -> sqlx::Result<()> {
    sqlx::query("UPDATE outbox SET state = $1, answer = $2, updated_at = $3 WHERE seq = $4")
        .bind(OutboxState::Conflict.as_str())
        .bind(serde_json::to_string(problem).expect("serialises"))
        .bind(Utc::now().to_rfc3339())
        .bind(seq)
        .execute(conn)
        .await?;
    Ok(())
}

/// Removes conflict `key` (the person dismissed it); `false` when there was none.
pub(crate) async fn dismiss(conn: &mut SqliteConnection, key: &str) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM outbox WHERE key = $1 AND state = $2")
        .bind(key)
        .bind(OutboxState::Conflict.as_str())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Conflict `key`'s action and membership, or `None` when there is no such conflict. It
/// stays in the outbox: [`dismiss`] it in the transaction that queues it again.
pub(crate) async fn conflict(conn: &mut SqliteConnection, key: &str) -> sqlx::Result<Option<(Action, Uuid)>> {
    let row: Option<(String, String)> = sqlx::query_as("SELECT payload, membership_id FROM outbox WHERE key = $1 AND state = $2")
        .bind(key)
        .bind(OutboxState::Conflict.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    let Some((payload, membership_id)) = row else { return Ok(None) };
    let action: Action = serde_json::from_str(&payload).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    let id = Uuid::parse_str(&membership_id).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    Ok(Some((action, id)))
}

/// Empties the outbox (the previous account's data is being removed).
pub(crate) async fn clear(conn: &mut SqliteConnection) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM outbox").execute(conn).await?;
    Ok(())
}

/// The cached files (SHA-256) a waiting or refused action still needs: its letter or decree.
pub(crate) async fn files_needed(conn: &mut SqliteConnection) -> sqlx::Result<std::collections::HashSet<String>> {
    let files: Vec<Option<String>> = sqlx::query_scalar(
        "SELECT COALESCE(json_extract(payload, '$.letter_sha256'), json_extract(payload, '$.decree_sha256')) \
         FROM outbox WHERE kind IN ('register', 'delete', 'request_deletion')",
    )
    .fetch_all(conn)
    .await?;
    Ok(files.into_iter().flatten().collect())
}

/// (NIK, satker) of everyone with an action waiting in the outbox.
pub(crate) async fn people_with_pending(conn: &mut SqliteConnection) -> sqlx::Result<std::collections::HashSet<(String, String)>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT DISTINCT m.nik, m.satker_code FROM outbox o JOIN memberships m ON m.id = o.membership_id WHERE o.state = $1",
    )
    .bind(OutboxState::Pending.as_str())
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().collect())
}

/// The pending entries on deletion request `id`, oldest first (its view is the server's
/// state with these applied).
pub(crate) async fn pending_for_request(conn: &mut SqliteConnection, id: Uuid) -> sqlx::Result<Vec<PendingEntry>> {
    let rows = sqlx::query(
        "SELECT seq, payload, created_at FROM outbox WHERE state = $1 AND kind IN ('request_deletion', 'decline_deletion') \
         AND json_extract(payload, '$.request_id') = $2 ORDER BY seq",
    )
    .bind(OutboxState::Pending.as_str())
    .bind(id.to_string())
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(pending_entry).collect()
}

/// The server accepted entry `seq`, which was not about a membership's state (a deletion
/// request): it leaves the outbox.
pub(crate) async fn done(conn: &mut SqliteConnection, seq: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM outbox WHERE seq = $1").bind(seq).execute(conn).await?;
    Ok(())
}

fn pending_entry(r: sqlx::sqlite::SqliteRow) -> sqlx::Result<PendingEntry> {
    let payload: String = r.try_get("payload")?;
    let created: String = r.try_get("created_at")?;
    Ok(PendingEntry {
        seq: r.try_get("seq")?,
        action: serde_json::from_str(&payload).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        created_at: DateTime::parse_from_rfc3339(&created).map(|d| d.with_timezone(&Utc)).unwrap_or_default(),
    })
}

/// A pending outbox entry as the view needs it.
pub struct PendingEntry {
    pub seq: i64,
    pub action: Action,
    pub created_at: DateTime<Utc>,
}

pub(crate) async fn pending_for(conn: &mut SqliteConnection, id: Uuid) -> sqlx::Result<Vec<PendingEntry>> {
    let rows = sqlx::query("SELECT seq, payload, created_at FROM outbox WHERE membership_id = $1 AND state = $2 ORDER BY seq")
        .bind(id.to_string())
        .bind(OutboxState::Pending.as_str())
        .fetch_all(conn)
        .await?;
    rows.into_iter().map(pending_entry).collect()
}

/// One outbox entry as the sync screen shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct OutboxItem {
    pub key: String,
    pub seq: i64,
    pub action: Action,
    pub membership_id: String,
    pub state: OutboxState,
    pub attempts: i64,
    pub last_error: Option<String>,
    /// The server's answer to a refused action, with its current state of the membership.
    pub answer: Option<Problem>,
    pub created_at: String,
}

/// Every entry, oldest first.
pub async fn items(conn: &mut SqliteConnection) -> sqlx::Result<Vec<OutboxItem>> {
    let rows =
        sqlx::query("SELECT key, seq, payload, membership_id, state, attempts, last_error, answer, created_at FROM outbox ORDER BY seq")
            .fetch_all(conn)
            .await?;
    rows.into_iter()
        .map(|r| {
            let payload: String = r.try_get("payload")?;
            let answer: Option<String> = r.try_get("answer")?;
            Ok(OutboxItem {
                key: r.try_get("key")?,
                seq: r.try_get("seq")?,
                action: serde_json::from_str(&payload).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
                membership_id: r.try_get("membership_id")?,
                state: OutboxState::decode(r.try_get("state")?)?,
                attempts: r.try_get("attempts")?,
                last_error: r.try_get("last_error")?,
                answer: answer.and_then(|a| serde_json::from_str(&a).ok()),
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}

/// An entry as the sender takes it.
pub(crate) struct Entry {
    pub seq: i64,
    pub key: String,
    pub membership_id: Uuid,
    pub base_version: Option<i64>,
    pub action: Action,
    /// The bulk decision the entry belongs to; its idempotency key for `/memberships/bulk`.
    pub batch: Option<Uuid>,
}
