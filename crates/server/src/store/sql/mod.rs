//! The SQL of the store, written once and instantiated for SQLite and PostgreSQL by
//! `sql_backend!`. See the module docs of `store` for the dialect rules the queries keep.
//!
//! Each area's statements live in their own file (`reference`, `accounts`,
//! `memberships`, `documents`, `feed`, `upkeep`), as a macro of functions on one
//! connection; `sql_backend!` instantiates them per backend and implements
//! [`ReadConn`] and [`WriteConn`] by calling them.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;
use uuid::Uuid;

use super::*;

mod accounts;
mod deletions;
mod documents;
mod feed;
mod mail;
mod memberships;
mod queue;
mod reference;
mod upkeep;

/// Opens the database named by `url` and brings its schema up to date. `connections` is
/// the size of PostgreSQL's pool, or of SQLite's readers (its writer is always one); see
/// `Settings::database_connections`.
pub async fn migrate_and_open(url: &str, connections: u32) -> StoreResult<Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        // Every statement is prepared once per connection and kept (sqlx's cache); with
        // PostgreSQL's default `auto` it was planned again at every execution, 40 % of
        // the database's time under the list page. A generic plan is made once.
        let options = sqlx::postgres::PgConnectOptions::from_str(url)?.options([("plan_cache_mode", "force_generic_plan")]);
        let pool = ping_when_idle(sqlx::postgres::PgPoolOptions::new())
            .max_connections(connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        Ok(Arc::new(postgres::PgStore { pool }))
    } else {
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            // FULL: a committed action survives a power cut, not only a crash.
            .synchronous(sqlx::sqlite::SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        // One writer connection serialises write transactions in this process, so they
        // never meet SQLITE_BUSY on lock upgrade; readers use their own pool (WAL lets
        // them read while the writer writes).
        let writer = ping_when_idle(sqlx::sqlite::SqlitePoolOptions::new()).max_connections(1).connect_with(options.clone()).await?;
        sqlx::migrate!("migrations/sqlite").run(&writer).await?;
        let reader = ping_when_idle(sqlx::sqlite::SqlitePoolOptions::new())
            .max_connections(connections)
            .connect_with(options.read_only(true))
            .await?;
        Ok(Arc::new(sqlite::SqliteStore { writer, reader }))
    }
}

/// A pooled connection idle for less than this is handed out without a ping.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

/// sqlx tests a connection both when it leaves the pool (`test_before_acquire`) and when
/// it comes back (always, in 0.8). Each test is a round trip to PostgreSQL or a hand-off
/// to SQLite's worker thread, so a list page under load made three trips where one
/// carries the query. The test on the way back stays: it proves the connection sound as
/// it enters the pool. The one on the way out is kept only for a connection that has sat
/// idle since (`PING_IF_IDLE_FOR`), which a database restart or a network cut may have
/// broken meanwhile; one that fails is closed and another taken.
fn ping_when_idle<DB: sqlx::Database>(options: sqlx::pool::PoolOptions<DB>) -> sqlx::pool::PoolOptions<DB> {
    options.test_before_acquire(false).before_acquire(|conn, meta| {
        Box::pin(async move {
            if meta.idle_for >= PING_IF_IDLE_FOR {
                sqlx::Connection::ping(conn).await?;
            }
            Ok(true)
        })
    })
}

fn uuid(text: String) -> StoreResult<Uuid> {
    Uuid::parse_str(&text).map_err(|e| StoreError::Corrupt(format!("uuid {text}: {e}")))
}

fn opt_time(us: Option<i64>) -> Option<DateTime<Utc>> {
    us.map(from_micros)
}

