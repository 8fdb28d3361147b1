//! Storage: a read half and a write half ([`ReadConn`], [`WriteConn`]), two backends (SQLite, PostgreSQL) that pass the same test story.
//!
//! The SQL is written once (`sql/`, a file per area) and instantiated for each backend by a macro: both
//! dialects accept `$n` placeholders (written in order of first use, which is how SQLite
//! numbers them), `RETURNING`, `ON CONFLICT` and row-value comparison, and every column
//! uses a type both map the same way (text ids, `BIGINT` microseconds for times). Only the
//! migrations and connection set-up differ. Queries are runtime-checked
//! (`query(..).bind(..)`), not compile-time macros: the macros would need a live database
//! of each kind at build time or a committed `.sqlx/` per backend.
//!
//! Change feed: every write transaction allocates its `seq` numbers from one counter row
//! as its last statement before commit. On PostgreSQL the row lock is held until commit,
//! so transactions commit in `seq` order and a reader never sees seq 11 before seq 10; on
//! SQLite there is a single writer. A rolled-back transaction rolls its numbers back too,
//! so there are no gaps.
//!
//! Concurrency (several requests, several replicas on one PostgreSQL): every change to a
//! person's memberships runs under [`LockKey::Person`], a transaction-scoped advisory lock
//! on PostgreSQL (SQLite's single writer already serialises everything), and every update
//! of a membership names the version it read ([`WriteConn::update_membership`]), so a change
//! can never overwrite one it did not see. Counters that concurrent requests increment are
//! incremented in SQL, never read-modified-written in Rust.

mod sql;

use async_trait::async_trait;
use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use myintress_core::api::{ChangeKind, DeletionRequestState, Role};
use myintress_core::status::{Event, Route, Status};
use myintress_core::workday::QueueFlags;
use uuid::Uuid;

pub use sql::{JobLock, migrate_and_open};

/// The store's traits, for modules that call their methods.
pub mod prelude {
    pub use super::{ReadConn, Store, WriteConn};
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// A unique-constraint violation, e.g. two concurrent requests with one idempotency key.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Database(sqlx::Error::Database(e)) if e.is_unique_violation())
    }

    /// The database cannot be used now but may be in a moment: connections cut or refused
    /// (PostgreSQL restarting, the network between), the pool exhausted, SQLite busy past
    /// its timeout. What the request did is rolled back (unless only the answer to its
    /// commit was lost, which an `Idempotency-Key` covers), so it is a `503` to retry.
    pub fn is_unavailable(&self) -> bool {
        let StoreError::Database(e) = self else { return false };
        match e {
            sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => {
                true
            }
            sqlx::Error::Database(db) => {
                if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                    // 08: connection exception; 57P: shutdown, crash, cannot connect now;
                    // 53300: too many connections.
                    let code = pg.code();
                    code.starts_with("08") || code.starts_with("57P") || code == "53300"
                } else {
                    // SQLITE_BUSY and SQLITE_LOCKED (primary codes of the extended ones).
                    matches!(sqlite_primary_code(db.as_ref()), Some(5 | 6))
                }
            }
            _ => false,
        }
    }

    /// The database's disk is full (PostgreSQL `53100`, `SQLITE_FULL`).
    pub fn is_full(&self) -> bool {
        let StoreError::Database(sqlx::Error::Database(db)) = self else { return false };
        match db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
            Some(pg) => pg.code() == "53100",
            None => sqlite_primary_code(db.as_ref()) == Some(13),
        }
    }
}

