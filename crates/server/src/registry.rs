//! The registry of memberships: registering, deciding, deactivating, reactivating,
//! deleting, and the dormancy job. Every rule comes from `myintress_core`; this module
//! applies its decisions inside one transaction with the history, the audit trail, the
//! change feed and the idempotency record.
//!
//! The concurrency rule: a transaction that changes a person's memberships first takes
//! [`LockKey::Person`], then reads (so it decides on the state every earlier change left),
//! re-derives the caller's scope, and writes each changed row with the version it read as
//! a guard. On PostgreSQL the lock is an advisory lock held to commit, so two verifiers
//! deciding one request, a replacement racing a decision, or parallel registrations of one
//! person take turns; on SQLite the single writer already does that. A letter or decree is
//! stored only after every check and authorization passed, inside that transaction.

use chrono::{DateTime, Utc};
use myintress_core::api::{ChangeKind, ContactCorrection, LetterCheck, Membership, Role, Satker};
use myintress_core::contact::{Email, PhoneNumber};
use myintress_core::error::{Coded, ErrorCode};
use myintress_core::pdf::PdfReport;
use myintress_core::registration::{DeletionForm, RegistrationEffect, RegistrationForm};
use myintress_core::reregistration::{Registration, RowFacts, decide_registration, is_visible};
use myintress_core::scope::Scope;
use myintress_core::status::{self, Action, Actor, Event, Outcome, Route, Status, TransitionError};
use myintress_core::text::Reason;
use uuid::Uuid;

use crate::error::{ApiError, SESSION_EXPIRED};
use crate::idempotency::{Idempotency, StoredAnswer};
use crate::state::AppState;
use crate::store::{
    AccountRow, ActivationRow, AuditRow, DocumentKind, DocumentRow, HistoryRow, LockKey, MembershipRow, NewChange, ReadConn, SatkerRow,
    ScopeFilter, TokenPurpose, WriteConn,
};

/// Who is calling, resolved from the session.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account: AccountRow,
    pub role: Role,
    /// The satkers this caller sees (for SQL filters).
    pub filter: ScopeFilter,
    /// The same scope in the core's terms (for rule checks).
    pub scope: Scope,
    pub family_id: String,
}

impl Caller {
    /// An account's role and scope as the store holds them now; `None` when the account
    /// gives no access (a satker user without an active membership).
    pub async fn resolve(conn: &mut dyn ReadConn, account: AccountRow, family_id: String) -> Result<Option<Caller>, ApiError> {
        if account.disabled_at.is_some() {
            return Ok(None);
        }
        if account.role == Role::Admin {
            return Ok(None);
        }
        let (role, filter, scope) = if account.role == Role::Kppn {
            let kppn = account.kppn_code.clone().unwrap_or_default();
            let Ok(code) = myintress_core::text::KppnCode::parse(&kppn) else { return Ok(None) };
            (Role::Kppn, ScopeFilter::Kppn(kppn), Scope::Kppn { kppn_code: code })
        } else {
            let active: Vec<myintress_core::text::SatkerCode> = conn
                .memberships_of_person(&account.nik)
                .await?
                .iter()
                .filter(|m| m.status == Status::Active)
                .filter_map(|m| myintress_core::text::SatkerCode::parse(&m.satker_code).ok())
                .collect();
            if active.is_empty() {
                return Ok(None);
            }
            (Role::Satker, ScopeFilter::ActiveIn(account.nik.clone()), Scope::Satker { active_satkers: active })
        };
        Ok(Some(Caller { account, role, filter, scope, family_id }))
    }

    /// The same caller read again inside a write transaction: a change is decided on the
    /// caller's scope at the moment of writing, not when the request arrived.
    pub async fn refreshed(&self, tx: &mut dyn WriteConn) -> Result<Caller, ApiError> {
        let account = tx.account(&self.account.nik).await?.ok_or(SESSION_EXPIRED)?;
        Caller::resolve(tx, account, self.family_id.clone()).await?.ok_or(SESSION_EXPIRED)
    }

    pub fn actor(&self) -> Actor {
        self.scope.actor()
    }

    pub fn covers(&self, satker: &SatkerRow) -> bool {
        match (&self.scope, myintress_core::text::SatkerCode::parse(&satker.code), myintress_core::text::KppnCode::parse(&satker.kppn_code))
        {
            (scope, Ok(code), Ok(kppn)) => scope.covers(&code, &kppn),
            _ => false,
        }
    }
}

/// Per-request facts every change records.
#[derive(Debug, Clone)]
pub struct RequestCtx {
    pub request_id: String,
    pub idempotency: Option<Idempotency>,
}

