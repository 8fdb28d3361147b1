//! The local store: SQLite in the app data dir (WAL, `synchronous=FULL`), encrypted with
//! SQLCipher under the data folder's key from the keychain, holding the memberships and
//! satkers in scope, the sync cursor and the outbox.
//!
//! Each membership row keeps the server's last state (`server_json`, never replaced by
//! an older version) and the view the user sees (`view_json` and its indexed columns):
//! the server state with the pending outbox entries applied on top, rebuilt by
//! [`rebuild_view`] whenever either side changes. So a pull never undoes an action the
//! user took offline, and a conflict rolls the view back to the server's state.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::{DateTime, Utc};
use myintress_core::api::{Membership, Satker};
use myintress_core::reregistration::{RowFacts, is_visible};
use myintress_core::status::Status;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, Row, SqliteConnection};
use uuid::Uuid;

use crate::ClientError;
use crate::keychain::LocalKey;
use crate::outbox::{Acting, overlay};

pub type DbResult<T> = Result<T, sqlx::Error>;

/// A membership's view as SQL: its own JSON where it differs from the server's state,
/// else the server's (migration 0009). [`VIEW`] selects it as `view_json`; `m.` forms are
/// for queries that name the table `m`.
pub const VIEW_JSON: &str = "COALESCE(view_json, server_json)";
pub const VIEW: &str = "COALESCE(view_json, server_json) AS view_json";
pub const M_VIEW_JSON: &str = "COALESCE(m.view_json, m.server_json)";
pub const M_VIEW: &str = "COALESCE(m.view_json, m.server_json) AS view_json";

/// Opens (creating, migrating) the store at `path`, encrypted by SQLCipher with `key`. A
/// plaintext store of an older version is encrypted in place first; a store this key
/// cannot read (the keychain lost its key) is set aside under a new name, never deleted,
/// and an empty one takes its place.
pub async fn open(path: &Path, key: &LocalKey) -> crate::ClientResult<SqlitePool> {
    if is_plaintext(path)? {
        encrypt_in_place(path, key).await?;
    }
    let pool = match connect(path, key, CONNECTIONS).await {
        Err(ClientError::Store(sqlx::Error::Database(e))) if e.code().as_deref() == Some(SQLITE_NOTADB) => {
            let aside = path.with_extension(format!("db.tidak-terbaca-{}", Utc::now().format("%Y%m%d%H%M%S")));
            tracing::warn!(store = %path.display(), aside = %aside.display(), "the local store does not open with the keychain's key; set aside");
            for suffix in ["", "-wal", "-shm"] {
                let from = PathBuf::from(format!("{}{suffix}", path.display()));
                if from.exists() {
                    std::fs::rename(&from, format!("{}{suffix}", aside.display()))?;
                }
            }
            connect(path, key, CONNECTIONS).await?
        }
        other => other?,
    };
    sqlx::migrate!().run(&pool).await?;
    {
        // After an upgrade, or a first sync cut short: the indexes a bulk load went without.
        let mut conn = pool.acquire().await?;
        if deferred_missing(&mut conn).await? {
            let mut tx = conn.begin().await?;
            build_deferred(&mut tx).await?;
            tx.commit().await?;
        }
    }
    Ok(pool)
}

/// The store's pool: the screens' reads, the sync, everything but the user's actions.
const CONNECTIONS: u32 = 4;

/// The indexes a first sync's bulk load goes without, built once after it instead of row
/// by row (see migration 0009): the list's indexes, one per filter shape in the order of
/// *Daftar Pengguna* (`name, nik, created_at, id`), and the person index of the visibility
/// rule. Together with the search index they were most of a first sync's time.
const DEFERRED_INDEXES: [(&str, &str); 5] = [
    ("memberships_list", "(listed, satker_code, status, name, nik, created_at, id)"),
    ("memberships_by_satker", "(listed, satker_code, name, nik, created_at, id)"),
    ("memberships_by_status", "(listed, status, name, nik, created_at, id)"),
    ("memberships_by_name", "(listed, name, nik, created_at, id)"),
    ("memberships_person", "(nik, satker_code)"),
];

