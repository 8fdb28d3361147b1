//! The letter check (core's [`myintress_core::pdf::check`]) in a child process with limits,
//! so a hostile PDF that overflows the stack, allocates without bound or loops costs one
//! child, never the central server or the desktop app.
//!
//! The child is the caller's own executable started with an argument of its choosing
//! (`myintress-server check-pdf`, the app's hidden `--myintress-check-pdf`); its `main`
//! calls [`serve_child`] first thing. The child gets an empty environment (no database
//! URL, no SMTP password reaches it). On Unix its address space, open files, processes and
//! file writes are capped with `setrlimit`, and its CPU time per letter (the child lowers
//! its own soft limit before each); everywhere, each letter's wall time is capped with a
//! kill. How many run at once fits the machine's cores and memory.
//!
//! Children are kept: on Unix one serves up to [`LETTERS_PER_CHILD`] letters, one after
//! the other, as length-prefixed frames on its stdin and stdout, and is then replaced, so
//! the start of a process (most of a small letter's check) is paid once per many letters.
//! A child that crashes, hits a limit or runs out of time is killed and never reused; the
//! next letter gets a fresh one. On Windows, whose Job Object counts CPU time over the
//! process's life, each letter still gets its own child.
//!
//! A check that cannot start in time, or runs out of wall time (the machine is loaded: the
//! CPU limit stops a document that merely computes too long), is [`Busy`], the caller's
//! "try again" (`503`), never a verdict on the document.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use myintress_core::pdf::{PdfError, PdfReport};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, ChildStdin, ChildStdout};
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

/// CPU seconds one letter may take in the child.
pub const CPU_SECONDS_PER_LETTER: u64 = 20;

/// How many letters one child checks before it is replaced by a fresh process (Unix): a
/// new address space now and then, whatever the allocator kept of earlier letters.
#[cfg(unix)]
pub const LETTERS_PER_CHILD: u32 = 64;
/// Windows: the Job Object's CPU limit counts over the process's whole life, so every
/// letter gets its own child.
#[cfg(not(unix))]
pub const LETTERS_PER_CHILD: u32 = 1;

/// A running child between letters, with its pipes.
struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: ChildStdout,
    served: u32,
    #[cfg(windows)]
    _job: job::Job,
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
    /// Children waiting for their next letter (at most one per slot).
    idle: Arc<std::sync::Mutex<Vec<Worker>>>,
    /// How many children were started, for tests and `/metrics`.
    started: Arc<AtomicU64>,
    /// Check on a blocking thread of this process instead (benchmark baseline only).
    in_process: bool,
}

