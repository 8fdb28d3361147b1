//! The letter check (core's [`myintress_core::pdf::check`]) in a child process with limits,
//! so a hostile PDF that overflows the stack, allocates without bound or loops costs one
//! child, never the central server or the desktop app.
//!
//! The child is the caller's own executable started with an argument of its choosing
//! (`myintress-server check-pdf`, the app's hidden `--myintress-check-pdf`); its `main`
//! calls [`serve_child`] first thing. The PDF goes in on stdin, the outcome comes back on
//! stdout in core's wire form. The child gets an empty environment (no database URL, no
//! SMTP password reaches it). On Unix its address space, CPU time, open files, processes
//! and file writes are capped with `setrlimit`; everywhere, its wall time is capped with a
//! kill. How many run at once fits the machine's cores and memory.
//!
//! A check that cannot start in time, or runs out of wall time (the machine is loaded: the
//! CPU limit stops a document that merely computes too long), is [`Busy`], the caller's
//! "try again" (`503`), never a verdict on the document.

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

/// The checker had no room for this check, or the machine was too loaded to finish it in
/// time: try again later. Not the document's fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

impl std::fmt::Display for Busy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("pemeriksa PDF sedang sibuk")
    }
}

impl std::error::Error for Busy {}

/// How long a check waits for a free slot before it is [`Busy`].
const QUEUE_WAIT: Duration = Duration::from_secs(20);

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
    /// of wall time, 20 s of CPU and 1 GiB of address space each; as many at once as there
    /// are cores, and no more than half the machine's memory can hold.
    pub fn new(program: PathBuf, args: impl IntoIterator<Item = impl Into<OsString>>) -> Self {
        let memory_bytes: u64 = 1024 * 1024 * 1024;
        PdfChecker {
            program,
            args: args.into_iter().map(Into::into).collect(),
            wall: Duration::from_secs(30),
            cpu_seconds: 20,
            memory_bytes,
            slots: Arc::new(Semaphore::new(slots_for(memory_bytes))),
            in_process: false,
        }
    }

    /// How many checks may run at once.
    pub fn capacity(&self) -> usize {
        self.slots.available_permits()
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
        let _slot = match tokio::time::timeout(QUEUE_WAIT, self.slots.acquire()).await {
            Ok(slot) => slot.context("pemeriksa PDF ditutup")?,
            Err(_) => return Err(Busy.into()),
        };
        if self.in_process {
            let input = bytes.to_vec();
            return tokio::task::spawn_blocking(move || myintress_core::pdf::check(&input)).await.context("pemeriksa PDF");
        }
        let mut command = self.command();
        let mut child = command.spawn().with_context(|| format!("menjalankan {}", self.program.display()))?;
        // Windows has no limits at fork time: the child joins a Job Object before it is
        // given the letter (until then it only waits on its stdin); the job ends it when
        // dropped, with this function.
        #[cfg(windows)]
        let _job = job::Job::limit(&child, self.memory_bytes, self.cpu_seconds).context("membatasi pemeriksa PDF")?;
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
                // Its CPU limit (shorter than the wall time) stops a document that computes
                // too long; running out of wall time means the machine is loaded.
                let _ = child.kill().await;
                tracing::warn!("PDF check exceeded {:?}; child killed", self.wall);
                return Err(Busy.into());
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

    /// The child's command: our program and arguments, an empty environment, the limits.
    fn command(&self) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(&self.program);
        command.args(&self.args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null()).kill_on_drop(true);
        // Nothing of ours reaches the child: no database URL, no SMTP password, no keys.
        command.env_clear();
        #[cfg(windows)]
        for name in ["SystemRoot", "TEMP", "TMP"] {
            if let Some(value) = std::env::var_os(name) {
                command.env(name, value);
            }
        }
        self.limit(&mut command);
        command
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
                // No files written (stdout is a pipe), a few descriptors, no new processes.
                limit(libc::RLIMIT_FSIZE, 0)?;
                limit(libc::RLIMIT_NOFILE, 16)?;
                #[cfg(target_os = "linux")]
                limit(libc::RLIMIT_NPROC, 0)?;
                Ok(())
            });
        }
    }

    /// Windows: no console window for the child; its limits come from a Job Object once
    /// it has started ([`job::Job::limit`]).
    #[cfg(windows)]
    fn limit(&self, command: &mut tokio::process::Command) {
        const CREATE_NO_WINDOW: u32 = 0x0800_0000;
        command.creation_flags(CREATE_NO_WINDOW);
    }

    #[cfg(not(any(unix, windows)))]
    fn limit(&self, _command: &mut tokio::process::Command) {}
}

/// As many checks at once as there are cores, and no more than half the memory can hold
/// at `memory_bytes` each (at least one).
fn slots_for(memory_bytes: u64) -> usize {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let by_memory = total_memory().map(|total| (total / 2 / memory_bytes) as usize).unwrap_or(cores);
    cores.min(by_memory).max(1)
}

