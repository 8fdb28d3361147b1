//! The five statuses of a membership and the state machine between them.
//!
//! A status belongs to one membership: one person (NIK) in one satker. Who may move which
//! status where is decided here, once; the server enforces it, the desktop app greys out
//! the buttons that would be refused.

use std::fmt;

use chrono::{DateTime, Months, Utc};
use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;

/// Status of a membership, with the numeric codes of the guide (§4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Status {
    /// 0 Tidak Aktif: deactivated.
    Inactive = 0,
    /// 1 Terdaftar, belum disetujui: waiting for the KPPN.
    Registered = 1,
    /// 2 Aktif: approved after the KPPN verified the letter.
    Active = 2,
    /// 3 Dormant: no sign-in for six months.
    Dormant = 3,
    /// 5 Pendaftaran Ditolak: rejected, with the reason shown.
    Rejected = 5,
}

impl Status {
    pub const ALL: [Status; 5] = [Status::Inactive, Status::Registered, Status::Active, Status::Dormant, Status::Rejected];

    /// The order in which the guide lists the statuses (the filter of *Daftar Pengguna*).
    pub const GUIDE_ORDER: [Status; 5] = [Status::Registered, Status::Active, Status::Dormant, Status::Inactive, Status::Rejected];

    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(code: u8) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The label of the guide, e.g. `Terdaftar, belum disetujui`.
    pub fn label(self) -> &'static str {
        match self {
            Status::Inactive => "Tidak Aktif",
            Status::Registered => "Terdaftar, belum disetujui",
            Status::Active => "Aktif",
            Status::Dormant => "Dormant",
            Status::Rejected => "Pendaftaran Ditolak",
        }
    }

    /// Code and label together as the guide writes them, e.g. `1 Terdaftar, belum disetujui`.
    pub fn display_label(self) -> String {
        format!("{} {}", self.code(), self.label())
    }

    /// A membership in this status occupies the person's place in the satker: a new
    /// registration of the same NIK there is replaced or refused rather than added.
    pub fn is_live(self) -> bool {
        matches!(self, Status::Registered | Status::Active | Status::Dormant)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display_label())
    }
}

/// On the wire a status is its number (`0|1|2|3|5`), as in the guide.
impl Serialize for Status {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.code())
    }
}

impl<'de> Deserialize<'de> for Status {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = u8::deserialize(d)?;
        Status::from_code(code).ok_or_else(|| serde::de::Error::custom(format!("status tidak dikenal: {code}")))
    }
}

/// In the TypeScript bindings a status is the union of its codes (`0 | 1 | 2 | 3 | 5`), so
/// a screen comparing it with a code that does not exist fails to type-check.
#[cfg(feature = "specta")]
impl specta::Type for Status {
    fn definition(_types: &mut specta::Types) -> specta::datatype::DataType {
        let codes: Vec<String> = Status::ALL.iter().map(|s| s.code().to_string()).collect();
        specta::datatype::DataType::Reference(specta_typescript::define(codes.join(" | ")))
    }
}

/// Who is acting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    /// Staff of the KPPN that serves the satker (its *KPPN mitra kerja*).
    KppnVerifier,
    /// An active user of the satker.
    SatkerOperator,
    /// The server's scheduled jobs (dormancy).
    System,
}

/// What is being done to an existing membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Approve,
    Reject,
    Deactivate,
    Reactivate,
    Delete,
    MarkDormant,
}

impl Action {
    pub const ALL: [Action; 6] =
        [Action::Approve, Action::Reject, Action::Deactivate, Action::Reactivate, Action::Delete, Action::MarkDormant];

    /// Rejection, deactivation and deletion must say why; the reason is shown to the
    /// satker and kept in the audit trail.
    pub fn requires_reason(self) -> bool {
        matches!(self, Action::Reject | Action::Deactivate | Action::Delete)
    }

    /// Deletion also needs the decree (SK) number and its PDF.
    pub fn requires_decree(self) -> bool {
        matches!(self, Action::Delete)
    }

