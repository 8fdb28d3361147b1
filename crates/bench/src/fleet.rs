//! Benchmark 7: a fleet of simulated desktops against the server on PostgreSQL. Each
//! desktop is a tokio task with its own HTTP connection and session; it pulls the change
//! feed every 30 s and pushes one approval a minute (with its idempotency key and
//! `If-Match`), starting at a random moment so the fleet is spread as real offices are.
//! The fleet runs twice: against one server, and through two replicas on the same
//! database behind a round-robin balancer (the test kit's proxy, in this process). The
//! baseline is one desktop alone doing the same, more often, for more samples. During the
//! run through the replicas one more desk approves 200 requests in bulk three times, beside
//! the same on the idle server.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use myintress_core::api::{BulkAction, BulkAnswer, BulkItem, BulkRequest, ChangesPage, Membership};
use myintress_core::status::Status;
use rand::{Rng, SeedableRng};
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::Cli;
use crate::report::{Latencies, Report, Spread, ms, ratio};
use crate::world::{self, ServerProcess};

const KPPNS: usize = 20;
const SATKERS: usize = 5;

#[derive(Default)]
struct Tally {
    pulls: Vec<Duration>,
    pushes: Vec<Duration>,
    errors: u64,
    requests: u64,
}

struct Desk {
    token: String,
    /// Pending registrations this desk will approve, one per push.
    pending: Vec<Uuid>,
}

