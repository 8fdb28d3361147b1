//! `myintress-bench`: the eight benchmarks of MyIntress Satker. Each prints its figure and
//! a ratio against a baseline measured in the same run, because absolute times on a
//! shared 2-core machine drift. Nothing here asserts a time; `cargo xtask bench` runs them
//! all in release builds and writes the table into BENCHMARKS.md, and the test command
//! runs them at `--size tiny` as a smoke check.
//!
//! | # | module | what |
//! |---|---|---|
//! | 1–3 | [`local`] | initial sync, an action made durable, list page and search |
//! | 4–6 | [`server`] | server under load, registrations with the PDF check, the PDF check |
//! | 7 | [`fleet`] | 2,000 simulated desktops against PostgreSQL |
//! | 8 | [`desktop`] | the app's cold start and idle memory, beside an empty Tauri window |
//! | 9 | [`letter`] | a 5 MB scanned letter on screen in the app, beside pdf.js in a bare page |
//! | 10 | [`day`] | the app's memory over a scripted working day (only when asked: 8 hours) |

mod day;
mod desktop;
mod fleet;
mod letter;
mod local;
mod points;
mod report;
mod server;
mod world;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, ValueEnum};

use crate::report::Report;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Size {
    /// Seconds, small data: a smoke check that every benchmark still runs.
    Tiny,
    /// The sizes and durations the targets are stated for.
    Full,
}

#[derive(Parser)]
#[command(name = "myintress-bench", about = "Benchmark MyIntress Satker beside same-run baselines")]
pub struct Cli {
    #[arg(long, value_enum, default_value_t = Size::Full)]
    pub size: Size,
    /// Scratch folder (removed and recreated).
    #[arg(long)]
    pub work: PathBuf,
    /// Where the results go: `results.md` (the table) and `results.json`.
    #[arg(long)]
    pub out: PathBuf,
    /// The release server binary (`myintress-server`).
    #[arg(long)]
    pub server_bin: PathBuf,
    /// The release app (benchmark 8).
    #[arg(long)]
    pub app_bin: Option<PathBuf>,
    /// The empty Tauri window built the same way (benchmark 8's baseline).
    #[arg(long)]
    pub empty_bin: Option<PathBuf>,
    /// pdf.js's `legacy/build` folder as the app bundles it (benchmark 9's bare page).
    #[arg(long)]
    pub pdfjs_dir: Option<PathBuf>,
    /// Admin URL of a PostgreSQL cluster (benchmarks 4 and 7).
    #[arg(long, env = "MYINTRESS_BENCH_POSTGRES_URL")]
    pub postgres_url: Option<String>,
    /// The HTTP load generator (benchmark 4).
    #[arg(long, default_value = "wrk")]
    pub wrk: PathBuf,
    /// Memberships for benchmarks 1, 3 and 4 instead of the size's (100,000 when full): a
    /// step of how their cost grows (`cargo xtask bench --growth` runs 10,000 and
    /// 1,000,000). A step runs one round of each, and fewer queries in benchmark 3.
    #[arg(long)]
    pub rows: Option<usize>,
    /// Benchmark 10's working day in minutes (480 at the full size, 1 when tiny).
    #[arg(long)]
    pub day_minutes: Option<f64>,
    /// Which benchmarks to run (1–10); when none are given, 1–9, and 10 too at the tiny
    /// size (a full working day takes 8 hours: ask for it with `10`).
    pub only: Vec<u8>,
}

impl Cli {
    pub fn full(&self) -> bool {
        self.size == Size::Full
    }

    /// Memberships in the stores of benchmarks 1, 3 and 4.
    pub fn rows(&self) -> usize {
        self.rows.unwrap_or(if self.full() { 100_000 } else { 2_000 })
    }

    /// How many rounds a repeated figure takes: `full` at the full size, one when tiny or at
    /// a growth step (`--rows`: a round at 1,000,000 takes minutes).
    pub fn rounds(&self, full: usize) -> usize {
        if self.full() && self.rows.is_none() { full } else { 1 }
    }
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    world::raise_open_files();
    let _ = std::fs::remove_dir_all(&cli.work);
    std::fs::create_dir_all(&cli.work).with_context(|| format!("creating {}", cli.work.display()))?;
    std::fs::create_dir_all(&cli.out)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let mut report = Report::new(&cli);
    let wanted = |n: u8| cli.only.contains(&n) || (cli.only.is_empty() && (n <= 9 || !cli.full()));
    runtime.block_on(async {
        if wanted(1) || wanted(2) || wanted(3) {
            local::run(&cli, &mut report, [wanted(1), wanted(2), wanted(3)]).await?;
        }
        if wanted(4) {
            server::load(&cli, &mut report).await?;
        }
        if wanted(5) {
            server::registrations(&cli, &mut report).await?;
        }
        if wanted(6) {
            server::pdf_check(&cli, &mut report).await?;
        }
        if wanted(7) {
            fleet::run(&cli, &mut report).await?;
        }
        anyhow::Ok(())
    })?;
    // The desktop benchmarks drive the app from this thread (blocking WebDriver calls); the
    // runtime serves what they start (the server) through `block_on`.
    if wanted(8) {
        desktop::run(&cli, &mut report)?;
    }
    if wanted(9) {
        letter::run(&cli, &runtime, &mut report)?;
    }
    if wanted(10) {
        day::run(&cli, &runtime, &mut report)?;
    }
    report.write(&cli.out)?;
    println!("\n{}", report.markdown());
    Ok(())
}