fn opt_micros(t: Option<DateTime<Utc>>) -> Option<i64> {
    t.map(micros)
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
fn like_pattern(text: &str) -> String {
    let mut out = String::from("%");
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

const MEMBERSHIP_COLUMNS: &str = "id, nik, satker_code, name, nip, phone, email, status, letter_number, \
    letter_document_id, rejection_reason, route, ticket_number, version, created_at, updated_at, decided_at, \
    decided_by, ever_active, listed, activated_at, deleted_at, registered_seq, letter_check";

/// The columns a change may write (everything but id, nik, satker, created_at and
/// registered_seq), in the order `bind_changeable` binds them.
const CHANGEABLE_COLUMNS: &str = "name, nip, phone, email, status, letter_number, letter_document_id, rejection_reason, \
    route, ticket_number, version, updated_at, decided_at, decided_by, ever_active, listed, activated_at, deleted_at, letter_check";

/// `UPDATE … SET <each changeable column> = $n … WHERE id = $20 AND version = $21`.
static UPDATE_MEMBERSHIP: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let set: Vec<String> = CHANGEABLE_COLUMNS.split(", ").enumerate().map(|(i, c)| format!("{c} = ${}", i + 1)).collect();
    format!("UPDATE memberships SET {} WHERE id = $20 AND version = $21", set.join(", "))
});

const ACCOUNT_COLUMNS: &str = "nik, name, email, nip, password_hash, role, kppn_code, created_at, last_sign_in_at, disabled_at, supervisor";

const SATKER_COLUMNS: &str = "s.code, s.name, s.kppn_code, k.name AS kppn_name";

