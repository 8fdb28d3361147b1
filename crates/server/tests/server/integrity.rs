//! Integrity under concurrency: requests that race each other, sent truly in parallel.
//! On PostgreSQL these are the real test (several connections, no single writer); on
//! SQLite they must hold too. Also: nothing stored for a refused request, unreferenced
//! documents collected, scope following the reference data, the compacted feed.

use myintress_core::ErrorCode;
use std::sync::Arc;

use myintress_core::api::{AuditEntry, ChangesPage, Membership, Page};
use myintress_core::status::Status;
use reqwest::StatusCode;
use tokio::sync::Barrier;

use crate::support::{Backend, Client, Registration, TestServer, letter, problem, resident};
use myintress_testkit::on_both_backends;

on_both_backends!(
    approve_and_reject_at_the_same_moment_one_wins,
    a_replacement_racing_an_approval_never_overwrites_it,
    parallel_registrations_of_one_person_leave_one_live_row,
    parallel_wrong_passwords_lock_after_exactly_the_limit,
    refused_requests_store_no_document,
    unreferenced_documents_are_collected_after_a_grace_period,
    a_satker_moved_to_another_kppn_follows_in_feed_audit_and_scope,
    the_compacted_feed_holds_each_entity_once,
    one_background_round_per_interval,
);

/// Sends `action` on `m` as `who` with `If-Match` of the version `m` has, after every
/// party to the race has reached the barrier.
async fn decide(who: Client, m: Membership, action: &'static str, barrier: Arc<Barrier>) -> reqwest::Response {
    let request = who
        .http
        .post(who.url(&format!("/api/v1/memberships/{}/{action}", m.id)))
        .bearer_auth(&who.token)
        .header("If-Match", format!("\"{}\"", m.version));
    let request = if action == "reject" { request.json(&serde_json::json!({ "reason": "Surat tugas tidak sesuai" })) } else { request };
    barrier.wait().await;
    request.send().await.unwrap()
}

async fn approve_and_reject_at_the_same_moment_one_wins(backend: &Backend) {
    const ROUNDS: u32 = 50;
    let server = TestServer::start(backend).await;
    let a = server.verifier("019").await;
    let b = server.verifier("019").await;
    let operator = server.operator(&a, "019001", 300).await;
    let mut pending = Vec::new();
    for i in 0..ROUNDS {
        pending.push(operator.registered(&Registration::new(301 + i, "019001")).await);
    }
    for m in pending {
        let barrier = Arc::new(Barrier::new(2));
        let approve = tokio::spawn(decide(a.clone(), m.clone(), "approve", barrier.clone()));
        let reject = tokio::spawn(decide(b.clone(), m.clone(), "reject", barrier));
        let (approve, reject) = (approve.await.unwrap(), reject.await.unwrap());
        let mut answers = vec![approve.status(), reject.status()];
        answers.sort();
        assert_eq!(answers, vec![StatusCode::OK, StatusCode::CONFLICT], "one decision wins, the other is told (round {})", m.nik);
        let (winner, loser) = if approve.status() == StatusCode::OK { (approve, reject) } else { (reject, approve) };
        let winner: Membership = winner.json().await.unwrap();
        let (_, p) = problem(loser).await;
        assert_eq!(p.code, ErrorCode::VersionConflict);
        assert_eq!(p.membership.as_deref(), Some(&winner), "the loser sees the winner's membership");
        let detail: myintress_core::api::MembershipDetail = a.get_json(&format!("/api/v1/memberships/{}", m.id)).await;
        let decisions =
            detail.history.iter().filter(|h| h.event == myintress_core::Event::Approve || h.event == myintress_core::Event::Reject).count();
        assert_eq!(decisions, 1, "decided once, never overwritten");
        assert_eq!(detail.membership, winner);
    }
}