/// The machine's memory in bytes, where it can be read.
fn total_memory() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        let text = std::fs::read_to_string("/proc/meminfo").ok()?;
        let kib: u64 = text.lines().find(|l| l.starts_with("MemTotal:"))?.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
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

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// The child starts with nothing of ours in its environment and under every limit
    /// (a shell's builtins report what it got; no process is forked).
    #[tokio::test]
    async fn the_child_gets_an_empty_environment_and_its_limits() {
        // Builtins only: a command substitution would fork, which the child may not.
        let script = "export -p; echo limits; ulimit -n; ulimit -f; ulimit -u; ulimit -t";
        let checker = PdfChecker::new("/bin/bash".into(), ["-c", script]);
        let mut command = checker.command();
        command.stdin(Stdio::null());
        let output = command.output().await.unwrap();
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(std::env::var_os("CARGO_MANIFEST_DIR").is_some(), "the test's own environment has something to leak");
        assert!(!text.contains("CARGO_") && !text.contains("PATH="), "{text}");
        let limits: Vec<&str> = text.split("limits\n").nth(1).unwrap_or_default().lines().collect();
        assert_eq!(limits, ["16", "0", "0", "20"], "open files, file size, processes, CPU seconds: {text}");
    }

    /// Out of wall time (a loaded machine) is "try again", not a verdict on the document.
    #[tokio::test]
    async fn running_out_of_wall_time_is_busy() {
        let mut checker = PdfChecker::new("/bin/sleep".into(), ["5"]);
        checker.wall = Duration::from_millis(200);
        let minimal = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/pdf/accepted/minimal-hand-written.pdf")).unwrap();
        let error = checker.check(&minimal).await.unwrap_err();
        assert!(error.downcast_ref::<Busy>().is_some(), "{error:#}");
    }

    #[test]
    fn as_many_at_once_as_cores_and_memory_allow() {
        let slots = slots_for(1024 * 1024 * 1024);
        let cores = std::thread::available_parallelism().unwrap().get();
        assert!((1..=cores).contains(&slots), "{slots}");
        assert_eq!(slots_for(u64::MAX), 1, "at least one");
    }
}

/// The PDF child's limits on Windows.
#[cfg(windows)]
mod job {
    use windows_sys::Win32::Foundation::{CloseHandle, HANDLE};
    use windows_sys::Win32::System::JobObjects::{
        AssignProcessToJobObject, CreateJobObjectW, JOB_OBJECT_LIMIT_ACTIVE_PROCESS, JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION,
        JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE, JOB_OBJECT_LIMIT_PROCESS_MEMORY, JOB_OBJECT_LIMIT_PROCESS_TIME,
        JOBOBJECT_EXTENDED_LIMIT_INFORMATION, JobObjectExtendedLimitInformation, SetInformationJobObject,
    };

    /// A Job Object holding one child: at most `memory` bytes committed and `cpu_seconds`
    /// of CPU time, no process of its own, a crash ends it without a dialog, and closing
    /// the job (on drop) kills whatever is left of it. The same limits `setrlimit` sets on
    /// Unix.
    pub struct Job(HANDLE);

    // SAFETY: a job handle is a kernel handle, usable and closable from any thread.
    unsafe impl Send for Job {}
    // SAFETY: as above; the handle is only read.
    unsafe impl Sync for Job {}

    impl Job {
        pub fn limit(child: &tokio::process::Child, memory: u64, cpu_seconds: u64) -> std::io::Result<Job> {
            let process = child.raw_handle().ok_or_else(|| std::io::Error::other("pemeriksa PDF sudah berhenti"))? as HANDLE;
            // SAFETY: null attributes and name create an anonymous job; the handle is
            // checked before use and owned by `Job`, which closes it once.
            let job = Job(unsafe { CreateJobObjectW(std::ptr::null(), std::ptr::null()) });
            if job.0.is_null() {
                return Err(std::io::Error::last_os_error());
            }
            // SAFETY: a plain C struct, all-zero is its "no limits" value.
            let mut info: JOBOBJECT_EXTENDED_LIMIT_INFORMATION = unsafe { std::mem::zeroed() };
            info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_PROCESS_MEMORY
                | JOB_OBJECT_LIMIT_PROCESS_TIME
                | JOB_OBJECT_LIMIT_ACTIVE_PROCESS
                | JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
                | JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION;
            // In 100-nanosecond units.
            info.BasicLimitInformation.PerProcessUserTimeLimit = (cpu_seconds * 10_000_000) as i64;
            info.BasicLimitInformation.ActiveProcessLimit = 1;
            info.ProcessMemoryLimit = memory as usize;
            // SAFETY: `info` lives across the call and its size is passed with it.
            let set = unsafe {
                SetInformationJobObject(
                    job.0,
                    JobObjectExtendedLimitInformation,
                    (&raw const info).cast(),
                    std::mem::size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32,
                )
            };
            if set == 0 {
                return Err(std::io::Error::last_os_error());
            }
            // SAFETY: both handles are open: the job's above, the child's while `child` lives.
            if unsafe { AssignProcessToJobObject(job.0, process) } == 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(job)
        }
    }

    impl Drop for Job {
        fn drop(&mut self) {
            // SAFETY: the handle is open and closed only here.
            unsafe { CloseHandle(self.0) };
        }
    }
}