    /// The name on the wire and in the store, e.g. `mark_dormant`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Deactivate => "deactivate",
            Action::Reactivate => "reactivate",
            Action::Delete => "delete",
            Action::MarkDormant => "mark_dormant",
        }
    }

    /// The button text in the app.
    pub fn label(self) -> &'static str {
        match self {
            Action::Approve => "Setujui",
            Action::Reject => "Tolak",
            Action::Deactivate => "Nonaktifkan",
            Action::Reactivate => "Aktifkan kembali",
            Action::Delete => "Hapus",
            Action::MarkDormant => "Tandai Dormant",
        }
    }

    /// Which statuses the action starts from and where it leads, regardless of actor.
    fn edge(self) -> (&'static [Status], Outcome) {
        use Status::*;
        match self {
            Action::Approve => (&[Registered], Outcome::Status(Active)),
            Action::Reject => (&[Registered], Outcome::Status(Rejected)),
            Action::Deactivate => (&[Active, Dormant], Outcome::Status(Inactive)),
            Action::Reactivate => (&[Dormant], Outcome::Status(Active)),
            Action::Delete => (&[Inactive, Rejected], Outcome::Removed),
            Action::MarkDormant => (&[Active], Outcome::Status(Dormant)),
        }
    }

    /// Whether `actor` may take this action at all (before looking at the status).
    pub fn allowed_for(self, actor: Actor) -> bool {
        match self {
            Action::Approve | Action::Reject | Action::Reactivate | Action::Delete => actor == Actor::KppnVerifier,
            Action::Deactivate => matches!(actor, Actor::KppnVerifier | Actor::SatkerOperator),
            Action::MarkDormant => actor == Actor::System,
        }
    }
}

/// What happened to a membership: a step of its history and an entry of the audit trail.
///
/// A newer server may record kinds of step this build does not know; they are kept as
/// [`Event::Other`] and shown by name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// The membership was registered (either route).
    Register,
    /// A rejected or waiting registration was sent again with a new letter.
    Replace,
    Approve,
    Reject,
    Deactivate,
    Reactivate,
    Delete,
    MarkDormant,
    /// A KPPN verifier corrected the phone or e-mail.
    ContactCorrected,
    /// The satker asked the KPPN to delete the membership (a deletion request).
    DeletionRequested,
    /// The KPPN declined the satker's deletion request, with a reason.
    DeletionDeclined,
    #[serde(untagged)]
    #[cfg_attr(feature = "specta", specta(skip))]
    Other(String),
}

impl Event {
    pub const ALL: [Event; 11] = [
        Event::Register,
        Event::Replace,
        Event::Approve,
        Event::Reject,
        Event::Deactivate,
        Event::Reactivate,
        Event::Delete,
        Event::MarkDormant,
        Event::ContactCorrected,
        Event::DeletionRequested,
        Event::DeletionDeclined,
    ];

    /// The name on the wire and in the store.
    pub fn as_str(&self) -> &str {
        match self {
            Event::Register => "register",
            Event::Replace => "replace",
            Event::Approve => Action::Approve.as_str(),
            Event::Reject => Action::Reject.as_str(),
            Event::Deactivate => Action::Deactivate.as_str(),
            Event::Reactivate => Action::Reactivate.as_str(),
            Event::Delete => Action::Delete.as_str(),
            Event::MarkDormant => Action::MarkDormant.as_str(),
            Event::ContactCorrected => "contact_corrected",
            Event::DeletionRequested => "deletion_requested",
            Event::DeletionDeclined => "deletion_declined",
            Event::Other(name) => name,
        }
    }

    /// The event stored as `text`; a name this build does not know is kept as it is.
    pub fn parse(text: &str) -> Event {
        Event::ALL.into_iter().find(|e| e.as_str() == text).unwrap_or_else(|| Event::Other(text.to_owned()))
    }