/// What a write did: made something new, changed what was there, or nothing, because the
/// request's `Idempotency-Key` was used before (the first answer is sent again).
#[derive(Debug)]
pub enum Written<T> {
    Created(T),
    Updated(T),
    Replayed(StoredAnswer),
}

/// The first answer again when the request's `Idempotency-Key` was used before.
async fn replayed(conn: &mut dyn ReadConn, ctx: &RequestCtx) -> Result<Option<StoredAnswer>, ApiError> {
    match &ctx.idempotency {
        Some(idem) => idem.replay(conn).await,
        None => Ok(None),
    }
}

pub fn to_api(row: &MembershipRow) -> Membership {
    let status = row.status;
    Membership {
        id: row.id,
        nik: row.nik.clone(),
        name: row.name.clone(),
        nip: row.nip.clone(),
        phone: row.phone.clone(),
        email: row.email.clone(),
        satker_code: row.satker_code.clone(),
        status,
        status_label: status.label().to_owned(),
        letter_number: row.letter_number.clone(),
        letter_document_id: row.letter_document_id,
        rejection_reason: row.rejection_reason.clone(),
        route: row.route,
        ticket_number: row.ticket_number.clone(),
        version: row.version,
        created_at: row.created_at,
        updated_at: row.updated_at,
        decided_at: row.decided_at,
        decided_by: row.decided_by.clone(),
        listed: row.listed,
        letter_check: row.letter_check.as_deref().and_then(|j| serde_json::from_str(j).ok()),
    }
}

pub fn satker_to_api(row: &SatkerRow) -> Satker {
    Satker { code: row.code.clone(), name: row.name.clone(), kppn_code: row.kppn_code.clone(), kppn_name: row.kppn_name.clone() }
}

/// The change-feed entry of a membership as it now is (its removal once deleted).
pub fn membership_change(row: &MembershipRow) -> NewChange {
    if row.deleted_at.is_some() {
        NewChange {
            kind: ChangeKind::MembershipRemoved,
            entity_id: row.id.to_string(),
            satker_code: row.satker_code.clone(),
            addressed_to: None,
            entity: serde_json::json!({ "id": row.id, "satker_code": row.satker_code }),
        }
    } else {
        NewChange {
            kind: ChangeKind::Membership,
            entity_id: row.id.to_string(),
            satker_code: row.satker_code.clone(),
            addressed_to: None,
            entity: serde_json::to_value(to_api(row)).expect("membership serialises"),
        }
    }
}

/// Everything one write transaction changes, recorded together.
pub(crate) struct Changeset<'a> {
    pub caller_nik: Option<String>,
    pub caller_name: String,
    pub satker: &'a SatkerRow,
    pub ctx: &'a RequestCtx,
    pub now: DateTime<Utc>,
    pub changes: Vec<NewChange>,
    /// Whose memberships changed: their remembered sessions are forgotten on commit (a
    /// satker user's scope is their active memberships).
    pub persons: Vec<String>,
}