impl PdfChecker {
    /// Checks by running `program args…` (which must call [`serve_child`]): at most 30 s
    /// of wall time and 20 s of CPU per letter, 1 GiB of address space per child; as many
    /// at once as there are cores, and no more than half the machine's memory can hold.
    pub fn new(program: PathBuf, args: impl IntoIterator<Item = impl Into<OsString>>) -> Self {
        let memory_bytes: u64 = 1024 * 1024 * 1024;
        PdfChecker {
            program,
            args: args.into_iter().map(Into::into).collect(),
            wall: Duration::from_secs(30),
            cpu_seconds: CPU_SECONDS_PER_LETTER,
            memory_bytes,
            slots: Arc::new(Semaphore::new(slots_for(memory_bytes))),
            idle: Arc::default(),
            started: Arc::default(),
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
        // A kept child that ended while it waited (killed from outside) is not used: its
        // broken pipe would read as the document's fault.
        let kept = {
            let mut idle = self.idle.lock().expect("idle checkers");
            std::iter::from_fn(|| idle.pop()).find_map(|mut w| matches!(w.child.try_wait(), Ok(None)).then_some(w))
        };
        let mut worker = match kept {
            Some(worker) => worker,
            None => self.spawn()?,
        };
        let run = async {
            // A child that dies early closes its stdin: that shows as the answer's EOF.
            let _ = write_frame_async(&mut worker.stdin, bytes).await;
            read_frame_async(&mut worker.stdout).await
        };
        let outcome = tokio::time::timeout(self.wall, run).await;
        let output = match outcome {
            Ok(Ok(output)) => output,
            Ok(Err(_)) => {
                // Killed by a limit (SIGKILL, SIGXCPU, SIGSEGV from stack overflow, abort on
                // allocation failure) before it answered: the document is what cannot be read.
                let _ = worker.child.start_kill();
                let status = worker.child.wait().await?;
                tracing::warn!(?status, "PDF check child failed");
                return Ok(Err(PdfError::Unreadable { reason: format!("pemeriksa PDF berhenti ({status})") }));
            }
            Err(_) => {
                // Its CPU limit (shorter than the wall time) stops a document that computes
                // too long; running out of wall time means the machine is loaded.
                let _ = worker.child.kill().await;
                tracing::warn!("PDF check exceeded {:?}; child killed", self.wall);
                return Err(Busy.into());
            }
        };
        let result = match myintress_core::pdf::parse_wire(&output) {
            Ok(result) => result,
            Err(_) => {
                let _ = worker.child.kill().await;
                return Ok(Err(PdfError::Unreadable { reason: "pemeriksa PDF menjawab tidak terbaca".into() }));
            }
        };
        worker.served += 1;
        if worker.served < LETTERS_PER_CHILD {
            self.idle.lock().expect("idle checkers").push(worker);
        }
        // A replaced child gets EOF on its stdin and ends; kill_on_drop is the backstop.
        Ok(result)
    }

    /// Starts a child and puts it under its limits.
    fn spawn(&self) -> Result<Worker> {
        let mut child = self.command().spawn().with_context(|| format!("menjalankan {}", self.program.display()))?;
        self.started.fetch_add(1, Ordering::Relaxed);
        // Windows has no limits at fork time: the child joins a Job Object before it is
        // given a letter (until then it only waits on its stdin); the job ends it when
        // dropped, with the worker.
        #[cfg(windows)]
        let job = job::Job::limit(&child, self.memory_bytes, self.cpu_seconds).context("membatasi pemeriksa PDF")?;
        let stdin = child.stdin.take().context("stdin pemeriksa PDF")?;
        let stdout = child.stdout.take().context("stdout pemeriksa PDF")?;
        Ok(Worker {
            child,
            stdin,
            stdout,
            served: 0,
            #[cfg(windows)]
            _job: job,
        })
    }

    /// How many child processes this checker started so far.
    pub fn children_started(&self) -> u64 {
        self.started.load(Ordering::Relaxed)
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
                // Per letter, as the soft limit the child moves before each letter; the
                // hard limit bounds the child's whole life.
                let rl = libc::rlimit { rlim_cur: cpu as libc::rlim_t, rlim_max: (cpu * (LETTERS_PER_CHILD as u64 + 1)) as libc::rlim_t };
                if libc::setrlimit(libc::RLIMIT_CPU, &rl) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
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

/// The child's side: answers letters until its stdin ends. Each letter comes as a frame
/// (its length as 8 bytes, little-endian, then the bytes) and its outcome goes back the
/// same way, in core's wire form. A frame over the size limit is refused unread and ends
/// the child (the parent checks the size before it sends).
pub fn serve_child() -> Result<()> {
    let mut stdin = std::io::stdin().lock();
    let mut stdout = std::io::stdout().lock();
    loop {
        let mut header = [0u8; 8];
        match stdin.read_exact(&mut header) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e).context("membaca stdin"),
        }
        let length = u64::from_le_bytes(header);
        if length > myintress_core::pdf::MAX_DOCUMENT_BYTES as u64 {
            let refused = myintress_core::pdf::wire_of(Err(PdfError::TooLarge { size: length as usize }));
            write_frame(&mut stdout, refused.as_bytes())?;
            return Ok(());
        }
        let mut bytes = vec![0u8; length as usize];
        stdin.read_exact(&mut bytes).context("membaca stdin")?;
        #[cfg(unix)]
        limit_this_letter()?;
        let outcome = myintress_core::pdf::check_wire(&bytes);
        write_frame(&mut stdout, outcome.as_bytes())?;
    }
}

/// Moves the child's soft CPU limit to what it used so far plus one letter's allowance
/// (under the hard limit its parent set for its whole life).
#[cfg(unix)]
fn limit_this_letter() -> Result<()> {
    // SAFETY: plain system calls on structs owned here.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_SELF, &mut usage) != 0 {
            return Err(std::io::Error::last_os_error()).context("getrusage");
        }
        let used = (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) as u64 + 1;
        let mut rl: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_CPU, &mut rl) != 0 {
            return Err(std::io::Error::last_os_error()).context("getrlimit");
        }
        let wanted = (used + CPU_SECONDS_PER_LETTER) as libc::rlim_t;
        rl.rlim_cur = if rl.rlim_max == libc::RLIM_INFINITY { wanted } else { wanted.min(rl.rlim_max) };
        if libc::setrlimit(libc::RLIMIT_CPU, &rl) != 0 {
            return Err(std::io::Error::last_os_error()).context("setrlimit");
        }
    }
    Ok(())
}

fn write_frame(out: &mut impl Write, bytes: &[u8]) -> Result<()> {
    out.write_all(&(bytes.len() as u64).to_le_bytes()).context("menulis stdout")?;
    out.write_all(bytes).context("menulis stdout")?;
    out.flush().context("menulis stdout")
}

async fn write_frame_async(out: &mut ChildStdin, bytes: &[u8]) -> std::io::Result<()> {
    out.write_all(&(bytes.len() as u64).to_le_bytes()).await?;
    out.write_all(bytes).await?;
    out.flush().await
}

/// Longest answer read back: a wire outcome is a few kilobytes.
const MAX_ANSWER_BYTES: u64 = 1024 * 1024;

async fn read_frame_async(input: &mut ChildStdout) -> std::io::Result<Vec<u8>> {
    let mut header = [0u8; 8];
    input.read_exact(&mut header).await?;
    let length = u64::from_le_bytes(header);
    if length > MAX_ANSWER_BYTES {
        return Err(std::io::Error::other("jawaban pemeriksa PDF terlalu panjang"));
    }
    let mut bytes = vec![0u8; length as usize];
    input.read_exact(&mut bytes).await?;
    Ok(bytes)
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

    /// A child that ends without answering is the document's verdict ("unreadable"), and
    /// is never used again: the next letter starts a fresh child.
    #[tokio::test]
    async fn a_child_that_dies_is_replaced() {
        let checker = PdfChecker::new("/bin/sh".into(), ["-c", "exit 3"]);
        let minimal = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/pdf/accepted/minimal-hand-written.pdf")).unwrap();
        for n in 1..=3 {
            let outcome = checker.check(&minimal).await.unwrap();
            assert!(matches!(outcome, Err(PdfError::Unreadable { .. })), "{outcome:?}");
            assert_eq!(checker.children_started(), n);
        }
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