pub async fn run(cli: &Cli, report: &mut Report) -> Result<()> {
    let Some(admin) = &cli.postgres_url else {
        println!("benchmark 7 skipped: no --postgres-url");
        return Ok(());
    };
    let (clients, duration, pull_every, push_every) = if cli.full() {
        (2000usize, Duration::from_secs(180), Duration::from_secs(30), Duration::from_secs(60))
    } else {
        (20, Duration::from_secs(6), Duration::from_secs(2), Duration::from_secs(3))
    };
    let pushes_each = (duration.as_secs_f64() / push_every.as_secs_f64()).ceil() as usize + 1;
    let dir = world::dir(cli.work.join("fleet"))?;
    world::server_dir(&dir, KPPNS, SATKERS, 10)?;
    let database = world::postgres_database(admin, "bench_fleet").await?;
    let settings = world::settings(&dir, Some(database), &cli.server_bin);
    // Every desk (and the baseline's) gets its own pending registrations; the rest of the
    // data is there so queries run against a realistic table.
    // Requests per bulk decision (the Antrean's "select all" of a busy morning).
    let bulk = if cli.full() { 200 } else { 20 };
    let (desks, solo, mut bulk_desk) = {
        let state = world::open(&settings).await?;
        let mut verifiers = Vec::new();
        for k in 0..KPPNS {
            verifiers.push(world::verifier(&state, k).await?);
            let satkers: Vec<String> = (0..SATKERS).map(|s| world::satker_code(k, s)).collect();
            world::seed_memberships(&state, &satkers, if cli.full() { 2_500 } else { 100 }, None, 100 + k as u64).await?;
        }
        // Each desk approves its own requests: half in the run against one server, half in
        // the run through the replicas.
        println!("seeding {} pending registrations and {clients} sessions…", (clients + 1) * pushes_each * 2);
        let mut desks = Vec::with_capacity(clients + 1);
        for d in 0..=clients {
            let k = d % KPPNS;
            let satkers: Vec<String> = (0..SATKERS).map(|s| world::satker_code(k, s)).collect();
            let pending = world::seed_memberships(&state, &satkers, pushes_each * 2, Some(Status::Registered), 10_000 + d as u64).await?;
            desks.push(Desk { token: world::session(&state, &verifiers[k]).await?, pending });
        }
        let solo = desks.pop().expect("one more than the fleet");
        // The bulk leg's desk: its own pending requests for three bulk decisions alone and
        // three during the fleet.
        let satkers: Vec<String> = (0..SATKERS).map(|s| world::satker_code(0, s)).collect();
        let pending = world::seed_memberships(&state, &satkers, 6 * bulk, Some(Status::Registered), 9_000).await?;
        let bulk_desk = Desk { token: world::session(&state, &verifiers[0]).await?, pending };
        (desks, solo, bulk_desk)
    };
    let (first, second): (Vec<Desk>, Vec<Desk>) = desks
        .into_iter()
        .map(|d| {
            let (a, b) = d.pending.split_at(pushes_each);
            (Desk { token: d.token.clone(), pending: a.to_vec() }, Desk { token: d.token, pending: b.to_vec() })
        })
        .unzip();

    let server = ServerProcess::start(&cli.server_bin, &settings, &[]).await?;
    let base = server.base.clone();
    let head = head(&base, &solo.token).await?;

    // The baseline: one desktop alone, pulling every second and pushing every 2 s.
    let solo_tally = Arc::new(Mutex::new(Tally::default()));
    let solo_time = if cli.full() { Duration::from_secs(30) } else { Duration::from_secs(3) };
    desk(
        base.clone(),
        desk_client()?,
        solo,
        head,
        solo_time,
        Duration::from_secs(1),
        Duration::from_secs(2),
        Duration::ZERO,
        solo_tally.clone(),
    )
    .await;
    let (_, solo_peak) = world::rss(server.pid()).unwrap_or_default();
    let solo = Arc::try_unwrap(solo_tally).ok().context("solo tally")?.into_inner();
    let (solo_pulls, solo_pushes) = (Latencies::new(solo.pulls), Latencies::new(solo.pushes));
    let baseline = format!(
        "1 desktop: pull p99 {}, push p99 {}, errors {}, server RSS {}",
        ms(solo_pulls.p(99.0)),
        ms(solo_pushes.p(99.0)),
        solo.errors,
        world::mib(solo_peak)
    );

    // The bulk leg's baseline: three bulk approvals on the idle server.
    let mut bulk_alone = Vec::new();
    for _ in 0..3 {
        let ids: Vec<Uuid> = bulk_desk.pending.split_off(bulk_desk.pending.len() - bulk);
        bulk_alone.push(bulk_approve(&desk_client()?, &base, &bulk_desk.token, &ids).await?);
    }

    // The fleet against one server.
    let (tally, peak) = fleet(&base, first, head, &[server.pid()], duration, pull_every, push_every).await?;
    add(report, &format!("7 fleet of {clients} (PostgreSQL)"), &tally, peak, "server", &baseline, (&solo_pulls, &solo_pushes));
    drop(server);

    // The same fleet through two replicas on the same database, behind a balancer.
    let ports: Vec<u16> = (0..2)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()))
        .collect::<Result<_, _>>()?;
    let mut replicas = Vec::new();
    for port in &ports {
        replicas.push(ServerProcess::start_on(&cli.server_bin, &settings, *port, &[]).await?);
    }
    let balancer = myintress_testkit::proxy::FaultProxy::start_balanced(
        ports.iter().map(|p| std::net::SocketAddr::from(([127, 0, 0, 1], *p))).collect(),
    )
    .await;
    let pids: Vec<u32> = replicas.iter().map(ServerProcess::pid).collect();
    let url = balancer.url();
    let head = head_of(&url, &second).await?;
    // Meanwhile the bulk leg: a bulk approval at a quarter, half and three quarters of the run.
    let during = async {
        let http = desk_client()?;
        let mut times = Vec::new();
        for quarter in 1..=3u32 {
            tokio::time::sleep(duration / 4).await;
            let ids: Vec<Uuid> = bulk_desk.pending.split_off(bulk_desk.pending.len() - bulk);
            times.push(bulk_approve(&http, &url, &bulk_desk.token, &ids).await.with_context(|| format!("bulk {quarter}"))?);
        }
        anyhow::Ok(times)
    };
    let (run, bulk_during) = tokio::join!(fleet(&url, second, head, &pids, duration, pull_every, push_every), during);
    let (tally, peak) = run?;
    let (during, alone) = (Spread::of(bulk_during?), Spread::of(bulk_alone));
    add(
        report,
        &format!("7 fleet of {clients}, 2 replicas (PostgreSQL)"),
        &tally,
        peak,
        "replicas' summed",
        &baseline,
        (&solo_pulls, &solo_pushes),
    );
    report.add(
        &format!("7 bulk approval of {bulk} during the fleet, 2 replicas"),
        format!("{} ms, median of 3", during.times(1e3).show(0)),
        format!("the same on the idle server: {} ms", alone.times(1e3).show(0)),
        ratio(during.median, alone.median),
        "every request approved; say the time",
        Some(true),
    );
    drop(balancer);
    drop(replicas);
    Ok(())
}