async fn a_replacement_racing_an_approval_never_overwrites_it(backend: &Backend) {
    const ROUNDS: u32 = 20;
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let operator = server.operator(&kppn, "019001", 360).await;
    let (mut replaced_won, mut approval_won) = (0, 0);
    for i in 0..ROUNDS {
        let n = 361 + i;
        let first = operator.registered(&Registration::new(n, "019001")).await;
        let (nik, name) = resident(n);
        let newer = Registration::new(n, "019001").set("letter_number", "ST-REVISI/2026").letter(letter(&nik, &name, "ST-REVISI/2026"));
        let barrier = Arc::new(Barrier::new(2));
        let approval = tokio::spawn(decide(kppn.clone(), first.clone(), "approve", barrier.clone()));
        let replacement = {
            let operator = operator.clone();
            tokio::spawn(async move {
                let request =
                    operator.http.post(operator.url("/api/v1/registrations")).bearer_auth(&operator.token).multipart(newer.form());
                barrier.wait().await;
                request.send().await.unwrap()
            })
        };
        let (approval, replacement) = (approval.await.unwrap(), replacement.await.unwrap());
        let rows = kppn.rows_of(&nik).await;
        assert_eq!(rows.len(), 1, "still one request");
        match (approval.status(), replacement.status()) {
            (StatusCode::OK, StatusCode::CONFLICT) => {
                let (_, p) = problem(replacement).await;
                assert_eq!(p.code, ErrorCode::AlreadyActive, "the approval came first: the person is active");
                assert_eq!((rows[0].status, rows[0].letter_number.as_str()), (Status::Active, first.letter_number.as_str()));
                approval_won += 1;
            }
            (StatusCode::CONFLICT, StatusCode::OK) => {
                let (_, p) = problem(approval).await;
                assert_eq!(p.code, ErrorCode::RequestSuperseded, "the replacement came first: the decision was on the old letter");
                assert_eq!((rows[0].status, rows[0].letter_number.as_str()), (Status::Registered, "ST-REVISI/2026"));
                replaced_won += 1;
            }
            other => panic!("exactly one of the two may succeed, got {other:?}"),
        }
    }
    println!("replacement vs approval: replacement first {replaced_won}, approval first {approval_won} of {ROUNDS}");
}

async fn parallel_registrations_of_one_person_leave_one_live_row(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let operator = server.operator(&kppn, "019001", 400).await;
    for (who, n, expected) in [(&kppn, 401u32, StatusCode::CONFLICT), (&operator, 402, StatusCode::OK)] {
        let barrier = Arc::new(Barrier::new(4));
        let mut sent = Vec::new();
        for k in 0..4 {
            let (who, barrier) = (who.clone(), barrier.clone());
            let (nik, name) = resident(n);
            let number = format!("ST-{k}/PARALEL/2026");
            let registration = Registration::new(n, "019001").set("letter_number", &number).letter(letter(&nik, &name, &number));
            sent.push(tokio::spawn(async move {
                let request = who.http.post(who.url("/api/v1/registrations")).bearer_auth(&who.token).multipart(registration.form());
                barrier.wait().await;
                request.send().await.unwrap().status()
            }));
        }
        let mut statuses = Vec::new();
        for s in sent {
            statuses.push(s.await.unwrap());
        }
        statuses.sort();
        // Through the KPPN the first is active and the rest are refused; by the satker the
        // first is pending and each later one replaces it.
        let mut wanted = vec![StatusCode::CREATED, expected, expected, expected];
        wanted.sort();
        assert_eq!(statuses, wanted, "resident {n}");
        let rows = kppn.rows_of(&resident(n).0).await;
        assert_eq!(rows.len(), 1, "one live row of the person in the satker: {rows:?}");
    }
}

async fn parallel_wrong_passwords_lock_after_exactly_the_limit(backend: &Backend) {
    // Each attempt comes from its own address (through a trusted proxy), so the per-address
    // rate limit stays out of the way and only the lockout counts.
    let server = TestServer::start_with(backend, |s| s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]).await;
    let kppn = server.verifier("019").await;
    const ATTEMPTS: usize = 40;
    let barrier = Arc::new(Barrier::new(ATTEMPTS));
    let mut sent = Vec::new();
    for i in 0..ATTEMPTS {
        let (http, url, nik, barrier) = (server.http.clone(), server.url("/api/v1/auth/login"), kppn.nik.clone(), barrier.clone());
        sent.push(tokio::spawn(async move {
            let request = http
                .post(url)
                .header("X-Forwarded-For", format!("198.51.100.{}", i + 1))
                .json(&serde_json::json!({ "nik": nik, "password": "salah-salah-salah", "captcha_id": "x", "captcha_answer": "x" }));
            barrier.wait().await;
            problem(request.send().await.unwrap()).await
        }));
    }
    let (mut invalid, mut locked) = (0, 0);
    for s in sent {
        match s.await.unwrap() {
            (StatusCode::UNAUTHORIZED, p) if p.code == ErrorCode::CredentialsInvalid => invalid += 1,
            (StatusCode::LOCKED, p) if p.code == ErrorCode::AccountLocked => locked += 1,
            other => panic!("unexpected answer {other:?}"),
        }
    }
    let max = myintress_server::session::MAX_FAILURES as usize;
    assert_eq!((invalid, locked), (max, ATTEMPTS - max), "every failure counted: the {max}th locks, the rest are told so");
    let (status, p) = server.login(&kppn.nik, "Verifikator#Uji2026").await.err().unwrap();
    assert_eq!((status, p.code.clone()), (StatusCode::LOCKED, ErrorCode::AccountLocked), "even the right password waits");
}

