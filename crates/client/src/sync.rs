//! The sync engine: push the outbox in order, pull the change feed, prefetch letters.
//!
//! Push: the oldest pending entry goes first, with its idempotency key and the `If-Match`
//! version it was based on. A transient failure (network, 5xx) stops the push and keeps
//! the entry; 401 refreshes the session and retries; any other refusal marks the entry a
//! conflict with the server's answer, rolls the view back to the server's state, and the
//! push goes on with the next entry. An accepted entry leaves the outbox in the same
//! transaction that records the server's answer, so a crash in between resends it and the
//! server replays its first answer: every action applies exactly once.
//!
//! Pull: pages of `/changes?after=cursor`, each page and the cursor in one transaction;
//! views are rebuilt over pending entries, so nothing the user did offline goes backwards.

use chrono::Utc;
use myintress_core::ErrorCode;
use myintress_core::api::{BulkAction, BulkItem, BulkRequest, BulkResult, ChangeKind, DeletionRequest, Membership, Role, Satker};
use myintress_core::status::Status;
use sqlx::Connection as _;
use uuid::Uuid;

use crate::api::{ApiError, Body, encode_multipart};
use crate::events::{Connection, Notice};
use crate::outbox::{self, Action, Entry, OutboxState};
use crate::{Account, Client, ClientError, ClientResult, store};

/// Changes per page of the pull.
const PAGE: i64 = 1000;
/// Pages written in one transaction during a bulk load. Each commit writes every page of
/// the id index that the transaction touched (the ids are random, so most of them), and
/// one commit per five pages writes a fifth as much; an action waits at most one such
/// transaction (about 0.1 s for 5,000 rows on the benchmark machine).
const BULK_GROUP: usize = 5;

/// The server's answer to one action: a membership, or a deletion request.
enum Answer {
    Membership(Membership),
    DeletionRequest(DeletionRequest),
}

/// What a push did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PushReport {
    pub sent: u64,
    pub conflicts: u64,
}

/// What a pull did, for its notices.
#[derive(Default)]
struct PullOutcome {
    applied: u64,
    new_pending: u64,
    status_changes: Vec<Notice>,
}

/// A group of the change feed as fetched, with its memberships parsed.
struct Fetched {
    page: myintress_core::api::RawChangesPage,
    /// The page's memberships, in its order.
    memberships: Vec<Membership>,
}

impl Fetched {
    fn parse(page: myintress_core::api::RawChangesPage) -> ClientResult<Self> {
        let memberships = page
            .changes
            .iter()
            .filter(|c| c.kind == ChangeKind::Membership)
            .map(|c| serde_json::from_str(c.entity.get()).map_err(bad_answer))
            .collect::<ClientResult<_>>()?;
        Ok(Self { page, memberships })
    }
}

impl Client {
    async fn next_entries(&self) -> ClientResult<Vec<Entry>> {
        Ok(outbox::next_pending(&mut *self.pool().acquire().await?).await?)
    }

    /// Builds the request body; encoded the same way every time, so a resend is byte for
    /// byte the first request (the boundary comes from the idempotency key).
    async fn body(&self, entry: &Entry) -> ClientResult<Body> {
        let boundary = format!("myintress-{}", entry.key);
        Ok(match &entry.action {
            Action::Register { input, letter_sha256 } => {
                let letter = self.documents().read(letter_sha256).await?;
                let fields = [
                    ("nik", input.nik.as_str()),
                    ("name", input.name.as_str()),
                    ("nip", input.nip.as_str()),
                    ("phone", input.phone.as_str()),
                    ("email", input.email.as_str()),
                    ("satker_code", input.satker_code.as_str()),
                    ("letter_number", input.letter_number.as_str()),
                    ("ticket_number", input.ticket_number.as_str()),
                ];
                let bytes = encode_multipart(&boundary, &fields, ("letter", "surat-tugas.pdf", &letter));
                Body::Multipart { boundary, bytes }
            }
            Action::Delete { reason, decree_number, decree_sha256 } => {
                let decree = self.documents().read(decree_sha256).await?;
                let fields = [("reason", reason.as_str()), ("decree_number", decree_number.as_str())];
                Body::Multipart { bytes: encode_multipart(&boundary, &fields, ("decree", "sk.pdf", &decree)), boundary }
            }
            Action::RequestDeletion { reason, letter_number, letter_sha256, .. } => {
                let letter = self.documents().read(letter_sha256).await?;
                let fields = [("reason", reason.as_str()), ("letter_number", letter_number.as_str())];
                Body::Multipart { bytes: encode_multipart(&boundary, &fields, ("letter", "permohonan-penghapusan.pdf", &letter)), boundary }
            }
            Action::Reject { reason } | Action::Deactivate { reason } | Action::DeclineDeletion { reason, .. } => {
                Body::Json(serde_json::json!({ "reason": reason }))
            }
            Action::Approve | Action::Reactivate => Body::Empty,
        })
    }