/// The triggers that keep the search index (substring search over name and NIK, trigram,
/// listed rows only) up to date, each touching it only when what it holds changes: an
/// `UPDATE OF` trigger fires for a column named in SET even when its value stays, and each
/// needless rewrite was a new FTS5 segment (and, every few commits, a merge) inside the
/// user's commit.
const SEARCH_TRIGGERS: [(&str, &str); 3] = [
    (
        "memberships_search_insert",
        "AFTER INSERT ON memberships WHEN new.listed = 1 BEGIN \
         INSERT INTO memberships_search (rowid, name, nik) VALUES (new.rowid, new.name, new.nik); END",
    ),
    (
        "memberships_search_delete",
        "AFTER DELETE ON memberships WHEN old.listed = 1 BEGIN \
         INSERT INTO memberships_search (memberships_search, rowid, name, nik) VALUES ('delete', old.rowid, old.name, old.nik); END",
    ),
    (
        "memberships_search_update",
        "AFTER UPDATE OF name, nik, listed ON memberships \
         WHEN old.name IS NOT new.name OR old.nik IS NOT new.nik OR old.listed IS NOT new.listed BEGIN \
         INSERT INTO memberships_search (memberships_search, rowid, name, nik) SELECT 'delete', old.rowid, old.name, old.nik WHERE old.listed = 1; \
         INSERT INTO memberships_search (rowid, name, nik) SELECT new.rowid, new.name, new.nik WHERE new.listed = 1; END",
    ),
];

/// Whether the store holds no membership at all (a first sync's bulk load may start).
pub async fn is_empty(conn: &mut SqliteConnection) -> DbResult<bool> {
    sqlx::query_scalar("SELECT NOT EXISTS (SELECT 1 FROM memberships)").fetch_one(conn).await
}

/// Whether the deferred indexes are missing: a bulk load is under way (or was cut short),
/// or the store was just upgraded. Searches then read the rows themselves.
pub async fn deferred_missing(conn: &mut SqliteConnection) -> DbResult<bool> {
    Ok(meta(conn, "deferred_indexes").await?.is_some())
}

/// Starts a bulk load into an empty store: drops the deferred indexes and the search
/// triggers, until [`build_deferred`].
pub async fn drop_deferred(conn: &mut SqliteConnection) -> DbResult<()> {
    for (name, _) in DEFERRED_INDEXES {
        sqlx::query(&format!("DROP INDEX IF EXISTS {name}")).execute(&mut *conn).await?;
    }
    for (name, _) in SEARCH_TRIGGERS {
        sqlx::query(&format!("DROP TRIGGER IF EXISTS {name}")).execute(&mut *conn).await?;
    }
    sqlx::query("INSERT INTO memberships_search (memberships_search) VALUES ('delete-all')").execute(&mut *conn).await?;
    set_meta(conn, "deferred_indexes", "bulk_load").await
}

/// Builds the deferred indexes and fills the search index from the rows, in one pass each.
///
/// Each index is built from a full read of the table. With the page cache raised to
/// [`BUILD_CACHE_KIB`] for the build, the table is read (and decrypted) once rather than
/// once per index; the cache goes back to its usual size afterwards, whatever the outcome.
pub async fn build_deferred(conn: &mut SqliteConnection) -> DbResult<()> {
    sqlx::query(&format!("PRAGMA cache_size = -{BUILD_CACHE_KIB}")).execute(&mut *conn).await?;
    let built = build_deferred_now(conn).await;
    let restored = sqlx::query(&format!("PRAGMA cache_size = -{CACHE_KIB}")).execute(&mut *conn).await;
    built.and(restored.map(drop))
}

async fn build_deferred_now(conn: &mut SqliteConnection) -> DbResult<()> {
    for (name, columns) in DEFERRED_INDEXES {
        sqlx::query(&format!("CREATE INDEX IF NOT EXISTS {name} ON memberships {columns}")).execute(&mut *conn).await?;
    }
    sqlx::query("INSERT INTO memberships_search (memberships_search) VALUES ('delete-all')").execute(&mut *conn).await?;
    sqlx::query("INSERT INTO memberships_search (rowid, name, nik) SELECT rowid, name, nik FROM memberships WHERE listed = 1")
        .execute(&mut *conn)
        .await?;
    for (name, body) in SEARCH_TRIGGERS {
        sqlx::query(&format!("CREATE TRIGGER IF NOT EXISTS {name} {body}")).execute(&mut *conn).await?;
    }
    sqlx::query("DELETE FROM meta WHERE key = 'deferred_indexes'").execute(&mut *conn).await?;
    Ok(())
}

/// Each connection's page cache (see [`connect`]).
const CACHE_KIB: u32 = 32 * 1024;
/// The page cache while the deferred indexes are built: room for the table of 100,000
/// memberships and the indexes being written. Only the pages used are allocated.
const BUILD_CACHE_KIB: u32 = 256 * 1024;

/// SQLite's "file is not a database": what a wrong key (or no key) looks like.
const SQLITE_NOTADB: &str = "26";
/// The first bytes of an unencrypted SQLite file.
const PLAINTEXT_HEADER: &[u8; 16] = b"SQLite format 3\0";

fn options(path: &Path) -> crate::ClientResult<SqliteConnectOptions> {
    Ok(SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(std::time::Duration::from_secs(30)))
}

