//! The background round: the dormancy job (memberships, and verifiers' accounts), the purge of expired captchas, sessions and
//! idempotency keys, the collection of unreferenced documents, the compaction of the
//! change feed, and the Antrean's overdue / escalated flags and the day's reminder and
//! escalation e-mails (`queue`).
//!
//! Every replica ticks every `--dormancy-interval` seconds, but one round runs per interval
//! between them all: a replica first takes the job's lock (a PostgreSQL session advisory
//! lock; a replica that cannot have it skips the tick), then claims the round in
//! `job_runs` with a conditional update that fails when another replica started one within
//! the last 90% of an interval. Each step re-checks its own condition inside its own
//! transactions, so even two overlapping rounds would change nothing twice.
//!
//! Beside the round, each replica prunes its in-memory rate limiter, and on `SIGHUP`
//! reloads the reference lists (under the reference lock, so replicas reloading at once
//! apply a move once).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use crate::admin::By;
use crate::documents::{self, Collected};
use crate::registry;
use crate::state::AppState;
use crate::store::AccountAction;

/// The job's name in `job_runs` and in its lock.
pub const ROUND: &str = "maintenance";

/// Change-feed entries removed per transaction while compacting.
const COMPACT_BATCH: i64 = 5_000;

/// What one round did; a step that failed is logged and left `None`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RoundReport {
    pub dormant: Option<usize>,
    /// Verifiers disabled for not signing in.
    pub verifiers_disabled: Option<usize>,
    pub purged: bool,
    pub documents: Option<Collected>,
    pub compacted: Option<u64>,
    /// Pending requests whose Antrean flags changed (and went to the feed).
    pub queue_flags: Option<usize>,
    /// The day's reminder and escalation e-mails queued.
    pub reminded: Option<crate::queue::Reminded>,
}

/// Runs one round at `now`, unless another replica holds the job's lock or ran a round
/// this interval (then `None`).
pub async fn run_round(state: &AppState, now: DateTime<Utc>) -> anyhow::Result<Option<RoundReport>> {
    let Some(lock) = state.store.job_lock(ROUND).await? else { return Ok(None) };
    let result = claimed_round(state, now).await;
    lock.release().await;
    result
}

async fn claimed_round(state: &AppState, now: DateTime<Utc>) -> anyhow::Result<Option<RoundReport>> {
    let interval = chrono::Duration::from_std(state.settings.dormancy_interval())?;
    let mut tx = state.store.write().await?;
    if !tx.claim_job(ROUND, now, now - interval * 9 / 10).await? {
        return Ok(None);
    }
    tx.commit().await?;

    let purge = async {
        let mut tx = state.store.write().await?;
        tx.purge_expired(now).await?;
        tx.commit().await
    };
    let grace = chrono::Duration::minutes(state.settings.documents_grace_minutes.max(0));
    let report = RoundReport {
        dormant: step(state, "dormancy", registry::mark_dormant(state, now).await),
        verifiers_disabled: step(state, "verifier_dormancy", disable_idle_verifiers(state, now).await),
        purged: step(state, "purge", purge.await).is_some(),
        documents: step(state, "documents", documents::collect_garbage(state.store.as_ref(), &state.documents, grace, now).await),
        compacted: step(state, "compaction", compact(state).await),
        queue_flags: step(state, "queue_flags", crate::queue::refresh_flags(state, now).await),
        reminded: step(state, "reminders", crate::queue::send_reminders(state, now).await),
    };

    let mut tx = state.store.write().await?;
    tx.finish_job(ROUND, Utc::now()).await?;
    tx.commit().await?;
    if report.dormant.unwrap_or(0) > 0 || report.documents.is_some_and(|c| c.removed > 0) || report.compacted.unwrap_or(0) > 0 {
        tracing::info!(?report, "background round");
    }
    Ok(Some(report))
}

/// One step of the round: counted for `/metrics`, logged when it failed (the round goes on
/// with the next step).
fn step<T, E: Into<anyhow::Error>>(state: &AppState, job: &'static str, result: Result<T, E>) -> Option<T> {
    state.metrics.job(job, result.is_ok());
    result.map_err(|e| tracing::error!(job, error = %format!("{:#}", e.into()), "background step failed")).ok()
}

/// Disables the accounts of KPPN verifiers who have not signed in for
/// `--verifier-dormancy-months`, ending their sessions. Each is decided again inside its
/// own transaction (one who signed in meanwhile is left alone). Returns how many.
pub async fn disable_idle_verifiers(state: &AppState, now: DateTime<Utc>) -> Result<usize, crate::store::StoreError> {
    let months = chrono::Months::new(state.settings.verifier_dormancy_months);
    let cutoff = now.checked_sub_months(months).unwrap_or(now);
    let candidates = state.store.read().await?.idle_verifiers(cutoff).await?;
    let mut disabled = 0;
    for nik in candidates {
        let mut tx = state.store.write().await?;
        if !tx.is_verifier_idle(&nik, cutoff).await? {
            continue;
        }
        tx.set_disabled(&nik, Some(now)).await?;
        tx.revoke_all_sessions_of(&nik, now).await?;
        let detail = serde_json::json!({ "months_without_sign_in": state.settings.verifier_dormancy_months });
        tx.record_account_audit(&By::System.audit(AccountAction::Disabled, Some(&nik), detail, now)).await?;
        tx.commit().await?;
        state.sessions.forget_person(&nik);
        tracing::info!(nik = %myintress_core::nik::mask_nik(&nik), "verifier disabled after months without sign-in");
        disabled += 1;
    }
    Ok(disabled)
}

/// Compacts the change feed in batches, each its own transaction. Returns how many
/// entries went.
pub async fn compact(state: &AppState) -> Result<u64, crate::store::StoreError> {
    let mut total = 0;
    loop {
        let mut tx = state.store.write().await?;
        let n = tx.compact_changes(COMPACT_BATCH).await?;
        tx.commit().await?;
        total += n;
        if n < COMPACT_BATCH as u64 {
            return Ok(total);
        }
    }
}

/// The replica's background task: a round every interval (the first at start), the rate
/// limiter pruned, and the reference lists reloaded on `SIGHUP`.
pub fn spawn(state: Arc<AppState>, mut stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(state.settings.dormancy_interval());
        let mut hangup = Hangup::new();
        loop {
            let wake = tokio::select! {
                _ = tick.tick() => Wake::Tick,
                _ = hangup.recv() => Wake::Hangup,
                _ = stop.wait_for(|s| *s) => return,
            };
            match wake {
                Wake::Tick => {
                    if let Err(e) = run_round(&state, Utc::now()).await {
                        tracing::error!(error = %format!("{e:#}"), "background round failed");
                    }
                    state.limits.prune();
                }
                Wake::Hangup => match &state.settings.reference_dir {
                    Some(dir) => {
                        if let Err(e) = crate::reference::load(state.store.as_ref(), dir).await {
                            tracing::error!(error = %format!("{e:#}"), "reference reload failed");
                        }
                    }
                    None => tracing::warn!("SIGHUP: no --reference-dir to reload"),
                },
            }
        }
    })
}

enum Wake {
    Tick,
    Hangup,
}

/// `SIGHUP` on Unix; never on other systems.
struct Hangup {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Hangup {
    fn new() -> Hangup {
        #[cfg(unix)]
        {
            let signal = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
                .map_err(|e| tracing::warn!(error = %e, "no SIGHUP handler"))
                .ok();
            Hangup { signal }
        }
        #[cfg(not(unix))]
        Hangup {}
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some(signal) = &mut self.signal {
            signal.recv().await;
            return;
        }
        std::future::pending::<()>().await
    }
}
