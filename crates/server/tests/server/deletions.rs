//! Deletion requests (docs/rules.md, "Deleting"): a satker operator asks the KPPN to delete a user in status
//! 0 or 5 with the request letter; the KPPN sees it in its Antrean, declines it with a
//! reason the satker sees, or deletes the membership, which closes the request. One open
//! request per membership, also under truly parallel requests.

use chrono::{Duration, Utc};
use myintress_core::ErrorCode;
use myintress_core::api::{
    ChangeKind, ChangesPage, DeletionRequest, DeletionRequestState, MembershipDetail, Page, QueueItem, QueueItemKind,
};
use myintress_core::status::Event;
use reqwest::StatusCode;

use crate::support::{Backend, Registration, TestServer, letter, problem};

myintress_testkit::on_both_backends!(a_satker_asks_the_kppn_declines_then_deletes, one_open_request_under_parallel_asks,);

async fn a_satker_asks_the_kppn_declines_then_deletes(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let other_kppn = server.verifier("020").await;
    let operator = server.operator(&kppn, "019001", 80).await;
    let rejected = operator.registered(&Registration::new(81, "019001")).await;
    assert_eq!(kppn.act(rejected.id, "reject", Some("Surat tugas tidak lengkap")).await.status(), StatusCode::OK);
    let active = operator.registered(&Registration::new(82, "019001")).await;
    assert_eq!(kppn.act(active.id, "approve", None).await.status(), StatusCode::OK);
    let request_letter = || letter(&rejected.nik, &rejected.name, "ND-7/SATKER/2026");

    // Refused before anything is stored: an active user, a missing reason, a letter that
    // is not a PDF.
    let (status, p) = problem(operator.ask_deletion(active.id, "Pindah tugas", "ND-7/SATKER/2026", request_letter()).await).await;
    assert_eq!((status, p.code), (StatusCode::CONFLICT, ErrorCode::InvalidTransition));
    let (status, p) = problem(operator.ask_deletion(rejected.id, " ", "ND-7/SATKER/2026", request_letter()).await).await;
    assert_eq!((status, p.errors[0].code.clone()), (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::ReasonRequired));
    let (status, p) = problem(operator.ask_deletion(rejected.id, "Pindah tugas", "ND-7/SATKER/2026", b"bukan pdf".to_vec()).await).await;
    assert_eq!((status, p.errors[0].code.clone()), (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::LetterNotPdf));

    let asked = operator.ask_deletion(rejected.id, "Pegawai pindah tugas", "ND-7/SATKER/2026", request_letter()).await;
    assert_eq!(asked.status(), StatusCode::CREATED);
    let asked: DeletionRequest = asked.json().await.unwrap();
    assert_eq!(
        (asked.state, asked.nik.as_str(), asked.requested_by.is_empty()),
        (DeletionRequestState::Open, rejected.nik.as_str(), false)
    );
    let (status, p) = problem(operator.ask_deletion(rejected.id, "Lagi", "ND-8/SATKER/2026", request_letter()).await).await;
    assert_eq!((status, p.code), (StatusCode::CONFLICT, ErrorCode::DeletionRequestExists));
    // The letter is the satker's document, readable by both sides.
    let letter_path = format!("/api/v1/documents/{}", asked.letter_document_id);
    assert_eq!(kppn.get(&letter_path).await.bytes().await.unwrap().as_ref(), request_letter().as_slice());

    // The KPPN's Antrean holds it beside the letter; another KPPN sees nothing.
    let queue: Page<QueueItem> = kppn.get_json("/api/v1/queue").await;
    let item = queue.items.iter().find(|i| i.kind == QueueItemKind::DeletionRequest).expect("in the Antrean");
    assert_eq!((item.membership.id, item.deletion_request.as_ref().map(|d| d.id)), (rejected.id, Some(asked.id)));
    for who in [&kppn, &operator] {
        let open: Page<DeletionRequest> = who.get_json("/api/v1/deletion-requests?status=open").await;
        assert_eq!(open.items.iter().map(|d| d.id).collect::<Vec<_>>(), vec![asked.id]);
    }
    assert!(other_kppn.get_json::<Page<DeletionRequest>>("/api/v1/deletion-requests").await.items.is_empty());
    assert_eq!(kppn.get("/api/v1/deletion-requests?status=lain").await.status(), StatusCode::BAD_REQUEST);
    // Its age counts like a registration's: a week on, it is flagged for the desktops.
    let week_on = Utc::now() + Duration::days(7);
    assert!(myintress_server::queue::refresh_flags(server.state(), week_on).await.unwrap() >= 1);
    let feed: ChangesPage = kppn.get_json("/api/v1/changes").await;
    assert!(feed.changes.iter().any(|c| c.kind == ChangeKind::QueueFlags && c.entity["id"] == serde_json::json!(rejected.id)));
    assert!(feed.changes.iter().any(|c| c.kind == ChangeKind::DeletionRequest && c.entity["state"] == "open"));

    // Declined with a reason the satker sees, only by the KPPN, once.
    let decline = format!("/api/v1/deletion-requests/{}/decline", asked.id);
    assert_eq!(operator.post_json(&decline, serde_json::json!({"reason": "x"})).await.status(), StatusCode::FORBIDDEN);
    let declined = kppn.post_json(&decline, serde_json::json!({"reason": "Surat permohonan belum ditandatangani"})).await;
    assert_eq!(declined.status(), StatusCode::OK);
    let (status, p) = problem(kppn.post_json(&decline, serde_json::json!({"reason": "lagi"})).await).await;
    assert_eq!((status, p.code), (StatusCode::CONFLICT, ErrorCode::InvalidTransition));
    let seen: Page<DeletionRequest> = operator.get_json("/api/v1/deletion-requests?status=declined").await;
    assert_eq!(seen.items[0].decline_reason.as_deref(), Some("Surat permohonan belum ditandatangani"));
    let detail: MembershipDetail = operator.get_json(&format!("/api/v1/memberships/{}", rejected.id)).await;
    let events: Vec<Event> = detail.history.iter().map(|h| h.event.clone()).collect();
    assert!(events.contains(&Event::DeletionRequested) && events.contains(&Event::DeletionDeclined), "{events:?}");

    // Asked again, then deleted: the deletion closes the request.
    let again: DeletionRequest =
        operator.ask_deletion(rejected.id, "Pegawai pensiun", "ND-9/SATKER/2026", request_letter()).await.json().await.unwrap();
    let decree = letter(&rejected.nik, &rejected.name, "SK-9/KPPN/2026");
    assert_eq!(kppn.delete(rejected.id, "Pegawai pensiun", "SK-9/KPPN/2026", decree).await.status(), StatusCode::OK);
    let done: Page<DeletionRequest> = operator.get_json("/api/v1/deletion-requests?status=done").await;
    assert_eq!(done.items.iter().map(|d| (d.id, d.decided_by.is_some())).collect::<Vec<_>>(), vec![(again.id, true)]);
    assert!(kppn.get_json::<Page<DeletionRequest>>("/api/v1/deletion-requests?status=open").await.items.is_empty());
    assert!(!kppn.get_json::<Page<QueueItem>>("/api/v1/queue").await.items.iter().any(|i| i.kind == QueueItemKind::DeletionRequest));
}

