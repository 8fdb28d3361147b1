//! The Antrean: pending registrations oldest first, each with its age in working days
//! (weekends and the holidays of `libur.csv` left out) and its overdue / escalated flags;
//! the flags travel in the change feed when they change, so desktops show them offline.

use std::collections::BTreeSet;

use chrono::{Duration, Utc};
use myintress_core::api::{ChangeKind, ChangesPage, Page, QueueItem};
use myintress_core::workday::Deadlines;
use reqwest::StatusCode;

use crate::support::{Backend, Registration, TestServer, resident};

myintress_testkit::on_both_backends!(
    the_antrean_is_oldest_first_with_working_days_and_flags,
    queue_flags_travel_in_the_feed_when_they_change,
    overdue_and_escalated_requests_are_mailed_once_a_working_day,
    a_bulk_decision_applies_each_request_on_its_own,
);

async fn the_antrean_is_oldest_first_with_working_days_and_flags(backend: &Backend) {
    let server = TestServer::start(backend).await;
    // Christmas and the day before are holidays in the reference data.
    std::fs::write(server.dir.join("reference/libur.csv"), "tanggal,keterangan\n2026-12-24,Cuti bersama\n2026-12-25,Natal\n").unwrap();
    server.reload_reference().await;
    let kppn = server.verifier("019").await;
    let operator = server.operator(&kppn, "019001", 60).await;
    for n in [61, 62, 63] {
        operator.registered(&Registration::new(n, "019001")).await;
    }
    // 62 waits longest, then 61; 63 is new.
    server.age_requests(&resident(61).0, 4).await;
    server.age_requests(&resident(62).0, 9).await;

    let queue: Page<QueueItem> = kppn.get_json("/api/v1/queue").await;
    let order: Vec<&str> = queue.items.iter().map(|i| i.membership.nik.as_str()).collect();
    assert_eq!(order, [resident(62).0.as_str(), resident(61).0.as_str(), resident(63).0.as_str()]);
    // The same rule as core's, with the same holidays.
    let holidays: BTreeSet<_> = ["2026-12-24", "2026-12-25"].iter().map(|d| d.parse().unwrap()).collect();
    for item in &queue.items {
        let expected = Deadlines::default().flags(item.membership.created_at, Utc::now(), &holidays);
        assert_eq!(item.flags, expected, "{}", item.membership.nik);
    }
    assert!(queue.items[0].flags.escalated && queue.items[0].flags.working_days_pending >= 5);
    assert_eq!(queue.items[2].flags.working_days_pending, 0);

    // Only verifiers have an Antrean; another KPPN's is empty.
    assert_eq!(operator.get("/api/v1/queue").await.status(), StatusCode::FORBIDDEN);
    let other = server.verifier("020").await;
    assert!(other.get_json::<Page<QueueItem>>("/api/v1/queue").await.items.is_empty());

    // A bad holiday file is refused with its line, and nothing changes.
    std::fs::write(server.dir.join("reference/libur.csv"), "tanggal\n25/12/2026\n").unwrap();
    let error = myintress_server::reference::load(server.state().store.as_ref(), &server.dir.join("reference")).await.unwrap_err();
    assert!(format!("{error:#}").contains("libur.csv baris 2"), "{error:#}");
}

