//! The user's actions, offline-first: each is checked with the core's rules, applied to
//! the local view and queued in the outbox in one transaction; only then is it done.

use myintress_core::api::Membership;
use myintress_core::error::{Coded, ErrorCode};
use myintress_core::pdf::PdfError;
use myintress_core::registration::{DeletionInput, RegistrationInput, parse_reason};
use myintress_core::reregistration::{Registration, decide_registration};
use myintress_core::status::{self, Status};
use myintress_core::text::KppnCode;
use uuid::Uuid;

use crate::outbox::{self, Action};
use crate::{Account, CheckedPdf, Client, ClientError, ClientResult, store};

impl Client {
    /// *Tambah Pengguna*: checks the form with the core's rules (fields, unit kerja, the
    /// letter PDF, re-registration), then applies it to the local view and queues it in
    /// one transaction. Refusals come back at once, nothing queued.
    ///
    /// The letter is checked here, in this process: for tests and tools. The app checks a
    /// file once, in a child process, when it is chosen, and calls [`Client::register_checked`].
    pub async fn register(&self, input: RegistrationInput, letter: Vec<u8>) -> ClientResult<Membership> {
        self.register_letter(input, CheckedPdf::check_here(letter), None).await
    }

    /// [`Client::register`] with a letter that already passed the check.
    pub async fn register_checked(&self, input: RegistrationInput, letter: CheckedPdf) -> ClientResult<Membership> {
        self.register_letter(input, Ok(letter), None).await
    }

    /// `replaces`: the refused action (conflict) this one queues again; it leaves the
    /// outbox in the same transaction, and stays when this one is refused.
    async fn register_letter(
        &self,
        input: RegistrationInput,
        letter: Result<CheckedPdf, PdfError>,
        replaces: Option<&str>,
    ) -> ClientResult<Membership> {
        let account = self.require_account().await?;
        let scope = account.scope()?;
        let mut errors = Vec::new();
        let form = input.validate(scope.route()).map_err(|e| errors.extend(e)).ok();
        let letter = letter.map_err(|e| errors.push(e.for_field("letter"))).ok();
        let (Some(form), Some(letter)) = (form.filter(|_| errors.is_empty()), letter) else { return Err(ClientError::Fields(errors)) };

        let mut tx = self.actions.begin().await?;
        let satker = store::satkers(&mut tx).await?.into_iter().find(|s| s.code == form.satker_code.as_str());
        let satker = satker.ok_or_else(|| ClientError::refused(ErrorCode::SatkerOutOfScope))?;
        let kppn = KppnCode::parse(&satker.kppn_code).map_err(ClientError::corrupt)?;
        scope.may_register_for(&form.satker_code, &kppn).map_err(ClientError::refused)?;

        let rows = store::person_rows(&mut tx, form.nik.as_str(), form.satker_code.as_str()).await?;
        let pairs: Vec<(Uuid, Status)> = rows.iter().map(|m| (m.id, m.status)).collect();
        let target = match decide_registration(&pairs) {
            Ok(Registration::New) => Uuid::new_v4(),
            Ok(Registration::ReplacePending(id)) => id,
            Err(code) => return Err(ClientError::refused(code)),
        };
        // The letter is on disk (synced) before the action that needs it is recorded.
        let sha = self.docs.save(letter.bytes()).await?;
        let action = Action::Register { input, letter_sha256: sha };
        // A pending registration it replaces may already be on the server: the view is
        // rebuilt from that server state, while the registration itself carries no base
        // version.
        let base = store::action_base(&mut tx, target).await?;
        let view = self
            .enqueue(&mut tx, &account, target, action, base.map(|b| store::ActionBase { version: None, ..b }), replaces)
            .await?
            .ok_or_else(|| ClientError::corrupt("the local view lost a membership inside a transaction"))?;
        tx.commit().await?;
        self.after_action().await?;
        Ok(view)
    }

    /// Approve, reject, deactivate or reactivate one membership, offline-first.
    pub async fn act(&self, id: Uuid, action: Action) -> ClientResult<Membership> {
        self.act_replacing(id, action, None).await
    }

    async fn act_replacing(&self, id: Uuid, action: Action, replaces: Option<&str>) -> ClientResult<Membership> {
        let account = self.require_account().await?;
        match &action {
            Action::Reject { reason } | Action::Deactivate { reason } => {
                parse_reason(reason).map_err(|e| ClientError::Fields(vec![e.for_field("reason")]))?;
            }
            Action::Register { .. } | Action::Delete { .. } | Action::RequestDeletion { .. } | Action::DeclineDeletion { .. } => {
                unreachable!("registrations, deletions and deletion requests have their own calls");
            }
            _ => {}
        }
        // One read of the row, one write each for the outbox and the view, one read of the
        // person's rows for the listing rule: an approval is a handful of statements.
        let mut tx = self.actions.begin().await?;
        let base = self.checked_base(&mut tx, &account, id, &action).await?;
        let view = self.enqueue(&mut tx, &account, id, action, Some(base), replaces).await?;
        tx.commit().await?;
        self.after_action().await?;
        view.ok_or_else(|| ClientError::corrupt("the local view lost a membership inside a transaction"))
    }