    /// How the history on the detail screen names the step.
    pub fn label(&self) -> &str {
        match self {
            Event::Register => "Didaftarkan",
            Event::Replace => "Diajukan ulang (menggantikan permintaan sebelumnya)",
            Event::Approve => "Disetujui",
            Event::Reject => "Ditolak",
            Event::Deactivate => "Dinonaktifkan",
            Event::Reactivate => "Diaktifkan kembali",
            Event::Delete => "Dihapus",
            Event::MarkDormant => "Menjadi Dormant",
            Event::ContactCorrected => "Kontak diperbaiki KPPN",
            Event::DeletionRequested => "Penghapusan diminta satker",
            Event::DeletionDeclined => "Permintaan penghapusan ditolak KPPN",
            Event::Other(name) => name,
        }
    }

    /// Whether the step brought a letter (its number and document are kept with it).
    pub fn brings_letter(&self) -> bool {
        matches!(self, Event::Register | Event::Replace)
    }
}

impl From<Action> for Event {
    fn from(action: Action) -> Event {
        match action {
            Action::Approve => Event::Approve,
            Action::Reject => Event::Reject,
            Action::Deactivate => Event::Deactivate,
            Action::Reactivate => Event::Reactivate,
            Action::Delete => Event::Delete,
            Action::MarkDormant => Event::MarkDormant,
        }
    }
}

/// Where a transition leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "status")]
pub enum Outcome {
    Status(Status),
    /// The membership is deleted: gone from *Daftar Pengguna*, kept in the audit trail,
    /// no access any more.
    Removed,
}

/// An allowed change of one membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub action: Action,
    pub from: Status,
    pub to: Outcome,
}

/// Why a transition was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The actor's role never takes this action (`403`).
    #[error("peran ini tidak dapat melakukan tindakan {0:?}")]
    WrongRole(Action),
    /// A satker operator tried to deactivate its own membership.
    #[error("tidak dapat menonaktifkan akun sendiri")]
    SelfDeactivation,
    /// The status does not allow the action (`409 invalid_transition`).
    #[error("status {from} tidak memungkinkan tindakan {action:?}")]
    InvalidTransition { action: Action, from: Status },
}

impl TransitionError {
    pub fn code(self) -> ErrorCode {
        match self {
            // The contract has no separate code for a wrong role; 403 with this code
            // tells the client the action was never possible for this account.
            TransitionError::WrongRole(_) => ErrorCode::InvalidTransition,
            TransitionError::SelfDeactivation => ErrorCode::CannotDeactivateSelf,
            TransitionError::InvalidTransition { .. } => ErrorCode::InvalidTransition,
        }
    }

    /// The HTTP status: wrong role is `403`, a status that does not allow it is `409`.
    pub fn http_status(self) -> u16 {
        match self {
            TransitionError::WrongRole(_) | TransitionError::SelfDeactivation => 403,
            TransitionError::InvalidTransition { .. } => 409,
        }
    }
}

/// Decides whether `actor` may take `action` on a membership in status `from`.
///
/// `own_membership` is true when a satker operator acts on a membership of their own NIK:
/// an operator deactivates *other* users of the satker (docs/rules.md, "Statuses"), never themselves, so a
/// satker cannot lock itself out by accident.
pub fn decide(actor: Actor, action: Action, from: Status, own_membership: bool) -> Result<Transition, TransitionError> {
    if !action.allowed_for(actor) {
        return Err(TransitionError::WrongRole(action));
    }
    if action == Action::Deactivate && actor == Actor::SatkerOperator && own_membership {
        return Err(TransitionError::SelfDeactivation);
    }
    let (sources, to) = action.edge();
    if !sources.contains(&from) {
        return Err(TransitionError::InvalidTransition { action, from });
    }
    Ok(Transition { action, from, to })
}