impl<'a> Changeset<'a> {
    /// An empty changeset of a person's request.
    pub(crate) fn by(caller: &Caller, satker: &'a SatkerRow, ctx: &'a RequestCtx, now: DateTime<Utc>) -> Changeset<'a> {
        Changeset {
            caller_nik: Some(caller.account.nik.clone()),
            caller_name: caller.account.name.clone(),
            satker,
            ctx,
            now,
            changes: Vec::new(),
            persons: Vec::new(),
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn record(
        &mut self,
        tx: &mut dyn WriteConn,
        row: &MembershipRow,
        event: Event,
        from: Option<Status>,
        reason: Option<&str>,
        document: Option<Uuid>,
        detail: serde_json::Value,
    ) -> Result<(), ApiError> {
        let to = if row.deleted_at.is_some() { None } else { Some(row.status) };
        tx.insert_history(&HistoryRow {
            membership_id: row.id,
            version: row.version,
            at: self.now,
            event: event.clone(),
            from_status: from,
            to_status: to,
            actor_nik: self.caller_nik.clone(),
            actor_name: self.caller_name.clone(),
            reason: reason.map(str::to_owned),
            letter_number: event.brings_letter().then(|| row.letter_number.clone()),
            document_id: document,
        })
        .await?;
        tx.insert_audit(&AuditRow {
            id: 0,
            at: self.now,
            actor_nik: self.caller_nik.clone(),
            actor_name: self.caller_name.clone(),
            event,
            membership_id: row.id,
            nik: row.nik.clone(),
            satker_code: row.satker_code.clone(),
            kppn_code: self.satker.kppn_code.clone(),
            from_status: from,
            to_status: to,
            reason: reason.map(str::to_owned),
            request_id: self.ctx.request_id.clone(),
            detail: detail.to_string(),
        })
        .await?;
        self.changes.push(membership_change(row));
        if !self.persons.contains(&row.nik) {
            self.persons.push(row.nik.clone());
        }
        Ok(())
    }

    /// Re-applies the *Daftar Pengguna* visibility rule to all of the person's rows in
    /// the satker; rows whose visibility flips get a new version and a change entry.
    async fn refresh_visibility(&mut self, tx: &mut dyn WriteConn, nik: &str) -> Result<(), ApiError> {
        let rows = tx.memberships_of_person_in_satker(nik, &self.satker.code).await?;
        let facts: Vec<RowFacts<i64>> =
            rows.iter().map(|r| RowFacts { status: r.status, registered: r.registered_seq, ever_active: r.ever_active }).collect();
        for (row, fact) in rows.iter().zip(&facts) {
            let visible = is_visible(fact, &facts);
            if visible != row.listed {
                let mut updated = row.clone();
                updated.listed = visible;
                updated.version += 1;
                updated.updated_at = self.now;
                update_guarded(tx, &updated, row.version).await?;
                // Replace an earlier change of the same row in this transaction.
                self.changes.retain(|c| c.entity_id != updated.id.to_string());
                self.changes.push(membership_change(&updated));
            }
        }
        Ok(())
    }

    /// Saves the idempotency record (`status` and `body` are the answer a retry gets), the
    /// change feed entries, commits, and forgets the remembered sessions of the persons
    /// whose memberships changed.
    pub(crate) async fn finish(self, state: &AppState, mut tx: Box<dyn WriteConn>, status: u16, body: &str) -> Result<(), ApiError> {
        if let Some(idem) = &self.ctx.idempotency {
            idem.save(tx.as_mut(), status, body).await?;
        }
        tx.append_changes(&self.changes, self.now).await?;
        tx.commit().await?;
        for nik in &self.persons {
            state.sessions.forget_person(nik);
        }
        Ok(())
    }
}

/// A membership the caller may see; anything else is 404.
pub async fn membership_in_scope(conn: &mut dyn ReadConn, caller: &Caller, id: Uuid) -> Result<(MembershipRow, SatkerRow), ApiError> {
    let row = conn.membership(id).await?.ok_or(ApiError::NotFound)?;
    let satker = conn.satker(&row.satker_code).await?.ok_or(ApiError::NotFound)?;
    if !caller.covers(&satker) {
        return Err(ApiError::NotFound);
    }
    Ok((row, satker))
}

/// Writes a changed membership if nobody changed it since it was read at
/// `expected_version`; otherwise answers `version_conflict` with the membership as it now
/// is. Under the person lock this cannot happen between the registry's own writes; the
/// guard is what keeps any other writer from being overwritten silently.
async fn update_guarded(tx: &mut dyn WriteConn, row: &MembershipRow, expected_version: i64) -> Result<(), ApiError> {
    if tx.update_membership(row, expected_version).await? {
        return Ok(());
    }
    match tx.membership(row.id).await? {
        Some(current) => Err(ApiError::with_membership(ErrorCode::VersionConflict, to_api(&current))),
        None => Err(ApiError::NotFound),
    }
}

/// A PDF that passed the letter check, held in memory until a transaction stores it.
pub struct CheckedPdf {
    pub bytes: Vec<u8>,
    pub sha256: String,
    pub report: PdfReport,
}

impl CheckedPdf {
    pub fn new(bytes: Vec<u8>, report: PdfReport) -> CheckedPdf {
        let sha256 = crate::documents::sha256_hex(&bytes);
        CheckedPdf { bytes, sha256, report }
    }
}

/// Stores a checked PDF (`letter` or `decree`) of a satker in the document store and
/// records it; returns its new id. Called inside the write transaction once everything
/// was checked and authorized, so a refused request stores nothing. The document lock
/// keeps the garbage collector from removing the same content meanwhile; a transaction
/// that fails after this leaves an unreferenced object, which the collector removes.
pub(crate) async fn store_document(
    state: &AppState,
    tx: &mut dyn WriteConn,
    pdf: &CheckedPdf,
    kind: DocumentKind,
    satker: &str,
    now: DateTime<Utc>,
) -> Result<Uuid, ApiError> {
    tx.lock(LockKey::Document(&pdf.sha256)).await?;
    state.documents.put(&pdf.sha256, &pdf.bytes).await?;
    let id = Uuid::new_v4();
    tx.insert_document(&DocumentRow {
        id,
        sha256: pdf.sha256.clone(),
        size: pdf.bytes.len() as i64,
        pages: pdf.report.pages as i64,
        kind,
        satker_code: satker.to_owned(),
        created_at: now,
    })
    .await?;
    Ok(id)
}

/// A registration's result: the membership, created or replacing a pending request.
#[derive(Debug)]
pub struct Registered {
    pub membership: Membership,
    /// A DIGIT account was created, and its activation e-mail queued with the change.
    pub account_created: bool,
}

/// Registers a person in a satker, after the form, the scope, the letter and the civil
/// registry were checked by the caller of this function. Inside the transaction the
/// person's lock is taken, then the caller's scope and the satker are read again and the
/// re-registration rule decided on the rows as they are now; only then is the letter
/// stored.
pub async fn register(
    state: &AppState,
    caller: &Caller,
    form: &RegistrationForm,
    letter: &CheckedPdf,
    ctx: &RequestCtx,
) -> Result<Written<Registered>, ApiError> {
    let now = Utc::now();
    let nik = form.nik.as_str();
    let mut tx = state.store.write().await?;
    tx.lock(LockKey::Person(nik)).await?;
    if let Some(replay) = replayed(tx.as_mut(), ctx).await? {
        return Ok(Written::Replayed(replay));
    }
    let caller = caller.refreshed(tx.as_mut()).await?;
    let satker = registration_satker(tx.as_mut(), &caller, form.satker_code.as_str()).await?;
    let route = caller.scope.route();

    // Satker operators: active in this satker at the moment of writing (guide B.1.b).
    if route == Route::Satker {
        let own = tx.memberships_of_person_in_satker(&caller.account.nik, &satker.code).await?;
        let own_status = own.iter().map(|m| m.status).find(|s| *s == Status::Active);
        status::may_self_register(own_status).map_err(ApiError::code)?;
    }

    let existing = tx.memberships_of_person_in_satker(nik, &satker.code).await?;
    let pairs: Vec<(Uuid, Status)> = existing.iter().map(|r| (r.id, r.status)).collect();
    let decision = decide_registration(&pairs).map_err(ApiError::code)?;
    let registered_seq = match decision {
        Registration::New => Some(tx.next_registration_seq().await?),
        Registration::ReplacePending(_) => None,
    };

    // Everything was checked and authorized: now the letter is stored.
    let document_id = store_document(state, tx.as_mut(), letter, DocumentKind::Letter, &satker.code, now).await?;

    let effect = form.effect(route);
    let by = caller.account.name.clone();
    let mut changeset = Changeset::by(&caller, &satker, ctx, now);
    let detail = serde_json::json!({ "route": route.as_str(), "document_id": document_id, "pages": letter.report.pages });
    // The letter's signatures judged against the trust list in force now, kept with it.
    let letter_check = LetterCheck::of(&letter.report, &state.trust.list);
    let letter_check = serde_json::to_string(&letter_check).map_err(anyhow::Error::from)?;

    let (row, created) = match decision {
        Registration::New => {
            let blank = MembershipRow {
                id: Uuid::new_v4(),
                nik: String::new(),
                satker_code: String::new(),
                name: String::new(),
                nip: None,
                phone: String::new(),
                email: String::new(),
                status: effect.status,
                letter_number: String::new(),
                letter_document_id: document_id,
                rejection_reason: None,
                route,
                ticket_number: None,
                version: 1,
                created_at: now,
                updated_at: now,
                decided_at: None,
                decided_by: None,
                ever_active: false,
                listed: true,
                activated_at: None,
                deleted_at: None,
                registered_seq: registered_seq.expect("allocated for a new row"),
                letter_check: None,
            };
            let row = registered_row(&blank, &effect, (document_id, &letter_check), now, &by);
            tx.insert_membership(&row).await?;
            changeset.record(tx.as_mut(), &row, Event::Register, None, None, Some(document_id), detail).await?;
            (row, true)
        }
        Registration::ReplacePending(id) => {
            let old = existing.iter().find(|r| r.id == id).expect("decided from these rows").clone();
            let mut row = registered_row(&old, &effect, (document_id, &letter_check), now, &by);
            row.version += 1;
            update_guarded(tx.as_mut(), &row, old.version).await?;
            changeset.record(tx.as_mut(), &row, Event::Replace, Some(old.status), None, Some(document_id), detail).await?;
            (row, false)
        }
    };
    changeset.refresh_visibility(tx.as_mut(), nik).await?;
    let row = tx.membership(row.id).await?.unwrap_or(row);

    // The person's DIGIT account: created when missing, with a single-use activation link
    // mailed through the outbox in this transaction. An existing account keeps its e-mail:
    // a registration never changes whose account it is.
    let account_created = tx.account(nik).await?.is_none();
    if account_created {
        tx.insert_account(&AccountRow {
            nik: nik.to_owned(),
            name: form.name.as_str().to_owned(),
            email: form.email.as_str().to_owned(),
            nip: form.nip.as_ref().map(|n| n.as_str().to_owned()),
            password_hash: None,
            role: Role::Satker,
            kppn_code: None,
            created_at: now,
            last_sign_in_at: None,
            disabled_at: None,
            supervisor: false,
        })
        .await?;
        queue_activation(state, tx.as_mut(), nik, form.name.as_str(), form.email.as_str(), now).await?;
    }

    let membership = to_api(&row);
    let body = serde_json::to_string(&membership).map_err(anyhow::Error::from)?;
    changeset.finish(state, tx, if created { 201 } else { 200 }, &body).await?;
    if account_created {
        state.mail_wake.notify_one();
    }
    let registered = Registered { membership, account_created };
    Ok(if created { Written::Created(registered) } else { Written::Updated(registered) })
}

/// A new single-use activation link for `nik` (earlier unused ones stop working), mailed to
/// `email` through the outbox of this transaction.
pub async fn queue_activation(
    state: &AppState,
    tx: &mut dyn WriteConn,
    nik: &str,
    name: &str,
    email: &str,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    tx.void_tokens(nik, TokenPurpose::Activation, now).await?;
    let token = crate::credentials::new_token();
    let expires_at = now + chrono::Duration::hours(state.settings.activation_hours);
    let row = ActivationRow { nik: nik.to_owned(), expires_at, used_at: None, purpose: TokenPurpose::Activation };
    tx.insert_activation(&crate::credentials::token_hash(&token), &row).await?;
    let link = format!("{}/activate/{token}", state.settings.public_url());
    tx.queue_mail(&crate::mail::activation(name, email, &link, state.settings.activation_hours, now)).await?;
    Ok(())
}

/// `base` as a registration leaves it: the membership's fields as core's
/// [`RegistrationEffect`] writes them (the same function builds the desktop's offline view),
/// the stored letter, and the server's own record of an activation.
fn registered_row(
    base: &MembershipRow,
    effect: &RegistrationEffect,
    (letter, letter_check): (Uuid, &str),
    now: DateTime<Utc>,
    by: &str,
) -> MembershipRow {
    let mut view = to_api(base);
    effect.apply(&mut view, now, by);
    let Membership {
        nik,
        satker_code,
        name,
        nip,
        phone,
        email,
        status,
        letter_number,
        route,
        ticket_number,
        updated_at,
        decided_at,
        decided_by,
        ..
    } = view;
    MembershipRow {
        nik,
        satker_code,
        name,
        nip,
        phone,
        email,
        status,
        letter_number,
        route,
        ticket_number,
        updated_at,
        decided_at,
        decided_by,
        letter_document_id: letter,
        letter_check: Some(letter_check.to_owned()),
        ever_active: base.ever_active || effect.decided,
        activated_at: if effect.decided { Some(now) } else { base.activated_at },
        ..base.clone()
    }
}

/// The satker of a registration, if the caller may register for it: a satker that does
/// not exist and one out of scope read the same (`satker_out_of_scope`).
pub async fn registration_satker(conn: &mut dyn ReadConn, caller: &Caller, code: &str) -> Result<SatkerRow, ApiError> {
    let satker = conn.satker(code).await?.ok_or(ApiError::code(ErrorCode::SatkerOutOfScope))?;
    let kppn = myintress_core::text::KppnCode::parse(&satker.kppn_code).map_err(|e| ApiError::Internal(anyhow::anyhow!("{e}")))?;
    let satker_code = myintress_core::text::SatkerCode::parse(&satker.code).map_err(|e| ApiError::Internal(anyhow::anyhow!("{e}")))?;
    caller.scope.may_register_for(&satker_code, &kppn).map_err(ApiError::code)?;
    Ok(satker)
}

/// What an action on an existing membership carries besides its kind.
pub struct ActionInput {
    pub action: Action,
    pub if_match: Option<i64>,
    pub reason: Option<Reason>,
    pub deletion: Option<(DeletionForm, CheckedPdf)>,
    /// The bulk decision this one is part of (recorded in the audit entry's detail).
    pub batch: Option<Uuid>,
}

/// An action the caller may take on a membership as the store holds it now.
pub struct Authorized {
    pub row: MembershipRow,
    pub satker: SatkerRow,
    pub to: Outcome,
}

/// Whether `caller` may take `action` on membership `id`: out of scope is 404, a wrong
/// role 403, a stale `If-Match` 409 (`request_superseded` when a newer submission replaced
/// the request), a status that forbids the action 409. Run before any work on the
/// request's body (the deletion's decree is checked only after this), and again inside
/// the write transaction.
pub async fn authorize(
    conn: &mut dyn ReadConn,
    caller: &Caller,
    id: Uuid,
    action: Action,
    if_match: Option<i64>,
) -> Result<Authorized, ApiError> {
    let (row, satker) = membership_in_scope(conn, caller, id).await?;
    // Decided on the version the person saw, always (after the scope check: a missing
    // header tells nothing about a membership out of reach).
    let Some(expected) = if_match else { return Err(ApiError::code(ErrorCode::PreconditionRequired)) };
    if expected != row.version {
        let history = conn.history(row.id).await?;
        let superseded = history.iter().any(|h| h.event == Event::Replace && h.version > expected);
        let code = if superseded { ErrorCode::RequestSuperseded } else { ErrorCode::VersionConflict };
        return Err(ApiError::with_membership(code, to_api(&row)));
    }
    let own = row.nik == caller.account.nik;
    let transition = status::decide(caller.actor(), action, row.status, own).map_err(|e| match e {
        TransitionError::WrongRole(_) => ApiError::Forbidden,
        TransitionError::SelfDeactivation => ApiError::code(e.code()),
        TransitionError::InvalidTransition { .. } => ApiError::with_membership(e.code(), to_api(&row)),
    })?;
    Ok(Authorized { row, satker, to: transition.to })
}

/// A write transaction on membership `id`'s person, opened as every change of an existing
/// membership opens it; or the first answer again when the request's `Idempotency-Key`
/// was used before.
pub(crate) enum Opened {
    Replayed(StoredAnswer),
    Locked { tx: Box<dyn WriteConn>, caller: Box<Caller> },
}

/// Opens a write on membership `id`: the person's lock taken (a membership that does not
/// exist is 404; one out of scope is left for the caller's scope check after the lock,
/// since taking it reveals nothing), the idempotency key checked before the lock and after
/// it (a concurrent request with the key may have committed meanwhile), and the caller read
/// again inside the transaction.
pub(crate) async fn open_person_write(state: &AppState, caller: &Caller, id: Uuid, ctx: Option<&RequestCtx>) -> Result<Opened, ApiError> {
    let mut tx = state.store.write().await?;
    if let Some(ctx) = ctx
        && let Some(replay) = replayed(tx.as_mut(), ctx).await?
    {
        return Ok(Opened::Replayed(replay));
    }
    let nik = tx.membership(id).await?.ok_or(ApiError::NotFound)?.nik;
    tx.lock(LockKey::Person(&nik)).await?;
    if let Some(ctx) = ctx
        && let Some(replay) = replayed(tx.as_mut(), ctx).await?
    {
        return Ok(Opened::Replayed(replay));
    }
    let caller = caller.refreshed(tx.as_mut()).await?;
    Ok(Opened::Locked { tx, caller: Box::new(caller) })
}

/// Approve, reject, deactivate, reactivate or delete one membership.
pub async fn act(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    input: ActionInput,
    ctx: &RequestCtx,
) -> Result<Written<Membership>, ApiError> {
    let now = Utc::now();
    let (mut tx, caller) = match open_person_write(state, caller, id, Some(ctx)).await? {
        Opened::Replayed(replay) => return Ok(Written::Replayed(replay)),
        Opened::Locked { tx, caller } => (tx, *caller),
    };
    let Authorized { row, satker, to } = authorize(tx.as_mut(), &caller, id, input.action, input.if_match).await?;
    let from = row.status;
    if input.action.requires_reason() && input.reason.is_none() && input.deletion.is_none() {
        return Err(ApiError::field("reason", ErrorCode::ReasonRequired));
    }

    let mut updated = row.clone();
    updated.version += 1;
    updated.updated_at = now;
    let mut reason = input.reason.as_ref().map(|r| r.as_str().to_owned());
    let mut document = None;
    let mut detail = serde_json::json!({});
    match to {
        Outcome::Status(to) => {
            updated.status = to;
            match input.action {
                Action::Approve | Action::Reject => {
                    updated.decided_at = Some(now);
                    updated.decided_by = Some(caller.account.name.clone());
                }
                _ => {}
            }
            if input.action == Action::Reject {
                updated.rejection_reason = reason.clone();
            }
            if to == Status::Active {
                updated.ever_active = true;
                updated.activated_at = Some(now);
            }
        }
        Outcome::Removed => {
            let (form, pdf) = input.deletion.as_ref().ok_or_else(|| ApiError::field("decree", ErrorCode::FieldRequired))?;
            let document_id = store_document(state, tx.as_mut(), pdf, DocumentKind::Decree, &satker.code, now).await?;
            updated.deleted_at = Some(now);
            updated.listed = false;
            reason = Some(form.reason.as_str().to_owned());
            document = Some(document_id);
            detail = serde_json::json!({ "decree_number": form.decree_number.as_str(), "decree_document_id": document_id });
        }
    }
    update_guarded(tx.as_mut(), &updated, row.version).await?;
    if let Some(batch) = input.batch {
        detail["batch_id"] = serde_json::json!(batch);
    }

    let mut changeset = Changeset::by(&caller, &satker, ctx, now);
    changeset.record(tx.as_mut(), &updated, Event::from(input.action), Some(from), reason.as_deref(), document, detail).await?;
    if to == Outcome::Removed
        && let Some(closed) = crate::deletions::close_on_delete(tx.as_mut(), id, &caller.account.name, now).await?
    {
        changeset.changes.push(closed);
    }
    changeset.refresh_visibility(tx.as_mut(), &row.nik).await?;
    end_sessions_without_access(tx.as_mut(), &row.nik, now).await?;
    // The registered person hears the KPPN's decision (with the reason of a rejection).
    let decided = matches!(input.action, Action::Approve | Action::Reject);
    if decided {
        let rejection = (input.action == Action::Reject).then(|| reason.clone().unwrap_or_default());
        let satker_label = format!("{} {}", satker.code, satker.name);
        tx.queue_mail(&crate::mail::decision(&updated.name, &updated.email, &satker_label, rejection.as_deref(), now)).await?;
    }

    let current = tx.membership(id).await?.unwrap_or(updated);
    let membership = to_api(&current);
    let body = serde_json::to_string(&membership).map_err(anyhow::Error::from)?;
    changeset.finish(state, tx, 200, &body).await?;
    if decided {
        state.mail_wake.notify_one();
    }
    Ok(Written::Updated(membership))
}

/// A KPPN verifier corrects a person's phone or e-mail on a membership in scope (guarded
/// by `If-Match`), recorded in the history, the audit trail and the change feed. A new
/// e-mail becomes the account's too: an account without a password gets a new activation
/// link there (older links stop working); one with a password gets a notice at both the
/// old and the new address.
pub async fn correct_contact(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    if_match: Option<i64>,
    input: &ContactCorrection,
    ctx: &RequestCtx,
) -> Result<Written<Membership>, ApiError> {
    let now = Utc::now();
    // The fields first: nothing is read or locked for a form that cannot be right.
    let mut errors = Vec::new();
    let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned);
    let phone = given(&input.phone).and_then(|p| PhoneNumber::parse(&p).map_err(|e| errors.push(e.for_field("phone"))).ok());
    let email = given(&input.email).and_then(|e| Email::parse(&e).map_err(|err| errors.push(err.for_field("email"))).ok());
    if !errors.is_empty() {
        return Err(ApiError::Fields(errors));
    }

