//! Results: one row per figure, printed as it comes and written as a Markdown table.

use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::Cli;
use crate::points::Point;

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Benchmark number and sub-case, e.g. `4 list (SQLite)`.
    pub id: String,
    pub figure: String,
    pub baseline: String,
    pub ratio: String,
    pub target: String,
    /// `met`, `missed`, or `—` where there is no target for this line.
    pub verdict: String,
}

pub struct Report {
    pub size: String,
    pub machine: String,
    pub rows: Vec<Row>,
    /// Benchmarks 1, 3 and 4 as numbers, for the growth table and plot.
    pub points: Vec<Point>,
}

impl Report {
    pub fn new(cli: &Cli) -> Report {
        let size = match cli.rows {
            Some(rows) => format!("{:?}, {rows} memberships", cli.size).to_lowercase(),
            None => format!("{:?}", cli.size).to_lowercase(),
        };
        Report { size, machine: machine(), rows: Vec::new(), points: Vec::new() }
    }

    pub fn add(&mut self, id: &str, figure: String, baseline: String, ratio: String, target: &str, met: Option<bool>) {
        let verdict = match met {
            Some(true) => "met",
            Some(false) => "missed",
            None => "—",
        };
        let row = Row { id: id.to_owned(), figure, baseline, ratio, target: target.to_owned(), verdict: verdict.to_owned() };
        println!("[{}] {} | baseline {} | {} | target {} | {}", row.id, row.figure, row.baseline, row.ratio, row.target, row.verdict);
        self.rows.push(row);
    }

    /// A figure as a number at a store size (`series` names it the same at every size).
    pub fn point(&mut self, series: &str, unit: &str, rows: usize, value: f64) {
        self.points.push(Point { series: series.to_owned(), unit: unit.to_owned(), rows, value });
    }

    pub fn markdown(&self) -> String {
        let mut out = format!("Size `{}`, {}.\n\n", self.size, self.machine);
        out.push_str("| # | figure | baseline (same run) | ratio | target | verdict |\n|---|---|---|---|---|---|\n");
        for r in &self.rows {
            out.push_str(&format!("| {} | {} | {} | {} | {} | {} |\n", r.id, r.figure, r.baseline, r.ratio, r.target, r.verdict));
        }
        out
    }

    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        std::fs::write(dir.join("results.md"), self.markdown())?;
        std::fs::write(dir.join("results.json"), serde_json::to_string_pretty(&self.rows)?)?;
        std::fs::write(dir.join(crate::points::FILE), serde_json::to_string_pretty(&self.points)?)?;
        Ok(())
    }
}

/// The machine, as far as /proc tells: CPU model, cores, memory, kernel.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split(':').nth(1)).unwrap_or("?").trim().to_owned();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().next().and_then(|l| l.split_whitespace().nth(1)).and_then(|kb| kb.parse::<u64>().ok()))
        .map(|kb| format!("{:.0} GiB", kb as f64 / 1024.0 / 1024.0))
        .unwrap_or_default();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_owned();
    format!("{model}, {cores} cores, {mem}, Linux {kernel}, {}", chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"))
}

/// The median of a few runs' figures and their range.
#[derive(Debug, Clone, Copy)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    pub fn of(mut values: Vec<f64>) -> Spread {
        values.sort_by(f64::total_cmp);
        let n = values.len();
        let median = match n {
            0 => f64::NAN,
            _ if n % 2 == 1 => values[n / 2],
            _ => (values[n / 2 - 1] + values[n / 2]) / 2.0,
        };
        Spread { median, min: values.first().copied().unwrap_or(f64::NAN), max: values.last().copied().unwrap_or(f64::NAN) }
    }

    /// The same spread in another unit (`factor` 1000: seconds to milliseconds).
    pub fn times(&self, factor: f64) -> Spread {
        Spread { median: self.median * factor, min: self.min * factor, max: self.max * factor }
    }

    /// The median with `decimals`, and the range in brackets when there was more than one run.
    pub fn show(&self, decimals: usize) -> String {
        if self.min == self.max {
            format!("{:.decimals$}", self.median)
        } else {
            format!("{:.decimals$} ({:.decimals$}–{:.decimals$})", self.median, self.min, self.max)
        }
    }
}

/// Sorted latencies and their percentiles.
pub struct Latencies(Vec<Duration>);

impl Latencies {
    pub fn new(mut samples: Vec<Duration>) -> Latencies {
        samples.sort();
        Latencies(samples)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Nearest-rank percentile, `p` in 0–100.
    pub fn p(&self, p: f64) -> Duration {
        if self.0.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * self.0.len() as f64).ceil().max(1.0) as usize;
        self.0[rank.min(self.0.len()) - 1]
    }
}

pub fn ms(d: Duration) -> String {
    let v = d.as_secs_f64() * 1000.0;
    if v < 1.0 {
        format!("{v:.3} ms")
    } else if v < 100.0 {
        format!("{v:.2} ms")
    } else {
        format!("{v:.0} ms")
    }
}

pub fn ratio(a: f64, b: f64) -> String {
    if b == 0.0 { "—".into() } else { format!("{:.2}×", a / b) }
}