/// Whether `actor` may ask the KPPN to delete a membership in status `from` (docs/rules.md, "Deleting"): a
/// satker operator, for exactly the statuses a KPPN may delete (0 and 5). The deletion
/// itself stays the KPPN's ([`decide`] with [`Action::Delete`]).
pub fn may_request_deletion(actor: Actor, from: Status) -> Result<(), TransitionError> {
    if actor != Actor::SatkerOperator {
        return Err(TransitionError::WrongRole(Action::Delete));
    }
    let (sources, _) = Action::Delete.edge();
    if !sources.contains(&from) {
        return Err(TransitionError::InvalidTransition { action: Action::Delete, from });
    }
    Ok(())
}

/// The actions `actor` could take now on a membership in status `from`, for the buttons
/// of the detail screen.
pub fn available_actions(actor: Actor, from: Status, own_membership: bool) -> Vec<Action> {
    Action::ALL.into_iter().filter(|a| *a != Action::MarkDormant).filter(|a| decide(actor, *a, from, own_membership).is_ok()).collect()
}

/// How a membership comes into being (guide A and B).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// A: the KPPN verified the letter outside the system and enters the user.
    Kppn,
    /// B: an active user of the satker registers a colleague.
    Satker,
}

impl Route {
    pub const ALL: [Route; 2] = [Route::Kppn, Route::Satker];

    /// The name on the wire and in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Route::Kppn => "kppn",
            Route::Satker => "satker",
        }
    }

    pub fn parse(text: &str) -> Option<Route> {
        Route::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// The route an actor registers through; the system job registers nobody.
    pub fn for_actor(actor: Actor) -> Option<Route> {
        match actor {
            Actor::KppnVerifier => Some(Route::Kppn),
            Actor::SatkerOperator => Some(Route::Satker),
            Actor::System => None,
        }
    }

    /// The KPPN has already verified the letter, so its registrations start active;
    /// a satker's own registration waits for the KPPN.
    pub fn initial_status(self) -> Status {
        match self {
            Route::Kppn => Status::Active,
            Route::Satker => Status::Registered,
        }
    }
}

/// Whether a satker operator may register users for a satker: only with an active
/// membership there (guide B.1.b: the satker already has at least one active user, and
/// the person registering is that user).
pub fn may_self_register(operator_status_in_satker: Option<Status>) -> Result<(), ErrorCode> {
    match operator_status_in_satker {
        Some(Status::Active) => Ok(()),
        _ => Err(ErrorCode::SatkerHasNoActiveUser),
    }
}

/// Whether a person whose password was correct may sign in, given the statuses of all
/// their memberships (deleted ones excluded). One active membership is enough. Otherwise
/// the refusal says why, in this order: dormant (the KPPN can reactivate), still waiting,
/// rejected, deactivated. A person with no membership at all gets the same answer as a
/// wrong password.
pub fn sign_in_allowed(statuses: &[Status]) -> Result<(), ErrorCode> {
    let has = |s: Status| statuses.contains(&s);
    if has(Status::Active) {
        Ok(())
    } else if has(Status::Dormant) {
        Err(ErrorCode::AccountDormant)
    } else if has(Status::Registered) {
        Err(ErrorCode::AccountPending)
    } else if has(Status::Rejected) {
        Err(ErrorCode::AccountRejected)
    } else if has(Status::Inactive) {
        Err(ErrorCode::AccountInactive)
    } else {
        Err(ErrorCode::CredentialsInvalid)
    }
}

/// How long without a sign-in makes active memberships dormant (a server setting; the
/// guide says six months).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DormancyPeriod {
    pub months: u32,
}

impl Default for DormancyPeriod {
    fn default() -> Self {
        DormancyPeriod { months: 6 }
    }
}

impl DormancyPeriod {
    /// Whether a person whose last sign-in (or, never signed in, activation) was at
    /// `since` is dormant at `now`.
    pub fn is_due(self, since: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        match since.checked_add_months(Months::new(self.months)) {
            Some(deadline) => now >= deadline,
            None => false,
        }
    }
}