async fn queue_flags_travel_in_the_feed_when_they_change(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let operator = server.operator(&kppn, "019001", 70).await;
    let waiting = operator.registered(&Registration::new(71, "019001")).await;
    let decided = operator.registered(&Registration::new(72, "019001")).await;
    let flags_in_feed = |page: &ChangesPage| -> Vec<serde_json::Value> {
        page.changes.iter().filter(|c| c.kind == ChangeKind::QueueFlags).map(|c| c.entity.clone()).collect()
    };

    // A new request has no flags to send.
    let state = server.state();
    assert_eq!(myintress_server::queue::refresh_flags(state, Utc::now()).await.unwrap(), 0);
    // A week on, both are escalated: one change each, in the KPPN's feed.
    let week_on = Utc::now() + Duration::days(7);
    assert_eq!(myintress_server::queue::refresh_flags(state, week_on).await.unwrap(), 2);
    let feed: ChangesPage = kppn.get_json("/api/v1/changes").await;
    let sent = flags_in_feed(&feed);
    assert_eq!(sent.len(), 2);
    assert!(
        sent.iter().all(|e| e["overdue"] == true && e["escalated"] == true && e["working_days_pending"].as_u64() >= Some(5)),
        "{sent:?}"
    );
    // Nothing changed: nothing sent again.
    assert_eq!(myintress_server::queue::refresh_flags(state, week_on).await.unwrap(), 0);

    // Decided: it leaves the Antrean, and only the waiting one is flagged later on.
    assert_eq!(kppn.act(decided.id, "approve", None).await.status(), StatusCode::OK);
    let later = week_on + Duration::days(7);
    assert_eq!(myintress_server::queue::refresh_flags(state, later).await.unwrap(), 1);
    let feed: ChangesPage = kppn.get_json(&format!("/api/v1/changes?after={}", feed.last_seq)).await;
    let sent = flags_in_feed(&feed);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["id"], waiting.id.to_string());
}

/// Overdue requests are mailed to the KPPN's verifiers and escalated ones to its
/// supervisors, once per working day whatever the number of rounds, and never a whole NIK.
async fn overdue_and_escalated_requests_are_mailed_once_a_working_day(backend: &Backend) {
    use chrono::{Datelike, TimeZone};
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let supervisor = server.verifier("019").await;
    let mut tx = server.state().store.write().await.unwrap();
    assert!(tx.set_verifier_kppn(&supervisor.nik, "019", true).await.unwrap());
    tx.commit().await.unwrap();
    let operator = server.operator(&kppn, "019001", 80).await;
    for n in [81, 82, 83] {
        operator.registered(&Registration::new(n, "019001")).await;
    }
    // 81 waited 9 days (at least 5 working days: escalated), 82 4 days (at least 2:
    // overdue), 83 is new.
    server.age_requests(&resident(81).0, 9).await;
    server.age_requests(&resident(82).0, 4).await;
    // The next working day, 10:00 in Jakarta.
    let mut day = Utc::now().date_naive().succ_opt().unwrap();
    while matches!(day.weekday(), chrono::Weekday::Sat | chrono::Weekday::Sun) {
        day = day.succ_opt().unwrap();
    }
    let morning = Utc.from_utc_datetime(&day.and_hms_opt(3, 0, 0).unwrap());
    // What core's rule says of each on that morning.
    let queue: Page<QueueItem> = kppn.get_json("/api/v1/queue").await;
    let flags: Vec<_> = queue
        .items
        .iter()
        .map(|i| (i.membership.nik.clone(), Deadlines::default().flags(i.membership.created_at, morning, &BTreeSet::new())))
        .collect();
    let overdue: Vec<&String> = flags.iter().filter(|(_, f)| f.overdue).map(|(n, _)| n).collect();
    let escalated: Vec<&String> = flags.iter().filter(|(_, f)| f.escalated).map(|(n, _)| n).collect();
    assert!(overdue.contains(&&resident(82).0) && escalated.contains(&&resident(81).0) && !overdue.contains(&&resident(83).0));

    let sent = myintress_server::queue::send_reminders(server.state(), morning).await.unwrap();
    assert_eq!((sent.reminders, sent.escalations), (2, 1), "both verifiers reminded, the supervisor told");
    let again = myintress_server::queue::send_reminders(server.state(), morning + Duration::hours(3)).await.unwrap();
    assert_eq!((again.reminders, again.escalations), (0, 0), "once a day");
    let mut saturday = morning;
    while saturday.weekday() != chrono::Weekday::Sat {
        saturday += Duration::days(1);
    }
    let weekend = myintress_server::queue::send_reminders(server.state(), saturday).await.unwrap();
    assert_eq!((weekend.reminders, weekend.escalations), (0, 0), "no mail on a day off");

    let mails = server.mails().await;
    let reminders: Vec<&String> = mails.iter().filter(|m| m.contains(&format!("Pengingat: {} permintaan", overdue.len()))).collect();
    let escalations: Vec<&String> = mails.iter().filter(|m| m.contains(&format!("Eskalasi: {} permintaan", escalated.len()))).collect();
    assert_eq!((reminders.len(), escalations.len()), (2, 1), "{mails:#?}");
    assert!(escalations[0].contains(&resident(81).1) && escalations[0].contains(&supervisor_email(&server, &supervisor.nik).await));
    assert!(reminders[0].contains(&resident(82).1) && !reminders[0].contains(&resident(83).1));
    for mail in reminders.iter().chain(&escalations) {
        for n in [81, 82, 83] {
            assert!(!mail.contains(&resident(n).0), "no whole NIK in a reminder");
        }
    }
}