/// Eight parallel requests for one membership: exactly one is open, the others are told so.
async fn one_open_request_under_parallel_asks(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let operator = server.operator(&kppn, "019001", 90).await;
    let m = operator.registered(&Registration::new(91, "019001")).await;
    assert_eq!(kppn.act(m.id, "reject", Some("Surat tugas tidak lengkap")).await.status(), StatusCode::OK);
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(8));
    let asks: Vec<_> = (0..8)
        .map(|i| {
            let (operator, barrier) = (operator.clone(), barrier.clone());
            let number = format!("ND-{i}/SATKER/2026");
            let pdf = letter(&m.nik, &m.name, &number);
            tokio::spawn(async move {
                barrier.wait().await;
                operator.ask_deletion(m.id, "Pegawai pindah tugas", &number, pdf).await
            })
        })
        .collect();
    let mut statuses: Vec<u16> = Vec::new();
    for ask in asks {
        let answer = ask.await.unwrap();
        let status = answer.status().as_u16();
        if status != 201 {
            let (_, p) = problem(answer).await;
            assert_eq!(p.code, ErrorCode::DeletionRequestExists);
        }
        statuses.push(status);
    }
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 7, "{statuses:?}");
    let open: Page<DeletionRequest> = kppn.get_json("/api/v1/deletion-requests?status=open").await;
    assert_eq!(open.items.len(), 1);
}