fn sqlite_primary_code(db: &dyn sqlx::error::DatabaseError) -> Option<i32> {
    let sqlite = db.try_downcast_ref::<sqlx::sqlite::SqliteError>()?;
    sqlx::error::DatabaseError::code(sqlite)?.parse::<i32>().ok().map(|c| c & 0xff)
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Rows decode into the core's enums here, at the storage edge; a value the enum does not
/// know is a corrupt row, never a guess.
pub mod decode {
    use super::*;

    pub fn status(code: i64) -> StoreResult<Status> {
        u8::try_from(code).ok().and_then(Status::from_code).ok_or_else(|| StoreError::Corrupt(format!("status {code}")))
    }

    pub fn opt_status(code: Option<i64>) -> StoreResult<Option<Status>> {
        code.map(status).transpose()
    }

    pub fn route(text: &str) -> StoreResult<Route> {
        Route::parse(text).ok_or_else(|| StoreError::Corrupt(format!("route {text}")))
    }

    pub fn role(text: &str) -> StoreResult<Role> {
        Role::parse(text).ok_or_else(|| StoreError::Corrupt(format!("role {text}")))
    }

    pub fn event(text: &str) -> StoreResult<Event> {
        match Event::parse(text) {
            Event::Other(name) => Err(StoreError::Corrupt(format!("event {name}"))),
            known => Ok(known),
        }
    }

    pub fn change_kind(text: &str) -> StoreResult<ChangeKind> {
        ChangeKind::parse(text).ok_or_else(|| StoreError::Corrupt(format!("change kind {text}")))
    }

    pub fn account_action(text: &str) -> StoreResult<super::AccountAction> {
        super::AccountAction::parse(text).ok_or_else(|| StoreError::Corrupt(format!("account action {text}")))
    }

    pub fn token_purpose(text: &str) -> StoreResult<super::TokenPurpose> {
        super::TokenPurpose::parse(text).ok_or_else(|| StoreError::Corrupt(format!("token purpose {text}")))
    }

    pub fn mail_kind(text: &str) -> StoreResult<super::MailKind> {
        super::MailKind::parse(text).ok_or_else(|| StoreError::Corrupt(format!("mail kind {text}")))
    }

    pub fn document_kind(text: &str) -> StoreResult<super::DocumentKind> {
        super::DocumentKind::parse(text).ok_or_else(|| StoreError::Corrupt(format!("document kind {text}")))
    }
}

/// The SQL literal of a status, for statements that filter on one (`status = 2`).
pub fn status_sql(status: Status) -> String {
    status.code().to_string()
}

/// What a stored document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    /// The assignment letter (ST) of a registration.
    Letter,
    /// The decree (SK) of a deletion.
    Decree,
}

impl DocumentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Letter => "letter",
            DocumentKind::Decree => "decree",
        }
    }

    pub fn parse(text: &str) -> Option<DocumentKind> {
        [DocumentKind::Letter, DocumentKind::Decree].into_iter().find(|k| k.as_str() == text)
    }
}

/// Times are stored as microseconds since the Unix epoch in both backends.
pub fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

pub fn from_micros(us: i64) -> DateTime<Utc> {
    Utc.timestamp_micros(us).single().unwrap_or_default()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KppnRow {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SatkerRow {
    pub code: String,
    pub name: String,
    pub kppn_code: String,
    pub kppn_name: String,
}

/// A person's account: the server's own DIGIT account store, and KPPN verifiers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRow {
    pub nik: String,
    pub name: String,
    pub email: String,
    pub nip: Option<String>,
    /// `None` until the person sets a password through the activation link.
    pub password_hash: Option<String>,
    /// [`Role::Kppn`] for verifiers, [`Role::Admin`] for central operators,
    /// [`Role::Satker`] for everyone else.
    pub role: Role,
    pub kppn_code: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    /// Set while the account is disabled: no sign-in, no session.
    pub disabled_at: Option<DateTime<Utc>>,
    /// A verifier who receives the KPPN's escalations.
    pub supervisor: bool,
}

/// What was done to an account (or the reference lists), for the account audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountAction {
    VerifierCreated,
    Disabled,
    Enabled,
    /// Moved to another KPPN, or made (or unmade) a supervisor.
    Moved,
    SessionsRevoked,
    ReferenceUploaded,
}