    /// Sends pending entries in order until the outbox is empty or the server cannot be
    /// reached (then the error is returned and the entries wait).
    pub async fn push(&self) -> ClientResult<PushReport> {
        let mut report = PushReport::default();
        let total = outbox::count(&mut *self.pool().acquire().await?, OutboxState::Pending).await?;
        loop {
            let mut entries = self.next_entries().await?;
            self.status.send_modify(|s| s.connection = Connection::Syncing { done: report.sent, total: Some(total.max(0) as u64) });
            if let Some(batch) = entries.first().and_then(|e| e.batch) {
                self.push_batch(batch, entries, &mut report).await?;
                self.publish_counts().await?;
                continue;
            }
            let Some(entry) = entries.pop() else { break };
            outbox::count_attempt(&mut *self.pool().acquire().await?, entry.seq).await?;
            let body = match self.body(&entry).await {
                Ok(body) => body,
                // The letter or decree it sends is gone from this computer: nothing can ever
                // send it, so it becomes a refused action the person sees, not a wedge that
                // stops every later entry.
                Err(ClientError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                    self.refused(&entry, &missing_file()).await?;
                    report.conflicts += 1;
                    self.publish_counts().await?;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let path = entry.action.path(entry.membership_id);
            let if_match = match (&entry.action, entry.base_version) {
                // A registration creates; a deletion request is not a change of the membership.
                (Action::Register { .. } | Action::RequestDeletion { .. } | Action::DeclineDeletion { .. }, _) => None,
                (_, Some(seen)) => Some(seen),
                // An action on a membership this desk registered before the server had it:
                // the version the registration's answer brought (applied just before).
                (_, None) => store::server_version(&mut *self.pool().acquire().await?, entry.membership_id).await?,
            };
            let (path, key, body) = (path.as_str(), entry.key.as_str(), &body);
            let answer = if entry.action.deletion_request().is_some() {
                let sent = self.online(|token| async move { self.api().send_action(&token, path, key, None, body).await }).await;
                sent.map(Answer::DeletionRequest)
            } else {
                let sent = self.online(|token| async move { self.api().send_action(&token, path, key, if_match, body).await }).await;
                sent.map(Answer::Membership)
            };
            match answer {
                Ok(Answer::Membership(membership)) => {
                    self.accepted(&entry, &membership).await?;
                    report.sent += 1;
                }
                Ok(Answer::DeletionRequest(request)) => {
                    self.request_accepted(&entry, &request).await?;
                    report.sent += 1;
                }
                // A 401 is about the session (also when the refresh itself was refused),
                // never about the action: the entry waits for the next sign-in.
                Err(ClientError::Api(ApiError::Problem { status, problem })) if status != 401 => {
                    self.refused(&entry, &problem).await?;
                    report.conflicts += 1;
                }
                Err(ClientError::Api(e)) => {
                    outbox::note_error(&mut *self.pool().acquire().await?, entry.seq, &e.to_string()).await?;
                    self.publish_counts().await?;
                    return Err(e.into());
                }
                Err(e) => return Err(e),
            }
            self.publish_counts().await?;
        }
        Ok(report)
    }

    async fn account_now(&self) -> ClientResult<Account> {
        let mut conn = self.pool().acquire().await?;
        let json = store::meta(&mut conn, "account").await?.ok_or(ClientError::NotSignedIn)?;
        serde_json::from_str(&json).map_err(ClientError::from)
    }

    /// Sends the pending entries of one bulk decision together (`/memberships/bulk`, the
    /// batch id as idempotency key) and applies each item's answer on its own, in one
    /// transaction: accepted ones leave the outbox, refused ones become conflicts. A refusal
    /// of the whole request refuses every entry; no answer leaves them all waiting.
    async fn push_batch(&self, batch: Uuid, entries: Vec<Entry>, report: &mut PushReport) -> ClientResult<()> {
        let (action, reason) = match &entries[0].action {
            Action::Approve => (BulkAction::Approve, String::new()),
            Action::Reject { reason } => (BulkAction::Reject, reason.clone()),
            other => return Err(ClientError::corrupt(format!("a bulk decision holds a {} action", other.kind()))),
        };
        let mut items = Vec::with_capacity(entries.len());
        {
            let mut conn = self.pool().acquire().await?;
            for e in &entries {
                outbox::count_attempt(&mut conn, e.seq).await?;
                // A request registered at this desk and never accepted has no version: the
                // server answers that it does not know it.
                let version = match e.base_version {
                    Some(v) => Some(v),
                    None => store::server_version(&mut conn, e.membership_id).await?,
                };
                items.push(BulkItem { id: e.membership_id, version: version.unwrap_or(0) });
            }
        }
        let request = BulkRequest { action: Some(action), reason, items };
        let (key, request) = (batch.to_string(), &request);
        let key = key.as_str();
        let answer = self.online(|token| async move { self.api().bulk(&token, key, request).await }).await;
        let acting = self.account_now().await?.acting()?;
        let mut conflicts = Vec::new();
        match answer {
            Ok(answer) => {
                let mut results: std::collections::HashMap<Uuid, myintress_core::api::BulkResult> =
                    answer.results.into_iter().map(|r| (r.id, r)).collect();
                let mut tx = self.pool().begin().await?;
                for entry in &entries {
                    match results.remove(&entry.membership_id) {
                        Some(BulkResult { membership: Some(m), status: 200, .. }) => {
                            self.accepted_in(&mut tx, &acting, entry, &m).await?;
                            report.sent += 1;
                        }
                        Some(BulkResult { problem: Some(problem), .. }) => conflicts.push((entry, problem)),
                        _ => conflicts.push((entry, bad_item())),
                    }
                }
                for (entry, problem) in &conflicts {
                    refused_in(&mut tx, &acting, entry, problem).await?;
                }
                tx.commit().await?;
            }
            Err(ClientError::Api(ApiError::Problem { status, problem })) if status != 401 => {
                let mut tx = self.pool().begin().await?;
                for entry in &entries {
                    refused_in(&mut tx, &acting, entry, &problem).await?;
                    conflicts.push((entry, (*problem).clone()));
                }
                tx.commit().await?;
            }
            Err(ClientError::Api(e)) => {
                let mut conn = self.pool().acquire().await?;
                for entry in &entries {
                    outbox::note_error(&mut conn, entry.seq, &e.to_string()).await?;
                }
                drop(conn);
                self.publish_counts().await?;
                return Err(e.into());
            }
            Err(e) => return Err(e),
        }
        report.conflicts += conflicts.len() as u64;
        for (entry, problem) in conflicts {
            let _ = self.notices.send(Notice::Conflict { key: entry.key.clone(), detail: problem.detail });
        }
        Ok(())
    }

    /// The server accepted a deletion request or its decline: the entry goes and the
    /// server's request replaces this desk's (under the server's id), together.
    async fn request_accepted(&self, entry: &Entry, request: &DeletionRequest) -> ClientResult<()> {
        let acting = self.account_now().await?.acting()?;
        let mut tx = self.pool().begin().await?;
        outbox::done(&mut tx, entry.seq).await?;
        crate::deletions::apply_server(&mut tx, request, &acting).await?;
        if let Some(local) = entry.action.deletion_request().filter(|local| *local != request.id) {
            crate::deletions::rebuild(&mut tx, local, entry.membership_id, &acting).await?;
        }
        if let Action::RequestDeletion { letter_sha256, .. } = &entry.action {
            let size = tokio::fs::metadata(self.documents().path(letter_sha256)).await.map(|m| m.len() as usize).unwrap_or(0);
            remember_document(&mut tx, request.letter_document_id, letter_sha256, size, entry.membership_id).await?;
        }
        store::rebuild_view(&mut tx, entry.membership_id, &acting).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The server accepted an entry: record its answer and drop the entry, together.
    async fn accepted(&self, entry: &Entry, membership: &Membership) -> ClientResult<()> {
        let acting = self.account_now().await?.acting()?;
        let mut tx = self.pool().begin().await?;
        self.accepted_in(&mut tx, &acting, entry, membership).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn accepted_in(
        &self,
        tx: &mut sqlx::SqliteConnection,
        acting: &crate::outbox::Acting,
        entry: &Entry,
        membership: &Membership,
    ) -> ClientResult<()> {
        // The entry goes; a new registration's later actions address the server's id, and
        // later entries on this membership are based on the version it now has.
        outbox::accepted(&mut *tx, entry.seq, entry.membership_id, membership).await?;
        if entry.membership_id != membership.id {
            store::remove_local(&mut *tx, entry.membership_id).await?;
        }
        if let Action::Register { letter_sha256, .. } = &entry.action {
            let size = tokio::fs::metadata(self.documents().path(letter_sha256)).await.map(|m| m.len() as usize).unwrap_or(0);
            remember_document(&mut *tx, membership.letter_document_id, letter_sha256, size, membership.id).await?;
        }
        if let Action::Delete { .. } = &entry.action {
            store::remove_server(&mut *tx, membership.id).await?;
        } else {
            store::apply_server(&mut *tx, membership).await?;
        }
        store::rebuild_view(tx, membership.id, acting).await?;
        Ok(())
    }

    /// The server refused an entry: keep it as a conflict with the answer, and show the
    /// server's state.
    async fn refused(&self, entry: &Entry, problem: &myintress_core::api::Problem) -> ClientResult<()> {
        let acting = self.account_now().await?.acting()?;
        let mut tx = self.pool().begin().await?;
        refused_in(&mut tx, &acting, entry, problem).await?;
        tx.commit().await?;
        let _ = self.notices.send(Notice::Conflict { key: entry.key.clone(), detail: problem.detail.clone() });
        Ok(())
    }

    async fn fetch_changes(&self, cursor: i64, count: bool) -> ClientResult<myintress_core::api::RawChangesPage> {
        self.online(|token| async move { self.api().changes(&token, cursor, PAGE, count).await }).await
    }

    /// The changes after `cursor`, `pages` pages' worth or up to the feed's end: one
    /// group, written in one transaction. `count`: the first page also says how many
    /// changes remain in all. The group's memberships are parsed on a blocking thread,
    /// so that in [`Self::pull`] they are parsed while the previous group is written.
    async fn fetch_group(&self, cursor: i64, count: bool, pages: usize) -> ClientResult<Fetched> {
        let mut group = self.fetch_changes(cursor, count).await?;
        while group.has_more && group.changes.len() < pages * PAGE as usize {
            let more = self.fetch_changes(group.last_seq, false).await?;
            group.changes.extend(more.changes);
            group.last_seq = more.last_seq;
            group.has_more = more.has_more;
        }
        tokio::task::spawn_blocking(move || Fetched::parse(group)).await.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
    }

    /// Reads the change feed to the end. Returns how many changes were applied. The next
    /// group is fetched (and its memberships parsed, see [`Self::fetch_group`]) while the
    /// current one is written, so the network, the parsing and the disk work at the same
    /// time; the first page says how many changes there are in all
    /// ("n dari m" in the status line).
    ///
    /// Into an empty store (the first sign-in, a scope that changed), the rows go in as a
    /// bulk load: the list and search indexes are built once at the end
    /// ([`store::drop_deferred`]), pages are written [`BULK_GROUP`] to a transaction, and
    /// a KPPN verifier's Antrean (pending requests with their flags) is written first
    /// (while the feed's first group is fetched), so it is there to work on while the rest
    /// comes.
    pub async fn pull(&self) -> ClientResult<u64> {
        let account = self.account_now().await?;
        let acting = account.acting()?;
        let mut outcome = PullOutcome::default();
        let started = std::time::Instant::now();
        let (cursor, bulk) = {
            let mut conn = self.pool().acquire().await?;
            let cursor: i64 = store::meta(&mut conn, "cursor").await?.and_then(|c| c.parse().ok()).unwrap_or(0);
            if cursor == 0 && store::is_empty(&mut conn).await? {
                let mut tx = conn.begin().await?;
                store::drop_deferred(&mut tx).await?;
                tx.commit().await?;
            }
            // Also a bulk load cut short earlier in this run (the next start builds them).
            (cursor, store::deferred_missing(&mut conn).await?)
        };
        let group = if bulk { BULK_GROUP } else { 1 };
        // The feed's first group is fetched while the head start is written.
        let mut fetched = if bulk && cursor == 0 && acting.actor == myintress_core::status::Actor::KppnVerifier {
            let (head, first) = tokio::join!(self.antrean_first(&acting, &mut outcome), self.fetch_group(cursor, true, group));
            head?;
            first?
        } else {
            self.fetch_group(cursor, true, group).await?
        };
        let total = fetched.page.remaining.map(|r| u64::try_from(r).unwrap_or(0));
        self.status.send_modify(|s| s.connection = Connection::Syncing { done: 0, total });
        loop {
            let next_cursor = fetched.page.last_seq;
            let next = if fetched.page.has_more {
                let (applied, next) =
                    tokio::join!(self.apply_page(fetched, &account, &mut outcome), self.fetch_group(next_cursor, false, group));
                applied?;
                Some(next?)
            } else {
                self.apply_page(fetched, &account, &mut outcome).await?;
                None
            };
            self.status.send_modify(|s| s.connection = Connection::Syncing { done: outcome.applied, total });
            // Busy: the log is copied after the last page, not between two.
            self.checkpoints.wrote();
            match next {
                Some(f) => fetched = f,
                None => break,
            }
        }
        if bulk {
            let written = started.elapsed();
            let mut tx = self.pool().begin().await?;
            store::build_deferred(&mut tx).await?;
            tx.commit().await?;
            tracing::info!(changes = outcome.applied, ?written, indexed = ?started.elapsed() - written, "bulk load of the store");
        }
        if outcome.new_pending > 0 && acting.actor == myintress_core::status::Actor::KppnVerifier {
            let _ = self.notices.send(Notice::NewRegistrations { count: outcome.new_pending });
        }
        for notice in outcome.status_changes {
            let _ = self.notices.send(notice);
        }
        self.status.send_modify(|s| s.last_sync = Some(Utc::now().to_rfc3339()));
        self.publish_counts().await?;
        if outcome.applied >= CATCH_UP {
            // A long catch-up (the first sync, a week away) leaves up to a full log behind:
            // copied here, in the sync's task, rather than in the next action's commit.
            self.checkpoints.copy().await?;
        }
        Ok(outcome.applied)
    }

    /// A first sync's head start for a KPPN verifier: the Antrean as the server has it now
    /// (pending registrations and open deletion requests in scope, with their flags),
    /// written before the change feed, which later brings the same versions (kept, not
    /// written twice) and everything else. The cursor stays at 0.
    async fn antrean_first(&self, acting: &crate::outbox::Acting, outcome: &mut PullOutcome) -> ClientResult<()> {
        let items = self.online(|token| async move { self.api().queue(&token).await }).await?;
        let mut tx = self.pool().begin().await?;
        // Writing first takes the write lock, as a page does; it also makes this connection
        // read the schema the bulk load just changed before the upsert below (see
        // `store::apply_server_rows`).
        store::set_meta(&mut tx, "cursor", "0").await?;
        for item in &items {
            if let Some(request) = &item.deletion_request {
                crate::deletions::apply_server(&mut tx, request, acting).await?;
            }
        }
        let raws: Vec<_> = items
            .iter()
            .map(|item| {
                serde_json::value::RawValue::from_string(serde_json::to_string(&item.membership).expect("serialises"))
                    .expect("a membership is JSON")
            })
            .collect();
        let mut batch: Vec<_> = items.iter().zip(&raws).map(|(item, raw)| store::ServerRow { membership: &item.membership, raw }).collect();
        let mut changed = std::collections::HashSet::new();
        flush(&mut tx, &mut batch, &mut changed).await?;
        let flags: Vec<_> = items.iter().filter(|i| i.deletion_request.is_none()).map(|i| (i.membership.id.to_string(), i.flags)).collect();
        store::set_queue_flags(&mut tx, &flags).await?;
        tx.commit().await?;
        outcome.new_pending +=
            items.iter().filter(|i| i.membership.status == Status::Registered && changed.contains(&i.membership.id.to_string())).count()
                as u64;
        self.publish_counts().await
    }

    /// Writes one page of changes (in a bulk load, a group of pages) and the cursor after
    /// it, in one transaction; then removes the cached files of what left the scope.
    async fn apply_page(&self, Fetched { page, memberships }: Fetched, account: &Account, outcome: &mut PullOutcome) -> ClientResult<()> {
        let acting = &account.acting()?;
        let mut leftovers = Vec::new();
        let mut tx = self.pool().begin().await?;
        // Writing first takes SQLite's write lock now, so what this transaction reads
        // below cannot be overtaken by an action committed in the meantime.
        store::set_meta(&mut tx, "cursor", &page.last_seq.to_string()).await?;
        let count = page.changes.len() as u64;
        let ids: Vec<String> = memberships.iter().map(|m| m.id.to_string()).collect();
        let before = store::statuses(&mut tx, &ids).await?;
        // People with actions still waiting need their view rebuilt over those actions;
        // everyone else's view is the server's row as it comes: those go in a few
        // statements per page (the fast path).
        let waiting = outbox::people_with_pending(&mut tx).await?;
        let mut batch = Vec::new();
        let mut changed = std::collections::HashSet::new();
        let mut parsed = memberships.iter();
        for change in &page.changes {
            match change.kind {
                ChangeKind::Membership => {
                    let m = parsed.next().expect("parsed in order by Fetched::parse");
                    if waiting.contains(&(m.nik.clone(), m.satker_code.clone())) {
                        if store::apply_server(&mut tx, m).await? {
                            changed.insert(m.id.to_string());
                        }
                        store::rebuild_view(&mut tx, m.id, acting).await?;
                    } else {
                        batch.push(store::ServerRow { membership: m, raw: &change.entity });
                    }
                }
                ChangeKind::MembershipRemoved => {
                    // Rows before a removal are written first: a page may hold both.
                    flush(&mut tx, &mut batch, &mut changed).await?;
                    let id = serde_json::from_str::<serde_json::Value>(change.entity.get())
                        .ok()
                        .and_then(|e| e["id"].as_str().and_then(|s| Uuid::parse_str(s).ok()));
                    if let Some(id) = id {
                        store::remove_server(&mut tx, id).await?;
                        store::rebuild_view(&mut tx, id, acting).await?;
                        leftovers.extend(store::forget_membership_leftovers(&mut tx, id).await?);
                    }
                }
                ChangeKind::Satker => {
                    let s: Satker = serde_json::from_str(change.entity.get()).map_err(bad_answer)?;
                    if account.role == Role::Kppn && account.kppn_code.as_deref() != Some(s.kppn_code.as_str()) {
                        // Moved to another KPPN: no longer this desktop's (the server also
                        // sends `satker_removed`; this covers a page that holds only this).
                        flush(&mut tx, &mut batch, &mut changed).await?;
                        leftovers.extend(store::forget_satkers(&mut tx, std::slice::from_ref(&s.code), store::Forget::These).await?);
                    } else {
                        store::upsert_satker(&mut tx, &s).await?;
                    }
                }
                ChangeKind::QueueFlags => {
                    let entity: serde_json::Value = serde_json::from_str(change.entity.get()).map_err(bad_answer)?;
                    let flags: myintress_core::workday::QueueFlags = serde_json::from_value(entity.clone()).map_err(bad_answer)?;
                    let id = entity["id"].as_str().ok_or_else(|| ApiError::Decode("queue_flags tanpa id".into()))?;
                    store::set_queue_flags(&mut tx, &[(id.to_owned(), flags)]).await?;
                }
                ChangeKind::DeletionRequest => {
                    let request: DeletionRequest = serde_json::from_str(change.entity.get()).map_err(bad_answer)?;
                    crate::deletions::apply_server(&mut tx, &request, acting).await?;
                }
                ChangeKind::Unknown => {
                    // A newer server's kind: nothing this build can apply.
                    tracing::warn!(seq = change.seq, "change of an unknown kind skipped");
                }
                ChangeKind::SatkerRemoved => {
                    // The satker left this KPPN's scope: its people and letters leave this
                    // desktop. Rows of it written earlier in this page go first.
                    flush(&mut tx, &mut batch, &mut changed).await?;
                    let code = serde_json::from_str::<serde_json::Value>(change.entity.get())
                        .ok()
                        .and_then(|e| e["code"].as_str().map(str::to_owned))
                        .ok_or_else(|| ApiError::Decode("satker_removed tanpa kode".into()))?;
                    leftovers.extend(store::forget_satkers(&mut tx, &[code], store::Forget::These).await?);
                }
            }
        }
        flush(&mut tx, &mut batch, &mut changed).await?;
        let (mut new_pending, mut status_changes) = (0, Vec::new());
        for m in memberships.iter().filter(|m| changed.contains(&m.id.to_string())) {
            let was = before.get(&m.id.to_string()).copied();
            if m.status == Status::Registered && was != Some(Status::Registered) {
                new_pending += 1;
            }
            // A satker user follows its registrations: say when the KPPN decided.
            if acting.actor == myintress_core::status::Actor::SatkerOperator && was.is_some_and(|w| w != m.status) {
                status_changes.push(Notice::StatusChanged { membership_id: m.id.to_string(), name: m.name.clone(), status: m.status });
            }
        }
        tx.commit().await?;
        self.remove_unneeded_files(&leftovers).await?;
        // Counted only once committed: a failed page leaves nothing behind.
        outcome.applied += count;
        outcome.new_pending += new_pending;
        outcome.status_changes.extend(status_changes);
        Ok(())
    }

    /// Fetches the letters of pending registrations that are not cached yet, then trims
    /// the cache to its limit by evicting letters of decided registrations, least
    /// recently used first.
    pub async fn prefetch(&self) -> ClientResult<u64> {
        let wanted: Vec<(String, String)> = sqlx::query_as(&format!(
            "SELECT json_extract({view}, '$.letter_document_id') AS letter, id FROM memberships \
             WHERE status = {pending} AND letter NOT IN (SELECT id FROM documents) \
             AND server_json IS NOT NULL ORDER BY created_at",
            view = store::VIEW_JSON,
            pending = Status::Registered.code(),
        ))
        .fetch_all(self.pool())
        .await?;
        let mut fetched = 0;
        for (document_id, membership_id) in wanted {
            let Ok(id) = Uuid::parse_str(&document_id) else { continue };
            let bytes = match self.online(|token| async move { self.api().document(&token, id).await }).await {
                Ok(bytes) => bytes,
                // One letter the server will not give (gone, out of scope meanwhile) is
                // skipped; the verifier opens it online later. Offline ends the prefetch.
                Err(ClientError::Api(e @ ApiError::Problem { .. })) if !e.is_unauthorized() => {
                    tracing::warn!(document = %id, error = %e, "letter not prefetched");
                    continue;
                }
                Err(e) => return Err(e),
            };
            let sha = self.documents().save(&bytes).await?;
            let mut tx = self.pool().begin().await?;
            remember_document(&mut tx, id, &sha, bytes.len(), Uuid::parse_str(&membership_id).unwrap_or_default()).await?;
            tx.commit().await?;
            fetched += 1;
        }
        self.evict().await?;
        Ok(fetched)
    }

    async fn evict(&self) -> ClientResult<()> {
        let limit = self.config().cache_limit_bytes as i64;
        let total: i64 = sqlx::query_scalar("SELECT COALESCE(SUM(size), 0) FROM documents").fetch_one(self.pool()).await?;
        if total <= limit {
            return Ok(());
        }
        // Letters still waiting for a decision, and files an outbox entry needs, stay.
        let needed = outbox::files_needed(&mut *self.pool().acquire().await?).await?;
        let candidates: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT d.id, d.sha256, d.size FROM documents d LEFT JOIN memberships m ON m.id = d.membership_id \
             WHERE COALESCE(m.status, $1) <> $2 ORDER BY d.used_at",
        )
        .bind(-1)
        .bind(Status::Registered.code())
        .fetch_all(self.pool())
        .await?;
        let candidates = candidates.into_iter().filter(|(_, sha, _)| !needed.contains(sha));
        let mut over = total - limit;
        for (id, sha, size) in candidates {
            if over <= 0 {
                break;
            }
            sqlx::query("DELETE FROM documents WHERE id = $1").bind(&id).execute(self.pool()).await?;
            let still_used: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM documents WHERE sha256 = $1").bind(&sha).fetch_one(self.pool()).await?;
            if still_used == 0 {
                self.documents().remove(&sha).await;
            }
            over -= size;
        }
        Ok(())
    }

    /// A document's bytes: from the cache, or fetched (and cached) when online.
    pub async fn document(&self, id: Uuid) -> ClientResult<Vec<u8>> {
        let sha: Option<String> =
            sqlx::query_scalar("SELECT sha256 FROM documents WHERE id = $1").bind(id.to_string()).fetch_optional(self.pool()).await?;
        if let Some(sha) = sha
            && let Ok(bytes) = self.documents().read(&sha).await
        {
            sqlx::query("UPDATE documents SET used_at = $1 WHERE id = $2")
                .bind(Utc::now().to_rfc3339())
                .bind(id.to_string())
                .execute(self.pool())
                .await?;
            return Ok(bytes);
        }
        let bytes = self.online(|token| async move { self.api().document(&token, id).await }).await?;
        let sha = self.documents().save(&bytes).await?;
        let mut tx = self.pool().begin().await?;
        remember_document(&mut tx, id, &sha, bytes.len(), Uuid::nil()).await?;
        tx.commit().await?;
        Ok(bytes)
    }

    /// One round: push, pull, prefetch. Updates the connection state.
    pub async fn sync_once(&self) -> ClientResult<()> {
        let _one = self.syncing.lock().await;
        let result = async {
            if self.account().await?.is_some_and(|a| a.role == Role::Admin) {
                // A central operator's desktop keeps no membership data: only whether the
                // server answers.
                return self.online(|token| async move { self.api.me(&token).await }).await.map(|_| ());
            }
            self.push().await?;
            self.pull().await?;
            // Letters are fetched ahead for offline work; failing that never fails the
            // round (the sync state stays what push and pull made it).
            if let Err(e) = self.prefetch().await {
                tracing::warn!(error = %e, "prefetching letters stopped; the next round tries again");
            }
            // So is the trust list for signed letters (kept for an hour).
            if let Err(e) = self.refresh_trust().await {
                tracing::warn!(error = %e, "the trust list could not be fetched; the next round tries again");
            }
            // Actions taken while pulling go out in the same round.
            self.push().await?;
            Ok::<(), ClientError>(())
        }
        .await;
        let connection = match &result {
            Ok(()) => Connection::Online,
            Err(ClientError::Api(ApiError::Transient(why))) => Connection::Offline { reason: why.clone() },
            Err(ClientError::NotSignedIn) => Connection::SignInNeeded { reason: "Silakan masuk.".into() },
            Err(ClientError::Api(e @ ApiError::Problem { .. })) if e.is_unauthorized() => {
                Connection::SignInNeeded { reason: e.to_string() }
            }
            Err(e) => Connection::Error { message: e.message() },
        };
        self.status.send_modify(|s| s.connection = connection);
        result
    }

    /// Syncs now and then: after every action (`wake`), every `interval` otherwise, and with
    /// growing pauses (up to a minute) while the server cannot be reached.
    pub async fn run(&self, interval: std::time::Duration) {
        let mut backoff = std::time::Duration::from_secs(1);
        loop {
            let wait = match self.sync_once().await {
                Ok(()) => {
                    backoff = std::time::Duration::from_secs(1);
                    interval
                }
                Err(ClientError::Api(ApiError::Transient(_))) => {
                    let wait = backoff;
                    backoff = (backoff * 2).min(std::time::Duration::from_secs(60));
                    wait
                }
                Err(_) => interval,
            };
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }
}

/// A pull that applied this many changes copies the write-ahead log at its end.
const CATCH_UP: u64 = 1_000;

/// Writes the fast-path rows gathered so far and notes which of them changed.
async fn flush(
    conn: &mut sqlx::SqliteConnection,
    batch: &mut Vec<store::ServerRow<'_>>,
    changed: &mut std::collections::HashSet<String>,
) -> ClientResult<()> {
    if batch.is_empty() {
        return Ok(());
    }
    changed.extend(store::apply_server_rows(conn, batch).await?);
    batch.clear();
    Ok(())
}

async fn remember_document(conn: &mut sqlx::SqliteConnection, id: Uuid, sha: &str, size: usize, membership: Uuid) -> ClientResult<()> {
    let size = size as i64;
    let now = Utc::now().to_rfc3339();
    sqlx::query(
        "INSERT INTO documents (id, sha256, size, membership_id, fetched_at, used_at) VALUES ($1, $2, $3, $4, $5, $5) \
         ON CONFLICT (id) DO UPDATE SET used_at = excluded.used_at",
    )
    .bind(id.to_string())
    .bind(sha)
    .bind(size)
    .bind(if membership.is_nil() { None } else { Some(membership.to_string()) })
    .bind(&now)
    .execute(conn)
    .await?;
    Ok(())
}

/// A change the server sent that does not read as the contract says.
fn bad_answer(e: serde_json::Error) -> ClientError {
    ClientError::Api(ApiError::Decode(e.to_string()))
}

/// The refusal recorded for an action whose cached letter or decree is missing.
async fn refused_in(
    tx: &mut sqlx::SqliteConnection,
    acting: &crate::outbox::Acting,
    entry: &Entry,
    problem: &myintress_core::api::Problem,
) -> ClientResult<()> {
    outbox::refused(&mut *tx, entry.seq, problem).await?;
    if let Some(current) = &problem.membership {
        store::apply_server(&mut *tx, current).await?;
    }
    if let Some(request) = entry.action.deletion_request() {
        crate::deletions::rebuild(&mut *tx, request, entry.membership_id, acting).await?;
    }
    store::rebuild_view(tx, entry.membership_id, acting).await?;
    Ok(())
}

/// A bulk answer without this item's outcome: the server's word is missing, so the entry
/// is shown as refused (to redo or dismiss) rather than resent under the same key forever.
fn bad_item() -> myintress_core::api::Problem {
    myintress_core::api::Problem {
        title: "Jawaban server tidak lengkap".into(),
        status: 502,
        detail: ErrorCode::BadAnswer.detail().into(),
        code: ErrorCode::BadAnswer,
        ..missing_file()
    }
}

fn missing_file() -> myintress_core::api::Problem {
    myintress_core::api::Problem {
        kind: "about:blank".into(),
        title: "Berkas tidak ditemukan".into(),
        status: 422,
        detail: "Berkas PDF untuk tindakan ini tidak ada lagi di komputer ini, sehingga tidak dapat dikirim. \
                 Abaikan tindakan ini, lalu lakukan kembali dengan memilih berkas PDF-nya."
            .into(),
        code: ErrorCode::FileUnreadable,
        errors: Vec::new(),
        score: None,
        threshold: None,
        membership: None,
        explanation: None,
        request_id: None,
    }
}