async fn refused_requests_store_no_document(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let other_kppn = server.verifier("020").await;
    let operator = server.operator(&kppn, "019001", 420).await;
    let active = kppn.registered(&Registration::new(421, "019001")).await;
    let inactive = kppn.registered(&Registration::new(422, "019001")).await;
    assert_eq!(kppn.act(inactive.id, "deactivate", Some("Mutasi")).await.status(), StatusCode::OK);
    let before = server.stored_documents().await;

    let decree = || letter("0", "SK Penghapusan", "SK-9/2026");
    let refusals = [
        (operator.delete(inactive.id, "Permintaan", "SK-9/2026", decree()).await, StatusCode::FORBIDDEN, "a satker operator"),
        (other_kppn.delete(inactive.id, "Permintaan", "SK-9/2026", decree()).await, StatusCode::NOT_FOUND, "another KPPN"),
        (kppn.delete(active.id, "Permintaan", "SK-9/2026", decree()).await, StatusCode::CONFLICT, "an active user"),
    ];
    for (response, status, who) in refusals {
        assert_eq!(response.status(), status, "{who}");
    }
    // A registration refused inside the transaction (already active), with a new letter.
    let (nik, name) = resident(421);
    let again = Registration::new(421, "019001").letter(letter(&nik, &name, "ST-LAGI/2026"));
    let (status, p) = problem(kppn.register(&again).await).await;
    assert_eq!((status, p.code.clone()), (StatusCode::CONFLICT, ErrorCode::AlreadyActive));
    assert_eq!(server.stored_documents().await, before, "no object written for a refused request");

    // Allowed: the decree is stored.
    assert_eq!(kppn.delete(inactive.id, "Permintaan", "SK-9/2026", decree()).await.status(), StatusCode::OK);
    assert_eq!(server.stored_documents().await.len(), before.len() + 1);
}

async fn unreferenced_documents_are_collected_after_a_grace_period(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let m = kppn.registered(&Registration::new(430, "019001")).await;
    let kept = myintress_server::documents::sha256_hex(
        &kppn.get(&format!("/api/v1/documents/{}", m.letter_document_id)).await.bytes().await.unwrap(),
    );
    // An upload whose transaction never committed (a crash between the two).
    let orphan = letter("0", "Tidak pernah tercatat", "ST-YATIM/2026");
    let orphan_sha = myintress_server::documents::sha256_hex(&orphan);
    let state = server.state();
    state.documents.put(&orphan_sha, &orphan).await.unwrap();

    let grace = chrono::Duration::hours(1);
    let now = chrono::Utc::now();
    let young = myintress_server::documents::collect_garbage(state.store.as_ref(), &state.documents, grace, now).await.unwrap();
    assert_eq!(young.removed, 0, "within the grace period an upload may still be committing");
    let later =
        myintress_server::documents::collect_garbage(state.store.as_ref(), &state.documents, grace, now + chrono::Duration::hours(2))
            .await
            .unwrap();
    assert_eq!((later.examined, later.removed), (2, 1));
    assert_eq!(server.stored_documents().await, vec![kept.clone()], "the referenced letter stays, the orphan goes");
    let again = kppn.get(&format!("/api/v1/documents/{}", m.letter_document_id)).await;
    assert_eq!(again.status(), StatusCode::OK);
}

async fn feed_after(who: &Client, after: i64) -> ChangesPage {
    who.get_json(&format!("/api/v1/changes?after={after}&limit=2000")).await
}

