//! The wire types of the central API (served as `/openapi.json`), in one place that the server and the
//! client both compile against, so the two cannot drift. Field names are the contract's;
//! with the `openapi` feature each type also describes itself for `/openapi.json`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{ErrorCode, FieldError};
use crate::status::{Event, Route, Status};

/// One person in one satker: a row of *Daftar Pengguna*.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Membership {
    pub id: Uuid,
    pub nik: String,
    pub name: String,
    pub nip: Option<String>,
    /// E.164, e.g. `+6281234567890`.
    pub phone: String,
    pub email: String,
    pub satker_code: String,
    /// `0|1|2|3|5`.
    #[cfg_attr(feature = "openapi", schema(value_type = u8))]
    pub status: Status,
    pub status_label: String,
    pub letter_number: String,
    pub letter_document_id: Uuid,
    pub rejection_reason: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub route: Route,
    pub ticket_number: Option<String>,
    /// Optimistic-concurrency version, sent back as `If-Match`.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    /// Name of the KPPN verifier who approved or rejected.
    pub decided_by: Option<String>,
    /// Whether *Daftar Pengguna* shows this row (a rejection stops showing once a later
    /// registration of the person in the satker is approved). Sent beside the membership's
    /// own fields so clients need not recompute the rule.
    pub listed: bool,
    /// The letter's electronic signatures and QR links as checked when it came (absent for
    /// a letter stored before the check existed).
    #[serde(default)]
    pub letter_check: Option<LetterCheck>,
}

/// What the check found on a letter beyond its validity (docs/rules.md, "Signed letters"): each
/// electronic signature's verdict, and the links of its QR codes. Shown beside the letter;
/// it never refuses a letter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct LetterCheck {
    pub signatures: Vec<crate::signature::SignatureCheck>,
    pub qr_links: Vec<crate::qr::QrLink>,
    /// Where the first page's JPEG lies in the letter when that page is a plain scan, so
    /// the verifier's preview shows it at once (absent for other letters and for letters
    /// checked before this existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_image: Option<crate::scan::PageImage>,
}

impl LetterCheck {
    /// The verdicts of a checked letter with the trust list in force.
    pub fn of(report: &crate::pdf::PdfReport, trust: &crate::signature::TrustList) -> LetterCheck {
        LetterCheck {
            signatures: crate::signature::evaluate_all(&report.signatures, trust),
            qr_links: report.qr_links.clone(),
            page_image: report.first_page_image,
        }
    }
}

/// `GET /api/v1/trust`: the certificates signed letters are checked against (PEM), so a
/// desktop's own verdicts agree with the server's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TrustAnswer {
    pub certificates: Vec<String>,
}

/// One step in the life of a membership, for the detail screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    /// What happened.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub event: Event,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<u8>))]
    pub from_status: Option<Status>,
    /// `None` when the membership was removed.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<u8>))]
    pub to_status: Option<Status>,
    pub actor_name: String,
    pub reason: Option<String>,
    pub letter_number: Option<String>,
    pub document_id: Option<Uuid>,
}

/// `GET /memberships/{id}`: the membership and its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MembershipDetail {
    #[serde(flatten)]
    pub membership: Membership,
    pub history: Vec<HistoryEntry>,
}

/// A satker with its KPPN (*mitra kerja*).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Satker {
    pub code: String,
    pub name: String,
    pub kppn_code: String,
    pub kppn_name: String,
}

/// A KPPN of the reference list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Kppn {
    pub code: String,
    pub name: String,
}

/// Lists answer `{"items": [...], "next_cursor": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// What a change feed entry is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Membership,
    MembershipRemoved,
    Satker,
    /// The satker left this KPPN's scope (it moved to another KPPN in the reference
    /// data): the desktop drops it, its memberships and their cached letters.
    SatkerRemoved,
    /// A pending request's age in working days and its overdue / escalated flags changed
    /// (entity: `{id, satker_code, working_days_pending, overdue, escalated}`).
    QueueFlags,
    /// A satker's request to delete a membership, as it now is (open, declined or done).
    DeletionRequest,
    /// A kind a newer server sends that this build does not know: skipped, so an older
    /// desktop keeps syncing what it understands. Never sent.
    #[serde(other)]
    Unknown,
}

impl ChangeKind {
    /// The name on the wire and in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Membership => "membership",
            ChangeKind::MembershipRemoved => "membership_removed",
            ChangeKind::Satker => "satker",
            ChangeKind::SatkerRemoved => "satker_removed",
            ChangeKind::QueueFlags => "queue_flags",
            ChangeKind::DeletionRequest => "deletion_request",
            ChangeKind::Unknown => "unknown",
        }
    }

    /// The kind named `text`, if any.
    pub fn parse(text: &str) -> Option<ChangeKind> {
        [
            ChangeKind::Membership,
            ChangeKind::MembershipRemoved,
            ChangeKind::Satker,
            ChangeKind::SatkerRemoved,
            ChangeKind::QueueFlags,
            ChangeKind::DeletionRequest,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }
}