async fn supervisor_email(server: &TestServer, nik: &str) -> String {
    server.state().store.read().await.unwrap().account(nik).await.unwrap().unwrap().email
}

/// One decision for several requests: each applied on its own (one that another verifier
/// decided first conflicts, the others succeed), tied by one batch id in the audit; the
/// same `Idempotency-Key` replays the answer.
async fn a_bulk_decision_applies_each_request_on_its_own(backend: &Backend) {
    use myintress_core::api::{AuditEntry, BulkAnswer};
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let other = server.verifier("019").await;
    let operator = server.operator(&kppn, "019001", 90).await;
    let mut pending = Vec::new();
    for n in 91..95 {
        pending.push(operator.registered(&Registration::new(n, "019001")).await);
    }
    // Another verifier decides the first one meanwhile.
    assert_eq!(other.act(pending[0].id, "approve", None).await.status(), StatusCode::OK);
    let items: Vec<serde_json::Value> = pending.iter().map(|m| serde_json::json!({"id": m.id, "version": m.version})).collect();
    let body = serde_json::json!({"action": "approve", "items": items});
    let send = |key: &'static str| {
        let (kppn, body) = (kppn.clone(), body.clone());
        async move {
            kppn.http
                .post(kppn.url("/api/v1/memberships/bulk"))
                .bearer_auth(&kppn.token)
                .header("Idempotency-Key", key)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let response = send("bulk-1").await;
    assert_eq!(response.status(), StatusCode::OK);
    let answer: BulkAnswer = response.json().await.unwrap();
    let statuses: Vec<u16> = answer.results.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [409, 200, 200, 200]);
    assert_eq!(answer.results[0].problem.as_ref().unwrap().code, myintress_core::ErrorCode::VersionConflict);
    for r in &answer.results[1..] {
        assert_eq!(r.membership.as_ref().unwrap().status, myintress_core::Status::Active);
    }
    let audit: Page<AuditEntry> = kppn.get_json(&format!("/api/v1/audit?nik={}", resident(92).0)).await;
    let approval = audit.items.iter().find(|a| a.event == myintress_core::status::Event::Approve).unwrap();
    assert_eq!(approval.batch_id, Some(answer.batch_id));
    // The same key: the first answer again, nothing applied twice.
    let again = send("bulk-1").await;
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<BulkAnswer>().await.unwrap(), answer);

    // Refused as a whole: no action, no reason for a rejection, too many, not a verifier.
    let post = |who: &crate::support::Client, body: serde_json::Value| {
        let who = who.clone();
        async move { who.post_json("/api/v1/memberships/bulk", body).await.status().as_u16() }
    };
    assert_eq!(post(&kppn, serde_json::json!({"items": items})).await, 422);
    assert_eq!(post(&kppn, serde_json::json!({"action": "reject", "items": items})).await, 422);
    let many: Vec<serde_json::Value> = (0..501).map(|_| items[1].clone()).collect();
    let (status, problem) =
        crate::support::problem(kppn.post_json("/api/v1/memberships/bulk", serde_json::json!({"action": "approve", "items": many})).await)
            .await;
    assert_eq!((status, problem.code), (StatusCode::UNPROCESSABLE_ENTITY, myintress_core::ErrorCode::BulkTooLarge));
    assert_eq!(post(&operator, serde_json::json!({"action": "approve", "items": items})).await, 403);
}
