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
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(32)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
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
        let writer = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&writer).await?;
        let reader = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options.read_only(true))
            .await?;
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

const SATKER_COLUMNS: &str = "s.code, s.name, s.kppn_code, k.name AS kppn_name";

macro_rules! sql_backend {
    ($module:ident, $db:ty, $store:ident { $($field:ident : $pool:ty),* }, $name:literal, read = $read:ident, write = $write:ident) => {
        pub mod $module {
            use super::*;

            pub struct $store {
                $(pub $field: $pool,)*
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

            #[async_trait]
            impl Store for $store {
                async fn read(&self) -> StoreResult<Box<dyn Conn>> {
                    Ok(Box::new(SqlConn { handle: Handle::Conn(self.$read.acquire().await?) }))
                }

                async fn write(&self) -> StoreResult<Box<dyn Conn>> {
                    Ok(Box::new(SqlConn { handle: Handle::Tx(self.$write.begin().await?) }))
                }

                fn backend(&self) -> &'static str {
                    $name
                }
            }

            type DbRow = <$db as sqlx::Database>::Row;

            fn membership(row: DbRow) -> StoreResult<MembershipRow> {
                Ok(MembershipRow {
                    id: uuid(row.try_get("id")?)?,
                    nik: row.try_get("nik")?,
                    satker_code: row.try_get("satker_code")?,
                    name: row.try_get("name")?,
                    nip: row.try_get("nip")?,
                    phone: row.try_get("phone")?,
                    email: row.try_get("email")?,
                    status: row.try_get("status")?,
                    letter_number: row.try_get("letter_number")?,
                    letter_document_id: uuid(row.try_get("letter_document_id")?)?,
                    rejection_reason: row.try_get("rejection_reason")?,
                    route: row.try_get("route")?,
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
                    role: row.try_get("role")?,
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
                    event: row.try_get("event")?,
                    from_status: row.try_get("from_status")?,
                    to_status: row.try_get("to_status")?,
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
                    event: row.try_get("event")?,
                    membership_id: uuid(row.try_get("membership_id")?)?,
                    nik: row.try_get("nik")?,
                    satker_code: row.try_get("satker_code")?,
                    kppn_code: row.try_get("kppn_code")?,
                    from_status: row.try_get("from_status")?,
                    to_status: row.try_get("to_status")?,
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
                            " {satker_column} IN (SELECT satker_code FROM memberships WHERE status = 2 AND deleted_at IS NULL AND nik = "
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
                    .bind(&row.role)
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

                async fn save_login_attempts(&mut self, nik: &str, row: &LoginAttemptRow) -> StoreResult<()> {
                    sqlx::query(
                        "INSERT INTO login_attempts (nik, failures, first_failure_at, locked_until) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (nik) DO UPDATE SET failures = excluded.failures, \
                         first_failure_at = excluded.first_failure_at, locked_until = excluded.locked_until",
                    )
                    .bind(nik)
                    .bind(row.failures)
                    .bind(micros(row.first_failure_at))
                    .bind(opt_micros(row.locked_until))
                    .execute(self.c())
                    .await?;
                    Ok(())
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

                async fn save_membership(&mut self, m: &MembershipRow) -> StoreResult<()> {
                    // One statement for new and changed rows: the columns a change may touch
                    // are overwritten; id, nik, satker, created_at and registered_seq never change.
                    let sql = format!(
                        "INSERT INTO memberships ({MEMBERSHIP_COLUMNS}) VALUES \
                         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23) \
                         ON CONFLICT (id) DO UPDATE SET name = excluded.name, nip = excluded.nip, phone = excluded.phone, \
                         email = excluded.email, status = excluded.status, letter_number = excluded.letter_number, \
                         letter_document_id = excluded.letter_document_id, rejection_reason = excluded.rejection_reason, \
                         route = excluded.route, ticket_number = excluded.ticket_number, version = excluded.version, \
                         updated_at = excluded.updated_at, decided_at = excluded.decided_at, decided_by = excluded.decided_by, \
                         ever_active = excluded.ever_active, listed = excluded.listed, activated_at = excluded.activated_at, \
                         deleted_at = excluded.deleted_at"
                    );
                    sqlx::query(&sql)
                        .bind(m.id.to_string())
                        .bind(&m.nik)
                        .bind(&m.satker_code)
                        .bind(&m.name)
                        .bind(&m.nip)
                        .bind(&m.phone)
                        .bind(&m.email)
                        .bind(m.status)
                        .bind(&m.letter_number)
                        .bind(m.letter_document_id.to_string())
                        .bind(&m.rejection_reason)
                        .bind(&m.route)
                        .bind(&m.ticket_number)
                        .bind(m.version)
                        .bind(micros(m.created_at))
                        .bind(micros(m.updated_at))
                        .bind(opt_micros(m.decided_at))
                        .bind(&m.decided_by)
                        .bind(m.ever_active)
                        .bind(m.listed)
                        .bind(opt_micros(m.activated_at))
                        .bind(opt_micros(m.deleted_at))
                        .bind(m.registered_seq)
                        .execute(self.c())
                        .await?;
                    Ok(())
                }

                async fn next_registration_seq(&mut self) -> StoreResult<i64> {
                    let row = sqlx::query("UPDATE counters SET value = value + 1 WHERE name = 'registration_seq' RETURNING value")
                        .fetch_one(self.c())
                        .await?;
                    Ok(row.try_get("value")?)
                }

                async fn dormancy_candidates(&mut self, cutoff: DateTime<Utc>) -> StoreResult<Vec<String>> {
                    // The person's clock starts at the last sign-in, or at the latest
                    // activation if they never signed in since.
                    let rows = sqlx::query(
                        "SELECT a.nik FROM accounts a WHERE a.role = 'satker' AND EXISTS \
                         (SELECT 1 FROM memberships m WHERE m.nik = a.nik AND m.status = 2 AND m.deleted_at IS NULL) \
                         AND COALESCE(a.last_sign_in_at, (SELECT MAX(m2.activated_at) FROM memberships m2 \
                             WHERE m2.nik = a.nik AND m2.status = 2 AND m2.deleted_at IS NULL)) < $1",
                    )
                    .bind(micros(cutoff))
                    .fetch_all(self.c())
                    .await?;
                    rows.into_iter().map(|r| Ok(r.try_get("nik")?)).collect()
                }

                async fn insert_history(&mut self, h: &HistoryRow) -> StoreResult<()> {
                    sqlx::query(
                        "INSERT INTO history (membership_id, version, at, event, from_status, to_status, actor_nik, \
                         actor_name, reason, letter_number, document_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                    )
                    .bind(h.membership_id.to_string())
                    .bind(h.version)
                    .bind(micros(h.at))
                    .bind(&h.event)
                    .bind(h.from_status)
                    .bind(h.to_status)
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
                    .bind(&a.event)
                    .bind(a.membership_id.to_string())
                    .bind(&a.nik)
                    .bind(&a.satker_code)
                    .bind(&a.kppn_code)
                    .bind(a.from_status)
                    .bind(a.to_status)
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
                         WHERE nik = $1 AND kppn_code = $2 ORDER BY id",
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
                    .bind(&d.kind)
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
                            kind: r.try_get("kind")?,
                            satker_code: r.try_get("satker_code")?,
                            created_at: from_micros(r.try_get("created_at")?),
                        })
                    })
                    .transpose()
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
                             VALUES ($1, $2, $3, $4, $5, $6, $7)",
                        )
                        .bind(first + offset as i64)
                        .bind(&change.kind)
                        .bind(&change.entity_id)
                        .bind(&change.satker_code)
                        .bind(&change.kppn_code)
                        .bind(change.entity.to_string())
                        .bind(micros(at))
                        .execute(self.c())
                        .await?;
                    }
                    Ok(())
                }

                async fn changes(&mut self, scope: &ScopeFilter, after: i64, limit: i64) -> StoreResult<Vec<ChangeRow>> {
                    let mut qb = sqlx::QueryBuilder::<$db>::new("SELECT seq, kind, entity FROM changes WHERE seq > ");
                    qb.push_bind(after);
                    match scope {
                        ScopeFilter::Kppn(kppn) => {
                            qb.push(" AND kppn_code = ").push_bind(kppn.clone());
                        }
                        ScopeFilter::ActiveIn(_) => {
                            qb.push(" AND");
                            push_scope(&mut qb, scope, "satker_code");
                        }
                    }
                    qb.push(" ORDER BY seq LIMIT ").push_bind(limit);
                    let rows = qb.build().fetch_all(self.c()).await?;
                    rows.into_iter()
                        .map(|r| Ok(ChangeRow { seq: r.try_get("seq")?, kind: r.try_get("kind")?, entity: r.try_get("entity")? }))
                        .collect()
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
            }
        }
    };
}

sql_backend!(sqlite, sqlx::Sqlite, SqliteStore { writer: sqlx::SqlitePool, reader: sqlx::SqlitePool }, "sqlite", read = reader, write = writer);
sql_backend!(postgres, sqlx::Postgres, PgStore { pool: sqlx::PgPool }, "postgres", read = pool, write = pool);