/// One entry of the change feed: the entity's current JSON after the change. For
/// `membership_removed` the entity is `{"id": …, "satker_code": …}`; for
/// `satker_removed` it is `{"code": …, "kppn_code": <the KPPN it moved to>}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Change {
    pub seq: i64,
    pub kind: ChangeKind,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    #[cfg_attr(feature = "specta", specta(type = std::collections::HashMap<String, String>))]
    pub entity: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ChangesPage {
    pub changes: Vec<Change>,
    /// The cursor to ask from next time (the last `seq` returned, or the `after` given).
    pub last_seq: i64,
    pub has_more: bool,
    /// Asked with `count=true`: how many changes in scope come after `after`, this page's
    /// included, for a progress of "n dari m". Absent when not asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining: Option<i64>,
}

/// [`ChangesPage`] with each entity kept as JSON text: the same wire shape, read and
/// written without building a tree. The server sends each change as it stored it; the
/// client stores most of them as they came.
#[derive(Debug, Serialize, Deserialize)]
pub struct RawChangesPage {
    pub changes: Vec<RawChange>,
    pub last_seq: i64,
    pub has_more: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct RawChange {
    pub seq: i64,
    pub kind: ChangeKind,
    pub entity: Box<serde_json::value::RawValue>,
}

/// The role of a signed-in account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Kppn,
    Satker,
    /// A central operator: manages verifier accounts and the reference lists, sees no
    /// membership data.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Kppn, Role::Satker, Role::Admin];

    /// The name on the wire and in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Kppn => "kppn",
            Role::Satker => "satker",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Account {
    pub nik: String,
    pub name: String,
    pub email: String,
    pub nip: Option<String>,
}

/// `GET /me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Me {
    pub account: Account,
    pub role: Role,
    pub kppn_code: Option<String>,
    /// The account's active memberships (satker operators).
    pub memberships: Vec<Membership>,
    /// Their satkers, with names.
    #[serde(default)]
    pub satkers: Vec<Satker>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CaptchaChallenge {
    pub captcha_id: String,
    pub image_png_base64: String,
}

/// The server refuses a field it does not know (422 `unknown_field`) and reads a missing
/// one as empty, so the domain's own check names it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct LoginRequest {
    pub nik: String,
    pub password: String,
    pub captcha_id: String,
    pub captcha_answer: String,
}

/// `POST /api/v1/auth/password-reset`: a reset link for this NIK's account, if there is one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct PasswordResetRequest {
    pub nik: String,
    pub captcha_id: String,
    pub captcha_answer: String,
}

/// `POST /api/v1/memberships/{id}/contact`: a KPPN verifier corrects a person's phone or
/// e-mail (a field left out or empty stays as it is).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct ContactCorrection {
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// `POST /api/v1/auth/password`: a signed-in person changes their password.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// A KPPN verifier's account as an administrator sees it (`/api/v1/admin/verifiers`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Verifier {
    pub nik: String,
    pub name: String,
    pub email: String,
    pub kppn_code: String,
    /// Receives the KPPN's escalations (requests pending too long).
    pub supervisor: bool,
    /// Whether a password has been set through the activation link.
    pub activated: bool,
    /// When the account was disabled; `None` while it may sign in.
    pub disabled_at: Option<DateTime<Utc>>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// `POST /api/v1/admin/verifiers`: a new verifier account; the activation link goes to
/// `email`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct NewVerifier {
    pub nik: String,
    pub name: String,
    pub email: String,
    pub kppn_code: String,
    pub supervisor: bool,
}

/// `POST /api/v1/admin/verifiers/{nik}/move`: another KPPN, and whether the verifier is a
/// supervisor there (unchanged when absent).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct VerifierMove {
    pub kppn_code: String,
    pub supervisor: Option<bool>,
}

/// What an uploaded reference list changed (`POST /api/v1/admin/reference`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ReferenceLoaded {
    pub kppns: u32,
    pub satkers: u32,
    /// Satkers new, renamed or moved to another KPPN.
    pub changed: u32,
    /// Satkers moved to another KPPN.
    pub moved: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    pub account: Account,
    pub role: Role,
    pub kppn_code: Option<String>,
    pub memberships: Vec<Membership>,
    /// The satkers of the active memberships, with their names (a person active in several
    /// picks one to work in). Empty from a server older than this field.
    #[serde(default)]
    pub satkers: Vec<Satker>,
}

/// The server refuses a field it does not know (422 `unknown_field`) and reads a missing
/// one as empty, so the domain's own check names it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// Most requests one bulk decision may carry.
pub const BULK_MAX_ITEMS: usize = 500;

/// The decision of `POST /api/v1/memberships/bulk`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum BulkAction {
    Approve,
    Reject,
}

/// One request of a bulk decision, with the version the verifier decided on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct BulkItem {
    pub id: Uuid,
    pub version: i64,
}

