//! A desktop updated from a version before the local schema's migration 0009 (the view
//! stored only where it differs from the server's state, the list and search indexes built
//! after a bulk load): its store, full of people, pending decisions among them, opens
//! with every row, every waiting action and every count as they were.

use myintress_client::outbox::Action;
use myintress_client::{ListFilter, ListRow, QueueRow, testing};
use myintress_core::status::Status;

use crate::round_trips::input;
use crate::support::{Desk, World};

/// What the verifier sees: the whole list, a search, the Antrean, the counts as kept and
/// recounted, and how many actions wait to be sent.
type Seen = (Vec<ListRow>, Vec<ListRow>, Vec<QueueRow>, ((i64, i64, i64), (i64, i64, i64)), usize);

async fn seen(desk: &Desk, search: &str) -> Seen {
    let all = desk.client.list(&ListFilter { limit: 500, ..Default::default() }).await.unwrap();
    let found = desk.client.list(&ListFilter { limit: 500, search: Some(search.to_owned()), ..Default::default() }).await.unwrap();
    let queue = desk.client.queue().await.unwrap();
    let counts = testing::queue_counts_kept_and_recounted(&desk.client).await.unwrap();
    let waiting = desk.client.outbox().await.unwrap().len();
    (all.rows, found.rows, queue, counts, waiting)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_populated_store_from_before_migration_0009_upgrades_with_nothing_lost() {
    let world = World::new().await;
    let operator = world.operator_desk().await;
    for n in 590..596 {
        let (person, pdf) = input(n, "019001");
        operator.client.register(person, pdf).await.unwrap();
    }
    operator.client.sync_once().await.unwrap();

    // The verifier decides two offline: their rows show the local decision (a view that
    // differs from the server's state) until the outbox is sent.
    let desk = world.kppn_desk().await;
    let queue = desk.client.queue().await.unwrap();
    assert!(queue.len() >= 6, "the registrations wait in the Antrean: {}", queue.len());
    let (approved, rejected) = (queue[0].membership.id, queue[1].membership.id);
    desk.client.act(approved, Action::Approve).await.unwrap();
    desk.client.act(rejected, Action::Reject { reason: "Surat tugas kedaluwarsa".into() }).await.unwrap();
    let name = myintress_testkit::resident(593).1;
    let piece = name.split_whitespace().next().unwrap().to_owned();
    let before = seen(&desk, &piece).await;

    // The same store as the version before 0009 kept it, in place of the current one.
    let old = desk.dir.join("sebelum-0009.db");
    testing::store_before_0009(&desk.client, &old).await.unwrap();
    let (dir, service) = (desk.dir.clone(), desk.service.clone());
    desk.client.close().await;
    std::mem::forget(desk);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", dir.join("myintress.db").display()));
    }
    std::fs::rename(&old, dir.join("myintress.db")).unwrap();

    // Opened by this version: 0009 runs, the deferred indexes are built, nothing changed.
    let upgraded = Desk::open_at(dir, service, &world.proxy.url()).await;
    assert_eq!(seen(&upgraded, &piece).await, before, "the upgraded store shows what the old one did");
    let rows = upgraded.client.list(&ListFilter { limit: 500, ..Default::default() }).await.unwrap().rows;
    let status = |id| rows.iter().find(|r| r.membership.id == id).map(|r| (r.membership.status, r.pending));
    assert_eq!(status(approved), Some((Status::Active, 1)), "the offline approval still shows, waiting");
    assert_eq!(status(rejected), Some((Status::Rejected, 1)), "and the rejection");
    let found = upgraded.client.list(&ListFilter { limit: 500, search: Some(piece), ..Default::default() }).await.unwrap();
    assert!(found.rows.iter().any(|r| r.membership.name == name), "the search index was filled again");

    // And the waiting decisions reach the server.
    upgraded.client.sync_once().await.unwrap();
    assert!(upgraded.client.outbox().await.unwrap().is_empty(), "the outbox was sent");
    let (kept, recounted) = testing::queue_counts_kept_and_recounted(&upgraded.client).await.unwrap();
    assert_eq!(kept, recounted, "the counts kept by the triggers are the rows' counts");
    let other = world.kppn_desk().await;
    let there = other.client.list(&ListFilter { limit: 500, ..Default::default() }).await.unwrap().rows;
    assert_eq!(there.iter().find(|r| r.membership.id == approved).map(|r| r.membership.status), Some(Status::Active));
    assert_eq!(there.iter().find(|r| r.membership.id == rejected).map(|r| r.membership.status), Some(Status::Rejected));
}