    let (mut tx, caller) = match open_person_write(state, caller, id, Some(ctx)).await? {
        Opened::Replayed(replay) => return Ok(Written::Replayed(replay)),
        Opened::Locked { tx, caller } => (tx, *caller),
    };
    let (row, satker) = membership_in_scope(tx.as_mut(), &caller, id).await?;
    let nik = row.nik.clone();
    if caller.role != Role::Kppn || row.deleted_at.is_some() {
        return Err(ApiError::Forbidden);
    }
    let Some(expected) = if_match else { return Err(ApiError::code(ErrorCode::PreconditionRequired)) };
    if expected != row.version {
        return Err(ApiError::with_membership(ErrorCode::VersionConflict, to_api(&row)));
    }

    let mut updated = row.clone();
    if let Some(phone) = &phone {
        updated.phone = phone.as_e164().to_owned();
    }
    if let Some(email) = &email {
        updated.email = email.as_str().to_owned();
    }
    let changed = updated.phone != row.phone || updated.email != row.email;
    if changed {
        updated.version += 1;
        updated.updated_at = now;
        update_guarded(tx.as_mut(), &updated, row.version).await?;
    }
    let mut changeset = Changeset::by(&caller, &satker, ctx, now);
    let mut mailed = false;
    if changed {
        let detail = serde_json::json!({
            "phone_changed": updated.phone != row.phone,
            "email_changed": updated.email != row.email,
        });
        changeset.record(tx.as_mut(), &updated, Event::ContactCorrected, Some(row.status), None, None, detail).await?;
        // The account follows the corrected address.
        if let Some(account) = tx.account(&nik).await?
            && updated.email != account.email
            && updated.email != row.email
        {
            tx.set_account_email(&nik, &updated.email).await?;
            if account.password_hash.is_none() {
                queue_activation(state, tx.as_mut(), &nik, &account.name, &updated.email, now).await?;
            } else {
                for to in [&account.email, &updated.email] {
                    tx.queue_mail(&crate::mail::contact_notice(&account.name, to, &account.email, &updated.email, now)).await?;
                }
            }
            mailed = true;
        }
    }
    let membership = to_api(&updated);
    let body = serde_json::to_string(&membership).map_err(anyhow::Error::from)?;
    changeset.finish(state, tx, 200, &body).await?;
    if mailed {
        state.mail_wake.notify_one();
    }
    Ok(Written::Updated(membership))
}

