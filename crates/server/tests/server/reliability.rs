//! The reliability suite: hostile and heavy traffic against a real server, each scenario
//! bounded in time, each printing its figures (also written to
//! `test-artifacts/reliability/<scenario>.txt`; RELIABILITY.md holds the latest). What must
//! hold is asserted; how fast is only reported.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{Backend, Registration, TestServer};

/// Writes a scenario's figures where the test command leaves its artifacts, and prints them.
fn report(scenario: &str, lines: &[String]) {
    let text = lines.join("\n") + "\n";
    println!("== {scenario}\n{text}");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-artifacts/reliability");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join(format!("{scenario}.txt")), text);
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// 1,000 connections that send half a request line and then nothing (slowloris) do not
/// stop a signed-in verifier's approvals; the server closes them after the header-read
/// timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_does_not_stop_approvals() {
    const SLOW: usize = 1000;
    const APPROVALS: u32 = 40;
    let server = TestServer::start_with(&Backend::Sqlite, |s| s.header_read_timeout = 3).await;
    let kppn = server.verifier("019").await;
    let operator = server.operator(&kppn, "019001", 200).await;
    let mut pending = Vec::new();
    for n in 0..APPROVALS {
        pending.push(operator.registered(&Registration::new(201 + n, "019001")).await);
    }

    let opened = Instant::now();
    let mut slow = Vec::with_capacity(SLOW);
    for _ in 0..SLOW {
        let mut stream = tokio::net::TcpStream::connect(server.addr()).await.expect("connect");
        stream.write_all(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: myintress\r\nX-Lambat: ").await.unwrap();
        slow.push(stream);
    }
    let open_time = opened.elapsed();

    let mut latencies = Vec::new();
    for m in &pending {
        let started = Instant::now();
        let response = kppn.act(m.id, "approve", None).await;
        latencies.push(started.elapsed());
        assert_eq!(response.status(), StatusCode::OK, "approval under a slowloris");
    }
    latencies.sort();

    // After the header-read timeout the server has hung up on every slow connection.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let mut closed = 0;
    for stream in &mut slow {
        let mut byte = [0u8; 1];
        match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut byte)).await {
            Ok(Ok(_)) | Ok(Err(_)) => closed += 1,
            Err(_) => {}
        }
    }
    report(
        "slowloris",
        &[
            format!("slow connections: {SLOW} (opened in {:.1} s), header-read timeout 3 s", open_time.as_secs_f64()),
            format!(
                "approvals meanwhile: {APPROVALS}/{APPROVALS} succeeded; p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
                percentile(&latencies, 0.5).as_secs_f64() * 1e3,
                percentile(&latencies, 0.99).as_secs_f64() * 1e3,
                latencies.last().unwrap().as_secs_f64() * 1e3
            ),
            format!("slow connections closed by the server afterwards: {closed}/{SLOW}"),
        ],
    );
    assert_eq!(closed, SLOW, "every slow connection is closed by the header-read timeout");
}

/// More requests at once than the server serves: the rest are told `503
/// service_overloaded` with `Retry-After` at once; none is half-applied, and each accepted
/// one is there exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overload_is_shed_with_retry_after_and_nothing_half_applied() {
    const BURST: u32 = 40;
    let server = TestServer::start_with(&Backend::Sqlite, |s| s.max_concurrent_requests = 4).await;
    let kppn = server.verifier("019").await;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for n in 0..BURST {
        let kppn = kppn.clone();
        tasks.push(tokio::spawn(async move {
            let response = kppn.register(&Registration::new(300 + n, "019001")).await;
            let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
            let status = response.status();
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            (n, status, retry_after, body)
        }));
    }
    let mut accepted = Vec::new();
    let mut shed = 0;
    for task in tasks {
        let (n, status, retry_after, body) = task.await.unwrap();
        match status.as_u16() {
            201 => accepted.push(n),
            503 => {
                assert_eq!(body["code"], "service_overloaded");
                assert!(retry_after.is_some(), "a 503 says when to try again");
                shed += 1;
            }
            other => panic!("registration {n}: {other} {body}"),
        }
    }
    let took = started.elapsed();
    // Exactly the accepted ones exist, each once.
    for n in 0..BURST {
        let (nik, _) = myintress_testkit::resident(300 + n);
        let rows = kppn.rows_of(&nik).await;
        assert_eq!(rows.len(), usize::from(accepted.contains(&n)), "resident {n}: {rows:?}");
    }
    report(
        "overload",
        &[
            format!("burst: {BURST} registrations at once (each with a letter check), --max-concurrent-requests 4"),
            format!("accepted: {}, shed with 503 + Retry-After: {shed}, other answers: 0, in {:.1} s", accepted.len(), took.as_secs_f64()),
            "half-applied: 0 (every accepted registration is there once, every shed one is absent)".into(),
        ],
    );
    assert!(!accepted.is_empty() && shed > 0, "some served, some shed: {} / {shed}", accepted.len());
}