    /// *Penghapusan Pengguna*: reason, SK number and the SK PDF; only from 0 or 5. The
    /// decree is checked here (tests and tools; the app calls [`Client::delete_checked`]).
    pub async fn delete(&self, id: Uuid, input: DeletionInput, decree: Vec<u8>) -> ClientResult<()> {
        self.delete_with(id, input, CheckedPdf::check_here(decree), None).await
    }

    /// [`Client::delete`] with a decree that already passed the check.
    pub async fn delete_checked(&self, id: Uuid, input: DeletionInput, decree: CheckedPdf) -> ClientResult<()> {
        self.delete_with(id, input, Ok(decree), None).await
    }

    async fn delete_with(
        &self,
        id: Uuid,
        input: DeletionInput,
        decree: Result<CheckedPdf, PdfError>,
        replaces: Option<&str>,
    ) -> ClientResult<()> {
        let account = self.require_account().await?;
        let mut errors = Vec::new();
        let form = input.validate().map_err(|e| errors.extend(e)).ok();
        let decree = decree.map_err(|e| errors.push(e.for_field("decree"))).ok();
        let (Some(form), Some(decree)) = (form.filter(|_| errors.is_empty()), decree) else { return Err(ClientError::Fields(errors)) };
        let mut tx = self.actions.begin().await?;
        let sha = self.docs.save(decree.bytes()).await?;
        let action = Action::Delete {
            reason: form.reason.as_str().to_owned(),
            decree_number: form.decree_number.as_str().to_owned(),
            decree_sha256: sha,
        };
        let base = self.checked_base(&mut tx, &account, id, &action).await?;
        self.enqueue(&mut tx, &account, id, action, Some(base), replaces).await?;
        tx.commit().await?;
        self.after_action().await?;
        Ok(())
    }

    /// The row an action starts from, once the core's transition rule allows the action on
    /// the view the user sees.
    pub(crate) async fn checked_base(
        &self,
        conn: &mut sqlx::SqliteConnection,
        account: &Account,
        id: Uuid,
        action: &Action,
    ) -> ClientResult<store::ActionBase> {
        let base = store::action_base(conn, id)
            .await?
            .ok_or(ClientError::Refused(ErrorCode::NotFound, "Data pengguna tidak ditemukan.".into()))?;
        Self::check_allowed(account, &base.view, action)?;
        Ok(base)
    }

    /// The core's transition rule for `action` on the view the user sees.
    pub(crate) fn check_allowed(account: &Account, view: &Membership, action: &Action) -> ClientResult<()> {
        let core = action.core().expect("not a registration");
        status::decide(account.acting()?.actor, core, view.status, view.nik == account.nik)
            .map(|_| ())
            .map_err(|e| ClientError::refused(e.code()))
    }

    async fn enqueue(
        &self,
        conn: &mut sqlx::SqliteConnection,
        account: &Account,
        membership_id: Uuid,
        action: Action,
        base: Option<store::ActionBase>,
        replaces: Option<&str>,
    ) -> ClientResult<Option<Membership>> {
        if let Some(key) = replaces
            && !outbox::dismiss(&mut *conn, key).await?
        {
            // Queued again meanwhile (another click): nothing twice.
            return Err(ClientError::Refused(ErrorCode::NotFound, "Tindakan tidak ditemukan.".into()));
        }
        let (version, server) = base.map(|b| (b.version, b.server)).unwrap_or_default();
        outbox::push(&mut *conn, membership_id, &action, version, None).await?;
        Ok(store::rebuild_view_from(conn, membership_id, server, &account.acting()?).await?)
    }

    async fn after_action(&self) -> ClientResult<()> {
        self.publish_counts().await?;
        self.wake();
        Ok(())
    }

    /// Drops a refused action (the view already shows the server's state).
    pub async fn dismiss(&self, key: &str) -> ClientResult<()> {
        outbox::dismiss(&mut *self.pool.acquire().await?, key).await?;
        self.publish_counts().await
    }

