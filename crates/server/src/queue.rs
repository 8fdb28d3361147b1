//! The Antrean's deadlines on the server: each pending registration's age in working days
//! and its overdue / escalated flags (core's [`myintress_core::workday`]), computed from
//! the settings and the holidays of the reference data. The background round refreshes
//! the flags and writes a `queue_flags` change whenever they change, so desktops show them
//! offline; `GET /api/v1/queue` computes them as it answers. Once a working day the
//! KPPN's verifiers are mailed its overdue requests and its supervisors the escalated ones
//! ([`send_reminders`]). Nothing is decided here.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use myintress_core::api::{ChangeKind, DeletionRequestState};
use myintress_core::workday::{Deadlines, QueueFlags};
use uuid::Uuid;

use crate::state::AppState;
use crate::store::{MembershipRow, NewChange, StoreError};

/// The deadlines in force.
pub fn deadlines(state: &AppState) -> Deadlines {
    Deadlines { reminder_days: state.settings.pending_reminder_days, escalation_days: state.settings.pending_escalation_days }
}

/// The flags of one pending registration on `now`.
pub fn flags_of(deadlines: Deadlines, row: &MembershipRow, now: DateTime<Utc>, holidays: &BTreeSet<NaiveDate>) -> QueueFlags {
    deadlines.flags(row.created_at, now, holidays)
}

/// The `queue_flags` change of a membership (a pending registration, or one with an open
/// deletion request): what the desktop stores beside it.
pub fn flags_change(id: Uuid, satker_code: &str, flags: QueueFlags) -> NewChange {
    NewChange {
        kind: ChangeKind::QueueFlags,
        entity_id: id.to_string(),
        satker_code: satker_code.to_owned(),
        addressed_to: None,
        entity: serde_json::json!({
            "id": id,
            "satker_code": satker_code,
            "working_days_pending": flags.working_days_pending,
            "overdue": flags.overdue,
            "escalated": flags.escalated,
        }),
    }
}

/// Recomputes every pending registration's flags; writes those that changed (with their
/// change entry) and forgets those of requests no longer pending. Returns how many changed.
pub async fn refresh_flags(state: &AppState, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let deadlines = deadlines(state);
    let mut tx = state.store.write().await?;
    let holidays = tx.holidays().await?;
    let pending = tx.pending_registrations(None).await?;
    let deletions = tx.deletion_requests(None, Some(DeletionRequestState::Open)).await?;
    let known = tx.queue_flags().await?;
    let mut changes = Vec::new();
    // A membership waits either as a registration (status 1) or with an open deletion
    // request (status 0 or 5), never both: one set of flags per membership.
    let waiting = pending
        .iter()
        .map(|r| (r.id, r.satker_code.as_str(), r.created_at))
        .chain(deletions.iter().map(|d| (d.membership_id, d.satker_code.as_str(), d.created_at)));
    let mut pending_ids = BTreeSet::new();
    for (id, satker, since) in waiting {
        let flags = deadlines.flags(since, now, &holidays);
        let before = known.get(&id.to_string()).copied().unwrap_or_default();
        if flags != before {
            tx.set_queue_flags(&id.to_string(), flags).await?;
            changes.push(flags_change(id, satker, flags));
        }
        pending_ids.insert(id.to_string());
    }
    for id in known.keys().filter(|id| !pending_ids.contains(*id)) {
        tx.forget_queue_flags(id).await?;
    }
    tx.append_changes(&changes, now).await?;
    tx.commit().await?;
    Ok(changes.len())
}

/// What the daily reminder round sent: e-mails queued for overdue and escalated requests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reminded {
    pub reminders: usize,
    pub escalations: usize,
}

/// Once per working day and KPPN: the KPPN's verifiers get the list of its overdue
/// requests, and its supervisors the list of the escalated ones. Each (KPPN, day, kind) is
/// claimed in `queue_reminders` in the transaction that queues its e-mails, so replicas and
/// repeated rounds send each once. Nothing is decided; the e-mails name people, satkers
/// and letters, never a whole NIK.
pub async fn send_reminders(state: &AppState, now: DateTime<Utc>) -> Result<Reminded, StoreError> {
    let deadlines = deadlines(state);
    let mut conn = state.store.read().await?;
    let holidays = conn.holidays().await?;
    let today = myintress_core::workday::office_date(now);
    if !myintress_core::workday::is_working_day(today, &holidays) {
        return Ok(Reminded::default());
    }
    let pending = conn.pending_registrations(None).await?;
    let verifiers = conn.verifiers().await?;
    // Each flagged request under its satker's current KPPN.
    let mut by_kppn: std::collections::BTreeMap<String, Vec<(MembershipRow, QueueFlags, String)>> = Default::default();
    let mut satkers = std::collections::HashMap::new();
    for row in pending {
        let flags = flags_of(deadlines, &row, now, &holidays);
        if !flags.overdue {
            continue;
        }
        // Each satker read once, however many of its requests wait.
        if !satkers.contains_key(&row.satker_code) {
            let found = conn.satker(&row.satker_code).await?;
            satkers.insert(row.satker_code.clone(), found);
        }
        let Some(Some(satker)) = satkers.get(&row.satker_code) else { continue };
        by_kppn.entry(satker.kppn_code.clone()).or_default().push((row, flags, satker.name.clone()));
    }
    drop(conn);
    let day = today.format("%Y-%m-%d").to_string();
    let mut sent = Reminded::default();
    for (kppn, requests) in by_kppn {
        let active: Vec<_> =
            verifiers.iter().filter(|v| v.kppn_code.as_deref() == Some(kppn.as_str()) && v.disabled_at.is_none()).collect();
        let escalated: Vec<_> = requests.iter().filter(|(_, f, _)| f.escalated).cloned().collect();
        for (kind, list, to) in [
            (ReminderKind::Overdue, &requests, active.to_vec()),
            (ReminderKind::Escalated, &escalated, active.iter().copied().filter(|v| v.supervisor).collect()),
        ] {
            if list.is_empty() || to.is_empty() {
                continue;
            }
            let mut tx = state.store.write().await?;
            if !tx.claim_reminder(&kppn, &day, kind.as_str()).await? {
                continue;
            }
            for v in &to {
                // Sent as soon as the mail job runs, whatever day `now` is counted as.
                let mail = crate::mail::queue_reminder(kind, &v.name, &v.email, &kppn, list, deadlines, Utc::now());
                tx.queue_mail(&mail).await?;
            }
            tx.commit().await?;
            match kind {
                ReminderKind::Overdue => sent.reminders += to.len(),
                ReminderKind::Escalated => sent.escalations += to.len(),
            }
        }
    }
    Ok(sent)
}

/// Which of the daily e-mails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReminderKind {
    /// To the KPPN's verifiers: requests past the reminder deadline.
    Overdue,
    /// To the KPPN's supervisors: requests past the escalation deadline.
    Escalated,
}

impl ReminderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReminderKind::Overdue => "overdue",
            ReminderKind::Escalated => "escalated",
        }
    }
}
