//! For the benchmarks (`crates/bench`): what they measure and compare against, written
//! here beside the schema instead of as SQL on the client's tables elsewhere. Not for the
//! app.

use std::time::{Duration, Instant};

use sqlx::{Row, SqliteConnection};
use uuid::Uuid;

use crate::queries::{self, ListFilter, ListPage};
use crate::{Client, ClientResult, store};

/// A connection of the client's store, to time the screens' queries without the pool.
pub async fn connection(client: &Client) -> ClientResult<sqlx::pool::PoolConnection<sqlx::Sqlite>> {
    Ok(client.pool.acquire().await?)
}

/// *Daftar Pengguna*'s query on one connection (what [`Client::list`] runs).
pub async fn list(conn: &mut SqliteConnection, filter: &ListFilter) -> ClientResult<ListPage> {
    Ok(queries::list(conn, filter).await?)
}

/// The status line's counts as kept (pending, overdue, escalated), and counted again from
/// the rows: the two must be equal whatever happened.
pub async fn queue_counts_kept_and_recounted(client: &Client) -> ClientResult<((i64, i64, i64), (i64, i64, i64))> {
    let mut conn = client.pool.acquire().await?;
    Ok((queries::pending_counts(&mut conn).await?, queries::pending_counts_recounted(&mut conn).await?))
}

/// How many memberships the local store holds (every row, listed or not).
pub async fn membership_count(client: &Client) -> ClientResult<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM memberships").fetch_one(&client.pool).await?)
}

/// The ids of up to `n` pending registrations, oldest first.
pub async fn pending_ids(client: &Client, n: usize) -> ClientResult<Vec<Uuid>> {
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM memberships WHERE status = $1 ORDER BY created_at LIMIT $2")
        .bind(myintress_core::Status::Registered.code())
        .bind(n as i64)
        .fetch_all(&client.pool)
        .await?;
    Ok(ids.iter().map(|id| Uuid::parse_str(id)).collect::<Result<_, _>>()?)
}

/// How many listed rows have `status` and an action of the user waiting on them.
pub async fn listed_with_pending(client: &Client, status: myintress_core::Status) -> ClientResult<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM memberships WHERE status = $1 AND pending > 0 AND listed = 1")
        .bind(status.code())
        .fetch_one(&client.pool)
        .await?)
}

/// Up to `n` NIKs of the store, at random.
pub async fn sample_niks(conn: &mut SqliteConnection, n: usize) -> ClientResult<Vec<String>> {
    Ok(sqlx::query_scalar("SELECT nik FROM memberships ORDER BY random() LIMIT $1").bind(n as i64).fetch_all(conn).await?)
}

/// Benchmark 1's baseline: the rows the sync wrote, inserted into an empty store of the
/// same schema in one transaction through one prepared statement.
pub async fn bulk_insert_baseline(client: &Client, path: &std::path::Path) -> ClientResult<Duration> {
    type Values = (String, Option<String>, Option<i64>, String, String, String, i64, String, bool, String);
    let rows: Vec<Values> = sqlx::query_as(
        "SELECT id, server_json, server_version, nik, name, satker_code, status, created_at, listed, view_json FROM memberships",
    )
    .fetch_all(&client.pool)
    .await?;
    let pool = store::open(path, &client.key).await?;
    let started = Instant::now();
    let mut tx = pool.begin().await?;
    for r in &rows {
        sqlx::query(
            "INSERT INTO memberships (id, server_json, server_version, nik, name, satker_code, status, created_at, listed, view_json) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&r.0)
        .bind(&r.1)
        .bind(r.2)
        .bind(&r.3)
        .bind(&r.4)
        .bind(&r.5)
        .bind(r.6)
        .bind(&r.7)
        .bind(r.8)
        .bind(&r.9)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    let elapsed = started.elapsed();
    pool.close().await;
    Ok(elapsed)
}

/// Benchmark 2's baseline: a bare INSERT and commit in the same database.
pub async fn bare_insert_baseline(client: &Client, n: usize) -> ClientResult<Vec<Duration>> {
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        let started = Instant::now();
        let mut tx = client.pool.begin().await?;
        sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2)").bind(format!("bench-{i}")).bind("x").execute(&mut *tx).await?;
        tx.commit().await?;
        times.push(started.elapsed());
    }
    sqlx::query("DELETE FROM meta WHERE key LIKE 'bench-%'").execute(&client.pool).await?;
    Ok(times)
}

