//! What a desktop holds follows what its account may see: a satker moved to another KPPN
//! leaves the old KPPN's desktops (rows and cached letters) and reaches the new one's; an
//! operator deactivated in one of two satkers keeps only the other. And a replica killed
//! in the middle of a push costs nothing.

use myintress_core::ErrorCode;
use std::time::{Duration, Instant};

use myintress_client::ListFilter;
use myintress_core::api::Role;
use myintress_testkit::resident;

use crate::faults::assert_exactly_once;
use crate::round_trips::input;
use crate::support::{Desk, KPPN_PASSWORD, OPERATOR_PASSWORD, World};

async fn people_in(desk: &Desk, satker: &str) -> Vec<String> {
    let filter = ListFilter { satker_code: Some(satker.into()), limit: 500, ..Default::default() };
    desk.client.list(&filter).await.unwrap().rows.into_iter().map(|r| r.membership.nik).collect()
}

async fn satkers_of(desk: &Desk) -> Vec<String> {
    desk.client.satkers().await.unwrap().into_iter().map(|s| s.code).collect()
}

/// Cached PDF files on the desk.
fn cached_files(desk: &Desk) -> usize {
    std::fs::read_dir(desk.client.documents().dir())
        .map(|d| d.flatten().filter(|e| e.path().extension().is_some_and(|x| x == "pdf")).count())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_satker_moved_leaves_the_old_kppn_desk_and_reaches_the_new_one() {
    let world = World::new().await;
    // A pending request in the satker that will move, so the old desk caches its letter.
    let operator = world.operator_desk().await;
    let (pending, pdf) = input(560, "019001");
    operator.client.register(pending.clone(), pdf).await.unwrap();
    operator.client.sync_once().await.unwrap();
    let old = world.kppn_desk().await;
    let new_verifier = world.server.verifier("020").await;
    let new = Desk::open(&world.proxy.url()).await;
    new.sign_in(&new_verifier.nik, KPPN_PASSWORD).await;
    new.client.sync_once().await.unwrap();
    assert!(people_in(&old, "019001").await.contains(&pending.nik));
    assert!(cached_files(&old) >= 1, "the pending letter was prefetched");
    assert!(people_in(&new, "019001").await.is_empty());

    world.server.move_satker("019001", "020");
    world.server.reload_reference().await;
    old.client.sync_once().await.unwrap();
    new.client.sync_once().await.unwrap();

    assert!(people_in(&old, "019001").await.is_empty(), "the old KPPN's desk dropped the satker's people");
    assert!(!satkers_of(&old).await.contains(&"019001".to_owned()));
    assert_eq!(cached_files(&old), 0, "and their cached letters");
    let received = people_in(&new, "019001").await;
    assert!(received.contains(&pending.nik) && received.contains(&resident(1).0), "the new KPPN's desk has them: {received:?}");
    assert!(satkers_of(&new).await.contains(&"019001".to_owned()));
    let queue = new.client.queue().await.unwrap();
    assert!(queue.iter().any(|r| r.membership.nik == pending.nik), "the pending request is in the new KPPN's queue");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_deactivated_in_one_of_two_satkers_keeps_only_the_other() {
    let world = World::new().await;
    // The world's operator (resident 1, active in 019001) becomes active in 019002 too.
    let kppn = world.server.login(&world.kppn_nik, KPPN_PASSWORD).await.unwrap();
    let second = kppn.registered(&myintress_testkit::Registration::new(1, "019002")).await;
    let colleague = kppn.registered(&myintress_testkit::Registration::new(561, "019002")).await;
    let desk = Desk::open(&world.proxy.url()).await;
    desk.sign_in(&world.operator_nik, OPERATOR_PASSWORD).await;
    desk.client.sync_once().await.unwrap();
    assert!(people_in(&desk, "019002").await.contains(&colleague.nik));
    desk.client.document(colleague.letter_document_id).await.unwrap();
    let cached = cached_files(&desk);

    assert_eq!(kppn.act(second.id, "deactivate", Some("Pindah satker")).await.status(), reqwest::StatusCode::OK);
    // The next session refresh tells the desk its scope shrank.
    desk.client.access_token(true).await.unwrap();
    desk.client.sync_once().await.unwrap();
    assert!(people_in(&desk, "019002").await.is_empty(), "nobody of the satker it lost");
    assert_eq!(satkers_of(&desk).await, vec!["019001".to_owned()]);
    assert_eq!(cached_files(&desk), cached - 1, "the letter of that satker left the cache");
    assert!(people_in(&desk, "019001").await.contains(&resident(1).0), "the other satker stays");
    let account = desk.client.account().await.unwrap().unwrap();
    assert_eq!((account.role, account.active_satkers), (Role::Satker, vec!["019001".to_owned()]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_in_the_middle_of_a_push_loses_nothing() {
    let Some(mut world) = World::replicas().await else { return };
    let desk = world.kppn_desk().await;
    world.proxy.set_mode(myintress_testkit::proxy::Mode::Refuse);
    let mut niks = Vec::new();
    for n in 570..600u32 {
        let (input, pdf) = input(n, if n % 2 == 0 { "019001" } else { "019002" });
        niks.push(input.nik.clone());
        desk.client.register(input, pdf).await.unwrap();
    }
    world.proxy.set_mode(myintress_testkit::proxy::Mode::Pass);
    let pusher = {
        let client = desk.client.clone();
        tokio::spawn(async move {
            let (deadline, mut failed_rounds) = (Instant::now() + Duration::from_secs(120), 0);
            while Instant::now() < deadline {
                match client.sync_once().await {
                    Ok(()) if client.subscribe().borrow().outbox == 0 => return Some(failed_rounds),
                    Ok(()) => {}
                    Err(_) => failed_rounds += 1,
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            None
        })
    };
    // Kill a replica once some of the actions went up, while the rest are on their way.
    let deadline = Instant::now() + Duration::from_secs(60);
    while desk.client.subscribe().borrow().outbox > 20 {
        assert!(Instant::now() < deadline, "the push did not start");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let waiting = desk.client.subscribe().borrow().outbox;
    world.server.kill_replica(0);
    let failed_rounds = pusher.await.unwrap().expect("the client carried on through the other replica");
    println!("replica killed with {waiting} of 30 actions still waiting; {failed_rounds} sync rounds failed before the rest went through");
    assert!(waiting > 0, "the kill came before the push ended");
    assert_exactly_once(&world, &desk, &niks).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_who_loses_all_access_keeps_only_their_waiting_actions() {
    let world = World::new().await;
    let kppn = world.server.login(&world.kppn_nik, KPPN_PASSWORD).await.unwrap();
    let colleague = kppn.registered(&myintress_testkit::Registration::new(562, "019001")).await;
    let desk = world.operator_desk().await;
    desk.client.document(colleague.letter_document_id).await.unwrap();
    // An action queued offline, with its letter in the cache.
    world.proxy.set_mode(myintress_testkit::proxy::Mode::Refuse);
    let (waiting, pdf) = input(563, "019001");
    desk.client.register(waiting, pdf).await.unwrap();
    world.proxy.set_mode(myintress_testkit::proxy::Mode::Pass);
    assert_eq!(cached_files(&desk), 2);

    let own = kppn.rows_of(&world.operator_nik).await.into_iter().next().expect("the operator's membership");
    assert_eq!(kppn.act(own.id, "deactivate", Some("Pensiun")).await.status(), reqwest::StatusCode::OK);
    let refused = desk.client.access_token(true).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::AccountInactive, "the desk is told why its session ended");
    assert!(people_in(&desk, "019001").await.is_empty(), "nothing the person could see stays");
    assert!(satkers_of(&desk).await.is_empty());
    assert_eq!(cached_files(&desk), 1, "only the letter the waiting action needs");
    assert_eq!(desk.client.outbox().await.unwrap().len(), 1, "the waiting action stays for the next sign-in");
}