async fn a_satker_moved_to_another_kppn_follows_in_feed_audit_and_scope(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let old = server.verifier("019").await;
    let new = server.verifier("020").await;
    let moving = old.registered(&Registration::new(440, "019002")).await;
    let staying = old.registered(&Registration::new(441, "019001")).await;
    let (old_cursor, new_cursor) = (feed_after(&old, 0).await.last_seq, feed_after(&new, 0).await.last_seq);

    server.move_satker("019002", "020");
    let loaded = server.reload_reference().await;
    assert_eq!(loaded.moved, vec![("019002".to_owned(), "019".to_owned(), "020".to_owned())]);

    // The old KPPN is told to drop it, and hears nothing else of it.
    let told = feed_after(&old, old_cursor).await;
    let kinds: Vec<String> = told.changes.iter().map(|c| serde_json::to_string(&c.kind).unwrap()).collect();
    assert_eq!(kinds, vec!["\"satker_removed\""], "{told:?}");
    assert_eq!(told.changes[0].entity["code"], "019002");
    let fresh = feed_after(&old, 0).await;
    assert!(
        fresh.changes.iter().all(|c| c.entity["satker_code"] != "019002" || c.entity.get("nik").is_none()),
        "a fresh pull of the old KPPN holds nobody of the moved satker"
    );
    // The new KPPN receives the satker and its people, whatever its cursor.
    let received = feed_after(&new, new_cursor).await;
    assert!(received.changes.iter().any(|c| c.entity["code"] == "019002" && c.entity["kppn_code"] == "020"));
    assert!(received.changes.iter().any(|c| c.entity["id"] == moving.id.to_string() && c.entity["nik"] == moving.nik));

    // Scope, detail and audit follow.
    assert_eq!(old.get(&format!("/api/v1/memberships/{}", moving.id)).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(new.get(&format!("/api/v1/memberships/{}", moving.id)).await.status(), StatusCode::OK);
    assert_eq!(old.get(&format!("/api/v1/memberships/{}", staying.id)).await.status(), StatusCode::OK);
    let old_audit: Page<AuditEntry> = old.get_json(&format!("/api/v1/audit?nik={}", moving.nik)).await;
    let new_audit: Page<AuditEntry> = new.get_json(&format!("/api/v1/audit?nik={}", moving.nik)).await;
    assert!(old_audit.items.is_empty(), "the old KPPN no longer reads the person's trail");
    assert_eq!(new_audit.items.len(), 1, "the new KPPN reads it whole");
    assert_eq!(new.act(moving.id, "deactivate", Some("Pindah KPPN")).await.status(), StatusCode::OK, "and acts on it");

    // Loading the same files again changes nothing.
    assert!(server.reload_reference().await.moved.is_empty());
}

async fn the_compacted_feed_holds_each_entity_once(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let gone = kppn.registered(&Registration::new(450, "019001")).await;
    assert_eq!(kppn.act(gone.id, "deactivate", Some("Pensiun")).await.status(), StatusCode::OK);
    assert_eq!(kppn.delete(gone.id, "Pensiun", "SK-4/2026", letter("0", "SK", "SK-4/2026")).await.status(), StatusCode::OK);
    let kept = kppn.registered(&Registration::new(451, "019001")).await;
    assert_eq!(kppn.act(kept.id, "deactivate", Some("Cuti")).await.status(), StatusCode::OK);
    let before = feed_after(&kppn, 0).await;
    assert!(before.changes.iter().filter(|c| c.entity["id"] == gone.id.to_string()).count() >= 3);

    let removed = myintress_server::jobs::compact(server.state()).await.unwrap();
    let after = feed_after(&kppn, 0).await;
    assert_eq!(after.changes.len() as u64, before.changes.len() as u64 - removed);
    let of = |id: uuid::Uuid| after.changes.iter().filter(|c| c.entity["id"] == id.to_string()).cloned().collect::<Vec<_>>();
    let gone_changes = of(gone.id);
    assert_eq!(gone_changes.len(), 1, "the deleted person's snapshots are gone");
    assert_eq!(gone_changes[0].entity.get("nik"), None, "only the removal remains, without personal data");
    let kept_changes = of(kept.id);
    assert_eq!(kept_changes.len(), 1);
    assert_eq!(kept_changes[0].entity["status"], 0, "the latest state");
    assert_eq!(after.last_seq, before.last_seq, "the newest entries stay");
}

async fn one_background_round_per_interval(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let state = server.state();
    let interval = chrono::Duration::seconds(state.settings.dormancy_interval as i64);
    // Far enough ahead to be due whatever the server's own first round did; that round may
    // still hold the job's lock for a moment (then a replica skips its tick: `None`).
    let t1 = chrono::Utc::now() + interval * 10;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let round = loop {
        if let Some(round) = myintress_server::jobs::run_round(state, t1).await.unwrap() {
            break round;
        }
        assert!(std::time::Instant::now() < deadline, "the job's lock was never free");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!((round.dormant, round.purged, round.compacted.is_some()), (Some(0), true, true));
    assert!(myintress_server::jobs::run_round(state, t1).await.unwrap().is_none(), "once per interval");
    assert!(myintress_server::jobs::run_round(state, t1 + interval).await.unwrap().is_some(), "due again an interval later");
}