    /// A refused registration's form and letter, for the person to correct and send again
    /// with [`Client::register_correction`] ("Perbaiki"), instead of resending the same data.
    pub async fn correction(&self, key: &str) -> ClientResult<(RegistrationInput, Vec<u8>)> {
        match outbox::conflict(&mut *self.pool.acquire().await?, key).await? {
            Some((Action::Register { input, letter_sha256 }, _)) => Ok((input, self.docs.read(&letter_sha256).await?)),
            _ => Err(ClientError::Refused(ErrorCode::NotFound, "Pendaftaran yang ditolak tidak ditemukan.".into())),
        }
    }

    /// The corrected registration: queued like a new one, and the refused one it corrects
    /// (`key`) leaves the outbox in the same transaction (it stays when this is refused).
    pub async fn register_correction(&self, input: RegistrationInput, letter: CheckedPdf, key: &str) -> ClientResult<Membership> {
        if outbox::conflict(&mut *self.pool.acquire().await?, key).await?.is_none() {
            return Err(ClientError::Refused(ErrorCode::NotFound, "Pendaftaran yang ditolak tidak ditemukan.".into()));
        }
        self.register_letter(input, Ok(letter), Some(key)).await
    }

    /// Queues a refused action again, based on the server's current state (a new
    /// idempotency key: it is a new request). Checked as a new action would be; the
    /// conflict leaves the outbox only in the transaction that queues the new one, so a
    /// refusal here (or a crash) keeps it. Answers the membership as it now shows (none
    /// once a deletion is queued).
    pub async fn redo(&self, key: &str) -> ClientResult<Option<Membership>> {
        let Some((action, id)) = outbox::conflict(&mut *self.pool.acquire().await?, key).await? else {
            return Err(ClientError::Refused(ErrorCode::NotFound, "Tindakan tidak ditemukan.".into()));
        };
        match action {
            Action::Register { input, letter_sha256 } => {
                let letter = self.docs.read(&letter_sha256).await?;
                return self.register_letter(input, CheckedPdf::check_here(letter), Some(key)).await.map(Some);
            }
            Action::Delete { reason, decree_number, decree_sha256 } => {
                let decree = self.docs.read(&decree_sha256).await?;
                self.delete_with(id, DeletionInput { reason, decree_number }, CheckedPdf::check_here(decree), Some(key)).await?;
            }
            Action::RequestDeletion { reason, letter_number, letter_sha256, .. } => {
                let letter = self.docs.read(&letter_sha256).await?;
                let input = myintress_core::registration::DeletionRequestInput { reason, letter_number };
                self.request_deletion_with(id, input, CheckedPdf::check_here(letter), Some(key)).await?;
            }
            Action::DeclineDeletion { request_id, reason } => {
                self.decline_deletion_replacing(request_id, reason, Some(key)).await?;
            }
            other => return self.act_replacing(id, other, Some(key)).await.map(Some),
        }
        Ok(store::view(&mut *self.pool.acquire().await?, id).await?.map(|(m, _)| m))
    }

    /// A KPPN verifier corrects a person's phone or e-mail. Online only (the server decides
    /// what happens to the account and its links); the answer is applied to the local view
    /// at once. Checked here first with the core's rules.
    pub async fn correct_contact(&self, id: Uuid, phone: Option<String>, email: Option<String>) -> ClientResult<Membership> {
        let mut errors = Vec::new();
        let phone = phone.map(|p| p.trim().to_owned()).filter(|p| !p.is_empty());
        let email = email.map(|e| e.trim().to_owned()).filter(|e| !e.is_empty());
        if let Some(p) = &phone
            && let Err(e) = myintress_core::contact::PhoneNumber::parse(p)
        {
            errors.push(e.for_field("phone"));
        }
        if let Some(m) = &email
            && let Err(e) = myintress_core::contact::Email::parse(m)
        {
            errors.push(e.for_field("email"));
        }
        if !errors.is_empty() {
            return Err(ClientError::Fields(errors));
        }
        let account = self.require_account().await?;
        let version =
            store::server_version(&mut *self.pool.acquire().await?, id).await?.ok_or(ClientError::refused(ErrorCode::NotFound))?;
        let correction = myintress_core::api::ContactCorrection { phone, email };
        let correction = &correction;
        let membership = self.online(|token| async move { self.api.correct_contact(&token, id, version, correction).await }).await?;
        let mut tx = self.actions.begin().await?;
        store::apply_server(&mut tx, &membership).await?;
        store::rebuild_view(&mut tx, id, &account.acting()?).await?;
        tx.commit().await?;
        Ok(membership)
    }

    /// A KPPN verifier sends a new activation link to a person who has not set a password.
    pub async fn resend_activation(&self, id: Uuid) -> ClientResult<()> {
        self.online(|token| async move { self.api.resend_activation(&token, id).await }).await
    }
}
