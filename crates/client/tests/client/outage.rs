//! PostgreSQL restarted while desks push: requests in the outage are answered `503
//! storage_unavailable` (never a 500), nothing is half-applied, and every action the desks
//! queued lands exactly once after it is back. The test starts a cluster of its own, so
//! stopping it touches no other test.

use std::time::{Duration, Instant};

use myintress_client::outbox::Action;
use myintress_core::status::Status;
use myintress_testkit::{Backend, TestServer, percentile, report};

use crate::faults::assert_exactly_once;
use crate::round_trips::input;
use crate::support::{Desk, KPPN_PASSWORD, World};

/// Pushes until the desk's outbox is empty (errors are the outage: try again shortly);
/// returns how many rounds failed.
async fn push_until_empty(desk: &Desk, deadline: Instant) -> usize {
    let mut failed = 0;
    loop {
        let outcome = desk.client.sync_once().await;
        let waiting = desk.client.outbox().await.unwrap();
        if outcome.is_ok() && waiting.is_empty() {
            return failed;
        }
        if outcome.is_err() {
            failed += 1;
        }
        assert!(Instant::now() < deadline, "the desk did not empty its outbox: {outcome:?}, {waiting:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_restarted_while_desks_push_loses_nothing_and_applies_nothing_twice() {
    const QUEUED: u32 = 20;
    // Longer than the server waits for a database connection (10 s): shorter outages are
    // only slower answers, this one must be 503s.
    const DOWN: Duration = Duration::from_secs(13);
    if Backend::postgres().is_none() {
        return;
    }
    let cluster = myintress_testkit::postgres::Cluster::start(&myintress_testkit::scratch_dir()).expect("a PostgreSQL cluster of its own");
    let server = TestServer::start_with(&Backend::Postgres(cluster.url.clone()), |_| {}).await;
    let world = World::around(server).await;
    let operator = world.operator_desk().await;
    let kppn = world.kppn_desk().await;

    // Requests for the KPPN to decide, sent and received before.
    let mut to_approve = Vec::new();
    for n in 0..QUEUED {
        let (person, pdf) = input(500 + n, "019001");
        to_approve.push(person.nik.clone());
        operator.client.register(person, pdf).await.unwrap();
    }
    operator.client.sync_once().await.unwrap();
    kppn.client.sync_once().await.unwrap();
    // Queued on both desks: the KPPN approves them, the operator registers more.
    for row in kppn.client.queue().await.unwrap() {
        kppn.client.act(row.membership.id, Action::Approve).await.unwrap();
    }
    let mut registered = Vec::new();
    for n in 0..QUEUED {
        let (person, pdf) = input(520 + n, "019001");
        registered.push(person.nik.clone());
        operator.client.register(person, pdf).await.unwrap();
    }
    assert_eq!(kppn.client.outbox().await.unwrap().len(), QUEUED as usize, "the approvals wait on the KPPN's desk");

    // A probe reads the list every 50 ms throughout and records each answer.
    let probe_http = world.server.login(&world.kppn_nik, KPPN_PASSWORD).await.unwrap();
    let (stop_probe, mut stopped) = tokio::sync::watch::channel(false);
    let probe = tokio::spawn(async move {
        let mut answers: Vec<(u16, String, bool, Duration)> = Vec::new();
        while !*stopped.borrow() {
            let started = Instant::now();
            let response = probe_http.http.get(probe_http.url("/api/v1/memberships?limit=5")).bearer_auth(&probe_http.token).send().await;
            let took = started.elapsed();
            match response {
                Ok(r) => {
                    let status = r.status().as_u16();
                    let retry_after = r.headers().contains_key("retry-after");
                    let body: serde_json::Value = r.json().await.unwrap_or_default();
                    answers.push((status, body["code"].as_str().unwrap_or_default().to_owned(), retry_after, took));
                }
                Err(_) => answers.push((0, String::new(), false, took)),
            }
            let _ = tokio::time::timeout(Duration::from_millis(50), stopped.changed()).await;
        }
        answers
    });

    // Both desks push while PostgreSQL stops (fast shutdown: sessions ended mid-query)
    // and starts again.
    let deadline = Instant::now() + Duration::from_secs(120);
    let restarted = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let cluster = tokio::task::spawn_blocking(move || {
            cluster.stop().expect("pg_ctl stop");
            cluster
        })
        .await
        .unwrap();
        let stopped_at = Instant::now();
        tokio::time::sleep(DOWN).await;
        let cluster = tokio::task::spawn_blocking(move || {
            cluster.start_again().expect("pg_ctl start");
            cluster
        })
        .await
        .unwrap();
        (cluster, stopped_at.elapsed())
    });
    let (kppn_failed, operator_failed) = tokio::join!(push_until_empty(&kppn, deadline), push_until_empty(&operator, deadline));
    let (_cluster, outage) = restarted.await.unwrap();
    // The pushes may have finished before the stop: push what is left after the restart.
    push_until_empty(&kppn, deadline).await;
    push_until_empty(&operator, deadline).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop_probe.send(true).unwrap();
    let answers = probe.await.unwrap();

    // Every answer of the probe was a 200 or a 503 storage_unavailable with Retry-After
    // (or no answer while the server itself was fine but the connection was cut).
    let mut unavailable = 0;
    for (status, code, retry_after, _) in &answers {
        match status {
            200 => {}
            503 => {
                assert_eq!(code, "storage_unavailable");
                assert!(retry_after, "a 503 says when to try again");
                unavailable += 1;
            }
            other => panic!("the probe got {other} {code} during the restart"),
        }
    }
    assert!(unavailable > 0, "the outage was seen by the probe ({} answers)", answers.len());
    let mut slowest: Vec<Duration> = answers.iter().map(|a| a.3).collect();
    slowest.sort();

    // Nothing lost, nothing twice: the operator's registrations once each, equal on the
    // desk and the server; the KPPN's approvals applied once (one audit entry each).
    kppn.client.sync_once().await.unwrap();
    operator.client.sync_once().await.unwrap();
    assert_exactly_once(&world, &operator, &registered).await;
    let http = world.server.login(&world.kppn_nik, KPPN_PASSWORD).await.unwrap();
    for nik in &to_approve {
        let rows = http.rows_of(nik).await;
        assert_eq!(rows.len(), 1, "{nik}: one membership");
        assert_eq!(rows[0].status, Status::Active, "{nik}: approved");
        let audit: myintress_core::api::Page<myintress_core::api::AuditEntry> = http.get_json(&format!("/api/v1/audit?nik={nik}")).await;
        let approvals = audit.items.iter().filter(|a| a.event == myintress_core::status::Event::Approve).count();
        assert_eq!(approvals, 1, "{nik}: approved exactly once");
    }
    for desk in [&kppn, &operator] {
        assert!(desk.client.outbox().await.unwrap().is_empty(), "nothing waits, nothing refused");
    }

    report(
        "postgresql-restarted",
        &[
            format!(
                "PostgreSQL stopped (fast shutdown) and started again after {:.1} s while two desks pushed {} queued actions ({QUEUED} approvals, {QUEUED} registrations with letters)",
                outage.as_secs_f64(),
                2 * QUEUED
            ),
            format!(
                "probe reading the list every 50 ms: {} answers, {} were 503 storage_unavailable with Retry-After, 0 other errors; slowest answer {:.1} s, p50 {:.0} ms",
                answers.len(),
                unavailable,
                slowest.last().unwrap().as_secs_f64(),
                percentile(&slowest, 0.5).as_secs_f64() * 1e3
            ),
            format!("failed push rounds (retried by the desks): KPPN {kppn_failed}, operator {operator_failed}"),
            format!(
                "landed: {} registrations and {} approvals, each exactly once; outbox and conflicts 0 on both desks",
                registered.len(),
                to_approve.len()
            ),
        ],
    );
}