impl AccountAction {
    const ALL: [AccountAction; 6] = [
        AccountAction::VerifierCreated,
        AccountAction::Disabled,
        AccountAction::Enabled,
        AccountAction::Moved,
        AccountAction::SessionsRevoked,
        AccountAction::ReferenceUploaded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AccountAction::VerifierCreated => "verifier_created",
            AccountAction::Disabled => "disabled",
            AccountAction::Enabled => "enabled",
            AccountAction::Moved => "moved",
            AccountAction::SessionsRevoked => "sessions_revoked",
            AccountAction::ReferenceUploaded => "reference_uploaded",
        }
    }

    pub fn parse(text: &str) -> Option<AccountAction> {
        AccountAction::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

/// One entry of the account audit: who (an administrator, the server host's command, or
/// the system's dormancy job) did what to whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountAuditRow {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    /// `None` for the server host's commands and the background jobs.
    pub actor_nik: Option<String>,
    pub actor_name: String,
    pub action: AccountAction,
    /// The account acted on (`None` for a reference upload).
    pub nik: Option<String>,
    /// Extra facts as JSON (the KPPN moved from and to, the counts of an upload).
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipRow {
    pub id: Uuid,
    pub nik: String,
    pub satker_code: String,
    pub name: String,
    pub nip: Option<String>,
    pub phone: String,
    pub email: String,
    pub status: Status,
    pub letter_number: String,
    pub letter_document_id: Uuid,
    pub rejection_reason: Option<String>,
    pub route: Route,
    pub ticket_number: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<String>,
    pub ever_active: bool,
    pub listed: bool,
    pub activated_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
    /// Orders a person's registrations in a satker (the visibility rule needs it).
    pub registered_seq: i64,
    /// The letter's check (`LetterCheck` as JSON) as made when the letter came.
    pub letter_check: Option<String>,
}

/// A satker's request that the KPPN delete a membership; `nik` and `name` are the
/// membership's, read with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletionRequestRow {
    pub id: Uuid,
    pub membership_id: Uuid,
    pub satker_code: String,
    pub nik: String,
    pub name: String,
    pub reason: String,
    pub letter_number: String,
    pub letter_document_id: Uuid,
    pub requested_by_nik: String,
    pub requested_by_name: String,
    pub created_at: DateTime<Utc>,
    pub state: DeletionRequestState,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<String>,
    pub decline_reason: Option<String>,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    pub membership_id: Uuid,
    /// The membership's version after this step.
    pub version: i64,
    pub at: DateTime<Utc>,
    pub event: Event,
    pub from_status: Option<Status>,
    pub to_status: Option<Status>,
    pub actor_nik: Option<String>,
    pub actor_name: String,
    pub reason: Option<String>,
    pub letter_number: Option<String>,
    pub document_id: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_nik: Option<String>,
    pub actor_name: String,
    pub event: Event,
    pub membership_id: Uuid,
    pub nik: String,
    pub satker_code: String,
    pub kppn_code: String,
    pub from_status: Option<Status>,
    pub to_status: Option<Status>,
    pub reason: Option<String>,
    pub request_id: String,
    /// Extra facts as JSON (decree number, document id, name score).
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentRow {
    pub id: Uuid,
    pub sha256: String,
    pub size: i64,
    pub pages: i64,
    pub kind: DocumentKind,
    pub satker_code: String,
    pub created_at: DateTime<Utc>,
}

/// A change to append to the feed; `seq` is assigned at commit.
#[derive(Debug, Clone, PartialEq)]
pub struct NewChange {
    pub kind: myintress_core::api::ChangeKind,
    pub entity_id: String,
    /// Who sees the change: the desktops whose scope holds this satker.
    pub satker_code: String,
    /// Only for `satker_removed`: the KPPN the satker left, whose desktops must drop it.
    /// Every other change is seen by the satker's KPPN, which the store keeps current
    /// (see [`WriteConn::append_changes`] and [`WriteConn::rescope_changes`]).
    pub addressed_to: Option<String>,
    pub entity: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChangeRow {
    pub seq: i64,
    pub kind: ChangeKind,
    pub entity: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub nik: String,
    pub family_id: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshRow {
    pub family_id: String,
    pub nik: String,
    /// The family's absolute end (sign-in + `--session-days`), however often rotated.
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// When this token was issued: the family's last use, for the idle limit (`None` for
    /// tokens issued before it was recorded).
    pub issued_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginAttemptRow {
    pub failures: i64,
    pub first_failure_at: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivationRow {
    pub nik: String,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub purpose: TokenPurpose,
}

/// How long an `Idempotency-Key` and its first answer are kept.
pub const IDEMPOTENCY_DAYS: i64 = 30;

/// What a single-use password link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    /// The first password of an account made by a registration (`/activate/{token}`).
    Activation,
    /// A new password asked for by NIK (`/reset/{token}`).
    Reset,
}

impl TokenPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenPurpose::Activation => "activation",
            TokenPurpose::Reset => "reset",
        }
    }

    pub fn parse(text: &str) -> Option<TokenPurpose> {
        [TokenPurpose::Activation, TokenPurpose::Reset].into_iter().find(|p| p.as_str() == text)
    }
}

/// What an e-mail of the outbox is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    Activation,
    PasswordReset,
    /// The account's e-mail was corrected: a notice to the old and the new address.
    ContactNotice,
    /// The KPPN approved or rejected the registration.
    Decision,
    /// The daily list of a KPPN's overdue requests, to its verifiers.
    QueueReminder,
    /// The daily list of a KPPN's escalated requests, to its supervisors.
    QueueEscalation,
}

