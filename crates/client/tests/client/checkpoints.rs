//! The write-ahead log is copied into the store when the desk is idle, never inside the
//! commit of a user's action: a burst of registrations grows the log past SQLite's default
//! checkpoint size (1,000 pages) with nothing copied, and a moment after the last one the
//! idle checkpointer has copied all of it.

use std::time::{Duration, Instant};

use crate::round_trips::input;
use crate::support::World;

/// The log's last frame and how many frames have been copied into the store, from the
/// wal-index header at the start of `myintress.db-shm` (SQLite's WAL format: `mxFrame` at
/// byte 16 of the index header, `nBackfill` at byte 96, after the header's two copies;
/// native byte order). The wal-index is never encrypted.
fn wal_progress(dir: &std::path::Path) -> (u32, u32) {
    let shm = std::fs::read(dir.join("myintress.db-shm")).expect("the store runs in WAL mode");
    let word = |at: usize| u32::from_ne_bytes(shm[at..at + 4].try_into().unwrap());
    (word(16), word(96))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_is_copied_when_the_desk_is_idle_not_in_an_action() {
    let world = World::new().await;
    let desk = world.kppn_desk().await;
    let mut n = 0;
    let started = Instant::now();
    while wal_progress(&desk.dir).0 <= 1_200 {
        assert!(n < 600, "600 registrations wrote only {} log frames", wal_progress(&desk.dir).0);
        let (form, pdf) = input(3_000 + n, "019001");
        desk.client.register(form, pdf).await.expect("queued");
        n += 1;
    }
    let (frames, copied) = wal_progress(&desk.dir);
    assert!(
        copied < frames,
        "after {n} registrations in {:?} the log ({frames} frames) was already copied ({copied}): a checkpoint ran while the desk was busy",
        started.elapsed()
    );
    let idle_since = Instant::now();
    loop {
        let (frames, copied) = wal_progress(&desk.dir);
        if copied == frames {
            break;
        }
        assert!(idle_since.elapsed() < Duration::from_secs(20), "20 s idle and the log is still not copied ({copied} of {frames})");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The copy lost nothing.
    let queued = desk.client.list(&myintress_client::ListFilter { limit: 1_000, ..Default::default() }).await.unwrap();
    assert!(queued.rows.len() >= n as usize, "{} of {n} registrations listed", queued.rows.len());
}