/// `POST /api/v1/memberships/bulk`: one decision (and one reason, for a rejection) for
/// several requests, each applied on its own.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct BulkRequest {
    pub action: Option<BulkAction>,
    pub reason: String,
    pub items: Vec<BulkItem>,
}

/// What happened to one request of a bulk decision: `200` with the membership, or the
/// status and problem a single decision would have got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct BulkResult {
    pub id: Uuid,
    pub status: u16,
    pub membership: Option<Membership>,
    pub problem: Option<Problem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct BulkAnswer {
    /// Ties the batch's entries in the audit trail.
    pub batch_id: Uuid,
    pub results: Vec<BulkResult>,
}

/// What waits in a KPPN's Antrean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum QueueItemKind {
    Registration,
    DeletionRequest,
}

/// One request of `GET /api/v1/queue`, oldest first: a pending registration, or an open
/// deletion request with the membership it is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct QueueItem {
    pub kind: QueueItemKind,
    pub membership: Membership,
    pub deletion_request: Option<DeletionRequest>,
    #[serde(flatten)]
    pub flags: crate::workday::QueueFlags,
}

/// Where a deletion request is: waiting for the KPPN, declined (with a reason the satker
/// sees), or done (the membership was deleted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum DeletionRequestState {
    Open,
    Declined,
    Done,
}

impl DeletionRequestState {
    pub const ALL: [DeletionRequestState; 3] = [DeletionRequestState::Open, DeletionRequestState::Declined, DeletionRequestState::Done];

    pub fn as_str(self) -> &'static str {
        match self {
            DeletionRequestState::Open => "open",
            DeletionRequestState::Declined => "declined",
            DeletionRequestState::Done => "done",
        }
    }

    pub fn parse(text: &str) -> Option<DeletionRequestState> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The words a person reads.
    pub fn label(self) -> &'static str {
        match self {
            DeletionRequestState::Open => "Menunggu KPPN",
            DeletionRequestState::Declined => "Ditolak KPPN",
            DeletionRequestState::Done => "Sudah dihapus",
        }
    }
}

/// A satker operator's request that the KPPN delete a membership in status 0 or 5
/// (`POST /api/v1/memberships/{id}/deletion-request`), with the request letter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DeletionRequest {
    pub id: Uuid,
    pub membership_id: Uuid,
    pub satker_code: String,
    /// The person whose membership is to be deleted.
    pub nik: String,
    pub name: String,
    pub reason: String,
    pub letter_number: String,
    /// The satker's request letter and form (one PDF).
    pub letter_document_id: Uuid,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub state: DeletionRequestState,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<String>,
    /// Why the KPPN declined.
    pub decline_reason: Option<String>,
    pub version: i64,
}

/// `POST /api/v1/registrations/check`: the person and name a registration would send, to
/// check while the form is typed (before a letter is chosen). Nothing is stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RegistrationCheckRequest {
    pub nik: String,
    pub name: String,
    pub satker_code: String,
}

/// The answer when the NIK exists in the civil registry and the name matches well enough.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RegistrationCheck {
    /// The person's DIGIT account, if any (masked for a satker operator, as "Cari" gives it).
    pub digit_account: Option<DigitAccount>,
    pub score: u8,
    pub threshold: u8,
}

/// `GET /digit/{nik}` when the person has a DIGIT account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DigitAccount {
    pub nik: String,
    pub name: String,
    pub nip: Option<String>,
    pub email: String,
    /// Set for a satker operator: the NIP and e-mail are shown masked (`b•••@contoh.go.id`),
    /// enough to recognise the person, not to copy their data; the form leaves them to be
    /// typed.
    #[serde(default)]
    pub masked: bool,
}

/// Body of reject and deactivate.
/// The server refuses a field it does not know (422 `unknown_field`) and reads a missing
/// one as empty, so the domain's own check names it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct ReasonBody {
    pub reason: String,
}

/// One entry of the append-only audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_nik: Option<String>,
    pub actor_name: String,
    /// `register`, `replace`, `approve`, `reject`, `deactivate`, `reactivate`, `delete`,
    /// `mark_dormant`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub event: Event,
    pub membership_id: Uuid,
    pub nik: String,
    pub satker_code: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<u8>))]
    pub from_status: Option<Status>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<u8>))]
    pub to_status: Option<Status>,
    pub reason: Option<String>,
    pub request_id: String,
    /// The bulk decision this entry was part of.
    pub batch_id: Option<Uuid>,
}

/// An RFC 9457 problem as the API sends it (`application/problem+json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// The Indonesian sentence a person reads.
    pub detail: String,
    /// The stable code a program acts on.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub code: ErrorCode,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub errors: Vec<FieldError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<u8>,
    /// On `name_mismatch`: why, without the registry's spelling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Box<crate::name_match::NameExplanation>>,
    /// On `version_conflict` and `request_superseded`: the membership as it now is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub membership: Option<Box<Membership>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}
