//! Benchmarks 1–3, the desktop's local store: the initial sync of 100,000 memberships
//! from the server over 127.0.0.1, an approval made durable and visible, and the
//! *Daftar Pengguna* page and search — each beside plain SQLite doing the least it could.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use myintress_client::outbox::Action;
use myintress_client::{Client, ClientConfig, ListFilter, testing};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use crate::Cli;
use crate::report::{Latencies, Report, Spread, ms, ratio};
use crate::world::{self, ServerProcess};

const SATKERS: usize = 20;

pub async fn run(cli: &Cli, report: &mut Report, which: [bool; 3]) -> Result<()> {
    let rows = cli.rows();
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

    // 1. The initial sync, in rounds (three at the full size), each into a new data folder
    // and each followed by its baseline, so the two interleave. Meanwhile the Antrean is
    // read as its screen reads it, to see when every pending request is there.
    let sync_rounds = if which[0] { cli.rounds(3) } else { 1 };
    let (mut sync_secs, mut base_secs, mut usable_secs) = (Vec::new(), Vec::new(), Vec::new());
    let mut queue_len = 0;
    let mut synced = None;
    for round in 0..sync_rounds {
        if let Some(earlier) = synced.take() {
            let earlier: Client = earlier;
            let _ = earlier.sign_out(true).await;
        }
        let client = Client::open(ClientConfig {
            data_dir: world::dir(cli.work.join(format!("local-client-{round}")))?,
            server_url: server.base.clone(),
            keychain_service: "id.go.kemenkeu.myintress.satker.bench".into(),
            cache_limit_bytes: 50 * 1024 * 1024,
        })
        .await?;
        let challenge = client.api().captcha().await?;
        client
            .sign_in(&verifier, world::PASSWORD, &challenge.captcha_id, "apa saja")
            .await
            .context("signing in (needs the OS keychain)")?;

        let started = Instant::now();
        let done = std::sync::atomic::AtomicBool::new(false);
        let pull = async {
            let applied = client.pull().await;
            done.store(true, std::sync::atomic::Ordering::Release);
            applied
        };
        // The Antrean screen reads the queue when it opens and again whenever the status
        // line's counts or the last sync change (`app.revision` in the UI), not on a timer.
        let watch = async {
            let mut status = client.subscribe();
            let counts = |s: &myintress_client::events::SyncStatus| (s.outbox, s.conflicts, s.pending_registrations, s.last_sync.clone());
            let mut shown = None;
            let mut seen = Vec::new();
            while !done.load(std::sync::atomic::Ordering::Acquire) {
                let now = counts(&status.borrow_and_update());
                if shown.as_ref() != Some(&now) {
                    seen.push((started.elapsed(), client.queue().await.map(|q| q.len())));
                    shown = Some(now);
                }
                let _ = tokio::time::timeout(Duration::from_millis(25), status.changed()).await;
            }
            seen
        };
        let (applied, seen) = tokio::join!(pull, watch);
        let applied = applied.context("the first sync")?;
        let pull = started.elapsed();
        ensure!(applied as usize >= rows, "pulled {applied} of {rows}");
        let local = testing::membership_count(&client).await?;
        ensure!(local as usize == rows, "the client holds {local} rows, the server {rows}");
        queue_len = client.queue().await.context("the Antrean after the sync")?.len();
        ensure!(queue_len > 0, "the seeded Antrean is empty");
        // Usable: the first read that showed the whole Antrean (at the latest, the sync's end).
        let mut usable = pull;
        for (at, len) in seen {
            if len.context("reading the Antrean during the sync")? == queue_len {
                usable = at;
                break;
            }
        }
        sync_secs.push(pull.as_secs_f64());
        usable_secs.push(usable.as_secs_f64());
        if which[0] {
            base_secs.push(testing::bulk_insert_baseline(&client, &cli.work.join(format!("baseline-{round}.db"))).await?.as_secs_f64());
        }
        synced = Some(client);
    }
    let client = synced.expect("at least one round");
    if which[0] {
        let (pull, baseline, usable) = (Spread::of(sync_secs), Spread::of(base_secs), Spread::of(usable_secs));
        let rate = |secs: f64| rows as f64 / secs;
        report.point("1 initial sync", "µs per row", rows, pull.median * 1e6 / rows as f64);
        report.point("1 baseline: one-transaction insert", "µs per row", rows, baseline.median * 1e6 / rows as f64);
        let of = if sync_rounds > 1 { format!(", median of {sync_rounds} runs") } else { String::new() };
        report.add(
            "1 initial sync",
            format!("{rows} rows in {} s = {:.0} rows/s{of}", pull.show(2), rate(pull.median)),
            format!("one-transaction insert into an indexed store: {} s = {:.0} rows/s", baseline.show(2), rate(baseline.median)),
            format!("{} the baseline's time", ratio(pull.median, baseline.median)),
            "≥ 60,000 rows/s; ≤ 3× baseline",
            Some(rate(pull.median) >= 60_000.0 && pull.median <= 3.0 * baseline.median),
        );
        report.add(
            "1 Antrean usable after sign-in",
            format!("all {queue_len} pending requests shown after {} ms{of}", usable.times(1e3).show(0)),
            format!("the whole sync: {} ms", pull.times(1e3).show(0)),
            format!("{} of the sync's time", ratio(usable.median, pull.median)),
            "≤ 1 s",
            Some(usable.median <= 1.0),
        );
    }

    // 2. An approval made durable in the outbox and visible in the local list, in rounds
    // (three at the full size), each followed by its baseline, so the two interleave.
    if which[1] {
        let n = if cli.full() { 500 } else { 50 };
        let rounds = if cli.full() { 3 } else { 1 };
        let millis = |d: Duration| d.as_secs_f64() * 1e3;
        let (mut p50, mut p99, mut base50, mut base99) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut approved = 0;
        for _ in 0..rounds {
            let pending = testing::pending_ids(&client, n).await?;
            ensure!(pending.len() == n, "{} pending requests left, {n} needed", pending.len());
            let mut times = Vec::with_capacity(pending.len());
            for &id in &pending {
                let started = Instant::now();
                let view = client.act(id, Action::Approve).await?;
                times.push(started.elapsed());
                ensure!(view.status.code() == 2, "approved view");
            }
            // Visible in the list: every one so far is listed as Aktif with its pending mark.
            approved += pending.len();
            let listed = testing::listed_with_pending(&client, myintress_core::Status::Active).await?;
            ensure!(listed as usize == approved, "{listed} of {approved} approvals visible");
            let (act, base) = (Latencies::new(times), Latencies::new(testing::bare_insert_baseline(&client, n).await?));
            p50.push(millis(act.p(50.0)));
            p99.push(millis(act.p(99.0)));
            base50.push(millis(base.p(50.0)));
            base99.push(millis(base.p(99.0)));
        }
        let (p50, p99, base50, base99) = (Spread::of(p50), Spread::of(p99), Spread::of(base50), Spread::of(base99));
        let of = if rounds > 1 { format!("n = {n} per run, median of {rounds} runs") } else { format!("n = {n}") };
        report.add(
            "2 approve → outbox + list",
            format!("p50 {} ms, p99 {} ms ({of})", p50.show(2), p99.show(2)),
            format!("INSERT + commit: p50 {} ms, p99 {} ms", base50.show(3), base99.show(3)),
            format!("p50 {}", ratio(p50.median, base50.median)),
            "p50 ≤ 2 ms, p99 ≤ 10 ms",
            Some(p50.median <= 2.0 && p99.median <= 10.0),
        );
    }

    // 2b. A bulk approval of 200 requests (letters opened beforehand), from the click to
    // every one shown approved in the local Antrean, beside the same 200 approved one by one.
    if which[1] {
        let n = if cli.full() { 200 } else { 20 };
        let mut bulk_times = Vec::new();
        let mut single_times = Vec::new();
        for _ in 0..3 {
            let ids = testing::pending_ids(&client, 2 * n).await?;
            ensure!(ids.len() == 2 * n, "{} pending requests left, {} needed", ids.len(), 2 * n);
            let (bulk, single) = ids.split_at(n);
            for id in bulk {
                client.letter_seen(*id).await?;
            }
            let started = Instant::now();
            let queued = client.bulk(bulk, myintress_core::api::BulkAction::Approve, None).await?;
            let queue = client.queue().await?;
            bulk_times.push(started.elapsed());
            ensure!(queued.items.iter().all(|i| i.refused.is_none()), "a request was refused");
            ensure!(!queue.iter().any(|r| bulk.contains(&r.membership.id)), "an approved request still waits in the Antrean");
            let started = Instant::now();
            for id in single {
                client.act(*id, Action::Approve).await?;
            }
            client.queue().await?;
            single_times.push(started.elapsed());
        }
        let (bulk, single) = (Latencies::new(bulk_times), Latencies::new(single_times));
        report.add(
            "2 bulk approve → all shown done",
            format!("{n} requests: median {} (of 3, {}–{})", ms(bulk.p(50.0)), ms(bulk.p(0.0)), ms(bulk.p(100.0))),
            format!("{n} single approvals: median {}", ms(single.p(50.0))),
            format!("{} the singles' time", ratio(bulk.p(50.0).as_secs_f64(), single.p(50.0).as_secs_f64())),
            "≤ 3 s for 200",
            Some(bulk.p(100.0) <= Duration::from_secs(3)),
        );
    }

    // 3. Daftar Pengguna: a filtered page, and a name/NIK search, in runs (three at the
    // full size) with different queries; each query is followed by its full scan.
    if which[2] {
        // Each query is followed by a full scan: fewer at a million rows, where a scan takes seconds.
        let n = if !cli.full() {
            30
        } else if rows > 100_000 {
            40
        } else {
            300
        };
        let runs = cli.rounds(3);
        let mut conn = testing::connection(&client).await?;
        let parts = world::name_parts();
        let niks = testing::sample_niks(&mut conn, 100).await?;
        // Per case: p50 and p99 of each run, and of its full scans.
        let mut per_run: [[Vec<f64>; 4]; 2] = Default::default();
        for run in 0..runs {
            let mut rng = rand::rngs::StdRng::seed_from_u64(3 + run as u64);
            let (mut page_times, mut page_scan) = (Vec::new(), Vec::new());
            for _ in 0..n {
                let filter = ListFilter {
                    satker_code: Some(satkers.choose(&mut rng).unwrap().clone()),
                    status: Some(*myintress_core::Status::ALL.choose(&mut rng).unwrap()),
                    search: None,
                    offset: 0,
                    limit: 50,
                };
                // Somewhere in the list, as a scrolled screen asks.
                let total = testing::list(&mut conn, &ListFilter { limit: 1, ..filter.clone() }).await?.total;
                let filter = ListFilter { offset: rng.random_range(0..total.max(1)), ..filter };
                time_both(&mut conn, &filter, &mut page_times, &mut page_scan).await?;
            }
            let (mut search_times, mut search_scan) = (Vec::new(), Vec::new());
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
            for (case, (times, scans)) in [(page_times, page_scan), (search_times, search_scan)].into_iter().enumerate() {
                let (t, scan) = (Latencies::new(times), Latencies::new(scans));
                let millis = |d: Duration| d.as_secs_f64() * 1e3;
                for (k, v) in [t.p(50.0), t.p(99.0), scan.p(50.0), scan.p(99.0)].into_iter().enumerate() {
                    per_run[case][k].push(millis(v));
                }
            }
        }
        let of = if runs > 1 { format!(", median of {runs} runs of {n}") } else { format!(", n = {n}") };
        for ((id, target, limit), figures) in
            [("3 list page (satker + status)", "p99 ≤ 10 ms", 10.0), ("3 search (name / NIK)", "p99 ≤ 20 ms", 20.0)]
                .into_iter()
                .zip(per_run)
        {
            let [p50, p99, scan50, scan99] = figures.map(Spread::of);
            report.point(&format!("{id}, p99"), "ms per query", rows, p99.median);
            report.point(&format!("{id}, full scan p99"), "ms per query", rows, scan99.median);
            report.add(
                id,
                format!("p50 {} ms, p99 {} ms on {rows} rows{of}", p50.show(3), p99.show(2)),
                format!("full scan: p50 {} ms, p99 {} ms", scan50.show(1), scan99.show(1)),
                format!("{} faster (p99)", ratio(scan99.median, p99.median)),
                target,
                Some(p99.median <= limit),
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
    let page = testing::list(conn, filter).await?;
    times.push(started.elapsed());
    let started = Instant::now();
    let scanned = testing::scan_page(conn, filter).await?;
    scans.push(started.elapsed());
    let ids: Vec<_> = page.rows.iter().map(|r| r.membership.id).collect();
    ensure!(scanned == ids, "the scan and the index disagree for {filter:?}");
    Ok(())
}