/// A replica killed (SIGKILL) in the middle of a stream of registrations, the other one
/// carrying on behind the balancer: every registration the clients were told about is
/// there once, every membership's letter is in the store, and after the collector ran no
/// object is left without its row. PostgreSQL and the S3 store (the test command starts
/// both); skipped without them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_during_registrations_leaves_nothing_half_done() {
    const REGISTRATIONS: u32 = 60;
    let Some(mut server) = TestServer::start_replicas(2, |_| {}).await else {
        eprintln!("skipped: needs PostgreSQL and the S3 server of the test command");
        return;
    };
    let kppn = server.verifier("019").await;
    let mut tasks = Vec::new();
    for n in 0..REGISTRATIONS {
        let kppn = kppn.clone();
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(u64::from(n) * 5)).await;
            let response = kppn
                .http
                .post(kppn.url("/api/v1/registrations"))
                .bearer_auth(&kppn.token)
                .multipart(Registration::new(400 + n, "019001").form())
                .send()
                .await;
            (n, response.map(|r| r.status().as_u16()).unwrap_or(0))
        }));
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    let killed_at = Instant::now();
    server.kill_replica(0);
    let mut created = Vec::new();
    let mut cut = 0;
    for task in tasks {
        match task.await.unwrap() {
            (n, 201) => created.push(n),
            (_, 0 | 502 | 503) => cut += 1,
            (n, other) => panic!("registration {n}: {other}"),
        }
    }
    let after_kill = killed_at.elapsed();

    // Checked on the replica still running (the balancer still sends half to the dead one).
    let mut live = kppn.clone();
    live.base = server.replica_url(1);
    let kppn = live;
    // Every answered registration is there exactly once; the cut ones at most once.
    let mut present = 0;
    for n in 0..REGISTRATIONS {
        let (nik, _) = myintress_testkit::resident(400 + n);
        let rows = kppn.rows_of(&nik).await;
        assert!(rows.len() <= 1, "resident {n}: {rows:?}");
        if created.contains(&n) {
            assert_eq!(rows.len(), 1, "resident {n} was answered 201");
        }
        present += rows.len();
    }
    // Every membership's letter is stored; after collection no object lacks its row.
    let state = server.state();
    let page: myintress_core::api::Page<myintress_core::api::Membership> = kppn.get_json("/api/v1/memberships?limit=500").await;
    let stored = server.stored_documents().await;
    for m in &page.items {
        let doc = state.store.read().await.unwrap().document(m.letter_document_id).await.unwrap().expect("a document row");
        assert!(stored.contains(&doc.sha256), "the letter of {} is stored", m.nik);
    }
    let collected =
        myintress_server::documents::collect_garbage(state.store.as_ref(), &state.documents, chrono::Duration::zero(), chrono::Utc::now())
            .await
            .unwrap();
    let referenced = state.store.read().await.unwrap().referenced_documents().await.unwrap();
    for sha in server.stored_documents().await {
        assert!(referenced.contains(&sha), "object {sha} has no row after collection");
    }
    report(
        "replica-killed",
        &[
            format!(
                "{REGISTRATIONS} registrations, 25 ms apart, through a balancer over 2 replicas (PostgreSQL, S3 store); replica 0 SIGKILLed after 0.6 s"
            ),
            format!(
                "answered 201: {}, cut (connection lost or 502/503): {cut}, finished {:.1} s after the kill",
                created.len(),
                after_kill.as_secs_f64()
            ),
            format!("memberships present: {present} (every 201 once, no person twice); every membership's letter stored"),
            format!("objects without a row after collection: 0 (collector removed {})", collected.removed),
        ],
    );
}