impl MailKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::Activation => "activation",
            MailKind::PasswordReset => "password_reset",
            MailKind::ContactNotice => "contact_notice",
            MailKind::Decision => "decision",
            MailKind::QueueReminder => "queue_reminder",
            MailKind::QueueEscalation => "queue_escalation",
        }
    }

    pub fn parse(text: &str) -> Option<MailKind> {
        [
            MailKind::Activation,
            MailKind::PasswordReset,
            MailKind::ContactNotice,
            MailKind::Decision,
            MailKind::QueueReminder,
            MailKind::QueueEscalation,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }
}

/// An e-mail in the outbox: written in the transaction that caused it, sent by the mail job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailRow {
    pub id: Uuid,
    pub kind: MailKind,
    pub to_name: String,
    pub to_email: String,
    pub subject: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    /// Attempts so far (claimed by a sender, whether or not it got through).
    pub attempts: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRow {
    pub fingerprint: String,
    pub status: i64,
    pub body: String,
}

/// Who sees what: a KPPN's satkers, or the satkers where a person is active.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeFilter {
    Kppn(String),
    ActiveIn(String),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    pub satker_code: Option<String>,
    pub status: Option<i64>,
    /// Lower-cased search text matched against name and NIK.
    pub query: Option<String>,
    /// Keyset cursor: the last row's (name, nik, registered_seq).
    pub after: Option<(String, String, i64)>,
    pub limit: i64,
}

/// What a write transaction may lock until it ends (PostgreSQL advisory locks; SQLite has
/// one writer, so there the lock is the transaction itself). Taken in this order within a
/// transaction (person, then document) so two transactions never wait on each other in a
/// circle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockKey<'a> {
    /// Every change to one person's memberships, in any satker: registrations, decisions,
    /// the dormancy job. Reads after the lock see every earlier change of that person.
    Person(&'a str),
    /// One content-addressed document: storing it and the garbage collector removing it.
    Document(&'a str),
    /// Reloading the reference lists.
    Reference,
}

impl LockKey<'_> {
    /// The text hashed into the advisory lock's key.
    pub fn text(&self) -> String {
        match self {
            LockKey::Person(nik) => format!("person:{nik}"),
            LockKey::Document(sha) => format!("document:{sha}"),
            LockKey::Reference => "reference".into(),
        }
    }
}

