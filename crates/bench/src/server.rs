//! Benchmarks 4–6, the central server: throughput under 64 connections (`wrk`) on SQLite
//! and PostgreSQL beside `/healthz`; registrations carrying a 1 MB letter with the PDF
//! check in a child process beside the same check in-process; and the check of a 5 MB PDF
//! beside reading the file.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use rand::SeedableRng;
use tokio::sync::Semaphore;

use crate::Cli;
use crate::report::{Latencies, Report, Spread, ms, ratio};
use crate::world::{self, ServerProcess};

/// What wrk said: requests per second and the latency percentiles it prints.
struct Wrk {
    rps: f64,
    p50: Duration,
    p99: Duration,
    errors: u64,
}

fn wrk(cli: &Cli, url: &str, token: Option<&str>) -> Result<Wrk> {
    let seconds = if cli.full() { "15s" } else { "2s" };
    let mut command = Command::new(&cli.wrk);
    command.args(["-t", "2", "-c", "64", "-d", seconds, "--latency"]);
    if let Some(t) = token {
        command.args(["-H", &format!("Authorization: Bearer {t}")]);
    }
    let out = command.arg(url).output().with_context(|| format!("running {} (apt install wrk)", cli.wrk.display()))?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    ensure!(out.status.success(), "wrk failed: {text}{}", String::from_utf8_lossy(&out.stderr));
    let rps = text.lines().find(|l| l.starts_with("Requests/sec:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok());
    let percentile =
        |p: &str| text.lines().map(str::trim).find(|l| l.starts_with(p)).and_then(|l| l.split_whitespace().nth(1)).and_then(parse_wrk_time);
    let errors = text
        .lines()
        .find(|l| l.contains("Non-2xx or 3xx responses:"))
        .and_then(|l| l.split(':').nth(1))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
        + text.lines().find(|l| l.contains("Socket errors:")).map(|_| 1).unwrap_or(0);
    match (rps, percentile("50%"), percentile("99%")) {
        (Some(rps), Some(p50), Some(p99)) => Ok(Wrk { rps, p50, p99, errors }),
        _ => bail!("cannot read wrk's output:\n{text}"),
    }
}

fn parse_wrk_time(v: &str) -> Option<Duration> {
    let (number, unit) = v.find(|c: char| c.is_ascii_alphabetic()).map(|i| v.split_at(i))?;
    let n: f64 = number.parse().ok()?;
    let secs = match unit {
        "us" => n / 1e6,
        "ms" => n / 1e3,
        "s" => n,
        "m" => n * 60.0,
        _ => return None,
    };
    Some(Duration::from_secs_f64(secs))
}

/// wrk runs of one endpoint, taken in interleaved rounds: the median and range of each
/// figure, so a claim survives a re-run on a noisy machine.
#[derive(Default)]
struct Runs(Vec<Wrk>);

impl Runs {
    fn rps(&self) -> Spread {
        Spread::of(self.0.iter().map(|w| w.rps).collect())
    }

    fn p50(&self) -> Spread {
        Spread::of(self.0.iter().map(|w| w.p50.as_secs_f64() * 1e3).collect())
    }

    fn p99(&self) -> Spread {
        Spread::of(self.0.iter().map(|w| w.p99.as_secs_f64() * 1e3).collect())
    }

    fn errors(&self) -> u64 {
        self.0.iter().map(|w| w.errors).sum()
    }

    /// "4,120 req/s (3,980–4,310), p50 9.1 ms, p99 21.4 ms (19.0–24.8)".
    fn describe(&self) -> String {
        format!("{} req/s, p50 {} ms, p99 {} ms", self.rps().show(0), self.p50().show(2), self.p99().show(2))
    }
}

/// Benchmark 4: the list and the change feed under 64 connections, SQLite then
/// PostgreSQL, each round beside `/healthz` of the same server and the list page of the same server
/// with its session cache off (`--session-cache-seconds 0`, how every request ran before
/// the cache); three interleaved rounds at the full size.
pub async fn load(cli: &Cli, report: &mut Report) -> Result<()> {
    let rows = cli.rows();
    let rounds = cli.rounds(3);
    let mut backends: Vec<(&str, Option<String>)> = vec![("SQLite", None)];
    match &cli.postgres_url {
        Some(admin) => backends.push(("PostgreSQL", Some(world::postgres_database(admin, "bench_load").await?))),
        None => println!("benchmark 4 on PostgreSQL skipped: no --postgres-url"),
    }
    for (label, database) in backends {
        let dir = world::dir(cli.work.join(format!("load-{}", label.to_lowercase())))?;
        world::server_dir(&dir, 1, 20, 10)?;
        let settings = world::settings(&dir, database, &cli.server_bin);
        let token = {
            let state = world::open(&settings).await?;
            let satkers: Vec<String> = (0..20).map(|s| world::satker_code(0, s)).collect();
            println!("seeding {rows} memberships ({label})…");
            world::seed_memberships(&state, &satkers, rows, None, 4).await?;
            let nik = world::verifier(&state, 0).await?;
            world::session(&state, &nik).await?
        };
        let list_path = format!("/api/v1/memberships?satker_code={}&status=2&limit=50", world::satker_code(0, 7));
        let feed_path = format!("/api/v1/changes?after={}&limit=100", rows / 2);
        let (mut health, mut list, mut feed, mut uncached) = (Runs::default(), Runs::default(), Runs::default(), Runs::default());
        // Peak RSS per round, in MiB. The first round's first server also runs the day's
        // background round over the seeded rows at its start (dormancy, change-feed
        // compaction, the Antrean's flags), so its peak is that job's, not the page's.
        let (mut peak, mut list_peak, mut uncached_peak) = (Vec::new(), Vec::new(), Vec::new());
        let mib = |pid: u32| world::rss(pid).unwrap_or_default().1 as f64 / 1024.0 / 1024.0;
        for round in 1..=rounds {
            println!("benchmark 4 ({label}), round {round} of {rounds}…");
            let server = ServerProcess::start(&cli.server_bin, &settings, &[]).await?;
            health.0.push(wrk(cli, &server.url("/healthz"), None)?);
            list.0.push(wrk(cli, &server.url(&list_path), Some(&token))?);
            list_peak.push(mib(server.pid()));
            feed.0.push(wrk(cli, &server.url(&feed_path), Some(&token))?);
            peak.push(mib(server.pid()));
            drop(server);
            let server = ServerProcess::start(&cli.server_bin, &settings, &[("MYINTRESS_SESSION_CACHE_SECONDS", "0")]).await?;
            uncached.0.push(wrk(cli, &server.url(&list_path), Some(&token))?);
            uncached_peak.push(mib(server.pid()));
            drop(server);
        }
        let of = if rounds > 1 { format!("median of {rounds} rounds") } else { "one round".to_owned() };
        let baseline = format!("/healthz: {} req/s, p99 {} ms", health.rps().show(0), health.p99().show(2));
        report.add(
            &format!("4 memberships list page ({label})"),
            format!(
                "{} ({}), errors {}, server peak RSS {} MiB after the list's run ({} MiB after the feed's)",
                list.describe(),
                of,
                list.errors(),
                Spread::of(list_peak).show(0),
                Spread::of(peak).show(0)
            ),
            format!(
                "{baseline}; the same page without the session cache: {}, server peak RSS {} MiB",
                uncached.describe(),
                Spread::of(uncached_peak).show(0)
            ),
            format!(
                "{} of /healthz throughput; {} the throughput without the cache",
                ratio(list.rps().median, health.rps().median),
                ratio(list.rps().median, uncached.rps().median)
            ),
            "≥ 4,000 req/s, p99 ≤ 25 ms",
            Some(list.rps().median >= 4000.0 && list.p99().median <= 25.0 && list.errors() == 0),
        );
        report.point(&format!("4 list page ({label})"), "ms of server time per request (1 / throughput)", rows, 1e3 / list.rps().median);
        report.point(&format!("4 list page ({label}), p99"), "ms per request", rows, list.p99().median);
        report.point(
            &format!("4 change feed page ({label})"),
            "ms of server time per request (1 / throughput)",
            rows,
            1e3 / feed.rps().median,
        );
        report.add(
            &format!("4 change feed page ({label})"),
            format!("{} ({}), errors {}", feed.describe(), of, feed.errors()),
            baseline,
            format!("{} of /healthz throughput", ratio(feed.rps().median, health.rps().median)),
            "say the figure",
            None,
        );
    }
    Ok(())
}

/// Benchmark 5, registrations with a 1 MB letter: the server's child-process PDF check beside the
/// same server checking in-process, in interleaved rounds (three at the full size).
pub async fn registrations(cli: &Cli, report: &mut Report) -> Result<()> {
    let n: u32 = if cli.full() { 400 } else { 16 };
    let rounds = if cli.full() { 3 } else { 1 };
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    println!("making {n} distinct 1 MB letters…");
    let letters: Vec<Vec<u8>> = (1..=n)
        .map(|i| {
            let (nik, name) = myintress_testkit::resident(i);
            world::letter_of_size(&nik, &name, &format!("ST-{i}/2026"), 1024 * 1024, &mut rng)
        })
        .collect();
    // Per variant: throughput, p50 and p99 (ms) of each round.
    let mut child: Vec<(f64, f64, f64)> = Vec::new();
    let mut inproc: Vec<(f64, f64, f64)> = Vec::new();
    for round in 1..=rounds {
        for (label, env) in [("child process", vec![]), ("in-process", vec![("MYINTRESS_PDF_CHECK_IN_PROCESS", "true")])] {
            println!("benchmark 5, {label}, round {round} of {rounds}…");
            let dir = world::dir(cli.work.join(format!("register-{}-{round}", label.replace(' ', "-"))))?;
            world::server_dir(&dir, 1, 20, n)?;
            let settings = world::settings(&dir, None, &cli.server_bin);
            let token = {
                let state = world::open(&settings).await?;
                let nik = world::verifier(&state, 0).await?;
                world::session(&state, &nik).await?
            };
            let server = ServerProcess::start(&cli.server_bin, &settings, &env).await?;
            let http = reqwest::Client::new();
            let slots = Arc::new(Semaphore::new(16));
            let started = Instant::now();
            let mut tasks = Vec::new();
            for (i, letter) in letters.iter().enumerate() {
                let registration =
                    myintress_testkit::Registration::new(i as u32 + 1, &world::satker_code(0, i % 20)).letter(letter.clone());
                let (http, url, token, slots) = (http.clone(), server.url("/api/v1/registrations"), token.clone(), slots.clone());
                tasks.push(tokio::spawn(async move {
                    let _slot = slots.acquire().await.expect("open");
                    let boundary = format!("bench{i}");
                    let (content_type, body) = registration.encoded(&boundary);
                    let sent = Instant::now();
                    let response = http.post(url).bearer_auth(token).header("Content-Type", content_type).body(body).send().await?;
                    let status = response.status();
                    let text = response.text().await?;
                    anyhow::ensure!(status == reqwest::StatusCode::CREATED, "registration {i}: {status} {text}");
                    anyhow::Ok(sent.elapsed())
                }));
            }
            let mut times = Vec::new();
            for t in tasks {
                times.push(t.await??);
            }
            let elapsed = started.elapsed();
            drop(server);
            std::fs::remove_dir_all(&dir)?;
            let times = Latencies::new(times);
            let figures = (n as f64 / elapsed.as_secs_f64(), times.p(50.0).as_secs_f64() * 1e3, times.p(99.0).as_secs_f64() * 1e3);
            if label == "child process" { child.push(figures) } else { inproc.push(figures) }
        }
    }
    let spread = |runs: &[(f64, f64, f64)], pick: fn(&(f64, f64, f64)) -> f64| Spread::of(runs.iter().map(pick).collect());
    let describe = |runs: &[(f64, f64, f64)]| {
        format!(
            "{} req/s, p50 {} ms, p99 {} ms",
            spread(runs, |r| r.0).show(1),
            spread(runs, |r| r.1).show(1),
            spread(runs, |r| r.2).show(1)
        )
    };
    let overhead = Spread::of(child.iter().zip(&inproc).map(|(c, i)| c.1 - i.1).collect());
    let rps = spread(&child, |r| r.0).median;
    report.add(
        "5 registration, 1 MB PDF",
        format!("{} (16 at a time{})", describe(&child), if rounds > 1 { format!("; median of {rounds} rounds") } else { String::new() }),
        format!("in-process check: {}", describe(&inproc)),
        format!("{} of in-process throughput; the child adds {} ms at p50", ratio(rps, spread(&inproc, |r| r.0).median), overhead.show(1)),
        "≥ 150 req/s; say the child-process overhead",
        Some(rps >= 150.0),
    );
    Ok(())
}

/// Benchmark 6, the PDF check of a 5 MB letter, in-process and as the server runs it (child
/// process), beside reading the file.
pub async fn pdf_check(cli: &Cli, report: &mut Report) -> Result<()> {
    let runs = if cli.full() { 21 } else { 3 };
    let mut rng = rand::rngs::StdRng::seed_from_u64(6);
    let (nik, name) = myintress_testkit::resident(1);
    let bytes = world::letter_of_size(&nik, &name, "ST-1/2026", myintress_core::pdf::MAX_DOCUMENT_BYTES - 8 * 1024, &mut rng);
    let path = cli.work.join("letter-5mb.pdf");
    std::fs::write(&path, &bytes)?;
    let checker = myintress_server::documents::PdfChecker::new(cli.server_bin.clone(), ["check-pdf"]);
    let (mut read, mut inproc, mut child) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let started = Instant::now();
        let data = std::fs::read(&path)?;
        read.push(started.elapsed());
        let started = Instant::now();
        myintress_core::pdf::check(&data).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        inproc.push(started.elapsed());
        let started = Instant::now();
        checker.check(&data).await?.map_err(|e| anyhow::anyhow!("{e:?}"))?;
        child.push(started.elapsed());
    }
    let (read, inproc, child) = (Latencies::new(read), Latencies::new(inproc), Latencies::new(child));
    report.add(
        "6 PDF check, 5 MB",
        format!("median {} in-process, {} in the child process (as the server runs it)", ms(inproc.p(50.0)), ms(child.p(50.0))),
        format!("reading the file: median {}", ms(read.p(50.0))),
        format!("{} of the read (child)", ratio(child.p(50.0).as_secs_f64(), read.p(50.0).as_secs_f64())),
        "median ≤ 200 ms",
        Some(child.p(50.0) <= Duration::from_millis(200)),
    );
    let _ = Path::new(&path);

    // The same 5 MB letter signed electronically (pyHanko, under a test CA): the signature
    // part of the check (signature dictionaries, ByteRange, revisions, CMS, chain) beside
    // the whole check of the unsigned letter.
    let corpus = myintress_testkit::signed::make_signed_corpus(&cli.work.join("ttd-5mb"), &bytes);
    let signed = corpus.read("satu.pdf");
    let trust = myintress_core::signature::TrustList::from_pem(&[corpus.trusted_ca()]);
    let (mut signature, mut whole) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let started = Instant::now();
        let doc = lopdf::Document::load_mem(&signed)?;
        let verdicts = myintress_core::signature::evaluate_all(&myintress_core::signature::facts(&signed, &doc), &trust);
        signature.push(started.elapsed());
        anyhow::ensure!(
            verdicts.len() == 1 && verdicts[0].verdict == myintress_core::signature::Verdict::Valid,
            "the signed letter's verdict: {verdicts:?}"
        );
        let started = Instant::now();
        checker.check(&signed).await?.map_err(|e| anyhow::anyhow!("{e:?}"))?;
        whole.push(started.elapsed());
    }
    let (signature, whole) = (Latencies::new(signature), Latencies::new(whole));
    report.add(
        "6b signature check, 5 MB signed letter",
        format!(
            "p95 {} (median {}) parsing and verifying the signature in-process; whole check in the child: median {}",
            ms(signature.p(95.0)),
            ms(signature.p(50.0)),
            ms(whole.p(50.0))
        ),
        format!("whole check of the unsigned letter in the child: median {}", ms(child.p(50.0))),
        format!("{} of the unsigned check (child)", ratio(whole.p(50.0).as_secs_f64(), child.p(50.0).as_secs_f64())),
        "signature p95 ≤ 300 ms",
        Some(signature.p(95.0) <= Duration::from_millis(300)),
    );
    Ok(())
}