/// The newest change's seq as the fleet's first desk sees it (all desks of a KPPN share a
/// head; the fleet starts synced).
async fn head_of(base: &str, desks: &[Desk]) -> Result<i64> {
    head(base, &desks.first().context("a fleet has desks")?.token).await
}

/// Runs the desks for `duration`; returns the tally and the peak of the servers' summed RSS.
#[allow(clippy::too_many_arguments)]
async fn fleet(
    base: &str,
    desks: Vec<Desk>,
    head: i64,
    pids: &[u32],
    duration: Duration,
    pull_every: Duration,
    push_every: Duration,
) -> Result<(Tally, u64)> {
    println!("{} desktops for {} s against {base}…", desks.len(), duration.as_secs());
    let tally = Arc::new(Mutex::new(Tally::default()));
    let peak = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let watcher = {
        let (peak, pids) = (peak.clone(), pids.to_vec());
        tokio::spawn(async move {
            loop {
                let now: u64 = pids.iter().filter_map(|pid| world::rss(*pid)).map(|(now, _)| now).sum();
                peak.fetch_max(now, std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        })
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    // Each desktop's HTTP client exists before the clock starts, as an app builds its own
    // once at start.
    let clients = desks.iter().map(|_| desk_client()).collect::<Result<Vec<_>>>()?;
    let mut tasks = Vec::new();
    for (d, http) in desks.into_iter().zip(clients) {
        let offset = Duration::from_secs_f64(rng.random_range(0.0..pull_every.as_secs_f64()));
        tasks.push(tokio::spawn(desk(base.to_owned(), http, d, head, duration, pull_every, push_every, offset, tally.clone())));
    }
    for t in tasks {
        t.await.context("desk task")?;
    }
    watcher.abort();
    let tally = Arc::try_unwrap(tally).ok().context("tally")?.into_inner();
    Ok((tally, peak.load(std::sync::atomic::Ordering::Relaxed)))
}

fn add(report: &mut Report, id: &str, tally: &Tally, peak: u64, rss_of: &str, baseline: &str, solo: (&Latencies, &Latencies)) {
    let (pulls, pushes) = (Latencies::new(tally.pulls.clone()), Latencies::new(tally.pushes.clone()));
    let error_rate = tally.errors as f64 / tally.requests.max(1) as f64;
    report.add(
        id,
        format!(
            "pull p99 {} (n = {}), push p99 {} (n = {}), errors {} of {} ({:.2}%), {rss_of} peak RSS {}",
            ms(pulls.p(99.0)),
            pulls.len(),
            ms(pushes.p(99.0)),
            pushes.len(),
            tally.errors,
            tally.requests,
            error_rate * 100.0,
            world::mib(peak)
        ),
        baseline.to_owned(),
        format!(
            "pull p99 {:.1}×, push p99 {:.1}×",
            pulls.p(99.0).as_secs_f64() / solo.0.p(99.0).as_secs_f64().max(1e-9),
            pushes.p(99.0).as_secs_f64() / solo.1.p(99.0).as_secs_f64().max(1e-9)
        ),
        "error rate 0; say p99 and RSS",
        Some(tally.errors == 0),
    );
}

/// The newest change's seq: desks start synced.
async fn head(base: &str, token: &str) -> Result<i64> {
    let http = reqwest::Client::new();
    let mut after = 0;
    loop {
        let page: ChangesPage = http
            .get(format!("{base}/api/v1/changes?after={after}&limit=1000"))
            .bearer_auth(token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        after = page.last_seq;
        if !page.has_more {
            return Ok(after);
        }
    }
}

/// One desktop's HTTP client: its own connection (as each office PC has), plain HTTP to
/// the loopback server, so no TLS roots are loaded (with `object_store`'s features in the
/// build, every client would otherwise parse the system's certificate store: about 3 ms of
/// CPU each here, 6 s for 2,000 desks, which stalled the runner at the fleet's start and
/// showed up as a pull p99 of 500 ms while the server answered in 2 ms).
fn desk_client() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder().pool_max_idle_per_host(1).tls_built_in_root_certs(false).timeout(Duration::from_secs(60)).build()?)
}

#[allow(clippy::too_many_arguments)]
async fn desk(
    base: String,
    http: reqwest::Client,
    mut desk: Desk,
    mut cursor: i64,
    duration: Duration,
    pull_every: Duration,
    push_every: Duration,
    offset: Duration,
    tally: Arc<Mutex<Tally>>,
) {
    tokio::time::sleep(offset).await;
    let start = Instant::now();
    let mut next_pull = start;
    let mut next_push = start + push_every / 2;
    let mut mine = Tally::default();
    while start.elapsed() < duration {
        let now = Instant::now();
        if now >= next_pull {
            next_pull += pull_every;
            let started = Instant::now();
            let mut ok = true;
            loop {
                mine.requests += 1;
                let got = async {
                    let r = http.get(format!("{base}/api/v1/changes?after={cursor}&limit=1000")).bearer_auth(&desk.token).send().await?;
                    let page: ChangesPage = r.error_for_status()?.json().await?;
                    anyhow::Ok(page)
                }
                .await;
                match got {
                    Ok(page) => {
                        cursor = page.last_seq;
                        if !page.has_more {
                            break;
                        }
                    }
                    Err(_) => {
                        ok = false;
                        mine.errors += 1;
                        break;
                    }
                }
            }
            if ok {
                mine.pulls.push(started.elapsed());
            }
        }
        if now >= next_push {
            next_push += push_every;
            if let Some(id) = desk.pending.pop() {
                mine.requests += 1;
                let started = Instant::now();
                let sent = http
                    .post(format!("{base}/api/v1/memberships/{id}/approve"))
                    .bearer_auth(&desk.token)
                    .header("Idempotency-Key", Uuid::new_v4().to_string())
                    .header("If-Match", "\"1\"")
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status().is_success() => match r.json::<Membership>().await {
                        Ok(m) if m.status == Status::Active => mine.pushes.push(started.elapsed()),
                        _ => mine.errors += 1,
                    },
                    Ok(r) => {
                        eprintln!("push refused: {} {}", r.status(), r.text().await.unwrap_or_default());
                        mine.errors += 1;
                    }
                    Err(e) => {
                        eprintln!("push failed: {e}");
                        mine.errors += 1;
                    }
                }
            }
        }
        let wake = next_pull.min(next_push);
        let left = duration.saturating_sub(start.elapsed());
        tokio::time::sleep(wake.saturating_duration_since(Instant::now()).min(left)).await;
    }
    let mut all = tally.lock().await;
    all.pulls.extend(mine.pulls);
    all.pushes.extend(mine.pushes);
    all.errors += mine.errors;
    all.requests += mine.requests;
}

/// One bulk approval of `ids` (each as seeded, version 1), timed; fails unless every
/// request was approved.
async fn bulk_approve(http: &reqwest::Client, base: &str, token: &str, ids: &[Uuid]) -> Result<f64> {
    let request = BulkRequest {
        action: Some(BulkAction::Approve),
        reason: String::new(),
        items: ids.iter().map(|&id| BulkItem { id, version: 1 }).collect(),
    };
    let started = Instant::now();
    let answer: BulkAnswer = http
        .post(format!("{base}/api/v1/memberships/bulk"))
        .bearer_auth(token)
        .header("Idempotency-Key", Uuid::new_v4().to_string())
        .json(&request)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let took = started.elapsed().as_secs_f64();
    let approved = answer.results.iter().filter(|r| r.membership.as_ref().is_some_and(|m| m.status == Status::Active)).count();
    anyhow::ensure!(approved == ids.len(), "{approved} of {} approved in bulk", ids.len());
    Ok(took)
}