/// The connection the user's actions are written on (see [`crate::Client::open`]): one,
/// opened after [`open`] with the same settings.
pub async fn open_for_actions(path: &Path, key: &LocalKey) -> crate::ClientResult<SqlitePool> {
    connect(path, key, 1).await
}

async fn connect(path: &Path, key: &LocalKey, connections: u32) -> crate::ClientResult<SqlitePool> {
    let options = options(path)?
        // First of all pragmas (sqlx sends `key` first), so every page read is decrypted.
        .pragma("key", key.sqlcipher())
        .create_if_missing(true)
        // 100,000 memberships are about 150 MB: SQLite's default 2 MB page cache makes
        // every index insert and list page a read. Up to 32 MB of cache per connection,
        // and reads through the OS page cache by mmap (clean, shared, reclaimable pages).
        .pragma("cache_size", format!("-{CACHE_KIB}"))
        .pragma("mmap_size", "268435456")
        .pragma("temp_store", "memory")
        // The log is copied into the store when the desk is idle ([`IdleCheckpoints`]), not
        // in the commit of whoever crosses SQLite's default 1,000 pages, so no user's
        // commit waits for that copy and its `fsync`. SQLite's own checkpoint stays as a
        // safety net for long busy stretches (8,000 pages, 32 MB). The log file keeps up
        // to 64 MB after a copy, so later commits write into space it already has (a
        // commit that makes the file grow also has its size synced).
        .pragma("wal_autocheckpoint", AUTO_CHECKPOINT_PAGES.to_string())
        .pragma("journal_size_limit", (64 * 1024 * 1024).to_string());
    let pool = SqlitePoolOptions::new().max_connections(connections).connect_with(options).await?;
    // The key is only checked when a page is read.
    sqlx::query("SELECT count(*) FROM sqlite_master").execute(&pool).await?;
    Ok(pool)
}

/// SQLite's automatic checkpoint, a safety net behind [`IdleCheckpoints`].
const AUTO_CHECKPOINT_PAGES: u32 = 8_000;

/// Copies the write-ahead log into the store once nothing has been written for
/// [`IdleCheckpoints::IDLE`]: after a burst of actions, between sync rounds. A PASSIVE
/// checkpoint never waits for readers or writers; one that could not copy everything is
/// tried again at the next idle moment. The task ends when the client (which holds the only
/// strong reference) is dropped or its store is closed.
pub(crate) struct IdleCheckpoints {
    pool: SqlitePool,
    /// Bumped after every write the client commits ([`IdleCheckpoints::wrote`]).
    writes: std::sync::atomic::AtomicU64,
    /// `writes` as it was before the last whole copy.
    copied: std::sync::atomic::AtomicU64,
    last_write: std::sync::Mutex<std::time::Instant>,
}

impl IdleCheckpoints {
    const IDLE: std::time::Duration = std::time::Duration::from_secs(2);
    const TICK: std::time::Duration = std::time::Duration::from_millis(500);

    /// Starts the background task (on the current tokio runtime).
    pub(crate) fn start(pool: SqlitePool) -> std::sync::Arc<IdleCheckpoints> {
        let this = std::sync::Arc::new(IdleCheckpoints {
            pool,
            writes: std::sync::atomic::AtomicU64::new(0),
            copied: std::sync::atomic::AtomicU64::new(0),
            last_write: std::sync::Mutex::new(std::time::Instant::now()),
        });
        tokio::spawn(Self::run(std::sync::Arc::downgrade(&this)));
        this
    }

    pub(crate) fn wrote(&self) {
        *self.last_write.lock().unwrap_or_else(|e| e.into_inner()) = std::time::Instant::now();
        self.writes.fetch_add(1, std::sync::atomic::Ordering::Release);
    }

    /// Copies the log now (the sync, after a long catch-up, in its own task). Whole when
    /// nothing was busy and every page of the log is in the store; a partial copy is
    /// finished at the next idle moment.
    pub(crate) async fn copy(&self) -> DbResult<()> {
        let writes = self.writes.load(std::sync::atomic::Ordering::Acquire);
        // (busy, pages in the log, pages copied)
        let (busy, log, done) = sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(&self.pool).await?;
        if busy == 0 && done >= log {
            self.copied.fetch_max(writes, std::sync::atomic::Ordering::AcqRel);
        }
        Ok(())
    }

    async fn run(this: std::sync::Weak<IdleCheckpoints>) {
        loop {
            tokio::time::sleep(Self::TICK).await;
            let Some(this) = this.upgrade() else { return };
            let writes = this.writes.load(std::sync::atomic::Ordering::Acquire);
            let idle = this.last_write.lock().unwrap_or_else(|e| e.into_inner()).elapsed() >= Self::IDLE;
            if writes == this.copied.load(std::sync::atomic::Ordering::Acquire) || !idle {
                continue;
            }
            match this.copy().await {
                Ok(()) => {}
                Err(_) if this.pool.is_closed() => return,
                Err(e) => tracing::warn!(error = %e, "idle checkpoint of the local store"),
            }
        }
    }
}