/// Benchmark 3's baseline: the same page (count and rows) with every index and the search
/// index turned off, i.e. a full scan of the table. Answers the page's memberships' ids.
pub async fn scan_page(conn: &mut SqliteConnection, f: &ListFilter) -> ClientResult<Vec<Uuid>> {
    let mut cond = String::from("listed = 1");
    if f.satker_code.is_some() {
        cond.push_str(" AND satker_code = $1");
    }
    if f.status.is_some() {
        cond.push_str(" AND status = $2");
    }
    if f.search.is_some() {
        cond.push_str(" AND (lower(name) LIKE $3 OR nik LIKE $3)");
    }
    let like = f.search.as_ref().map(|s| format!("%{}%", s.to_lowercase())).unwrap_or_default();
    fn bind<'q>(
        q: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
        f: &ListFilter,
        like: &str,
    ) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
        q.bind(f.satker_code.clone().unwrap_or_default()).bind(f.status.map_or(0, |s| i64::from(s.code()))).bind(like.to_owned())
    }
    let count =
        format!("SELECT COUNT(*) AS n FROM memberships NOT INDEXED WHERE {cond} AND $1 IS NOT NULL AND $2 IS NOT NULL AND $3 IS NOT NULL");
    let _total: i64 = bind(sqlx::query(&count), f, &like).fetch_one(&mut *conn).await?.try_get("n")?;
    let page = format!(
        "SELECT {}, pending FROM memberships NOT INDEXED WHERE {cond} AND $1 IS NOT NULL AND $2 IS NOT NULL AND $3 IS NOT NULL \
         ORDER BY name, nik, created_at, id LIMIT 50 OFFSET {}",
        store::VIEW,
        f.offset.max(0)
    );
    let rows = bind(sqlx::query(&page), f, &like).fetch_all(&mut *conn).await?;
    let mut ids = Vec::with_capacity(rows.len());
    for r in &rows {
        let json: String = r.try_get("view_json")?;
        ids.push(serde_json::from_str::<myintress_core::api::Membership>(&json)?.id);
    }
    Ok(ids)
}

/// An unencrypted copy of the client's store at `path`: the store as a version before
/// SQLCipher left it, for the test that such a store is encrypted on open.
pub async fn plaintext_copy(client: &Client, path: &std::path::Path) -> ClientResult<()> {
    store::export(&mut *client.pool.acquire().await?, path, "''").await
}

/// A copy of the client's store at `path` (a new file) as a desktop before the local
/// schema's migration 0009 kept it, with every row; opening it runs that upgrade.
pub async fn store_before_0009(client: &Client, path: &std::path::Path) -> ClientResult<()> {
    store::copy_before_0009(&client.pool, &client.key, path).await
}

/// The NIK and status of every local membership, in the order the rows were first written
/// (rowid order): what a first sync wrote first comes first.
pub async fn insertion_order(client: &Client) -> ClientResult<Vec<(String, i64)>> {
    Ok(sqlx::query_as("SELECT nik, status FROM memberships ORDER BY rowid").fetch_all(&client.pool).await?)
}

/// The names of the indexes and triggers on the memberships table.
pub async fn membership_indexes(client: &Client) -> ClientResult<Vec<String>> {
    Ok(sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type IN ('index', 'trigger') AND tbl_name = 'memberships' ORDER BY name")
        .fetch_all(&client.pool)
        .await?)
}

/// Starts a bulk load as a first sync does ([`store::drop_deferred`]), for a test that
/// cuts one short.
pub async fn begin_bulk_load(client: &Client) -> ClientResult<()> {
    let mut tx = client.pool.begin().await?;
    store::drop_deferred(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}
