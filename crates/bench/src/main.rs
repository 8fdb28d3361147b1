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

mod desktop;
mod fleet;
mod local;
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
    /// Admin URL of a PostgreSQL cluster (benchmarks 4 and 7).
    #[arg(long, env = "MYINTRESS_BENCH_POSTGRES_URL")]
    pub postgres_url: Option<String>,
    /// The HTTP load generator (benchmark 4).
    #[arg(long, default_value = "wrk")]
    pub wrk: PathBuf,
    /// Which benchmarks to run (1–8); all when none are given.
    pub only: Vec<u8>,
}

impl Cli {
    pub fn full(&self) -> bool {
        self.size == Size::Full
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
    let wanted = |n: u8| cli.only.is_empty() || cli.only.contains(&n);
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
    // The desktop benchmark needs no runtime of ours: it starts processes and waits.
    if wanted(8) {
        desktop::run(&cli, &mut report)?;
    }
    report.write(&cli.out)?;
    println!("\n{}", report.markdown());
    Ok(())
}