/// A KPPN verifier sends a person a new activation link (to the account's e-mail; older
/// links stop working). `already_activated` when the account has a password.
pub async fn resend_activation(state: &AppState, caller: &Caller, id: Uuid) -> Result<(), ApiError> {
    let now = Utc::now();
    let (mut tx, caller) = match open_person_write(state, caller, id, None).await? {
        Opened::Replayed(_) => unreachable!("no idempotency key, nothing to replay"),
        Opened::Locked { tx, caller } => (tx, *caller),
    };
    let (row, _) = membership_in_scope(tx.as_mut(), &caller, id).await?;
    let nik = row.nik.clone();
    if caller.role != Role::Kppn || row.deleted_at.is_some() {
        return Err(ApiError::Forbidden);
    }
    let account = tx.account(&nik).await?.ok_or(ApiError::NotFound)?;
    if account.password_hash.is_some() {
        return Err(ApiError::code(ErrorCode::AlreadyActivated));
    }
    queue_activation(state, tx.as_mut(), &nik, &account.name, &account.email, now).await?;
    tx.commit().await?;
    state.mail_wake.notify_one();
    Ok(())
}

/// Why an account gives no access (disabled, or a satker user without an active
/// membership: pending, rejected, dormant or deactivated), or `None` when it does.
pub async fn access_refused(conn: &mut dyn ReadConn, account: &AccountRow) -> Result<Option<ErrorCode>, ApiError> {
    if account.disabled_at.is_some() {
        return Ok(Some(ErrorCode::AccountDisabled));
    }
    if account.role != Role::Satker {
        return Ok(None);
    }
    let statuses: Vec<Status> = conn.memberships_of_person(&account.nik).await?.iter().map(|m| m.status).collect();
    Ok(status::sign_in_allowed(&statuses).err())
}

