//! The letter check (core's [`myintress_core::pdf::check`]) in a child process with limits,
//! so a hostile PDF that overflows the stack, allocates without bound or loops costs one
//! child, never the central server or the desktop app.
//!
//! The child is the caller's own executable started with an argument of its choosing
//! (`myintress-server check-pdf`, the app's hidden `--myintress-check-pdf`); its `main`
//! calls [`serve_child`] first thing. The PDF goes in on stdin, the outcome comes back on
//! stdout in core's wire form. On Unix the child's address space and CPU time are capped
//! with `setrlimit`; everywhere, its wall time is capped with a kill.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use myintress_core::pdf::{PdfError, PdfReport};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Semaphore;

/// A PDF that passed the letter check, with what the check found. Made only by a check
/// ([`PdfChecker::check_document`], [`CheckedPdf::check_here`]), so a function taking one
/// never checks the same file again.
#[derive(Debug, Clone)]
pub struct CheckedPdf {
    bytes: Vec<u8>,
    report: PdfReport,
}

impl CheckedPdf {
    /// Checks in this process, without limits: for tests and tools that read their own
    /// files, never for a file from elsewhere in a long-running process.
    pub fn check_here(bytes: Vec<u8>) -> Result<CheckedPdf, PdfError> {
        let report = myintress_core::pdf::check(&bytes)?;
        Ok(CheckedPdf { bytes, report })
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn report(&self) -> &PdfReport {
        &self.report
    }
}

/// Starts checks in child processes of `program`, a bounded number at a time.
#[derive(Clone)]
pub struct PdfChecker {
    program: PathBuf,
    args: Vec<OsString>,
    wall: Duration,
    cpu_seconds: u64,
    memory_bytes: u64,
    /// Bounds how many children run at once, so a burst of uploads cannot fork-bomb.
    slots: Arc<Semaphore>,
    /// Check on a blocking thread of this process instead (benchmark baseline only).
    in_process: bool,
}

impl PdfChecker {
    /// Checks by running `program args…` (which must call [`serve_child`]): at most 30 s
    /// of wall time, 20 s of CPU and 1 GiB of address space each, two per core at once.
    pub fn new(program: PathBuf, args: impl IntoIterator<Item = impl Into<OsString>>) -> Self {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        PdfChecker {
            program,
            args: args.into_iter().map(Into::into).collect(),
            wall: Duration::from_secs(30),
            cpu_seconds: 20,
            memory_bytes: 1024 * 1024 * 1024,
            slots: Arc::new(Semaphore::new(cores * 2)),
            in_process: false,
        }
    }

    /// The same check without the child process: no limits, so only for measuring what
    /// the child costs (`--pdf-check-in-process`).
    pub fn in_process(mut self) -> Self {
        self.in_process = true;
        self
    }

    pub fn program(&self) -> &Path {
        &self.program
    }

    /// Checks `bytes`; `Ok(Err(_))` is the document's fault (refused, or it stopped the
    /// child), `Err(_)` ours (the child could not be started or read).
    pub async fn check(&self, bytes: &[u8]) -> Result<Result<PdfReport, PdfError>> {
        // The envelope (size, header) needs no child.
        if let Err(e) = myintress_core::pdf::check_envelope(bytes) {
            return Ok(Err(e));
        }
        let _slot = self.slots.acquire().await.context("pemeriksa PDF ditutup")?;
        if self.in_process {
            let input = bytes.to_vec();
            return tokio::task::spawn_blocking(move || myintress_core::pdf::check(&input)).await.context("pemeriksa PDF");
        }
        let mut command = tokio::process::Command::new(&self.program);
        command.args(&self.args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null()).kill_on_drop(true);
        self.limit(&mut command);
        let mut child = command.spawn().with_context(|| format!("menjalankan {}", self.program.display()))?;
        let mut stdin = child.stdin.take().context("stdin pemeriksa PDF")?;
        let mut stdout = child.stdout.take().context("stdout pemeriksa PDF")?;
        let input = bytes.to_vec();
        let run = async move {
            // A child that dies early closes its stdin: that is its answer, not our error.
            let writer = async move {
                let _ = stdin.write_all(&input).await;
                drop(stdin);
            };
            let mut output = Vec::new();
            let reader = stdout.read_to_end(&mut output);
            let (_, read) = tokio::join!(writer, reader);
            read.map(|_| output)
        };
        let outcome = tokio::time::timeout(self.wall, run).await;
        let output = match outcome {
            Ok(Ok(output)) => output,
            Ok(Err(e)) => return Err(e).context("membaca hasil pemeriksa PDF"),
            Err(_) => {
                let _ = child.kill().await;
                tracing::warn!("PDF check exceeded {:?}; child killed", self.wall);
                return Ok(Err(PdfError::Unreadable { reason: "pemeriksaan melebihi batas waktu".into() }));
            }
        };
        let status = child.wait().await?;
        match myintress_core::pdf::parse_wire(&output) {
            Ok(result) => Ok(result),
            Err(_) => {
                // Killed by a limit (SIGKILL, SIGXCPU, SIGSEGV from stack overflow, abort on
                // allocation failure): the document is what cannot be read.
                tracing::warn!(?status, "PDF check child failed");
                Ok(Err(PdfError::Unreadable { reason: format!("pemeriksa PDF berhenti ({status})") }))
            }
        }
    }

    /// [`PdfChecker::check`], keeping the bytes with the report when they pass.
    pub async fn check_document(&self, bytes: Vec<u8>) -> Result<Result<CheckedPdf, PdfError>> {
        Ok(self.check(&bytes).await?.map(|report| CheckedPdf { bytes, report }))
    }

    #[cfg(unix)]
    fn limit(&self, command: &mut tokio::process::Command) {
        let (memory, cpu) = (self.memory_bytes, self.cpu_seconds);
        // SAFETY: only async-signal-safe calls (setrlimit) between fork and exec.
        unsafe {
            command.pre_exec(move || {
                let limit = |resource, value: u64| {
                    let rl = libc::rlimit { rlim_cur: value as libc::rlim_t, rlim_max: value as libc::rlim_t };
                    if libc::setrlimit(resource, &rl) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                };
                limit(libc::RLIMIT_AS, memory)?;
                limit(libc::RLIMIT_CPU, cpu)?;
                limit(libc::RLIMIT_CORE, 0)?;
                Ok(())
            });
        }
    }

    /// Windows: no console window for the child; the wall-time kill is the limit.
    #[cfg(windows)]
    fn limit(&self, command: &mut tokio::process::Command) {
        const CREATE_NO_WINDOW: u32 = 0x0800_0000;
        command.creation_flags(CREATE_NO_WINDOW);
    }

    #[cfg(not(any(unix, windows)))]
    fn limit(&self, _command: &mut tokio::process::Command) {}
}

/// The child's side: reads at most one byte over the size limit from stdin (an oversized
/// file is refused without reading it all), checks it and prints the outcome.
pub fn serve_child() -> Result<()> {
    let limit = myintress_core::pdf::MAX_DOCUMENT_BYTES as u64 + 1;
    let mut bytes = Vec::new();
    std::io::stdin().take(limit).read_to_end(&mut bytes).context("membaca stdin")?;
    let outcome = myintress_core::pdf::check_wire(&bytes);
    std::io::stdout().write_all(outcome.as_bytes()).context("menulis stdout")?;
    Ok(())
}
