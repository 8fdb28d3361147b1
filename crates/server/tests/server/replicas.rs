//! Two replicas: `myintress-server` processes on one PostgreSQL database and one
//! S3-compatible store, behind a round-robin proxy, as production runs them when one
//! machine is not enough. Skipped (or, under the test command, failed) without PostgreSQL
//! and the S3 server.

use std::time::{Duration, Instant};

use myintress_core::api::{ChangesPage, MembershipDetail};
use myintress_core::status::Status;
use reqwest::StatusCode;

use crate::support::{Client, Registration, TestServer};

/// The same signed-in client, talking to one replica directly.
fn via(client: &Client, base: String) -> Client {
    Client { base, ..client.clone() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_letter_uploaded_through_one_replica_downloads_through_the_other() {
    let Some(server) = TestServer::start_replicas(2, |_| {}).await else { return };
    let kppn = server.verifier("019").await;
    let (a, b) = (via(&kppn, server.replica_url(0)), via(&kppn, server.replica_url(1)));
    for (up, down, n) in [(&a, &b, 500u32), (&b, &a, 501)] {
        let registration = Registration::new(n, "019001");
        let m = up.registered(&registration).await;
        let response = down.get(&format!("/api/v1/documents/{}", m.letter_document_id)).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.bytes().await.unwrap().to_vec(), registration.letter.unwrap(), "the same bytes through the other replica");
        let detail: MembershipDetail = down.get_json(&format!("/api/v1/memberships/{}", m.id)).await;
        assert_eq!(detail.membership, m);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dormancy_job_marks_each_person_once_across_replicas() {
    // Both replicas run the round every second, and every active person is due at once.
    let Some(server) = TestServer::start_replicas(2, |s| {
        s.dormancy_interval = 1;
        s.dormancy_months = 0;
    })
    .await
    else {
        return;
    };
    let kppn = server.verifier("019").await;
    let mut people = Vec::new();
    for n in 510..530u32 {
        people.push(kppn.registered(&Registration::new(n, if n % 2 == 0 { "019001" } else { "019002" })).await);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut all_dormant = true;
        for m in &people {
            let d: MembershipDetail = kppn.get_json(&format!("/api/v1/memberships/{}", m.id)).await;
            all_dormant &= d.membership.status == Status::Dormant;
        }
        if all_dormant {
            break;
        }
        assert!(Instant::now() < deadline, "the replicas did not run the dormancy job");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Three more rounds, run here on the same database while both replicas keep ticking
    // (a round is skipped while a replica holds the job's lock; then it is tried again).
    let mut ran = 0;
    while ran < 3 {
        let round_at = chrono::Utc::now() + chrono::Duration::seconds(2 * (ran + 1));
        if myintress_server::jobs::run_round(server.state(), round_at).await.expect("round").is_some() {
            ran += 1;
        } else {
            assert!(Instant::now() < deadline, "no round could run");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    for m in &people {
        let d: MembershipDetail = kppn.get_json(&format!("/api/v1/memberships/{}", m.id)).await;
        let marks = d.history.iter().filter(|h| h.event == myintress_core::Event::MarkDormant).count();
        assert_eq!(marks, 1, "{}: marked dormant exactly once", m.nik);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_the_reference_lists_on_a_running_replica() {
    let Some(server) = TestServer::start_replicas(2, |_| {}).await else { return };
    let old = server.verifier("019").await;
    let new = server.verifier("020").await;
    let m = old.registered(&Registration::new(540, "019002")).await;
    server.move_satker("019002", "020");
    server.hang_up_replica(0);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let page: ChangesPage = new.get_json("/api/v1/changes?after=0&limit=2000").await;
        if page.changes.iter().any(|c| c.entity["id"] == m.id.to_string()) {
            break;
        }
        assert!(Instant::now() < deadline, "the replica did not reload on SIGHUP");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Through either replica, the new KPPN sees the person and the old one does not.
    for i in 0..2 {
        assert_eq!(via(&new, server.replica_url(i)).get(&format!("/api/v1/memberships/{}", m.id)).await.status(), StatusCode::OK);
        assert_eq!(via(&old, server.replica_url(i)).get(&format!("/api/v1/memberships/{}", m.id)).await.status(), StatusCode::NOT_FOUND);
    }
}

/// The session cache (`--session-cache-seconds`, 2 here): each replica remembers who a
/// token belongs to for that long. A disabled account and a sign-out take effect at once
/// on the replica that made the change, and on the other within the cache's lifetime of
/// it, also when requests in parallel were reading the session while it was made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_account_or_a_sign_out_ends_access_on_every_replica_within_the_cache_lifetime() {
    const LIFETIME: Duration = Duration::from_secs(2);
    let Some(server) = TestServer::start_replicas(2, |s| s.session_cache_seconds = LIFETIME.as_secs()).await else { return };
    let admin = via(&server.admin().await, server.replica_url(0));
    let list = "/api/v1/memberships?limit=5";

    // Disabled through replica 0 while replica 1 is busy with the same token.
    let kppn = server.verifier("019").await;
    let (a, b) = (via(&kppn, server.replica_url(0)), via(&kppn, server.replica_url(1)));
    for replica in [&a, &b] {
        assert_eq!(replica.get(list).await.status(), StatusCode::OK, "remembered on both replicas");
    }
    let busy: Vec<_> = (0..16)
        .map(|_| {
            let b = b.clone();
            tokio::spawn(async move { b.get(list).await.status() })
        })
        .collect();
    let disabled = admin.post(&format!("/api/v1/admin/verifiers/{}/disable", kppn.nik)).await;
    assert_eq!(disabled.status(), StatusCode::OK);
    for status in futures_util::future::join_all(busy).await {
        let status = status.unwrap();
        assert!(status == StatusCode::OK || status == StatusCode::UNAUTHORIZED, "a request in flight gets an answer: {status}");
    }
    assert_eq!(a.get(list).await.status(), StatusCode::UNAUTHORIZED, "at once on the replica that disabled it");
    tokio::time::sleep(LIFETIME).await;
    let after: Vec<_> = (0..16)
        .map(|_| {
            let b = b.clone();
            tokio::spawn(async move { b.get(list).await.status() })
        })
        .collect();
    for status in futures_util::future::join_all(after).await {
        assert_eq!(status.unwrap(), StatusCode::UNAUTHORIZED, "on the other replica once the cache's lifetime has passed");
    }

    // A sign-out through replica 1.
    let kppn = server.verifier("019").await;
    let (a, b) = (via(&kppn, server.replica_url(0)), via(&kppn, server.replica_url(1)));
    for replica in [&a, &b] {
        assert_eq!(replica.get(list).await.status(), StatusCode::OK);
    }
    assert_eq!(b.post("/api/v1/auth/logout").await.status(), StatusCode::NO_CONTENT);
    assert_eq!(b.get(list).await.status(), StatusCode::UNAUTHORIZED, "at once on the replica that signed out");
    tokio::time::sleep(LIFETIME).await;
    assert_eq!(a.get(list).await.status(), StatusCode::UNAUTHORIZED, "on the other once the cache's lifetime has passed");
}