/// All sessions of a satker user end when they lose their last active membership.
async fn end_sessions_without_access(tx: &mut dyn WriteConn, nik: &str, now: DateTime<Utc>) -> Result<(), ApiError> {
    let Some(account) = tx.account(nik).await? else { return Ok(()) };
    if access_refused(tx, &account).await?.is_some() {
        tx.revoke_all_sessions_of(nik, now).await?;
    }
    Ok(())
}

/// The dormancy job: every person whose last sign-in (or activation) is older than the
/// dormancy period has all active memberships moved 2 → 3 together. Returns how many
/// memberships changed. Each person is decided again inside their own transaction, under
/// their lock, so one who signed in meanwhile is left alone and a person is never marked
/// twice, however many replicas run the job.
pub async fn mark_dormant(state: &AppState, now: DateTime<Utc>) -> Result<usize, ApiError> {
    let months = chrono::Months::new(state.settings.dormancy_months);
    let cutoff = now.checked_sub_months(months).unwrap_or(now);
    let candidates = state.store.read().await?.dormancy_candidates(cutoff).await?;
    let mut changed = 0;
    for nik in candidates {
        let mut tx = state.store.write().await?;
        tx.lock(LockKey::Person(&nik)).await?;
        if !tx.is_dormancy_due(&nik, cutoff).await? {
            continue;
        }
        let rows = tx.memberships_of_person(&nik).await?;
        let ctx = RequestCtx { request_id: format!("dormancy-{}", now.format("%Y%m%dT%H%M%S")), idempotency: None };
        let mut changes = Vec::new();
        for row in rows.into_iter().filter(|r| r.status == Status::Active) {
            let Ok(t) = status::decide(Actor::System, Action::MarkDormant, Status::Active, false) else { continue };
            let Outcome::Status(to) = t.to else { continue };
            let Some(satker) = tx.satker(&row.satker_code).await? else { continue };
            let mut updated = row.clone();
            updated.status = to;
            updated.version += 1;
            updated.updated_at = now;
            update_guarded(tx.as_mut(), &updated, row.version).await?;
            let mut changeset = Changeset {
                caller_nik: None,
                caller_name: "Sistem (dormansi)".into(),
                satker: &satker,
                ctx: &ctx,
                now,
                changes: Vec::new(),
                persons: Vec::new(),
            };
            let detail = serde_json::json!({ "dormancy_months": state.settings.dormancy_months });
            changeset.record(tx.as_mut(), &updated, Event::MarkDormant, Some(Status::Active), None, None, detail).await?;
            changes.extend(changeset.changes);
            changed += 1;
        }
        end_sessions_without_access(tx.as_mut(), &nik, now).await?;
        tx.append_changes(&changes, now).await?;
        tx.commit().await?;
        state.sessions.forget_person(&nik);
    }
    Ok(changed)
}

/// A field error from any of the core's parse errors.
pub fn field_error<E: Coded>(field: &str, e: E) -> ApiError {
    ApiError::Fields(vec![e.for_field(field)])
}