/// The storage behind the server.
#[async_trait]
pub trait Store: Send + Sync {
    /// A connection for reads (a read-only connection on SQLite).
    async fn read(&self) -> StoreResult<Box<dyn ReadConn>>;
    /// A write transaction; nothing is visible to others until [`WriteConn::commit`].
    async fn write(&self) -> StoreResult<Box<dyn WriteConn>>;
    /// Which backend, for logs and health.
    fn backend(&self) -> &'static str;
    /// The lock of a background job, held until released or dropped; `None` when another
    /// replica holds it now (PostgreSQL session advisory lock; always granted on SQLite,
    /// where one server process owns the database).
    async fn job_lock(&self, job: &str) -> StoreResult<Option<JobLock>>;
}

/// The reads of one connection or transaction. A read connection ([`Store::read`]) is
/// only this, so a write on it does not compile; a write transaction is a [`WriteConn`],
/// which reads too, so business logic decides on what it reads inside the transaction it
/// writes in. The statements live in `sql/`, one file per area.
#[async_trait]
pub trait ReadConn: Send {
    async fn ping(&mut self) -> StoreResult<()>;
    async fn kppn(&mut self, code: &str) -> StoreResult<Option<KppnRow>>;
    /// Every KPPN, by code.
    async fn kppns(&mut self) -> StoreResult<Vec<KppnRow>>;
    async fn satker(&mut self, code: &str) -> StoreResult<Option<SatkerRow>>;
    async fn satkers_in_scope(&mut self, scope: &ScopeFilter) -> StoreResult<Vec<SatkerRow>>;
    async fn account(&mut self, nik: &str) -> StoreResult<Option<AccountRow>>;
    async fn login_attempts(&mut self, nik: &str) -> StoreResult<Option<LoginAttemptRow>>;
    async fn session(&mut self, token_hash: &str) -> StoreResult<Option<SessionRow>>;
    async fn refresh(&mut self, token_hash: &str) -> StoreResult<Option<RefreshRow>>;
    async fn activation(&mut self, token_hash: &str) -> StoreResult<Option<ActivationRow>>;
    /// KPPN verifiers, not disabled, who have not signed in (or, never signed in, were
    /// created) since `cutoff`.
    async fn idle_verifiers(&mut self, cutoff: DateTime<Utc>) -> StoreResult<Vec<String>>;
    /// Whether this verifier is (still) idle, by the same rule.
    async fn is_verifier_idle(&mut self, nik: &str, cutoff: DateTime<Utc>) -> StoreResult<bool>;
    /// How many DIGIT lookups `actor_nik` made.
    async fn digit_lookups_by(&mut self, actor_nik: &str) -> StoreResult<i64>;
    /// Every KPPN verifier's account, by KPPN and name.
    async fn verifiers(&mut self) -> StoreResult<Vec<AccountRow>>;
    /// What was done to an account, oldest first.
    async fn account_audit(&mut self, nik: &str) -> StoreResult<Vec<AccountAuditRow>>;
    /// Unsent e-mails whose next attempt is due, oldest first.
    async fn due_mail(&mut self, now: DateTime<Utc>, limit: i64) -> StoreResult<Vec<MailRow>>;
    /// How many e-mails are not sent yet.
    async fn unsent_mail(&mut self) -> StoreResult<i64>;
    /// Password-reset requests not yet resolved: (request id, NIK), oldest first.
    async fn reset_requests(&mut self, limit: i64) -> StoreResult<Vec<(Uuid, String)>>;
    async fn membership(&mut self, id: Uuid) -> StoreResult<Option<MembershipRow>>;
    /// Non-deleted memberships of a person in a satker, oldest first.
    async fn memberships_of_person_in_satker(&mut self, nik: &str, satker: &str) -> StoreResult<Vec<MembershipRow>>;
    /// Non-deleted memberships of a person anywhere.
    async fn memberships_of_person(&mut self, nik: &str) -> StoreResult<Vec<MembershipRow>>;
    async fn list_memberships(&mut self, scope: &ScopeFilter, filter: &ListFilter) -> StoreResult<Vec<MembershipRow>>;
    /// Non-deleted memberships of a satker (re-sent in the feed when the satker moves).
    async fn memberships_of_satker(&mut self, satker: &str) -> StoreResult<Vec<MembershipRow>>;
    /// Accounts with active memberships whose last sign-in (or activation) is before `cutoff`.
    async fn dormancy_candidates(&mut self, cutoff: DateTime<Utc>) -> StoreResult<Vec<String>>;
    /// Whether this person is (still) due for dormancy, by the same rule.
    async fn is_dormancy_due(&mut self, nik: &str, cutoff: DateTime<Utc>) -> StoreResult<bool>;
    async fn history(&mut self, membership_id: Uuid) -> StoreResult<Vec<HistoryRow>>;
    async fn audit_of_person(&mut self, nik: &str, kppn_code: &str) -> StoreResult<Vec<AuditRow>>;
    async fn document(&mut self, id: Uuid) -> StoreResult<Option<DocumentRow>>;
    /// Whether any document row names this content.
    async fn document_referenced(&mut self, sha256: &str) -> StoreResult<bool>;
    /// Every content hash a document row names.
    async fn referenced_documents(&mut self) -> StoreResult<std::collections::HashSet<String>>;
    async fn changes(&mut self, scope: &ScopeFilter, after: i64, limit: i64) -> StoreResult<Vec<ChangeRow>>;
    /// How many changes in scope come after `after`.
    async fn count_changes(&mut self, scope: &ScopeFilter, after: i64) -> StoreResult<i64>;
    async fn idempotency(&mut self, nik: &str, key: &str) -> StoreResult<Option<IdempotencyRow>>;
    /// The public holidays of the reference data (`libur.csv`).
    async fn holidays(&mut self) -> StoreResult<BTreeSet<NaiveDate>>;
    /// Pending registrations (status 1), oldest first; in `scope`, or all.
    async fn pending_registrations(&mut self, scope: Option<&ScopeFilter>) -> StoreResult<Vec<MembershipRow>>;
    /// The Antrean flags last sent, by membership id.
    async fn queue_flags(&mut self) -> StoreResult<HashMap<String, QueueFlags>>;
    async fn deletion_request(&mut self, id: Uuid) -> StoreResult<Option<DeletionRequestRow>>;
    /// The open request for a membership, if any (at most one).
    async fn open_deletion_request(&mut self, membership_id: Uuid) -> StoreResult<Option<DeletionRequestRow>>;
    /// Requests in scope (all with `None`) and in `state` (any with `None`), oldest first.
    async fn deletion_requests(
        &mut self,
        scope: Option<&ScopeFilter>,
        state: Option<DeletionRequestState>,
    ) -> StoreResult<Vec<DeletionRequestRow>>;
}

