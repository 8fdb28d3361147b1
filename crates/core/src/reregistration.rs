//! Entering the same NIK again in the same satker (guide, Tips 2–4), and which of a
//! person's rows *Daftar Pengguna* shows afterwards.

use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;
use crate::status::Status;

/// What a new registration of a NIK in a satker does, given the memberships the person
/// already has there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum Registration<Id> {
    /// A new membership (nothing live there, or only status 0 / 5 rows, which stay).
    New,
    /// The pending request (status 1) is replaced: still one request, the newest letter
    /// counts, the earlier request is treated as never made (Tip 2).
    ReplacePending(Id),
}

/// Decides a new registration of a person in a satker from the statuses of the person's
/// existing, non-deleted memberships there.
///
/// | existing | result |
/// |---|---|
/// | 1 | replace the pending request |
/// | 2 | refused: `already_active` |
/// | 3 | refused: `dormant_exists` (the KPPN can reactivate) |
/// | 0 or 5, or none | a new membership; old rows stay |
pub fn decide_registration<Id: Copy>(existing: &[(Id, Status)]) -> Result<Registration<Id>, ErrorCode> {
    if existing.iter().any(|(_, s)| *s == Status::Active) {
        return Err(ErrorCode::AlreadyActive);
    }
    if existing.iter().any(|(_, s)| *s == Status::Dormant) {
        return Err(ErrorCode::DormantExists);
    }
    if let Some((id, _)) = existing.iter().find(|(_, s)| *s == Status::Registered) {
        return Ok(Registration::ReplacePending(*id));
    }
    Ok(Registration::New)
}

/// What the visibility rule needs to know of one membership row of a person in a satker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowFacts<K> {
    pub status: Status,
    /// Orders rows by when they were registered (a time, or a sequence number).
    pub registered: K,
    /// Whether this membership has ever been active (approved, or registered by the KPPN).
    pub ever_active: bool,
}

/// Whether a row shows in *Daftar Pengguna*, given all rows of the same person in the same
/// satker (deleted ones excluded).
///
/// A rejected row (5) stops showing once a membership registered after it has been
/// approved; it stays in the history and the audit trail. Deactivated rows (0) always
/// show. So `Ali 0, Ali 5, Ali 1` becomes `Ali 0, Ali 2` once the 1 is approved (Tip 4).
pub fn is_visible<K: Ord>(row: &RowFacts<K>, siblings: &[RowFacts<K>]) -> bool {
    if row.status != Status::Rejected {
        return true;
    }
    !siblings.iter().any(|other| other.ever_active && other.registered > row.registered)
}

/// The visible rows among `rows` (all of one person in one satker), in their given order.
pub fn visible_rows<T, K: Ord>(rows: &[T], facts: impl Fn(&T) -> RowFacts<K>) -> Vec<&T> {
    let all: Vec<RowFacts<K>> = rows.iter().map(&facts).collect();
    rows.iter().zip(all.iter()).filter(|(_, f)| is_visible(f, &all)).map(|(r, _)| r).collect()
}