/// Whether the store at `path` is an unencrypted one (a version before SQLCipher).
pub fn is_plaintext(path: &Path) -> std::io::Result<bool> {
    let mut header = [0u8; 16];
    match std::fs::File::open(path) {
        Ok(mut file) => Ok(std::io::Read::read_exact(&mut file, &mut header).is_ok() && &header == PLAINTEXT_HEADER),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Encrypts an unencrypted store (from a version before SQLCipher): `sqlcipher_export`
/// into a new file beside it, then that file replaces the old one in one rename, so a
/// crash leaves either the old store or the encrypted one, whole.
async fn encrypt_in_place(path: &Path, key: &LocalKey) -> crate::ClientResult<()> {
    let fresh = path.with_extension("db.enkripsi");
    let _ = std::fs::remove_file(&fresh);
    // With the create flag, or ATTACH cannot make the new file.
    let mut conn = options(path)?.create_if_missing(true).connect().await?;
    export(&mut conn, &fresh, &key.sqlcipher()).await?;
    conn.close().await?;
    std::fs::File::open(&fresh)?.sync_all()?;
    // The plaintext store's log was checkpointed when its last connection closed.
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    std::fs::rename(&fresh, path)?;
    tracing::info!(store = %path.display(), "the local store is now encrypted");
    Ok(())
}

/// A copy of the store in a new file `target`, under `key`, as the desktop kept it before
/// migration 0009: the schema of migrations 1 to 8, and every row, each membership's view
/// stored whole beside the server's state. For the test of that upgrade on a populated
/// store (`testing::store_before_0009`).
pub(crate) async fn copy_before_0009(pool: &SqlitePool, key: &LocalKey, target: &Path) -> crate::ClientResult<()> {
    let old = connect(target, key, 1).await?;
    let mut migrator = sqlx::migrate!();
    migrator.migrations = migrator.migrations.iter().filter(|m| m.version < 9).cloned().collect::<Vec<_>>().into();
    migrator.run(&old).await?;
    old.close().await;
    let mut conn = pool.acquire().await?;
    let path = quoted(target)?;
    sqlx::query(&format!("ATTACH DATABASE {path} AS lama KEY {}", key.sqlcipher())).execute(&mut *conn).await?;
    // The memberships first: the old schema's triggers fill its search index and counts
    // from them, and the queue flags' triggers look them up.
    sqlx::query(
        "INSERT INTO lama.memberships \
         (rowid, id, server_json, server_version, nik, name, satker_code, status, created_at, listed, pending, view_json) \
         SELECT rowid, id, server_json, server_version, nik, name, satker_code, status, created_at, listed, pending, \
         COALESCE(view_json, server_json) FROM main.memberships",
    )
    .execute(&mut *conn)
    .await?;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM lama.sqlite_master WHERE type = 'table' AND name NOT IN ('memberships', 'queue_counts', '_sqlx_migrations') \
         AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'memberships_search%' ORDER BY name = 'queue_flags', name",
    )
    .fetch_all(&mut *conn)
    .await?;
    for table in tables {
        sqlx::query(&format!("INSERT INTO lama.\"{table}\" SELECT * FROM main.\"{table}\"")).execute(&mut *conn).await?;
    }
    sqlx::query("DETACH DATABASE lama").execute(&mut *conn).await?;
    Ok(())
}

/// A file's path as an SQL string literal, for `ATTACH DATABASE`.
fn quoted(path: &Path) -> crate::ClientResult<String> {
    let path = path.to_str().ok_or_else(|| ClientError::corrupt("nama folder data bukan UTF-8"))?;
    Ok(format!("'{}'", path.replace('\'', "''")))
}

/// Copies the whole database of `conn` into a new file `target` under `key_sql` (SQLCipher's
/// key expression; `''` for no encryption), with `sqlcipher_export`.
pub(crate) async fn export(conn: &mut SqliteConnection, target: &Path, key_sql: &str) -> crate::ClientResult<()> {
    let target = quoted(target)?;
    sqlx::query(&format!("ATTACH DATABASE {target} AS salinan KEY {key_sql}")).execute(&mut *conn).await?;
    sqlx::query("SELECT sqlcipher_export('salinan')").execute(&mut *conn).await?;
    sqlx::query("DETACH DATABASE salinan").execute(&mut *conn).await?;
    Ok(())
}

pub async fn meta(conn: &mut SqliteConnection, key: &str) -> DbResult<Option<String>> {
    let row = sqlx::query("SELECT value FROM meta WHERE key = $1").bind(key).fetch_optional(conn).await?;
    row.map(|r| r.try_get("value")).transpose()
}

pub async fn set_meta(conn: &mut SqliteConnection, key: &str, value: &str) -> DbResult<()> {
    sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        .bind(key)
        .bind(value)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn upsert_satker(conn: &mut SqliteConnection, s: &Satker) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO satkers (code, name, kppn_code, kppn_name) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (code) DO UPDATE SET name = excluded.name, kppn_code = excluded.kppn_code, kppn_name = excluded.kppn_name",
    )
    .bind(&s.code)
    .bind(&s.name)
    .bind(&s.kppn_code)
    .bind(&s.kppn_name)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn satkers(conn: &mut SqliteConnection) -> DbResult<Vec<Satker>> {
    let rows = sqlx::query("SELECT code, name, kppn_code, kppn_name FROM satkers ORDER BY code").fetch_all(conn).await?;
    rows.into_iter()
        .map(|r| {
            Ok(Satker {
                code: r.try_get("code")?,
                name: r.try_get("name")?,
                kppn_code: r.try_get("kppn_code")?,
                kppn_name: r.try_get("kppn_name")?,
            })
        })
        .collect()
}

/// Records the server's state of a membership, unless an equal or newer one is there; the
/// view stays as it was (written out, where it was the old server state) until
/// [`rebuild_view`]. Returns whether it changed anything.
pub async fn apply_server(conn: &mut SqliteConnection, m: &Membership) -> DbResult<bool> {
    let json = serde_json::to_string(m).expect("membership serialises");
    let done = sqlx::query(
        "INSERT INTO memberships (id, server_json, server_version, nik, name, satker_code, status, created_at, listed, view_json) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL) \
         ON CONFLICT (id) DO UPDATE SET server_json = excluded.server_json, server_version = excluded.server_version, \
         view_json = COALESCE(memberships.view_json, memberships.server_json) \
         WHERE memberships.server_version IS NULL OR memberships.server_version < excluded.server_version",
    )
    .bind(m.id.to_string())
    .bind(&json)
    .bind(m.version)
    .bind(&m.nik)
    .bind(&m.name)
    .bind(&m.satker_code)
    .bind(m.status.code() as i64)
    .bind(m.created_at.to_rfc3339())
    .bind(m.listed)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// The sync's fast path for people with no action waiting, whose view is the server's row
/// (the server has applied the visibility rule to `listed` already): a page of rows in a
/// few statements, each row as the JSON text the server sent and no view of its own,
/// unless an equal or newer version is there. Returns the ids it changed.
///
/// The rows' fields are bound, [`ROWS_PER_STATEMENT`] rows to a statement (so the
/// statement is prepared once and kept), rather than sent as one JSON array for
/// `json_each`: SQLite then parsed each row's JSON again for every field it took out.
///
/// Not as the first statement of a transaction right after the bulk load changed the
/// schema on another connection: SQLCipher's SQLite then fails this upsert with
/// `RETURNING` ("no such table: memberships") on a connection that has not yet read the
/// new schema. Its callers write the cursor first, which also takes the write lock.
pub async fn apply_server_rows(conn: &mut SqliteConnection, rows: &[ServerRow<'_>]) -> DbResult<Vec<String>> {
    let mut changed = Vec::new();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO memberships (id, server_json, server_version, nik, name, satker_code, status, created_at, listed, pending, view_json) ",
        );
        qb.push_values(chunk, |mut b, row| {
            let m = row.membership;
            b.push_bind(m.id.to_string())
                .push_bind(row.raw.get())
                .push_bind(m.version)
                .push_bind(m.nik.as_str())
                .push_bind(m.name.as_str())
                .push_bind(m.satker_code.as_str())
                .push_bind(i64::from(m.status.code()))
                .push_bind(m.created_at.to_rfc3339())
                .push_bind(m.listed)
                .push("0")
                .push("NULL");
        });
        qb.push(
            " ON CONFLICT (id) DO UPDATE SET server_json = excluded.server_json, server_version = excluded.server_version, \
             nik = excluded.nik, name = excluded.name, satker_code = excluded.satker_code, status = excluded.status, \
             created_at = excluded.created_at, listed = excluded.listed, pending = 0, view_json = NULL \
             WHERE memberships.server_version IS NULL OR memberships.server_version < excluded.server_version \
             RETURNING id",
        );
        changed.extend(qb.build_query_scalar::<String>().fetch_all(&mut *conn).await?);
    }
    Ok(changed)
}

/// Rows to a statement in [`apply_server_rows`]: 9 parameters each, well under SQLite's
/// limit of 32,766 per statement.
const ROWS_PER_STATEMENT: usize = 500;

/// A membership as the server sent it, for [`apply_server_rows`]: its parsed fields and
/// its JSON text, stored as it came.
pub struct ServerRow<'a> {
    pub membership: &'a Membership,
    pub raw: &'a serde_json::value::RawValue,
}

