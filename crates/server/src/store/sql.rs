//! The SQL of the store, written once and instantiated for SQLite and PostgreSQL by
//! `sql_backend!`. See the module docs of `store` for the dialect rules the queries keep.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;
use uuid::Uuid;

use super::*;

/// Opens the database named by `url` and brings its schema up to date.
pub async fn migrate_and_open(url: &str) -> StoreResult<Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let pool = sqlx::postgres::PgPoolOptions::new().max_connections(32).acquire_timeout(Duration::from_secs(10)).connect(url).await?;
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
        let writer = sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect_with(options.clone()).await?;
        sqlx::migrate!("migrations/sqlite").run(&writer).await?;
        let reader = sqlx::sqlite::SqlitePoolOptions::new().max_connections(8).connect_with(options.read_only(true)).await?;
        Ok(Arc::new(sqlite::SqliteStore { writer, reader }))
    }
}

/// Opens without migrating (tools that only read).
pub async fn connect(url: &str) -> StoreResult<Arc<dyn Store>> {
    migrate_and_open(url).await
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
    decided_by, ever_active, listed, activated_at, deleted_at, registered_seq";

/// The columns a change may write (everything but id, nik, satker, created_at and
/// registered_seq), in the order `bind_changeable` binds them.
const CHANGEABLE_COLUMNS: &str = "name, nip, phone, email, status, letter_number, letter_document_id, rejection_reason, \
    route, ticket_number, version, updated_at, decided_at, decided_by, ever_active, listed, activated_at, deleted_at";

/// `UPDATE … SET <each changeable column> = $n … WHERE id = $19 AND version = $20`.
static UPDATE_MEMBERSHIP: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let set: Vec<String> = CHANGEABLE_COLUMNS.split(", ").enumerate().map(|(i, c)| format!("{c} = ${}", i + 1)).collect();
    format!("UPDATE memberships SET {} WHERE id = $19 AND version = $20", set.join(", "))
});

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
                pub(super) async fn read_conn(&self) -> StoreResult<Box<dyn Conn>> {
                    Ok(Box::new(SqlConn { handle: Handle::Conn(self.$read.acquire().await?) }))
                }

                pub(super) async fn write_tx(&self) -> StoreResult<Box<dyn Conn>> {
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
            }

            fn membership(row: DbRow) -> StoreResult<MembershipRow> {
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
                })
            }

            fn satker(row: DbRow) -> StoreResult<SatkerRow> {
                Ok(SatkerRow {
                    code: row.try_get("code")?,
                    name: row.try_get("name")?,
                    kppn_code: row.try_get("kppn_code")?,
                    kppn_name: row.try_get("kppn_name")?,
                })
            }

            fn account(row: DbRow) -> StoreResult<AccountRow> {
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
                })
            }

            fn history(row: DbRow) -> StoreResult<HistoryRow> {
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

            fn audit(row: DbRow) -> StoreResult<AuditRow> {
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

            #[async_trait]
            impl Conn for SqlConn {
                async fn commit(self: Box<Self>) -> StoreResult<()> {
                    match self.handle {
                        Handle::Tx(tx) => tx.commit().await?,
                        Handle::Conn(_) => {}
                    }
                    Ok(())
                }

                async fn ping(&mut self) -> StoreResult<()> {
                    sqlx::query("SELECT 1").execute(self.c()).await?;
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
                    let done = sqlx::query(
                        "INSERT INTO kppns (code, name) VALUES ($1, $2) \
                         ON CONFLICT (code) DO UPDATE SET name = excluded.name WHERE kppns.name <> excluded.name",
                    )
                    .bind(&row.code)
                    .bind(&row.name)
                    .execute(self.c())
                    .await?;
                    Ok(done.rows_affected() > 0)
                }

                async fn upsert_satker(&mut self, code: &str, name: &str, kppn_code: &str) -> StoreResult<bool> {
                    let done = sqlx::query(
                        "INSERT INTO satkers (code, name, kppn_code) VALUES ($1, $2, $3) \
                         ON CONFLICT (code) DO UPDATE SET name = excluded.name, kppn_code = excluded.kppn_code \
                         WHERE satkers.name <> excluded.name OR satkers.kppn_code <> excluded.kppn_code",
                    )
                    .bind(code)
                    .bind(name)
                    .bind(kppn_code)
                    .execute(self.c())
                    .await?;
                    Ok(done.rows_affected() > 0)
                }

                async fn kppn(&mut self, code: &str) -> StoreResult<Option<KppnRow>> {
                    let row = sqlx::query("SELECT code, name FROM kppns WHERE code = $1")
                        .bind(code)
                        .fetch_optional(self.c())
                        .await?;
                    row.map(|r| Ok(KppnRow { code: r.try_get("code")?, name: r.try_get("name")? })).transpose()
                }

                async fn satker(&mut self, code: &str) -> StoreResult<Option<SatkerRow>> {
                    let sql = format!("SELECT {SATKER_COLUMNS} FROM satkers s JOIN kppns k ON k.code = s.kppn_code WHERE s.code = $1");
                    sqlx::query(&sql).bind(code).fetch_optional(self.c()).await?.map(satker).transpose()
                }

                async fn satkers_in_scope(&mut self, scope: &ScopeFilter) -> StoreResult<Vec<SatkerRow>> {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(format!(
                        "SELECT {SATKER_COLUMNS} FROM satkers s JOIN kppns k ON k.code = s.kppn_code WHERE"
                    ));
                    push_scope(&mut qb, scope, "s.code");
                    qb.push(" ORDER BY s.code");
                    qb.build().fetch_all(self.c()).await?.into_iter().map(satker).collect()
                }

                async fn account(&mut self, nik: &str) -> StoreResult<Option<AccountRow>> {
                    sqlx::query(
                        "SELECT nik, name, email, nip, password_hash, role, kppn_code, created_at, last_sign_in_at \
                         FROM accounts WHERE nik = $1",
                    )
                    .bind(nik)
                    .fetch_optional(self.c())
                    .await?
                    .map(account)
                    .transpose()
                }

                async fn insert_account(&mut self, row: &AccountRow) -> StoreResult<()> {
                    sqlx::query(
                        "INSERT INTO accounts (nik, name, email, nip, password_hash, role, kppn_code, created_at, last_sign_in_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    )
                    .bind(&row.nik)
                    .bind(&row.name)
                    .bind(&row.email)
                    .bind(&row.nip)
                    .bind(&row.password_hash)
                    .bind(row.role.as_str())
                    .bind(&row.kppn_code)
                    .bind(micros(row.created_at))
                    .bind(opt_micros(row.last_sign_in_at))
                    .execute(self.c())
                    .await?;
                    Ok(())
                }

                async fn set_password(&mut self, nik: &str, hash: &str) -> StoreResult<()> {
                    sqlx::query("UPDATE accounts SET password_hash = $1 WHERE nik = $2")
                        .bind(hash)
                        .bind(nik)
                        .execute(self.c())
                        .await?;
                    Ok(())
                }

                async fn set_last_sign_in(&mut self, nik: &str, at: DateTime<Utc>) -> StoreResult<()> {
                    sqlx::query("UPDATE accounts SET last_sign_in_at = $1 WHERE nik = $2")
                        .bind(micros(at))
                        .bind(nik)
                        .execute(self.c())
                        .await?;
                    Ok(())
                }

                async fn login_attempts(&mut self, nik: &str) -> StoreResult<Option<LoginAttemptRow>> {
                    let row = sqlx::query("SELECT failures, first_failure_at, locked_until FROM login_attempts WHERE nik = $1")
                        .bind(nik)
                        .fetch_optional(self.c())
                        .await?;
                    row.map(|r| {
                        Ok(LoginAttemptRow {
                            failures: r.try_get("failures")?,
                            first_failure_at: from_micros(r.try_get("first_failure_at")?),
                            locked_until: opt_time(r.try_get("locked_until")?),
                        })
                    })
                    .transpose()
                }

                async fn record_login_failure(&mut self, nik: &str, f: &LoginFailure) -> StoreResult<LoginAttemptRow> {
                    // One statement: the row lock (PostgreSQL) or the single writer (SQLite)
                    // makes parallel failures count one by one. `locked` is a lock still
                    // running; `continuing` a count that goes on (locked, or inside the window).
                    const LOCKED: &str = "(login_attempts.locked_until IS NOT NULL AND login_attempts.locked_until > $2)";
                    let continuing = format!(
                        "({LOCKED} OR (login_attempts.locked_until IS NULL AND login_attempts.first_failure_at > $3))"
                    );
                    let sql = format!(
                        "INSERT INTO login_attempts (nik, failures, first_failure_at, locked_until) VALUES ($1, 1, $2, NULL) \
                         ON CONFLICT (nik) DO UPDATE SET \
                         failures = CASE WHEN {continuing} THEN login_attempts.failures + 1 ELSE 1 END, \
                         first_failure_at = CASE WHEN {continuing} THEN login_attempts.first_failure_at ELSE $2 END, \
                         locked_until = CASE WHEN {LOCKED} THEN login_attempts.locked_until \
                             WHEN {continuing} AND login_attempts.failures + 1 >= $4 THEN $5 ELSE NULL END \
                         RETURNING failures, first_failure_at, locked_until"
                    );
                    let r = sqlx::query(&sql)
                        .bind(nik)
                        .bind(micros(f.at))
                        .bind(micros(f.window_start))
                        .bind(f.max_failures)
                        .bind(micros(f.lock_until))
                        .fetch_one(self.c())
                        .await?;
                    Ok(LoginAttemptRow {
                        failures: r.try_get("failures")?,
                        first_failure_at: from_micros(r.try_get("first_failure_at")?),
                        locked_until: opt_time(r.try_get("locked_until")?),
                    })
                }

                async fn clear_login_attempts(&mut self, nik: &str) -> StoreResult<()> {
                    sqlx::query("DELETE FROM login_attempts WHERE nik = $1").bind(nik).execute(self.c()).await?;
                    Ok(())
                }

                async fn insert_captcha(&mut self, id: &str, answer: &str, expires_at: DateTime<Utc>) -> StoreResult<()> {
                    sqlx::query("INSERT INTO captchas (id, answer, expires_at) VALUES ($1, $2, $3)")
                        .bind(id)
                        .bind(answer)
                        .bind(micros(expires_at))
                        .execute(self.c())
                        .await?;
                    Ok(())
                }

                async fn take_captcha(&mut self, id: &str, now: DateTime<Utc>) -> StoreResult<Option<String>> {
                    let row = sqlx::query("DELETE FROM captchas WHERE id = $1 AND expires_at > $2 RETURNING answer")
                        .bind(id)
                        .bind(micros(now))
                        .fetch_optional(self.c())
                        .await?;
                    Ok(row.map(|r| r.try_get("answer")).transpose()?)
                }

                async fn insert_session(&mut self, token_hash: &str, row: &SessionRow) -> StoreResult<()> {
                    sqlx::query("INSERT INTO sessions (token_hash, nik, family_id, expires_at) VALUES ($1, $2, $3, $4)")
                        .bind(token_hash)
                        .bind(&row.nik)
                        .bind(&row.family_id)
                        .bind(micros(row.expires_at))
                        .execute(self.c())
                        .await?;
                    Ok(())
                }

                async fn session(&mut self, token_hash: &str) -> StoreResult<Option<SessionRow>> {
                    let row = sqlx::query("SELECT nik, family_id, expires_at FROM sessions WHERE token_hash = $1")
                        .bind(token_hash)
                        .fetch_optional(self.c())
                        .await?;
                    row.map(|r| {
                        Ok(SessionRow {
                            nik: r.try_get("nik")?,
                            family_id: r.try_get("family_id")?,
                            expires_at: from_micros(r.try_get("expires_at")?),
                        })
                    })
                    .transpose()
                }

                async fn insert_refresh(&mut self, token_hash: &str, row: &RefreshRow) -> StoreResult<()> {
                    sqlx::query(
                        "INSERT INTO refresh_tokens (token_hash, family_id, nik, expires_at, used_at, revoked_at) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(token_hash)
                    .bind(&row.family_id)
                    .bind(&row.nik)
                    .bind(micros(row.expires_at))
                    .bind(opt_micros(row.used_at))
                    .bind(opt_micros(row.revoked_at))
                    .execute(self.c())
                    .await?;
                    Ok(())
                }

                async fn refresh(&mut self, token_hash: &str) -> StoreResult<Option<RefreshRow>> {
                    let row = sqlx::query(
                        "SELECT family_id, nik, expires_at, used_at, revoked_at FROM refresh_tokens WHERE token_hash = $1",
                    )
                    .bind(token_hash)
                    .fetch_optional(self.c())
                    .await?;
                    row.map(|r| {
                        Ok(RefreshRow {
                            family_id: r.try_get("family_id")?,
                            nik: r.try_get("nik")?,
                            expires_at: from_micros(r.try_get("expires_at")?),
                            used_at: opt_time(r.try_get("used_at")?),
                            revoked_at: opt_time(r.try_get("revoked_at")?),
                        })
                    })
                    .transpose()
                }

                async fn mark_refresh_used(&mut self, token_hash: &str, at: DateTime<Utc>) -> StoreResult<bool> {
                    let done = sqlx::query(
                        "UPDATE refresh_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND revoked_at IS NULL",
                    )
                    .bind(micros(at))
                    .bind(token_hash)
                    .execute(self.c())
                    .await?;
                    Ok(done.rows_affected() == 1)
                }

                async fn revoke_family(&mut self, family_id: &str, at: DateTime<Utc>) -> StoreResult<()> {
                    sqlx::query("UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL")
                        .bind(micros(at))
                        .bind(family_id)
                        .execute(self.c())
                        .await?;
                    sqlx::query("DELETE FROM sessions WHERE family_id = $1").bind(family_id).execute(self.c()).await?;
                    Ok(())
                }

                async fn revoke_all_sessions_of(&mut self, nik: &str, at: DateTime<Utc>) -> StoreResult<()> {
                    sqlx::query("UPDATE refresh_tokens SET revoked_at = $1 WHERE nik = $2 AND revoked_at IS NULL")
                        .bind(micros(at))
                        .bind(nik)
                        .execute(self.c())
                        .await?;
                    sqlx::query("DELETE FROM sessions WHERE nik = $1").bind(nik).execute(self.c()).await?;
                    Ok(())
                }

                async fn insert_activation(&mut self, token_hash: &str, row: &ActivationRow) -> StoreResult<()> {
                    sqlx::query("INSERT INTO activation_tokens (token_hash, nik, expires_at, used_at) VALUES ($1, $2, $3, $4)")
                        .bind(token_hash)
                        .bind(&row.nik)
                        .bind(micros(row.expires_at))
                        .bind(opt_micros(row.used_at))
                        .execute(self.c())
                        .await?;
                    Ok(())
                }

                async fn activation(&mut self, token_hash: &str) -> StoreResult<Option<ActivationRow>> {
                    let row = sqlx::query("SELECT nik, expires_at, used_at FROM activation_tokens WHERE token_hash = $1")
                        .bind(token_hash)
                        .fetch_optional(self.c())
                        .await?;
                    row.map(|r| {
                        Ok(ActivationRow {
                            nik: r.try_get("nik")?,
                            expires_at: from_micros(r.try_get("expires_at")?),
                            used_at: opt_time(r.try_get("used_at")?),
                        })
                    })
                    .transpose()
                }

                async fn use_activation(&mut self, token_hash: &str, at: DateTime<Utc>) -> StoreResult<bool> {
                    let done = sqlx::query(
                        "UPDATE activation_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1",
                    )
                    .bind(micros(at))
                    .bind(token_hash)
                    .execute(self.c())
                    .await?;
                    Ok(done.rows_affected() == 1)
                }

                async fn membership(&mut self, id: Uuid) -> StoreResult<Option<MembershipRow>> {
                    let sql = format!("SELECT {MEMBERSHIP_COLUMNS} FROM memberships WHERE id = $1 AND deleted_at IS NULL");
                    sqlx::query(&sql).bind(id.to_string()).fetch_optional(self.c()).await?.map(membership).transpose()
                }

                async fn memberships_of_person_in_satker(&mut self, nik: &str, satker: &str) -> StoreResult<Vec<MembershipRow>> {
                    let sql = format!(
                        "SELECT {MEMBERSHIP_COLUMNS} FROM memberships \
                         WHERE nik = $1 AND satker_code = $2 AND deleted_at IS NULL ORDER BY registered_seq"
                    );
                    sqlx::query(&sql).bind(nik).bind(satker).fetch_all(self.c()).await?.into_iter().map(membership).collect()
                }

                async fn memberships_of_person(&mut self, nik: &str) -> StoreResult<Vec<MembershipRow>> {
                    let sql = format!(
                        "SELECT {MEMBERSHIP_COLUMNS} FROM memberships WHERE nik = $1 AND deleted_at IS NULL ORDER BY satker_code, registered_seq"
                    );
                    sqlx::query(&sql).bind(nik).fetch_all(self.c()).await?.into_iter().map(membership).collect()
                }

                async fn list_memberships(&mut self, scope: &ScopeFilter, filter: &ListFilter) -> StoreResult<Vec<MembershipRow>> {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(format!(
                        "SELECT {MEMBERSHIP_COLUMNS} FROM memberships WHERE deleted_at IS NULL AND listed = "
                    ));
                    qb.push_bind(true);
                    qb.push(" AND");
                    push_scope(&mut qb, scope, "satker_code");
                    if let Some(satker) = &filter.satker_code {
                        qb.push(" AND satker_code = ").push_bind(satker.clone());
                    }
                    if let Some(status) = filter.status {
                        qb.push(" AND status = ").push_bind(status);
                    }
                    if let Some(q) = &filter.query {
                        let pattern = like_pattern(q);
                        qb.push(" AND (LOWER(name) LIKE ").push_bind(pattern.clone()).push(" ESCAPE '\\'");
                        qb.push(" OR nik LIKE ").push_bind(pattern).push(" ESCAPE '\\')");
                    }
                    if let Some((name, nik, seq)) = &filter.after {
                        qb.push(" AND (name, nik, registered_seq) > (").push_bind(name.clone());
                        qb.push(", ").push_bind(nik.clone());
                        qb.push(", ").push_bind(*seq).push(")");
                    }
                    qb.push(" ORDER BY name, nik, registered_seq LIMIT ").push_bind(filter.limit);
                    qb.build().fetch_all(self.c()).await?.into_iter().map(membership).collect()
                }

                async fn insert_membership(&mut self, m: &MembershipRow) -> StoreResult<()> {
                    let sql = format!(
                        "INSERT INTO memberships ({CHANGEABLE_COLUMNS}, id, nik, satker_code, created_at, registered_seq) VALUES \
                         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)"
                    );
                    bind_changeable(sqlx::query(&sql), m)
                        .bind(m.id.to_string())
                        .bind(&m.nik)
                        .bind(&m.satker_code)
                        .bind(micros(m.created_at))
                        .bind(m.registered_seq)
                        .execute(self.c())
                        .await?;
                    Ok(())
                }

                async fn update_membership(&mut self, m: &MembershipRow, expected_version: i64) -> StoreResult<bool> {
                    // The version guard: on PostgreSQL a concurrent writer of the row holds
                    // its lock until commit, after which this statement re-reads the row and
                    // finds the version moved on (zero rows). id, nik, satker, created_at and
                    // registered_seq never change.
                    let done = bind_changeable(sqlx::query(UPDATE_MEMBERSHIP.as_str()), m).bind(m.id.to_string()).bind(expected_version).execute(self.c()).await?;
                    Ok(done.rows_affected() == 1)
                }

                async fn memberships_of_satker(&mut self, satker: &str) -> StoreResult<Vec<MembershipRow>> {
                    let sql = format!(
                        "SELECT {MEMBERSHIP_COLUMNS} FROM memberships WHERE satker_code = $1 AND deleted_at IS NULL ORDER BY registered_seq"
                    );
                    sqlx::query(&sql).bind(satker).fetch_all(self.c()).await?.into_iter().map(membership).collect()
                }

                async fn next_registration_seq(&mut self) -> StoreResult<i64> {
                    let row = sqlx::query("UPDATE counters SET value = value + 1 WHERE name = 'registration_seq' RETURNING value")
                        .fetch_one(self.c())
                        .await?;
                    Ok(row.try_get("value")?)
                }

                async fn dormancy_candidates(&mut self, cutoff: DateTime<Utc>) -> StoreResult<Vec<String>> {
                    let sql = format!("SELECT a.nik FROM accounts a WHERE {}", dormancy_due());
                    let rows = sqlx::query(&sql).bind(micros(cutoff)).fetch_all(self.c()).await?;
                    rows.into_iter().map(|r| Ok(r.try_get("nik")?)).collect()
                }

                async fn is_dormancy_due(&mut self, nik: &str, cutoff: DateTime<Utc>) -> StoreResult<bool> {
                    let sql = format!("SELECT a.nik FROM accounts a WHERE {} AND a.nik = $2", dormancy_due());
                    Ok(sqlx::query(&sql).bind(micros(cutoff)).bind(nik).fetch_optional(self.c()).await?.is_some())
                }

                async fn insert_history(&mut self, h: &HistoryRow) -> StoreResult<()> {
                    sqlx::query(
                        "INSERT INTO history (membership_id, version, at, event, from_status, to_status, actor_nik, \
                         actor_name, reason, letter_number, document_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                    )
                    .bind(h.membership_id.to_string())
                    .bind(h.version)
                    .bind(micros(h.at))
                    .bind(h.event.as_str())
                    .bind(h.from_status.map(|s| i64::from(s.code())))
                    .bind(h.to_status.map(|s| i64::from(s.code())))
                    .bind(&h.actor_nik)
                    .bind(&h.actor_name)
                    .bind(&h.reason)
                    .bind(&h.letter_number)
                    .bind(h.document_id.map(|d| d.to_string()))
                    .execute(self.c())
                    .await?;
                    Ok(())
                }

                async fn history(&mut self, membership_id: Uuid) -> StoreResult<Vec<HistoryRow>> {
                    sqlx::query(
                        "SELECT membership_id, version, at, event, from_status, to_status, actor_nik, actor_name, reason, \
                         letter_number, document_id FROM history WHERE membership_id = $1 ORDER BY id",
                    )
                    .bind(membership_id.to_string())
                    .fetch_all(self.c())
                    .await?
                    .into_iter()
                    .map(history)
                    .collect()
                }

                async fn insert_audit(&mut self, a: &AuditRow) -> StoreResult<()> {
                    sqlx::query(
                        "INSERT INTO audit (at, actor_nik, actor_name, event, membership_id, nik, satker_code, kppn_code, \
                         from_status, to_status, reason, request_id, detail) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                    )
                    .bind(micros(a.at))
                    .bind(&a.actor_nik)
                    .bind(&a.actor_name)
                    .bind(a.event.as_str())
                    .bind(a.membership_id.to_string())
                    .bind(&a.nik)
                    .bind(&a.satker_code)
                    .bind(&a.kppn_code)
                    .bind(a.from_status.map(|s| i64::from(s.code())))
                    .bind(a.to_status.map(|s| i64::from(s.code())))
                    .bind(&a.reason)
                    .bind(&a.request_id)
                    .bind(&a.detail)
                    .execute(self.c())
                    .await?;
                    Ok(())
                }

                async fn audit_of_person(&mut self, nik: &str, kppn_code: &str) -> StoreResult<Vec<AuditRow>> {
                    sqlx::query(
                        "SELECT id, at, actor_nik, actor_name, event, membership_id, nik, satker_code, kppn_code, \
                         from_status, to_status, reason, request_id, detail FROM audit \
                         WHERE nik = $1 AND satker_code IN (SELECT code FROM satkers WHERE kppn_code = $2) ORDER BY id",
                    )
                    .bind(nik)
                    .bind(kppn_code)
                    .fetch_all(self.c())
                    .await?
                    .into_iter()
                    .map(audit)
                    .collect()
                }

                async fn insert_document(&mut self, d: &DocumentRow) -> StoreResult<()> {
                    sqlx::query(
                        "INSERT INTO documents (id, sha256, size, pages, kind, satker_code, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(d.id.to_string())
                    .bind(&d.sha256)
                    .bind(d.size)
                    .bind(d.pages)
                    .bind(d.kind.as_str())
                    .bind(&d.satker_code)
                    .bind(micros(d.created_at))
                    .execute(self.c())
                    .await?;
                    Ok(())
                }

                async fn document(&mut self, id: Uuid) -> StoreResult<Option<DocumentRow>> {
                    let row = sqlx::query(
                        "SELECT id, sha256, size, pages, kind, satker_code, created_at FROM documents WHERE id = $1",
                    )
                    .bind(id.to_string())
                    .fetch_optional(self.c())
                    .await?;
                    row.map(|r| {
                        Ok(DocumentRow {
                            id: uuid(r.try_get("id")?)?,
                            sha256: r.try_get("sha256")?,
                            size: r.try_get("size")?,
                            pages: r.try_get("pages")?,
                            kind: decode::document_kind(r.try_get("kind")?)?,
                            satker_code: r.try_get("satker_code")?,
                            created_at: from_micros(r.try_get("created_at")?),
                        })
                    })
                    .transpose()
                }

                async fn document_referenced(&mut self, sha256: &str) -> StoreResult<bool> {
                    let row = sqlx::query("SELECT 1 AS one FROM documents WHERE sha256 = $1 LIMIT 1")
                        .bind(sha256)
                        .fetch_optional(self.c())
                        .await?;
                    Ok(row.is_some())
                }

                async fn referenced_documents(&mut self) -> StoreResult<std::collections::HashSet<String>> {
                    let rows: Vec<String> = sqlx::query_scalar("SELECT DISTINCT sha256 FROM documents").fetch_all(self.c()).await?;
                    Ok(rows.into_iter().collect())
                }

                async fn append_changes(&mut self, changes: &[NewChange], at: DateTime<Utc>) -> StoreResult<()> {
                    if changes.is_empty() {
                        return Ok(());
                    }
                    // The counter row is locked from here to commit (PostgreSQL) or the
                    // single writer holds the database (SQLite): seq order is commit order.
                    let row = sqlx::query("UPDATE counters SET value = value + $1 WHERE name = 'change_seq' RETURNING value")
                        .bind(changes.len() as i64)
                        .fetch_one(self.c())
                        .await?;
                    let last: i64 = row.try_get("value")?;
                    let first = last - changes.len() as i64 + 1;
                    for (offset, change) in changes.iter().enumerate() {
                        sqlx::query(
                            "INSERT INTO changes (seq, kind, entity_id, satker_code, kppn_code, entity, at) \
                             VALUES ($1, $2, $3, $4, COALESCE($5, (SELECT kppn_code FROM satkers WHERE code = $4)), $6, $7)",
                        )
                        .bind(first + offset as i64)
                        .bind(change.kind.as_str())
                        .bind(&change.entity_id)
                        .bind(&change.satker_code)
                        .bind(&change.addressed_to)
                        .bind(change.entity.to_string())
                        .bind(micros(at))
                        .execute(self.c())
                        .await?;
                    }
                    Ok(())
                }

                async fn changes(&mut self, scope: &ScopeFilter, after: i64, limit: i64) -> StoreResult<Vec<ChangeRow>> {
                    // Scope follows the reference data as it is now: `kppn_code` is the
                    // satker's current KPPN (kept so by append_changes and rescope_changes),
                    // except on a `satker_removed`, which names the KPPN the satker left.
                    let mut qb = sqlx::QueryBuilder::<$db>::new("SELECT seq, kind, entity FROM changes WHERE seq > ");
                    qb.push_bind(after);
                    match scope {
                        ScopeFilter::Kppn(kppn) => {
                            qb.push(" AND kppn_code = ").push_bind(kppn.clone());
                        }
                        ScopeFilter::ActiveIn(_) => {
                            qb.push(" AND kind <> 'satker_removed' AND");
                            push_scope(&mut qb, scope, "satker_code");
                        }
                    }
                    qb.push(" ORDER BY seq LIMIT ").push_bind(limit);
                    let rows = qb.build().fetch_all(self.c()).await?;
                    rows.into_iter()
                        .map(|r| Ok(ChangeRow { seq: r.try_get("seq")?, kind: decode::change_kind(r.try_get("kind")?)?, entity: r.try_get("entity")? }))
                        .collect()
                }

                async fn rescope_changes(&mut self, satker: &str) -> StoreResult<u64> {
                    let done = sqlx::query(
                        "UPDATE changes SET kppn_code = (SELECT kppn_code FROM satkers WHERE code = $1) \
                         WHERE satker_code = $1 AND kind <> 'satker_removed'",
                    )
                    .bind(satker)
                    .execute(self.c())
                    .await?;
                    Ok(done.rows_affected())
                }

                async fn idempotency(&mut self, nik: &str, key: &str) -> StoreResult<Option<IdempotencyRow>> {
                    let row = sqlx::query("SELECT fingerprint, status, body FROM idempotency WHERE nik = $1 AND key = $2")
                        .bind(nik)
                        .bind(key)
                        .fetch_optional(self.c())
                        .await?;
                    row.map(|r| {
                        Ok(IdempotencyRow {
                            fingerprint: r.try_get("fingerprint")?,
                            status: r.try_get("status")?,
                            body: r.try_get("body")?,
                        })
                    })
                    .transpose()
                }

                async fn save_idempotency(&mut self, nik: &str, key: &str, row: &IdempotencyRow, at: DateTime<Utc>) -> StoreResult<()> {
                    sqlx::query(
                        "INSERT INTO idempotency (nik, key, fingerprint, status, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(nik)
                    .bind(key)
                    .bind(&row.fingerprint)
                    .bind(row.status)
                    .bind(&row.body)
                    .bind(micros(at))
                    .execute(self.c())
                    .await?;
                    Ok(())
                }

                async fn purge_expired(&mut self, now: DateTime<Utc>) -> StoreResult<()> {
                    let now_us = micros(now);
                    // Idempotency keys are kept 48 h (the contract promises at least 24 h).
                    let keep_keys = now_us - 48 * 3600 * 1_000_000;
                    sqlx::query("DELETE FROM captchas WHERE expires_at <= $1").bind(now_us).execute(self.c()).await?;
                    sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now_us).execute(self.c()).await?;
                    sqlx::query("DELETE FROM idempotency WHERE created_at <= $1").bind(keep_keys).execute(self.c()).await?;
                    Ok(())
                }

                async fn compact_changes(&mut self, limit: i64) -> StoreResult<u64> {
                    // An entry goes when a later entry of the same entity (membership and its
                    // removal are one entity; a satker; a removal addressed to one KPPN)
                    // exists: only entries with a committed successor, so a reader following
                    // the feed never misses an entity's latest state.
                    let done = sqlx::query(
                        "DELETE FROM changes WHERE seq IN (SELECT c.seq FROM changes c WHERE EXISTS ( \
                         SELECT 1 FROM changes d WHERE d.entity_id = c.entity_id AND d.seq > c.seq AND ( \
                         (c.kind IN ('membership', 'membership_removed') AND d.kind IN ('membership', 'membership_removed')) \
                         OR (c.kind = 'satker' AND d.kind = 'satker') \
                         OR (c.kind = 'satker_removed' AND d.kind = 'satker_removed' AND d.kppn_code = c.kppn_code))) \
                         ORDER BY c.seq LIMIT $1)",
                    )
                    .bind(limit)
                    .execute(self.c())
                    .await?;
                    Ok(done.rows_affected())
                }

                async fn claim_job(&mut self, job: &str, now: DateTime<Utc>, due_before: DateTime<Utc>) -> StoreResult<bool> {
                    let done = sqlx::query(
                        "INSERT INTO job_runs (name, started_at, finished_at) VALUES ($1, $2, NULL) \
                         ON CONFLICT (name) DO UPDATE SET started_at = excluded.started_at, finished_at = NULL \
                         WHERE job_runs.started_at <= $3",
                    )
                    .bind(job)
                    .bind(micros(now))
                    .bind(micros(due_before))
                    .execute(self.c())
                    .await?;
                    Ok(done.rows_affected() == 1)
                }

                async fn finish_job(&mut self, job: &str, now: DateTime<Utc>) -> StoreResult<()> {
                    sqlx::query("UPDATE job_runs SET finished_at = $1 WHERE name = $2").bind(micros(now)).bind(job).execute(self.c()).await?;
                    Ok(())
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
    async fn read(&self) -> StoreResult<Box<dyn Conn>> {
        self.read_conn().await
    }

    async fn write(&self) -> StoreResult<Box<dyn Conn>> {
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
    async fn read(&self) -> StoreResult<Box<dyn Conn>> {
        self.read_conn().await
    }

    async fn write(&self) -> StoreResult<Box<dyn Conn>> {
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
