//! Benchmarks 1–3, the desktop's local store: the initial sync of 100,000 memberships
//! from the server over 127.0.0.1, an approval made durable and visible, and the
//! *Daftar Pengguna* page and search — each beside plain SQLite doing the least it could.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use myintress_client::outbox::Action;
use myintress_client::queries::{self, ListFilter};
use myintress_client::{Client, ClientConfig};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use sqlx::Row;
use uuid::Uuid;

use crate::Cli;
use crate::report::{Latencies, Report, ms, ratio};
use crate::world::{self, ServerProcess};

const SATKERS: usize = 20;

pub async fn run(cli: &Cli, report: &mut Report, which: [bool; 3]) -> Result<()> {
    let rows = if cli.full() { 100_000 } else { 2_000 };
    let dir = world::dir(cli.work.join("local-server"))?;
    world::server_dir(&dir, 1, SATKERS, 10)?;
    let settings = world::settings(&dir, None, &cli.server_bin);
    let (verifier, satkers) = {
        let state = world::open(&settings).await?;
        let satkers: Vec<String> = (0..SATKERS).map(|s| world::satker_code(0, s)).collect();
        println!("seeding {rows} memberships…");
        world::seed_memberships(&state, &satkers, rows, None, 1).await?;
        let nik = world::verifier(&state, 0).await?;
        state.store.write().await?.commit().await?;
        (nik, satkers)
    };
    let server = ServerProcess::start(&cli.server_bin, &settings, &[]).await?;

    let client_dir = world::dir(cli.work.join("local-client"))?;
    let client = Client::open(ClientConfig {
        data_dir: client_dir.clone(),
        server_url: server.base.clone(),
        keychain_service: "id.go.kemenkeu.myintress.satker.bench".into(),
        cache_limit_bytes: 50 * 1024 * 1024,
    })
    .await?;
    let challenge = client.api().captcha().await?;
    client.sign_in(&verifier, world::PASSWORD, &challenge.captcha_id, "apa saja").await.context("signing in (needs the OS keychain)")?;

    // 1. The initial sync.
    let started = Instant::now();
    let applied = client.pull().await?;
    let pull = started.elapsed();
    ensure!(applied as usize >= rows, "pulled {applied} of {rows}");
    let local: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM memberships").fetch_one(client.pool()).await?;
    ensure!(local as usize == rows, "the client holds {local} rows, the server {rows}");
    if which[0] {
        let baseline = bulk_insert_baseline(&client, &cli.work.join("baseline.db")).await?;
        let rate = rows as f64 / pull.as_secs_f64();
        let base_rate = rows as f64 / baseline.as_secs_f64();
        report.add(
            "1 initial sync",
            format!("{rows} rows in {:.2} s = {:.0} rows/s", pull.as_secs_f64(), rate),
            format!("one-transaction insert: {:.2} s = {:.0} rows/s", baseline.as_secs_f64(), base_rate),
            format!("{} the baseline's time", ratio(pull.as_secs_f64(), baseline.as_secs_f64())),
            "≥ 50,000 rows/s; ≤ 3× baseline",
            Some(rate >= 50_000.0 && pull.as_secs_f64() <= 3.0 * baseline.as_secs_f64()),
        );
    }

    // 2. An approval made durable in the outbox and visible in the local list.
    if which[1] {
        let n = if cli.full() { 500 } else { 50 };
        let pending: Vec<String> = sqlx::query_scalar("SELECT id FROM memberships WHERE status = 1 ORDER BY created_at LIMIT $1")
            .bind(n as i64)
            .fetch_all(client.pool())
            .await?;
        let mut times = Vec::with_capacity(pending.len());
        for id in &pending {
            let id = Uuid::parse_str(id)?;
            let started = Instant::now();
            let view = client.act(id, Action::Approve).await?;
            times.push(started.elapsed());
            ensure!(view.status.code() == 2, "approved view");
        }
        // Visible in the list: every one of them is now listed as Aktif with its pending mark.
        let listed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM memberships WHERE status = 2 AND pending > 0 AND listed = 1")
            .fetch_one(client.pool())
            .await?;
        ensure!(listed as usize == pending.len(), "{listed} of {} approvals visible", pending.len());
        let base = bare_insert_baseline(&client, pending.len()).await?;
        let (act, base) = (Latencies::new(times), Latencies::new(base));
        report.add(
            "2 approve → outbox + list",
            format!("p50 {}, p99 {} (n = {})", ms(act.p(50.0)), ms(act.p(99.0)), act.len()),
            format!("INSERT + commit: p50 {}, p99 {}", ms(base.p(50.0)), ms(base.p(99.0))),
            format!("p50 {}", ratio(act.p(50.0).as_secs_f64(), base.p(50.0).as_secs_f64())),
            "p50 ≤ 2 ms, p99 ≤ 10 ms",
            Some(act.p(50.0) <= Duration::from_millis(2) && act.p(99.0) <= Duration::from_millis(10)),
        );
    }

    // 3. Daftar Pengguna: a filtered page, and a name/NIK search.
    if which[2] {
        let n = if cli.full() { 300 } else { 30 };
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let mut conn = client.pool().acquire().await?;
        let mut page_times = Vec::new();
        let mut page_scan = Vec::new();
        for _ in 0..n {
            let filter = ListFilter {
                satker_code: Some(satkers.choose(&mut rng).unwrap().clone()),
                status: Some(*[0u8, 1, 2, 3, 4].choose(&mut rng).unwrap()),
                search: None,
                offset: 0,
                limit: 50,
            };
            // Somewhere in the list, as a scrolled screen asks.
            let total = queries::list(&mut conn, &ListFilter { limit: 1, ..filter.clone() }).await?.total;
            let filter = ListFilter { offset: rng.random_range(0..total.max(1)), ..filter };
            time_both(&mut conn, &filter, &mut page_times, &mut page_scan).await?;
        }
        let parts = world::name_parts();
        let niks: Vec<String> = sqlx::query_scalar("SELECT nik FROM memberships ORDER BY random() LIMIT 100").fetch_all(&mut *conn).await?;
        let mut search_times = Vec::new();
        let mut search_scan = Vec::new();
        for i in 0..n {
            // Half by name (a whole or partial word), half by NIK digits.
            let term = if i % 2 == 0 {
                let word = parts.choose(&mut rng).unwrap();
                word[..rng.random_range(3..=word.len())].to_lowercase()
            } else {
                let nik = niks.choose(&mut rng).unwrap();
                nik[nik.len() - rng.random_range(4..=8)..].to_owned()
            };
            let filter = ListFilter { search: Some(term), limit: 50, ..Default::default() };
            time_both(&mut conn, &filter, &mut search_times, &mut search_scan).await?;
        }
        for (id, times, scans, target, limit) in [
            ("3 list page (satker + status)", page_times, page_scan, "p99 ≤ 10 ms", 10),
            ("3 search (name / NIK)", search_times, search_scan, "p99 ≤ 20 ms", 20),
        ] {
            let (t, scan) = (Latencies::new(times), Latencies::new(scans));
            report.add(
                id,
                format!("p50 {}, p99 {} on {rows} rows", ms(t.p(50.0)), ms(t.p(99.0))),
                format!("full scan: p50 {}, p99 {}", ms(scan.p(50.0)), ms(scan.p(99.0))),
                format!("{} faster (p99)", ratio(scan.p(99.0).as_secs_f64(), t.p(99.0).as_secs_f64())),
                target,
                Some(t.p(99.0) <= Duration::from_millis(limit)),
            );
        }
    }
    drop(server);
    let _ = client.sign_out(true).await;
    Ok(())
}

