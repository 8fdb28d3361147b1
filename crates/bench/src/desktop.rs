//! Benchmark 8: the desktop app's cold start to its first screen and the idle memory of
//! its whole process tree (the app and WebKit's web and network processes), beside an
//! empty Tauri window built the same way (release, same Tauri and WebKit). Both print
//! `MYINTRESS_READY` when their first page has loaded (`MYINTRESS_REPORT_READY=1`). Runs
//! under the display and session bus `cargo xtask bench` provides (Xvfb, D-Bus).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::Cli;
use crate::report::{Latencies, Report, ms, ratio};
use crate::world;

struct Run {
    start: Duration,
    /// Proportional set size of the process tree, bytes (shared pages split fairly).
    pss: u64,
    rss: u64,
}

pub fn run(cli: &Cli, report: &mut Report) -> Result<()> {
    let (Some(app), Some(empty)) = (&cli.app_bin, &cli.empty_bin) else {
        println!("benchmark 8 skipped: --app-bin and --empty-bin are needed");
        return Ok(());
    };
    let runs = if cli.full() { 5 } else { 1 };
    let idle = if cli.full() { Duration::from_secs(10) } else { Duration::from_secs(2) };
    let mut apps = Vec::new();
    let mut empties = Vec::new();
    // Interleaved, so drift on the machine hits both alike.
    for i in 0..runs {
        empties.push(launch(empty, &cli.work.join(format!("empty-{i}")), idle, cli.full())?);
        apps.push(launch(app, &cli.work.join(format!("app-{i}")), idle, cli.full())?);
    }
    let median = |runs: &[Run], f: fn(&Run) -> u64| {
        let mut v: Vec<u64> = runs.iter().map(f).collect();
        v.sort();
        v[v.len() / 2]
    };
    let start_app = Latencies::new(apps.iter().map(|r| r.start).collect());
    let start_empty = Latencies::new(empties.iter().map(|r| r.start).collect());
    let (pss_app, pss_empty) = (median(&apps, |r| r.pss), median(&empties, |r| r.pss));
    let (rss_app, rss_empty) = (median(&apps, |r| r.rss), median(&empties, |r| r.rss));
    report.add(
        "8 app cold start",
        format!("median {} to the first screen (n = {runs}, first {})", ms(start_app.p(50.0)), ms(apps[0].start)),
        format!("empty Tauri window: median {}", ms(start_empty.p(50.0))),
        ratio(start_app.p(50.0).as_secs_f64(), start_empty.p(50.0).as_secs_f64()),
        "≤ 1.5 s",
        Some(start_app.p(50.0) <= Duration::from_millis(1500)),
    );
    report.add(
        "8 app idle memory",
        format!("PSS {} (RSS sum {}) for app + WebKit processes", world::mib(pss_app), world::mib(rss_app)),
        format!("empty Tauri window: PSS {} (RSS sum {})", world::mib(pss_empty), world::mib(rss_empty)),
        ratio(pss_app as f64, pss_empty as f64),
        "≤ 200 MB",
        Some(pss_app <= 200 * 1000 * 1000),
    );
    Ok(())
}

/// Starts the program with fresh data, config and cache folders (a first start), waits
/// for its ready line, lets it idle, measures the tree, and stops it. `cold`: drop the
/// page cache first (full runs only; the smoke run must not slow the rest of the tests).
fn launch(program: &Path, home: &Path, idle: Duration, cold: bool) -> Result<Run> {
    let _ = std::fs::remove_dir_all(home);
    for d in ["data", "config", "cache"] {
        std::fs::create_dir_all(home.join(d))?;
    }
    if cold {
        drop_page_cache();
    }
    let started = Instant::now();
    let mut child = Command::new(program)
        .env("MYINTRESS_REPORT_READY", "1")
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", program.display()))?;
    let pid = child.id();
    let stdout = child.stdout.take().expect("piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("MYINTRESS_READY") {
                let _ = tx.send(Instant::now());
            }
        }
    });
    let ready = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(at) => at,
        Err(_) => {
            stop(pid, &mut child);
            bail!("{} showed no first screen within 60 s", program.display());
        }
    };
    let start = ready - started;
    std::thread::sleep(idle);
    let tree = descendants(pid);
    let (pss, rss) = tree.iter().fold((0, 0), |(p, r), pid| (p + smaps_field(*pid, "Pss:"), r + smaps_field(*pid, "Rss:")));
    stop(pid, &mut child);
    Ok(Run { start, pss, rss })
}

fn stop(pid: u32, child: &mut std::process::Child) {
    let tree = descendants(pid);
    world::stop(child);
    // WebKit's helpers leave with their parent; any that did not are stopped here.
    for p in tree.into_iter().skip(1) {
        world::terminate(p);
    }
}

/// A process and all its descendants, from /proc.
pub fn descendants(root: u32) -> Vec<u32> {
    let mut parents = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
            // The command name is in parentheses and may hold spaces: read after the last ')'.
            let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
            if let Some(ppid) = after.split_whitespace().nth(1).and_then(|p| p.parse::<u32>().ok()) {
                parents.push((pid, ppid));
            }
        }
    }
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let p = tree[i];
        tree.extend(parents.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    tree
}

pub fn smaps_field(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse::<u64>().ok())
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

/// A cold start: the page cache dropped first, where the machine lets us (root on
/// Linux); otherwise the figure is a warm start and the report says so by its spread.
fn drop_page_cache() {
    let _ = Command::new("sync").status();
    let _ = std::fs::write("/proc/sys/vm/drop_caches", "3");
}