macro_rules! sql_backend {
    ($module:ident, $db:ty, $store:ident { $($field:ident : $pool:ty),* }, $name:literal, read = $read:ident, write = $write:ident,
     lock = $lock_sql:expr) => {
        pub mod $module {
            use super::*;

            pub struct $store {
                $(pub $field: $pool,)*
            }

            impl $store {
                pub(super) async fn read_conn(&self) -> StoreResult<Box<dyn ReadConn>> {
                    Ok(Box::new(SqlConn { handle: Handle::Conn(self.$read.acquire().await?) }))
                }

                pub(super) async fn write_tx(&self) -> StoreResult<Box<dyn WriteConn>> {
                    Ok(Box::new(SqlConn { handle: Handle::Tx(self.$write.begin().await?) }))
                }
            }

            enum Handle {
                Tx(sqlx::Transaction<'static, $db>),
                Conn(sqlx::pool::PoolConnection<$db>),
            }

            pub struct SqlConn {
                handle: Handle,
            }

            impl SqlConn {
                fn c(&mut self) -> &mut <$db as sqlx::Database>::Connection {
                    match &mut self.handle {
                        Handle::Tx(tx) => &mut **tx,
                        Handle::Conn(conn) => &mut **conn,
                    }
                }
            }

            type DbRow = <$db as sqlx::Database>::Row;
            type Query<'q> = sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments<'q>>;

            /// Binds a membership's [`CHANGEABLE_COLUMNS`], in their order, as `$1`…`$18`.
            fn bind_changeable<'q>(q: Query<'q>, m: &'q MembershipRow) -> Query<'q> {
                q.bind(&m.name)
                    .bind(&m.nip)
                    .bind(&m.phone)
                    .bind(&m.email)
                    .bind(i64::from(m.status.code()))
                    .bind(&m.letter_number)
                    .bind(m.letter_document_id.to_string())
                    .bind(&m.rejection_reason)
                    .bind(m.route.as_str())
                    .bind(&m.ticket_number)
                    .bind(m.version)
                    .bind(micros(m.updated_at))
                    .bind(opt_micros(m.decided_at))
                    .bind(&m.decided_by)
                    .bind(m.ever_active)
                    .bind(m.listed)
                    .bind(opt_micros(m.activated_at))
                    .bind(opt_micros(m.deleted_at))
                    .bind(&m.letter_check)
            }

            fn membership_row(row: DbRow) -> StoreResult<MembershipRow> {
                Ok(MembershipRow {
                    id: uuid(row.try_get("id")?)?,
                    nik: row.try_get("nik")?,
                    satker_code: row.try_get("satker_code")?,
                    name: row.try_get("name")?,
                    nip: row.try_get("nip")?,
                    phone: row.try_get("phone")?,
                    email: row.try_get("email")?,
                    status: decode::status(row.try_get("status")?)?,
                    letter_number: row.try_get("letter_number")?,
                    letter_document_id: uuid(row.try_get("letter_document_id")?)?,
                    rejection_reason: row.try_get("rejection_reason")?,
                    route: decode::route(row.try_get("route")?)?,
                    ticket_number: row.try_get("ticket_number")?,
                    version: row.try_get("version")?,
                    created_at: from_micros(row.try_get("created_at")?),
                    updated_at: from_micros(row.try_get("updated_at")?),
                    decided_at: opt_time(row.try_get("decided_at")?),
                    decided_by: row.try_get("decided_by")?,
                    ever_active: row.try_get("ever_active")?,
                    listed: row.try_get("listed")?,
                    activated_at: opt_time(row.try_get("activated_at")?),
                    deleted_at: opt_time(row.try_get("deleted_at")?),
                    registered_seq: row.try_get("registered_seq")?,
                    letter_check: row.try_get("letter_check")?,
                })
            }

            fn satker_row(row: DbRow) -> StoreResult<SatkerRow> {
                Ok(SatkerRow {
                    code: row.try_get("code")?,
                    name: row.try_get("name")?,
                    kppn_code: row.try_get("kppn_code")?,
                    kppn_name: row.try_get("kppn_name")?,
                })
            }

            fn account_row(row: DbRow) -> StoreResult<AccountRow> {
                Ok(AccountRow {
                    nik: row.try_get("nik")?,
                    name: row.try_get("name")?,
                    email: row.try_get("email")?,
                    nip: row.try_get("nip")?,
                    password_hash: row.try_get("password_hash")?,
                    role: decode::role(row.try_get("role")?)?,
                    kppn_code: row.try_get("kppn_code")?,
                    created_at: from_micros(row.try_get("created_at")?),
                    last_sign_in_at: opt_time(row.try_get("last_sign_in_at")?),
                    disabled_at: opt_time(row.try_get("disabled_at")?),
                    supervisor: row.try_get("supervisor")?,
                })
            }

            fn history_row(row: DbRow) -> StoreResult<HistoryRow> {
                let document: Option<String> = row.try_get("document_id")?;
                Ok(HistoryRow {
                    membership_id: uuid(row.try_get("membership_id")?)?,
                    version: row.try_get("version")?,
                    at: from_micros(row.try_get("at")?),
                    event: decode::event(row.try_get("event")?)?,
                    from_status: decode::opt_status(row.try_get("from_status")?)?,
                    to_status: decode::opt_status(row.try_get("to_status")?)?,
                    actor_nik: row.try_get("actor_nik")?,
                    actor_name: row.try_get("actor_name")?,
                    reason: row.try_get("reason")?,
                    letter_number: row.try_get("letter_number")?,
                    document_id: document.map(uuid).transpose()?,
                })
            }

            fn audit_row(row: DbRow) -> StoreResult<AuditRow> {
                Ok(AuditRow {
                    id: row.try_get("id")?,
                    at: from_micros(row.try_get("at")?),
                    actor_nik: row.try_get("actor_nik")?,
                    actor_name: row.try_get("actor_name")?,
                    event: decode::event(row.try_get("event")?)?,
                    membership_id: uuid(row.try_get("membership_id")?)?,
                    nik: row.try_get("nik")?,
                    satker_code: row.try_get("satker_code")?,
                    kppn_code: row.try_get("kppn_code")?,
                    from_status: decode::opt_status(row.try_get("from_status")?)?,
                    to_status: decode::opt_status(row.try_get("to_status")?)?,
                    reason: row.try_get("reason")?,
                    request_id: row.try_get("request_id")?,
                    detail: row.try_get("detail")?,
                })
            }

            /// Appends the scope condition for a table with `satker_code`/`kppn_code`.
            fn push_scope(qb: &mut sqlx::QueryBuilder<'_, $db>, scope: &ScopeFilter, satker_column: &str) {
                match scope {
                    ScopeFilter::Kppn(kppn) => {
                        qb.push(format!(" {satker_column} IN (SELECT code FROM satkers WHERE kppn_code = "));
                        qb.push_bind(kppn.clone());
                        qb.push(")");
                    }
                    ScopeFilter::ActiveIn(nik) => {
                        qb.push(format!(
                            " {satker_column} IN (SELECT satker_code FROM memberships WHERE status = {} AND deleted_at IS NULL AND nik = ",
                            status_sql(Status::Active)
                        ));
                        qb.push_bind(nik.clone());
                        qb.push(")");
                    }
                }
            }

            mod reference {
                use super::*;
                crate::store::sql::reference::reference_sql!($db);
            }

            mod accounts {
                use super::*;
                crate::store::sql::accounts::accounts_sql!($db);
            }

            mod memberships {
                use super::*;
                crate::store::sql::memberships::memberships_sql!($db);
            }

            mod documents {
                use super::*;
                crate::store::sql::documents::documents_sql!($db);
            }

            mod feed {
                use super::*;
                crate::store::sql::feed::feed_sql!($db);
            }

            mod mail {
                use super::*;
                crate::store::sql::mail::mail_sql!($db);
            }

            mod upkeep {
                use super::*;
                crate::store::sql::upkeep::upkeep_sql!($db);
            }

            mod queue {
                use super::*;
                crate::store::sql::queue::queue_sql!($db);
            }

            mod deletions {
                use super::*;
                crate::store::sql::deletions::deletions_sql!($db);
            }

            #[async_trait]
            impl ReadConn for SqlConn {
                async fn ping(&mut self) -> StoreResult<()> {
                    sqlx::query("SELECT 1").execute(self.c()).await?;
                    Ok(())
                }

                async fn kppns(&mut self) -> StoreResult<Vec<KppnRow>> {
                    reference::kppns(self.c()).await
                }

                async fn kppn(&mut self, code: &str) -> StoreResult<Option<KppnRow>> {
                    reference::kppn(self.c(), code).await
                }

                async fn satker(&mut self, code: &str) -> StoreResult<Option<SatkerRow>> {
                    reference::satker(self.c(), code).await
                }

                async fn satkers_in_scope(&mut self, scope: &ScopeFilter) -> StoreResult<Vec<SatkerRow>> {
                    reference::satkers_in_scope(self.c(), scope).await
                }

                async fn account(&mut self, nik: &str) -> StoreResult<Option<AccountRow>> {
                    accounts::account(self.c(), nik).await
                }

                async fn login_attempts(&mut self, nik: &str) -> StoreResult<Option<LoginAttemptRow>> {
                    accounts::login_attempts(self.c(), nik).await
                }

                async fn session(&mut self, token_hash: &str) -> StoreResult<Option<SessionRow>> {
                    accounts::session(self.c(), token_hash).await
                }

                async fn refresh(&mut self, token_hash: &str) -> StoreResult<Option<RefreshRow>> {
                    accounts::refresh(self.c(), token_hash).await
                }

                async fn activation(&mut self, token_hash: &str) -> StoreResult<Option<ActivationRow>> {
                    accounts::activation(self.c(), token_hash).await
                }

                async fn membership(&mut self, id: Uuid) -> StoreResult<Option<MembershipRow>> {
                    memberships::membership(self.c(), id).await
                }

                async fn memberships_of_person_in_satker(&mut self, nik: &str, satker: &str) -> StoreResult<Vec<MembershipRow>> {
                    memberships::memberships_of_person_in_satker(self.c(), nik, satker).await
                }

                async fn memberships_of_person(&mut self, nik: &str) -> StoreResult<Vec<MembershipRow>> {
                    memberships::memberships_of_person(self.c(), nik).await
                }

                async fn list_memberships(&mut self, scope: &ScopeFilter, filter: &ListFilter) -> StoreResult<Vec<MembershipRow>> {
                    memberships::list_memberships(self.c(), scope, filter).await
                }

                async fn memberships_of_satker(&mut self, satker: &str) -> StoreResult<Vec<MembershipRow>> {
                    memberships::memberships_of_satker(self.c(), satker).await
                }

                async fn dormancy_candidates(&mut self, cutoff: DateTime<Utc>) -> StoreResult<Vec<String>> {
                    memberships::dormancy_candidates(self.c(), cutoff).await
                }

                async fn is_dormancy_due(&mut self, nik: &str, cutoff: DateTime<Utc>) -> StoreResult<bool> {
                    memberships::is_dormancy_due(self.c(), nik, cutoff).await
                }

                async fn history(&mut self, membership_id: Uuid) -> StoreResult<Vec<HistoryRow>> {
                    memberships::history(self.c(), membership_id).await
                }

                async fn audit_of_person(&mut self, nik: &str, kppn_code: &str) -> StoreResult<Vec<AuditRow>> {
                    memberships::audit_of_person(self.c(), nik, kppn_code).await
                }

                async fn document(&mut self, id: Uuid) -> StoreResult<Option<DocumentRow>> {
                    documents::document(self.c(), id).await
                }

                async fn document_referenced(&mut self, sha256: &str) -> StoreResult<bool> {
                    documents::document_referenced(self.c(), sha256).await
                }

                async fn referenced_documents(&mut self) -> StoreResult<std::collections::HashSet<String>> {
                    documents::referenced_documents(self.c()).await
                }

                async fn changes(&mut self, scope: &ScopeFilter, after: i64, limit: i64) -> StoreResult<Vec<ChangeRow>> {
                    feed::changes(self.c(), scope, after, limit).await
                }

                async fn count_changes(&mut self, scope: &ScopeFilter, after: i64) -> StoreResult<i64> {
                    feed::count_changes(self.c(), scope, after).await
                }

                async fn idempotency(&mut self, nik: &str, key: &str) -> StoreResult<Option<IdempotencyRow>> {
                    upkeep::idempotency(self.c(), nik, key).await
                }

                async fn holidays(&mut self) -> StoreResult<BTreeSet<NaiveDate>> {
                    queue::holidays(self.c()).await
                }

                async fn pending_registrations(&mut self, scope: Option<&ScopeFilter>) -> StoreResult<Vec<MembershipRow>> {
                    queue::pending_registrations(self.c(), scope).await
                }

                async fn queue_flags(&mut self) -> StoreResult<HashMap<String, QueueFlags>> {
                    queue::queue_flags(self.c()).await
                }

                async fn deletion_request(&mut self, id: Uuid) -> StoreResult<Option<DeletionRequestRow>> {
                    deletions::deletion_request(self.c(), id).await
                }

                async fn open_deletion_request(&mut self, membership_id: Uuid) -> StoreResult<Option<DeletionRequestRow>> {
                    deletions::open_deletion_request(self.c(), membership_id).await
                }

                async fn deletion_requests(
                    &mut self,
                    scope: Option<&ScopeFilter>,
                    state: Option<DeletionRequestState>,
                ) -> StoreResult<Vec<DeletionRequestRow>> {
                    deletions::deletion_requests(self.c(), scope, state).await
                }

                async fn idle_verifiers(&mut self, cutoff: DateTime<Utc>) -> StoreResult<Vec<String>> {
                    accounts::idle_verifiers(self.c(), cutoff).await
                }

                async fn is_verifier_idle(&mut self, nik: &str, cutoff: DateTime<Utc>) -> StoreResult<bool> {
                    accounts::is_verifier_idle(self.c(), nik, cutoff).await
                }

                async fn digit_lookups_by(&mut self, actor_nik: &str) -> StoreResult<i64> {
                    accounts::digit_lookups_by(self.c(), actor_nik).await
                }

                async fn verifiers(&mut self) -> StoreResult<Vec<AccountRow>> {
                    accounts::verifiers(self.c()).await
                }

                async fn account_audit(&mut self, nik: &str) -> StoreResult<Vec<AccountAuditRow>> {
                    accounts::account_audit(self.c(), nik).await
                }

                async fn due_mail(&mut self, now: DateTime<Utc>, limit: i64) -> StoreResult<Vec<MailRow>> {
                    mail::due_mail(self.c(), now, limit).await
                }

                async fn unsent_mail(&mut self) -> StoreResult<i64> {
                    mail::unsent_mail(self.c()).await
                }

                async fn reset_requests(&mut self, limit: i64) -> StoreResult<Vec<(Uuid, String)>> {
                    mail::reset_requests(self.c(), limit).await
                }
            }

            #[async_trait]
            impl WriteConn for SqlConn {
                async fn commit(self: Box<Self>) -> StoreResult<()> {
                    match self.handle {
                        Handle::Tx(tx) => tx.commit().await?,
                        Handle::Conn(_) => {}
                    }
                    Ok(())
                }

                async fn lock(&mut self, key: LockKey<'_>) -> StoreResult<()> {
                    let sql: Option<&str> = $lock_sql;
                    if let Some(sql) = sql {
                        sqlx::query(sql).bind(key.text()).execute(self.c()).await?;
                    }
                    Ok(())
                }

                async fn upsert_kppn(&mut self, row: &KppnRow) -> StoreResult<bool> {
                    reference::upsert_kppn(self.c(), row).await
                }

                async fn upsert_satker(&mut self, code: &str, name: &str, kppn_code: &str) -> StoreResult<bool> {
                    reference::upsert_satker(self.c(), code, name, kppn_code).await
                }

                async fn insert_account(&mut self, row: &AccountRow) -> StoreResult<()> {
                    accounts::insert_account(self.c(), row).await
                }

                async fn set_password(&mut self, nik: &str, hash: &str) -> StoreResult<()> {
                    accounts::set_password(self.c(), nik, hash).await
                }

                async fn set_last_sign_in(&mut self, nik: &str, at: DateTime<Utc>) -> StoreResult<()> {
                    accounts::set_last_sign_in(self.c(), nik, at).await
                }

                async fn record_login_failure(&mut self, nik: &str, f: &LoginFailure) -> StoreResult<LoginAttemptRow> {
                    accounts::record_login_failure(self.c(), nik, f).await
                }

                async fn clear_login_attempts(&mut self, nik: &str) -> StoreResult<()> {
                    accounts::clear_login_attempts(self.c(), nik).await
                }

                async fn server_key(&mut self, name: &str, fresh: &str) -> StoreResult<String> {
                    accounts::server_key(self.c(), name, fresh).await
                }

                async fn record_digit_lookup(&mut self, actor_nik: &str, nik: &str, found: bool, at: DateTime<Utc>) -> StoreResult<()> {
                    accounts::record_digit_lookup(self.c(), actor_nik, nik, found, at).await
                }

                async fn spend_captcha(&mut self, nonce: &str, expires_at: DateTime<Utc>) -> StoreResult<bool> {
                    accounts::spend_captcha(self.c(), nonce, expires_at).await
                }

                async fn insert_session(&mut self, token_hash: &str, row: &SessionRow) -> StoreResult<()> {
                    accounts::insert_session(self.c(), token_hash, row).await
                }

                async fn insert_refresh(&mut self, token_hash: &str, row: &RefreshRow) -> StoreResult<()> {
                    accounts::insert_refresh(self.c(), token_hash, row).await
                }

                async fn mark_refresh_used(&mut self, token_hash: &str, at: DateTime<Utc>) -> StoreResult<bool> {
                    accounts::mark_refresh_used(self.c(), token_hash, at).await
                }

                async fn revoke_family(&mut self, family_id: &str, at: DateTime<Utc>) -> StoreResult<()> {
                    accounts::revoke_family(self.c(), family_id, at).await
                }

                async fn revoke_all_sessions_of(&mut self, nik: &str, at: DateTime<Utc>) -> StoreResult<()> {
                    accounts::revoke_all_sessions_of(self.c(), nik, at).await
                }

                async fn insert_activation(&mut self, token_hash: &str, row: &ActivationRow) -> StoreResult<()> {
                    accounts::insert_activation(self.c(), token_hash, row).await
                }

                async fn use_activation(&mut self, token_hash: &str, at: DateTime<Utc>) -> StoreResult<bool> {
                    accounts::use_activation(self.c(), token_hash, at).await
                }

                async fn insert_membership(&mut self, m: &MembershipRow) -> StoreResult<()> {
                    memberships::insert_membership(self.c(), m).await
                }

                async fn update_membership(&mut self, m: &MembershipRow, expected_version: i64) -> StoreResult<bool> {
                    memberships::update_membership(self.c(), m, expected_version).await
                }

                async fn next_registration_seq(&mut self) -> StoreResult<i64> {
                    memberships::next_registration_seq(self.c()).await
                }

                async fn insert_history(&mut self, h: &HistoryRow) -> StoreResult<()> {
                    memberships::insert_history(self.c(), h).await
                }

                async fn insert_audit(&mut self, a: &AuditRow) -> StoreResult<()> {
                    memberships::insert_audit(self.c(), a).await
                }

                async fn insert_document(&mut self, d: &DocumentRow) -> StoreResult<()> {
                    documents::insert_document(self.c(), d).await
                }

                async fn append_changes(&mut self, changes: &[NewChange], at: DateTime<Utc>) -> StoreResult<()> {
                    feed::append_changes(self.c(), changes, at).await
                }

                async fn rescope_changes(&mut self, satker: &str) -> StoreResult<u64> {
                    feed::rescope_changes(self.c(), satker).await
                }

                async fn save_idempotency(&mut self, nik: &str, key: &str, row: &IdempotencyRow, at: DateTime<Utc>) -> StoreResult<()> {
                    upkeep::save_idempotency(self.c(), nik, key, row, at).await
                }

                async fn purge_expired(&mut self, now: DateTime<Utc>) -> StoreResult<()> {
                    upkeep::purge_expired(self.c(), now).await
                }

                async fn compact_changes(&mut self, limit: i64) -> StoreResult<u64> {
                    feed::compact_changes(self.c(), limit).await
                }

                async fn claim_job(&mut self, job: &str, now: DateTime<Utc>, due_before: DateTime<Utc>) -> StoreResult<bool> {
                    upkeep::claim_job(self.c(), job, now, due_before).await
                }

                async fn finish_job(&mut self, job: &str, now: DateTime<Utc>) -> StoreResult<()> {
                    upkeep::finish_job(self.c(), job, now).await
                }

                async fn replace_holidays(&mut self, days: &[NaiveDate]) -> StoreResult<()> {
                    queue::replace_holidays(self.c(), days).await
                }

                async fn set_queue_flags(&mut self, membership_id: &str, flags: QueueFlags) -> StoreResult<()> {
                    queue::set_queue_flags(self.c(), membership_id, flags).await
                }

                async fn insert_deletion_request(&mut self, row: &DeletionRequestRow) -> StoreResult<()> {
                    deletions::insert_deletion_request(self.c(), row).await
                }

                async fn close_deletion_request(&mut self, row: &DeletionRequestRow) -> StoreResult<bool> {
                    deletions::close_deletion_request(self.c(), row).await
                }

                async fn forget_queue_flags(&mut self, membership_id: &str) -> StoreResult<()> {
                    queue::forget_queue_flags(self.c(), membership_id).await
                }

                async fn claim_reminder(&mut self, kppn: &str, day: &str, kind: &str) -> StoreResult<bool> {
                    queue::claim_reminder(self.c(), kppn, day, kind).await
                }

                async fn backdate_membership(&mut self, id: Uuid, created_at: DateTime<Utc>) -> StoreResult<()> {
                    queue::backdate_membership(self.c(), id, created_at).await
                }

                async fn set_disabled(&mut self, nik: &str, at: Option<DateTime<Utc>>) -> StoreResult<bool> {
                    accounts::set_disabled(self.c(), nik, at).await
                }

                async fn set_verifier_kppn(&mut self, nik: &str, kppn_code: &str, supervisor: bool) -> StoreResult<bool> {
                    accounts::set_verifier_kppn(self.c(), nik, kppn_code, supervisor).await
                }

                async fn record_account_audit(&mut self, row: &AccountAuditRow) -> StoreResult<()> {
                    accounts::record_account_audit(self.c(), row).await
                }

                async fn set_account_email(&mut self, nik: &str, email: &str) -> StoreResult<()> {
                    accounts::set_account_email(self.c(), nik, email).await
                }

                async fn revoke_other_sessions(&mut self, nik: &str, keep_family: &str, at: DateTime<Utc>) -> StoreResult<()> {
                    accounts::revoke_other_sessions(self.c(), nik, keep_family, at).await
                }

                async fn void_tokens(&mut self, nik: &str, purpose: TokenPurpose, at: DateTime<Utc>) -> StoreResult<u64> {
                    accounts::void_tokens(self.c(), nik, purpose, at).await
                }

                async fn queue_mail(&mut self, mail: &MailRow) -> StoreResult<()> {
                    mail::queue_mail(self.c(), mail).await
                }

                async fn claim_mail(&mut self, id: Uuid, now: DateTime<Utc>, lease_until: DateTime<Utc>) -> StoreResult<bool> {
                    mail::claim_mail(self.c(), id, now, lease_until).await
                }

                async fn mail_sent(&mut self, id: Uuid, at: DateTime<Utc>) -> StoreResult<()> {
                    mail::mail_sent(self.c(), id, at).await
                }

                async fn mail_failed(&mut self, id: Uuid, error: &str, retry_at: DateTime<Utc>) -> StoreResult<()> {
                    mail::mail_failed(self.c(), id, error, retry_at).await
                }

                async fn insert_reset_request(&mut self, id: Uuid, nik: &str, at: DateTime<Utc>) -> StoreResult<()> {
                    mail::insert_reset_request(self.c(), id, nik, at).await
                }

                async fn take_reset_request(&mut self, id: Uuid) -> StoreResult<bool> {
                    mail::take_reset_request(self.c(), id).await
                }
            }
        }
    };
}

sql_backend!(
    sqlite,
    sqlx::Sqlite,
    SqliteStore { writer: sqlx::SqlitePool, reader: sqlx::SqlitePool },
    "sqlite",
    read = reader,
    write = writer,
    lock = None
);
sql_backend!(
    postgres,
    sqlx::Postgres,
    PgStore { pool: sqlx::PgPool },
    "postgres",
    read = pool,
    write = pool,
    lock = Some("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
);

#[async_trait]
impl Store for sqlite::SqliteStore {
    async fn read(&self) -> StoreResult<Box<dyn ReadConn>> {
        self.read_conn().await
    }

    async fn write(&self) -> StoreResult<Box<dyn WriteConn>> {
        self.write_tx().await
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn job_lock(&self, _job: &str) -> StoreResult<Option<JobLock>> {
        // One server process owns a SQLite database: nobody else can run the job.
        Ok(Some(JobLock { held: None }))
    }
}

#[async_trait]
impl Store for postgres::PgStore {
    async fn read(&self) -> StoreResult<Box<dyn ReadConn>> {
        self.read_conn().await
    }

    async fn write(&self) -> StoreResult<Box<dyn WriteConn>> {
        self.write_tx().await
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn job_lock(&self, job: &str) -> StoreResult<Option<JobLock>> {
        // A session-level advisory lock on a connection of its own, held for the whole round
        // (which spans many transactions) and released with it.
        let mut conn = self.pool.acquire().await?;
        let key = format!("job:{job}");
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtextextended($1, 0))").bind(&key).fetch_one(&mut *conn).await?;
        Ok(got.then(|| JobLock { held: Some((conn, key)) }))
    }
}

/// A background job's lock (see [`Store::job_lock`]).
pub struct JobLock {
    held: Option<(sqlx::pool::PoolConnection<sqlx::Postgres>, String)>,
}

impl JobLock {
    /// Gives the lock back; its connection returns to the pool.
    pub async fn release(mut self) {
        if let Some((mut conn, key)) = self.held.take() {
            let unlocked = sqlx::query("SELECT pg_advisory_unlock(hashtextextended($1, 0))").bind(&key).execute(&mut *conn).await;
            if unlocked.is_err() {
                // Closing the connection ends its session, and with it the lock.
                drop(conn.detach());
            }
        }
    }
}

impl Drop for JobLock {
    fn drop(&mut self) {
        // Not released (a job panicked or was cancelled): a session lock must never go back
        // to the pool with its connection, so the connection is closed instead.
        if let Some((conn, _)) = self.held.take() {
            drop(conn.detach());
        }
    }
}

/// Which verifiers are idle: KPPN verifiers, not disabled, whose last sign-in (or, never
/// signed in, creation) is before `$1`.
fn verifier_idle() -> String {
    format!("role = '{}' AND disabled_at IS NULL AND COALESCE(last_sign_in_at, created_at) < $1", Role::Kppn.as_str())
}

/// Who is due for dormancy: satker users with an active membership whose clock (the last
/// sign-in, or the latest activation if they never signed in since) is before `$1`.
fn dormancy_due() -> String {
    let (satker, active) = (Role::Satker.as_str(), status_sql(Status::Active));
    format!(
        "a.role = '{satker}' AND EXISTS \
         (SELECT 1 FROM memberships m WHERE m.nik = a.nik AND m.status = {active} AND m.deleted_at IS NULL) \
         AND COALESCE(a.last_sign_in_at, (SELECT MAX(m2.activated_at) FROM memberships m2 \
         WHERE m2.nik = a.nik AND m2.status = {active} AND m2.deleted_at IS NULL)) < $1"
    )
}
