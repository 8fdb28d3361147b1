//! A misbehaving network between client and server, and a server restart during a push:
//! afterwards every action is on the server exactly once and the local store matches it.

use myintress_core::ErrorCode;
use std::collections::BTreeMap;

use myintress_client::ListFilter;
use myintress_client::events::Connection;
use myintress_core::api::{AuditEntry, Membership, Page};
use myintress_testkit::Client as Http;

use crate::round_trips::input;
use crate::support::{Desk, KPPN_PASSWORD, World};
use myintress_testkit::proxy::Mode;

/// The server's rows of these NIKs, by NIK, and how often each was registered.
pub async fn server_rows(http: &Http, niks: &[String]) -> BTreeMap<String, (Vec<Membership>, usize)> {
    let mut out = BTreeMap::new();
    for nik in niks {
        let page: Page<Membership> = http.get_json(&format!("/api/v1/memberships?q={nik}&limit=500")).await;
        let audit: Page<AuditEntry> = http.get_json(&format!("/api/v1/audit?nik={nik}")).await;
        let registered = audit.items.iter().filter(|a| a.event.brings_letter()).count();
        out.insert(nik.clone(), (page.items, registered));
    }
    out
}

/// The desk's rows of these NIKs, as the server would list them.
pub async fn local_rows(desk: &Desk, niks: &[String]) -> BTreeMap<String, Vec<Membership>> {
    let mut out = BTreeMap::new();
    for nik in niks {
        let filter = ListFilter { search: Some(nik.clone()), limit: 500, ..Default::default() };
        let rows = desk.client.list(&filter).await.unwrap().rows;
        out.insert(nik.clone(), rows.into_iter().map(|r| r.membership).collect());
    }
    out
}

/// Every action applied once, and the local store equal to the server.
pub async fn assert_exactly_once(world: &World, desk: &Desk, niks: &[String]) {
    let http = world.server.login(&world.kppn_nik, KPPN_PASSWORD).await.unwrap();
    let server = server_rows(&http, niks).await;
    let local = local_rows(desk, niks).await;
    for nik in niks {
        let (rows, registered) = &server[nik];
        assert_eq!(rows.len(), 1, "{nik}: one membership on the server, got {rows:?}");
        assert_eq!(*registered, 1, "{nik}: registered exactly once");
        assert_eq!(&local[nik], rows, "{nik}: local store equals the server");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_survives_drops_resets_delays_and_cuts() {
    let world = World::new().await;
    let desk = world.kppn_desk().await;
    let modes = [
        Mode::Refuse,
        Mode::Reset,
        Mode::CutRequestAfter(700),
        Mode::CutResponseAfter(150),
        Mode::CutResponseAfter(400),
        Mode::Delay(std::time::Duration::from_millis(300)),
    ];
    let mut niks = Vec::new();
    for (i, mode) in modes.iter().enumerate() {
        let (input, pdf) = input(20 + i as u32, "019001");
        niks.push(input.nik.clone());
        desk.client.register(input, pdf).await.unwrap();
        world.proxy.set_mode(*mode);
        // Under a fault the push fails (or, when only delayed, succeeds); nothing is lost.
        let outcome = desk.client.sync_once().await;
        if matches!(mode, Mode::Delay(_)) {
            outcome.expect("a slow network is still a network");
        } else {
            assert_eq!(outcome.unwrap_err().code(), ErrorCode::Offline, "{mode:?}");
        }
        world.proxy.set_mode(Mode::Pass);
    }
    desk.client.sync_once().await.unwrap();
    assert_eq!(desk.client.subscribe().borrow().outbox, 0);
    assert_exactly_once(&world, &desk, &niks).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_restart_during_push() {
    let mut world = World::new().await;
    let desk = world.kppn_desk().await;
    let mut niks = Vec::new();
    for n in 40..52 {
        let (input, pdf) = input(n, "019001");
        niks.push(input.nik.clone());
        desk.client.register(input, pdf).await.unwrap();
    }
    // Push in the background while the server goes down and comes back on a new port.
    let mut status = desk.client.subscribe();
    let pusher = {
        let client = desk.client.clone();
        tokio::spawn(async move {
            for _ in 0..50 {
                match client.sync_once().await {
                    Ok(()) if client.subscribe().borrow().outbox == 0 => return,
                    _ => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
                }
            }
        })
    };
    // The restart comes once the push is under way (an action went, others wait).
    let queued = niks.len() as i64;
    let under_way = status.wait_for(|s| matches!(s.connection, Connection::Syncing { done, .. } if done >= 1) || s.outbox < queued);
    tokio::time::timeout(std::time::Duration::from_secs(60), under_way).await.expect("the push starts").unwrap();
    world.server.restart().await;
    world.proxy.set_upstream(world.server.addr());
    pusher.await.unwrap();
    desk.client.sync_once().await.unwrap();
    assert_eq!(desk.client.subscribe().borrow().outbox, 0);
    assert_exactly_once(&world, &desk, &niks).await;
}