/// A write transaction: every read, the writes, the locks, and commit. Nothing is visible
/// to others until [`WriteConn::commit`]; dropped uncommitted, it rolls back.
#[async_trait]
pub trait WriteConn: ReadConn {
    async fn commit(self: Box<Self>) -> StoreResult<()>;
    /// Takes a lock until the end of this write transaction (see [`LockKey`]).
    async fn lock(&mut self, key: LockKey<'_>) -> StoreResult<()>;
    async fn upsert_kppn(&mut self, row: &KppnRow) -> StoreResult<bool>;
    async fn upsert_satker(&mut self, code: &str, name: &str, kppn_code: &str) -> StoreResult<bool>;
    async fn insert_account(&mut self, row: &AccountRow) -> StoreResult<()>;
    async fn set_password(&mut self, nik: &str, hash: &str) -> StoreResult<()>;
    async fn set_account_email(&mut self, nik: &str, email: &str) -> StoreResult<()>;
    /// Disables (`Some(at)`) or enables (`None`) an account; `false` when there is none.
    async fn set_disabled(&mut self, nik: &str, at: Option<DateTime<Utc>>) -> StoreResult<bool>;
    async fn set_last_sign_in(&mut self, nik: &str, at: DateTime<Utc>) -> StoreResult<()>;
    /// A verifier's KPPN and supervisor mark; `false` when `nik` is no verifier.
    async fn set_verifier_kppn(&mut self, nik: &str, kppn_code: &str, supervisor: bool) -> StoreResult<bool>;
    async fn record_account_audit(&mut self, row: &AccountAuditRow) -> StoreResult<()>;
    /// Counts one failed sign-in in a single statement, so parallel failures each count:
    /// the count restarts after `window_start` or when an earlier lock has run out; the
    /// failure that reaches `max` sets `locked_until`; failures while locked keep counting
    /// and keep the lock. Returns the row as it now is.
    async fn record_login_failure(&mut self, nik: &str, failure: &LoginFailure) -> StoreResult<LoginAttemptRow>;
    async fn clear_login_attempts(&mut self, nik: &str) -> StoreResult<()>;
    /// The shared secret `name` of every replica: the stored one, or `fresh` when there was
    /// none (the first to ask sets it).
    async fn server_key(&mut self, name: &str, fresh: &str) -> StoreResult<String>;
    /// Spends a captcha's nonce: `false` when it was spent before (each challenge is
    /// answerable once).
    async fn spend_captcha(&mut self, nonce: &str, expires_at: DateTime<Utc>) -> StoreResult<bool>;
    /// Records that `actor_nik` looked up the DIGIT account of `nik`.
    async fn record_digit_lookup(&mut self, actor_nik: &str, nik: &str, found: bool, at: DateTime<Utc>) -> StoreResult<()>;
    async fn insert_session(&mut self, token_hash: &str, row: &SessionRow) -> StoreResult<()>;
    async fn insert_refresh(&mut self, token_hash: &str, row: &RefreshRow) -> StoreResult<()>;
    async fn mark_refresh_used(&mut self, token_hash: &str, at: DateTime<Utc>) -> StoreResult<bool>;
    async fn revoke_family(&mut self, family_id: &str, at: DateTime<Utc>) -> StoreResult<()>;
    async fn revoke_all_sessions_of(&mut self, nik: &str, at: DateTime<Utc>) -> StoreResult<()>;
    /// Ends every session family of a person but `keep_family` (a password change keeps
    /// the desk it was made on signed in).
    async fn revoke_other_sessions(&mut self, nik: &str, keep_family: &str, at: DateTime<Utc>) -> StoreResult<()>;
    async fn insert_activation(&mut self, token_hash: &str, row: &ActivationRow) -> StoreResult<()>;
    async fn use_activation(&mut self, token_hash: &str, at: DateTime<Utc>) -> StoreResult<bool>;
    /// Voids every unused link of `purpose` of a person (a newer one replaces them).
    async fn void_tokens(&mut self, nik: &str, purpose: TokenPurpose, at: DateTime<Utc>) -> StoreResult<u64>;
    /// Puts an e-mail in the outbox (sent after commit by the mail job).
    async fn queue_mail(&mut self, mail: &MailRow) -> StoreResult<()>;
    /// Claims an unsent, due e-mail for one attempt: counts the attempt and holds it until
    /// `lease_until`; `false` when another sender claimed it first.
    async fn claim_mail(&mut self, id: Uuid, now: DateTime<Utc>, lease_until: DateTime<Utc>) -> StoreResult<bool>;
    /// The e-mail went: marked sent, its body (which may hold a link) emptied.
    async fn mail_sent(&mut self, id: Uuid, at: DateTime<Utc>) -> StoreResult<()>;
    /// The attempt failed: the next one is due at `retry_at`.
    async fn mail_failed(&mut self, id: Uuid, error: &str, retry_at: DateTime<Utc>) -> StoreResult<()>;
    async fn insert_reset_request(&mut self, id: Uuid, nik: &str, at: DateTime<Utc>) -> StoreResult<()>;
    /// Removes a reset request; `false` when another job took it first.
    async fn take_reset_request(&mut self, id: Uuid) -> StoreResult<bool>;
    /// Inserts a new membership (a second live one of the person in the satker violates a
    /// unique index).
    async fn insert_membership(&mut self, row: &MembershipRow) -> StoreResult<()>;
    /// Writes a changed membership only if the stored one still has `expected_version`;
    /// `false` when someone else changed it first (nothing written).
    async fn update_membership(&mut self, row: &MembershipRow, expected_version: i64) -> StoreResult<bool>;
    async fn next_registration_seq(&mut self) -> StoreResult<i64>;
    async fn insert_history(&mut self, row: &HistoryRow) -> StoreResult<()>;
    async fn insert_audit(&mut self, row: &AuditRow) -> StoreResult<()>;
    async fn insert_document(&mut self, row: &DocumentRow) -> StoreResult<()>;
    /// Appends changes with consecutive new `seq` numbers. Call last before commit: it
    /// takes the counter row's lock, after which each change's KPPN is read from the
    /// satkers table, so a change appended after a reload that moved its satker is
    /// already the new KPPN's.
    async fn append_changes(&mut self, changes: &[NewChange], at: DateTime<Utc>) -> StoreResult<()>;
    /// Gives every change of a satker (but `satker_removed`) the satker's current KPPN.
    /// Call after [`WriteConn::append_changes`] in the reload that moved it: holding the counter
    /// lock, it sees every change committed before and none can be appended meanwhile.
    async fn rescope_changes(&mut self, satker: &str) -> StoreResult<u64>;
    async fn save_idempotency(&mut self, nik: &str, key: &str, row: &IdempotencyRow, at: DateTime<Utc>) -> StoreResult<()>;
    async fn purge_expired(&mut self, now: DateTime<Utc>) -> StoreResult<()>;
    /// Removes up to `limit` change-feed entries that a later entry of the same entity
    /// supersedes, so a fresh pull gets each entity's latest state only. Returns how many.
    async fn compact_changes(&mut self, limit: i64) -> StoreResult<u64>;
    /// Claims a round of a background job: true (and `started_at` set to `now`) unless a
    /// round started after `due_before`, i.e. another replica ran it this interval.
    async fn claim_job(&mut self, job: &str, now: DateTime<Utc>, due_before: DateTime<Utc>) -> StoreResult<bool>;
    async fn finish_job(&mut self, job: &str, now: DateTime<Utc>) -> StoreResult<()>;
    /// Replaces the public holidays.
    async fn replace_holidays(&mut self, days: &[NaiveDate]) -> StoreResult<()>;
    async fn set_queue_flags(&mut self, membership_id: &str, flags: QueueFlags) -> StoreResult<()>;
    /// A unique violation when the membership already has an open request.
    async fn insert_deletion_request(&mut self, row: &DeletionRequestRow) -> StoreResult<()>;
    /// Writes `row`'s closing (state, decision, version) if the request is still open.
    async fn close_deletion_request(&mut self, row: &DeletionRequestRow) -> StoreResult<bool>;
    async fn forget_queue_flags(&mut self, membership_id: &str) -> StoreResult<()>;
    /// Claims the daily e-mail `kind` of `kppn` on `day` (`YYYY-MM-DD`); `false` when it was
    /// claimed before (by this round, an earlier one or another replica).
    async fn claim_reminder(&mut self, kppn: &str, day: &str, kind: &str) -> StoreResult<bool>;
    /// Moves a membership's creation time (the demo's requests that have waited days).
    async fn backdate_membership(&mut self, id: Uuid, created_at: DateTime<Utc>) -> StoreResult<()>;
}

/// One failed sign-in, for [`WriteConn::record_login_failure`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginFailure {
    pub at: DateTime<Utc>,
    /// Failures before this moment no longer count.
    pub window_start: DateTime<Utc>,
    /// The failure that reaches this count locks the NIK.
    pub max_failures: i64,
    pub lock_until: DateTime<Utc>,
}
