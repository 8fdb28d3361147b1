//! Uploaded PDFs: checked in a child process with limits, then stored as files named by
//! their SHA-256 under the data dir (never inside the database).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use myintress_core::pdf::{PdfError, PdfReport};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Semaphore;

/// Content-addressed document files: `<dir>/<first two hex>/<sha256>.pdf`.
#[derive(Clone)]
pub struct DocumentFiles {
    dir: PathBuf,
}

impl DocumentFiles {
    pub fn new(dir: PathBuf) -> Result<Self> {
        std::fs::create_dir_all(&dir).with_context(|| format!("membuat {}", dir.display()))?;
        Ok(DocumentFiles { dir })
    }

    fn path(&self, sha256: &str) -> PathBuf {
        self.dir.join(&sha256[..2]).join(format!("{sha256}.pdf"))
    }

    /// Writes the bytes (unless the same content is already there) and returns their
    /// SHA-256. Written to a temporary name, synced, then renamed, so a crash never
    /// leaves a half-written file under the final name.
    pub async fn save(&self, bytes: &[u8]) -> Result<String> {
        let sha = hex::encode(Sha256::digest(bytes));
        let path = self.path(&sha);
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return Ok(sha);
        }
        let parent = path.parent().expect("has a parent");
        tokio::fs::create_dir_all(parent).await?;
        let tmp = parent.join(format!(".{sha}.{}.tmp", uuid::Uuid::new_v4()));
        let mut file = tokio::fs::File::create(&tmp).await?;
        file.write_all(bytes).await?;
        file.sync_all().await?;
        drop(file);
        tokio::fs::rename(&tmp, &path).await?;
        Ok(sha)
    }

    pub async fn read(&self, sha256: &str) -> Result<Vec<u8>> {
        Ok(tokio::fs::read(self.path(sha256)).await?)
    }
}

/// Runs the core's PDF check in a child process (`<program> check-pdf`), so a hostile PDF
/// that overflows the stack, allocates without bound or loops costs one child, never the
/// server: address space and CPU time are capped with `setrlimit`, wall time with a kill.
#[derive(Clone)]
pub struct PdfChecker {
    program: PathBuf,
    wall: Duration,
    cpu_seconds: u64,
    memory_bytes: u64,
    /// Bounds how many children run at once, so a burst of uploads cannot fork-bomb.
    slots: Arc<Semaphore>,
    /// Check on a blocking thread of this process instead (benchmark baseline only).
    in_process: bool,
}

impl PdfChecker {
    pub fn new(program: PathBuf) -> Self {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        PdfChecker {
            program,
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
        command.arg("check-pdf").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null()).kill_on_drop(true);
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
        let mut child = command.spawn().with_context(|| format!("menjalankan {}", self.program.display()))?;
        let mut stdin = child.stdin.take().expect("piped");
        let mut stdout = child.stdout.take().expect("piped");
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
}