/// Times one list query and its full-scan baseline, and checks they give the same page.
async fn time_both(
    conn: &mut sqlx::SqliteConnection,
    filter: &ListFilter,
    times: &mut Vec<Duration>,
    scans: &mut Vec<Duration>,
) -> Result<()> {
    let started = Instant::now();
    let page = queries::list(conn, filter).await?;
    times.push(started.elapsed());
    let started = Instant::now();
    let scanned = scan_page(conn, filter).await?;
    scans.push(started.elapsed());
    ensure!(scanned == page.rows.len(), "the scan and the index disagree for {filter:?}");
    Ok(())
}

/// Benchmark 1's baseline: the rows the sync wrote, inserted into an empty store of the
/// same schema in one transaction through one prepared statement.
async fn bulk_insert_baseline(client: &Client, path: &std::path::Path) -> Result<Duration> {
    type Values = (String, Option<String>, Option<i64>, String, String, String, i64, String, bool, String);
    let rows: Vec<Values> = sqlx::query_as(
        "SELECT id, server_json, server_version, nik, name, satker_code, status, created_at, listed, view_json FROM memberships",
    )
    .fetch_all(client.pool())
    .await?;
    let pool = myintress_client::store::open(path).await?;
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
async fn bare_insert_baseline(client: &Client, n: usize) -> Result<Vec<Duration>> {
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        let started = Instant::now();
        let mut tx = client.pool().begin().await?;
        sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2)").bind(format!("bench-{i}")).bind("x").execute(&mut *tx).await?;
        tx.commit().await?;
        times.push(started.elapsed());
    }
    sqlx::query("DELETE FROM meta WHERE key LIKE 'bench-%'").execute(client.pool()).await?;
    Ok(times)
}

/// Benchmark 3's baseline: the same page (count and rows) with every index and the search
/// index turned off, i.e. a full scan of the table.
async fn scan_page(conn: &mut sqlx::SqliteConnection, f: &ListFilter) -> Result<usize> {
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
        q.bind(f.satker_code.clone().unwrap_or_default()).bind(f.status.unwrap_or(0) as i64).bind(like.to_owned())
    }
    let count =
        format!("SELECT COUNT(*) AS n FROM memberships NOT INDEXED WHERE {cond} AND $1 IS NOT NULL AND $2 IS NOT NULL AND $3 IS NOT NULL");
    let _total: i64 = bind(sqlx::query(&count), f, &like).fetch_one(&mut *conn).await?.try_get("n")?;
    let page = format!(
        "SELECT view_json, pending FROM memberships NOT INDEXED WHERE {cond} AND $1 IS NOT NULL AND $2 IS NOT NULL AND $3 IS NOT NULL \
         ORDER BY name, nik, created_at, id LIMIT 50 OFFSET {}",
        f.offset.max(0)
    );
    let rows = bind(sqlx::query(&page), f, &like).fetch_all(&mut *conn).await?;
    for r in &rows {
        let json: String = r.try_get("view_json")?;
        let _: myintress_core::api::Membership = serde_json::from_str(&json)?;
    }
    Ok(rows.len())
}