/// The current view status of these memberships (those present), in one query.
pub async fn statuses(conn: &mut SqliteConnection, ids: &[String]) -> DbResult<std::collections::HashMap<String, Status>> {
    let rows: Vec<(String, i64)> = sqlx::query_as("SELECT id, status FROM memberships WHERE id IN (SELECT value FROM json_each($1))")
        .bind(serde_json::to_string(ids).expect("serialises"))
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().filter_map(|(id, code)| Some((id, Status::from_code(u8::try_from(code).ok()?)?))).collect())
}

/// The Antrean flags of memberships, as `queue_flags` changes or the Antrean's answer
/// sent them, in one statement (a first sync's head start writes thousands at once).
pub async fn set_queue_flags(conn: &mut SqliteConnection, flags: &[(String, myintress_core::workday::QueueFlags)]) -> DbResult<()> {
    if flags.is_empty() {
        return Ok(());
    }
    let rows: Vec<(&str, u32, bool, bool)> =
        flags.iter().map(|(id, f)| (id.as_str(), f.working_days_pending, f.overdue, f.escalated)).collect();
    sqlx::query(
        "INSERT INTO queue_flags (membership_id, working_days_pending, overdue, escalated) \
         SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each($1) WHERE true \
         ON CONFLICT (membership_id) DO UPDATE SET working_days_pending = excluded.working_days_pending, \
         overdue = excluded.overdue, escalated = excluded.escalated",
    )
    .bind(serde_json::to_string(&rows).expect("serialises"))
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes a local row the server's row replaced (a new registration got its server id).
pub async fn remove_local(conn: &mut SqliteConnection, id: Uuid) -> DbResult<()> {
    sqlx::query("DELETE FROM memberships WHERE id = $1").bind(id.to_string()).execute(conn).await?;
    Ok(())
}

/// The server removed (deleted) a membership.
pub async fn remove_server(conn: &mut SqliteConnection, id: Uuid) -> DbResult<()> {
    sqlx::query(
        "UPDATE memberships SET view_json = COALESCE(view_json, server_json), server_json = NULL, server_version = 2147483647 WHERE id = $1",
    )
        .bind(id.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

/// Rebuilds the view of one membership from the server's state and the pending entries,
/// then re-applies the *Daftar Pengguna* visibility rule to the person's rows in the satker.
pub async fn rebuild_view(conn: &mut SqliteConnection, id: Uuid, acting: &Acting) -> DbResult<Option<Membership>> {
    let row = sqlx::query("SELECT server_json FROM memberships WHERE id = $1").bind(id.to_string()).fetch_optional(&mut *conn).await?;
    let server = match row {
        Some(r) => server_state(&r)?,
        None => None,
    };
    rebuild_view_from(conn, id, server, acting).await
}

/// [`rebuild_view`] from the server state the caller already read (an action reads the
/// row once, see [`action_base`]). Answers the view as it now stands, `listed` included
/// (`None` when the row left the view), so nobody reads it back.
pub async fn rebuild_view_from(
    conn: &mut SqliteConnection,
    id: Uuid,
    server: Option<Membership>,
    acting: &Acting,
) -> DbResult<Option<Membership>> {
    let pending = crate::outbox::pending_for(conn, id).await?;
    let mut view = server;
    for entry in &pending {
        view = overlay(view, &entry.action, id, acting, entry.created_at);
    }
    match view {
        None => {
            // Removed on the server or by a pending deletion, or a local registration
            // whose entry is gone: the row leaves the view. Its server state (if any) is
            // gone too, so nothing is lost.
            let nik_satker = sqlx::query("DELETE FROM memberships WHERE id = $1 RETURNING nik, satker_code")
                .bind(id.to_string())
                .fetch_optional(&mut *conn)
                .await?;
            if let Some(r) = nik_satker {
                refresh_listing(conn, &r.try_get::<String, _>("nik")?, &r.try_get::<String, _>("satker_code")?).await?;
            }
            Ok(None)
        }
        Some(mut m) => {
            let json = serde_json::to_string(&m).expect("membership serialises");
            // With no action waiting, the view is the server's state (from the same row):
            // not stored twice. A new row always has actions waiting (else it has no view).
            sqlx::query(
                "INSERT INTO memberships (id, server_json, server_version, nik, name, satker_code, status, created_at, listed, pending, view_json) \
                 VALUES ($1, NULL, NULL, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (id) DO UPDATE SET nik = excluded.nik, name = excluded.name, satker_code = excluded.satker_code, \
                 status = excluded.status, created_at = excluded.created_at, pending = excluded.pending, \
                 view_json = CASE WHEN excluded.pending = 0 THEN NULL ELSE excluded.view_json END",
            )
            .bind(id.to_string())
            .bind(&m.nik)
            .bind(&m.name)
            .bind(&m.satker_code)
            .bind(m.status.code() as i64)
            .bind(m.created_at.to_rfc3339())
            .bind(m.listed)
            .bind(pending.len() as i64)
            .bind(&json)
            .execute(&mut *conn)
            .await?;
            if let Some(listed) =
                refresh_listing(conn, &m.nik, &m.satker_code).await?.into_iter().find(|(row, _)| *row == id).map(|(_, l)| l)
            {
                m.listed = listed;
            }
            Ok(Some(m))
        }
    }
}

/// Applies the core's visibility rule to the view rows of one person in one satker, and
/// answers each row's `listed` as it now is.
async fn refresh_listing(conn: &mut SqliteConnection, nik: &str, satker: &str) -> DbResult<Vec<(Uuid, bool)>> {
    let rows = sqlx::query(&format!("SELECT listed, {VIEW} FROM memberships WHERE nik = $1 AND satker_code = $2"))
        .bind(nik)
        .bind(satker)
        .fetch_all(&mut *conn)
        .await?;
    let mut views = Vec::new();
    // Whether the `listed` column already says what the view's JSON says.
    let mut column_agrees = Vec::new();
    for r in rows {
        let json: String = r.try_get("view_json")?;
        if let Ok(m) = serde_json::from_str::<Membership>(&json) {
            column_agrees.push(r.try_get::<bool, _>("listed")? == m.listed);
            views.push(m);
        }
    }
    // Statuses 0, 2 and 3 are only reached through activation: they have been active.
    let facts: Vec<RowFacts<DateTime<Utc>>> = views
        .iter()
        .map(|m| RowFacts {
            status: m.status,
            registered: m.created_at,
            ever_active: matches!(m.status, Status::Inactive | Status::Active | Status::Dormant),
        })
        .collect();
    let mut now = Vec::with_capacity(views.len());
    for ((m, fact), agrees) in views.iter().zip(&facts).zip(column_agrees) {
        let listed = is_visible(fact, &facts);
        now.push((m.id, listed));
        if listed != m.listed || !agrees {
            let mut changed = m.clone();
            changed.listed = listed;
            sqlx::query("UPDATE memberships SET listed = $1, view_json = $2 WHERE id = $3")
                .bind(listed)
                .bind(serde_json::to_string(&changed).expect("serialises"))
                .bind(m.id.to_string())
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(now)
}

pub async fn view(conn: &mut SqliteConnection, id: Uuid) -> DbResult<Option<(Membership, i64)>> {
    let row =
        sqlx::query(&format!("SELECT {VIEW}, pending FROM memberships WHERE id = $1")).bind(id.to_string()).fetch_optional(conn).await?;
    match row {
        None => Ok(None),
        Some(r) => {
            let json: String = r.try_get("view_json")?;
            let m = serde_json::from_str(&json).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
            Ok(Some((m, r.try_get("pending")?)))
        }
    }
}

/// The server version a new action on this membership is based on (`None` for a row the
/// server has not seen yet).
pub async fn server_version(conn: &mut SqliteConnection, id: Uuid) -> DbResult<Option<i64>> {
    let row =
        sqlx::query("SELECT server_json, server_version FROM memberships WHERE id = $1").bind(id.to_string()).fetch_optional(conn).await?;
    Ok(row.as_ref().and_then(based_on))
}

/// The server's last state in a row that selected `server_json`; a state that does not
/// parse counts as none (the view is then rebuilt from the pending entries alone).
fn server_state(row: &sqlx::sqlite::SqliteRow) -> DbResult<Option<Membership>> {
    Ok(row.try_get::<Option<String>, _>("server_json")?.and_then(|j| serde_json::from_str(&j).ok()))
}

/// The version an action is based on, in a row that selected `server_json` and
/// `server_version`: only a row the server has sent has one.
fn based_on(row: &sqlx::sqlite::SqliteRow) -> Option<i64> {
    let json: Option<String> = row.try_get("server_json").ok()?;
    json.and(row.try_get("server_version").ok()?)
}

/// What an action on one membership starts from, read in one statement: the view the
/// user sees (which the action is checked against), and the server's state and version
/// (the action's base, and what the view is rebuilt from).
pub struct ActionBase {
    pub view: Membership,
    pub server: Option<Membership>,
    /// `None` for a row the server has not seen yet.
    pub version: Option<i64>,
}

pub async fn action_base(conn: &mut SqliteConnection, id: Uuid) -> DbResult<Option<ActionBase>> {
    let row = sqlx::query(&format!("SELECT {VIEW}, server_json, server_version FROM memberships WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(conn)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let view = serde_json::from_str(&row.try_get::<String, _>("view_json")?).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    Ok(Some(ActionBase { view, server: server_state(&row)?, version: based_on(&row) }))
}

/// All view rows of a person in a satker (history rows included), oldest first.
pub async fn person_rows(conn: &mut SqliteConnection, nik: &str, satker: &str) -> DbResult<Vec<Membership>> {
    let rows = sqlx::query(&format!("SELECT {VIEW} FROM memberships WHERE nik = $1 AND satker_code = $2 ORDER BY created_at"))
        .bind(nik)
        .bind(satker)
        .fetch_all(conn)
        .await?;
    rows.into_iter()
        .map(|r| {
            let json: String = r.try_get("view_json")?;
            serde_json::from_str(&json).map_err(|e| sqlx::Error::Decode(Box::new(e)))
        })
        .collect()
}

/// Drops satkers and everything of them: their memberships, those memberships' details
/// and cached-letter rows. With `Keep::Only`, every satker *not* listed goes (the account's
/// scope shrank); with `Keep::AllBut`, the listed ones go (a `satker_removed` change).
/// Outbox entries stay: the server answers them (as conflicts the user sees), so nothing
/// the user did is lost. Returns the SHA-256 of cached files that may no longer be needed;
/// the caller removes those that [`unneeded_files`] confirms, after commit.
pub async fn forget_satkers(conn: &mut SqliteConnection, satkers: &[String], which: Forget) -> DbResult<Vec<String>> {
    let list = serde_json::to_string(satkers).expect("serialises");
    let test = match which {
        Forget::AllBut => "NOT IN",
        Forget::These => "IN",
    };
    let gone = format!("SELECT id FROM memberships WHERE satker_code {test} (SELECT value FROM json_each($1))");
    let letters = format!(
        "SELECT json_extract({VIEW_JSON}, '$.letter_document_id') FROM memberships WHERE satker_code {test} (SELECT value FROM json_each($1))"
    );
    sqlx::query(&format!("DELETE FROM details WHERE membership_id IN ({gone})")).bind(&list).execute(&mut *conn).await?;
    let files: Vec<String> =
        sqlx::query_scalar(&format!("DELETE FROM documents WHERE membership_id IN ({gone}) OR id IN ({letters}) RETURNING sha256"))
            .bind(&list)
            .fetch_all(&mut *conn)
            .await?;
    sqlx::query(&format!("DELETE FROM deletion_requests WHERE membership_id IN ({gone})")).bind(&list).execute(&mut *conn).await?;
    sqlx::query(&format!("DELETE FROM memberships WHERE satker_code {test} (SELECT value FROM json_each($1))"))
        .bind(&list)
        .execute(&mut *conn)
        .await?;
    sqlx::query(&format!("DELETE FROM satkers WHERE code {test} (SELECT value FROM json_each($1))"))
        .bind(&list)
        .execute(&mut *conn)
        .await?;
    Ok(files)
}

/// Which satkers [`forget_satkers`] drops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forget {
    /// Every satker but the listed ones.
    AllBut,
    /// The listed satkers.
    These,
}

/// Drops the details and cached-letter rows of a membership that left the view (deleted
/// on the server). Returns the SHA-256 of the files those rows named.
pub async fn forget_membership_leftovers(conn: &mut SqliteConnection, id: Uuid) -> DbResult<Vec<String>> {
    let still_shown: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM memberships WHERE id = $1").bind(id.to_string()).fetch_optional(&mut *conn).await?;
    if still_shown.is_some() {
        return Ok(Vec::new());
    }
    sqlx::query("DELETE FROM details WHERE membership_id = $1").bind(id.to_string()).execute(&mut *conn).await?;
    sqlx::query_scalar("DELETE FROM documents WHERE membership_id = $1 RETURNING sha256").bind(id.to_string()).fetch_all(&mut *conn).await
}

/// Of these cached files, the ones no cached-document row and no waiting action needs.
pub async fn unneeded_files(conn: &mut SqliteConnection, candidates: &[String]) -> DbResult<Vec<String>> {
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let needed = crate::outbox::files_needed(&mut *conn).await?;
    let unreferenced: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT value FROM json_each($1) WHERE value NOT IN (SELECT sha256 FROM documents)")
            .bind(serde_json::to_string(candidates).expect("serialises"))
            .fetch_all(conn)
            .await?;
    Ok(unreferenced.into_iter().filter(|sha| !needed.contains(sha)).collect())
}
