//! Actions taken offline reach the server when the network is back; decisions that race
//! end as one winner and a conflict the loser can see.

use myintress_client::events::Connection;
use myintress_client::outbox::Action;
use myintress_client::{ClientError, ListFilter, ListRow};
use myintress_core::ErrorCode;
use myintress_core::api::MembershipDetail;
use myintress_core::registration::RegistrationInput;
use myintress_core::status::Status;
use myintress_testkit::{letter, resident};

use crate::faults::assert_exactly_once;
use crate::on_both_worlds;
use crate::support::World;
use myintress_testkit::proxy::Mode;

pub fn input(n: u32, satker: &str) -> (RegistrationInput, Vec<u8>) {
    let (nik, name) = resident(n);
    let number = format!("ST-{n:04}/DESK/2026");
    let pdf = letter(&nik, &name, &number);
    let input = RegistrationInput {
        nik,
        name,
        nip: String::new(),
        phone: "0812-3456-7890".into(),
        email: format!("desk{n}@contoh.go.id"),
        satker_code: satker.into(),
        letter_number: number,
        ticket_number: String::new(),
    };
    (input, pdf)
}

on_both_worlds!(
    register_offline_goes_up_when_online,
    approve_offline_reaches_the_server,
    two_verifiers_decide_the_same_request_one_wins,
    resubmission_supersedes_an_offline_decision,
    rules_refuse_early_and_queue_nothing,
    a_queued_registration_whose_letter_vanished_does_not_wedge_the_outbox,
    a_queued_name_the_registry_refuses_comes_back_explained,
    the_antrean_flags_reach_the_desk_and_stay_offline,
    a_bulk_approval_offline_goes_up_as_one_batch_one_conflicting,
    a_deletion_request_goes_both_ways_offline,
);

async fn search(desk: &crate::support::Desk, text: &str) -> Vec<ListRow> {
    desk.client.list(&ListFilter { search: Some(text.into()), limit: 100, ..Default::default() }).await.unwrap().rows
}

async fn register_offline_goes_up_when_online(world: World) {
    let desk = world.kppn_desk().await;
    world.proxy.set_mode(Mode::Refuse);

    let (input, pdf) = input(10, "019001");
    let nik = input.nik.clone();
    let local = desk.client.register(input, pdf).await.expect("queued offline");
    assert_eq!(local.status, Status::Active, "the KPPN route is active at once, also in the local view");
    let rows = search(&desk, &nik).await;
    assert_eq!((rows.len(), rows[0].pending), (1, 1), "shown, waiting for sync");

    let err = desk.client.sync_once().await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Offline);
    assert!(matches!(desk.client.subscribe().borrow().connection, Connection::Offline { .. }));
    assert_eq!(desk.client.subscribe().borrow().outbox, 1);

    world.proxy.set_mode(Mode::Pass);
    desk.client.sync_once().await.expect("online again");
    let rows = search(&desk, &nik).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].pending, 0);
    assert_ne!(rows[0].membership.id, local.id, "the local row became the server's row");
    let kppn = world.server.login(&world.kppn_nik, crate::support::KPPN_PASSWORD).await.unwrap();
    let server_view: MembershipDetail = kppn.get_json(&format!("/api/v1/memberships/{}", rows[0].membership.id)).await;
    assert_eq!(server_view.membership, rows[0].membership, "the local store matches the server");
    assert_eq!(desk.client.subscribe().borrow().outbox, 0);
}

async fn approve_offline_reaches_the_server(world: World) {
    let operator = world.operator_desk().await;
    let (input, pdf) = input(11, "019001");
    operator.client.register(input, pdf).await.unwrap();
    operator.client.sync_once().await.unwrap();

    let desk = world.kppn_desk().await;
    let queue = desk.client.queue().await.unwrap();
    let pending = queue.iter().find(|r| r.membership.nik == resident(11).0).expect("in the verification queue").membership.clone();
    let letter = desk.client.document(pending.letter_document_id).await.expect("letter prefetched");
    assert!(letter.starts_with(b"%PDF-"));

    world.proxy.set_mode(Mode::Refuse);
    // Offline: the prefetched letter still opens.
    assert_eq!(desk.client.document(pending.letter_document_id).await.unwrap(), letter);
    let approved = desk.client.act(pending.id, Action::Approve).await.unwrap();
    assert_eq!(approved.status, Status::Active);
    assert!(desk.client.sync_once().await.is_err());

    world.proxy.set_mode(Mode::Pass);
    desk.client.sync_once().await.unwrap();
    let kppn = world.server.login(&world.kppn_nik, crate::support::KPPN_PASSWORD).await.unwrap();
    let server_view: MembershipDetail = kppn.get_json(&format!("/api/v1/memberships/{}", pending.id)).await;
    assert_eq!(server_view.membership.status, Status::Active);
    let (local, waiting) = desk.client.view(pending.id).await.unwrap().unwrap();
    assert_eq!((local, waiting), (server_view.membership, 0));
}

async fn two_verifiers_decide_the_same_request_one_wins(world: World) {
    let operator = world.operator_desk().await;
    let (input, pdf) = input(12, "019001");
    operator.client.register(input, pdf).await.unwrap();
    operator.client.sync_once().await.unwrap();
    let a = world.kppn_desk().await;
    let b = world.second_kppn_desk().await;
    let id = a.client.queue().await.unwrap()[0].membership.id;

    world.proxy.set_mode(Mode::Refuse);
    a.client.act(id, Action::Approve).await.unwrap();
    b.client.act(id, Action::Reject { reason: "Surat tugas kedaluwarsa".into() }).await.unwrap();
    world.proxy.set_mode(Mode::Pass);
    a.client.sync_once().await.unwrap();
    b.client.sync_once().await.unwrap();

    let outbox = b.client.outbox().await.unwrap();
    assert_eq!(outbox.len(), 1, "the loser's action is kept, not dropped");
    assert_eq!(outbox[0].state, myintress_client::outbox::OutboxState::Conflict);
    let answer = outbox[0].answer.as_ref().unwrap();
    assert_eq!(answer.code, ErrorCode::VersionConflict);
    assert_eq!(answer.membership.as_ref().unwrap().status, Status::Active, "the server's state, side by side");
    let (view, _) = b.client.view(id).await.unwrap().unwrap();
    assert_eq!(view.status, Status::Active, "the loser's view rolled back to the server's state");
    assert_eq!(b.client.subscribe().borrow().conflicts, 1);

    // "Ulangi" on a reject of what is now active is refused here, and the refused action
    // stays (it used to be deleted before the new one was checked); signing out warns.
    assert!(b.client.redo(&outbox[0].key).await.is_err());
    assert_eq!(b.client.outbox().await.unwrap().len(), 1, "a refused redo keeps the action");
    assert_eq!(b.client.sign_out(false).await.unwrap_err().code(), ErrorCode::PendingActions, "a conflict is not lost by signing out");

    // Dismissing removes it; nothing else changes.
    b.client.dismiss(&outbox[0].key).await.unwrap();
    assert!(b.client.outbox().await.unwrap().is_empty());
}

async fn resubmission_supersedes_an_offline_decision(world: World) {
    let operator = world.operator_desk().await;
    let (first, pdf) = input(13, "019001");
    operator.client.register(first.clone(), pdf).await.unwrap();
    operator.client.sync_once().await.unwrap();
    let desk = world.kppn_desk().await;
    let id = desk.client.queue().await.unwrap()[0].membership.id;

    world.proxy.set_mode(Mode::Refuse);
    desk.client.act(id, Action::Approve).await.unwrap();
    world.proxy.set_mode(Mode::Pass);
    // The satker sends a newer letter meanwhile (guide Tip 2).
    let mut second = first.clone();
    second.letter_number = "ST-0013/REVISI/2026".into();
    let pdf2 = letter(&second.nik, &second.name, &second.letter_number);
    let replaced = operator.client.register(second, pdf2).await.unwrap();
    assert_eq!(replaced.id, id, "replaced in place, locally too");
    operator.client.sync_once().await.unwrap();

    desk.client.sync_once().await.unwrap();
    let outbox = desk.client.outbox().await.unwrap();
    let answer = outbox[0].answer.as_ref().expect("conflict kept");
    assert_eq!(answer.code, ErrorCode::RequestSuperseded);
    assert_eq!(answer.membership.as_ref().unwrap().letter_number, "ST-0013/REVISI/2026");

    // Redo: a new decision on the newest letter.
    let redone = desk.client.redo(&outbox[0].key).await.unwrap().expect("still shown");
    assert_eq!(redone.status, Status::Active);
    desk.client.sync_once().await.unwrap();
    assert!(desk.client.outbox().await.unwrap().is_empty());
}

async fn rules_refuse_early_and_queue_nothing(world: World) {
    let desk = world.kppn_desk().await;
    let (mut bad, pdf) = input(14, "019001");
    bad.nik = "31710112019000AB".into();
    match desk.client.register(bad, pdf.clone()).await {
        Err(ClientError::Fields(errors)) => assert_eq!(errors[0].code, ErrorCode::NikInvalid),
        other => panic!("{other:?}"),
    }
    let (good, _) = input(14, "019001");
    match desk.client.register(good.clone(), b"GIF89a bukan pdf".to_vec()).await {
        Err(ClientError::Fields(errors)) => assert_eq!(errors[0].code, ErrorCode::LetterNotPdf),
        other => panic!("{other:?}"),
    }
    match desk.client.register(RegistrationInput { satker_code: "020001".into(), ..good.clone() }, pdf.clone()).await {
        Err(e) => assert_eq!(e.code(), ErrorCode::SatkerOutOfScope),
        Ok(m) => panic!("registered out of scope: {m:?}"),
    }
    desk.client.register(good.clone(), pdf.clone()).await.unwrap();
    match desk.client.register(good, pdf).await {
        Err(e) => assert_eq!(e.code(), ErrorCode::AlreadyActive, "checked against the local view, offline too"),
        Ok(m) => panic!("{m:?}"),
    }
    assert_eq!(desk.client.outbox().await.unwrap().len(), 1);
}

async fn a_queued_registration_whose_letter_vanished_does_not_wedge_the_outbox(world: World) {
    let desk = world.kppn_desk().await;
    world.proxy.set_mode(Mode::Refuse);
    let (first, first_pdf) = input(16, "019001");
    desk.client.register(first, first_pdf.clone()).await.unwrap();
    let (second, pdf) = input(17, "019001");
    let second = desk.client.register(second, pdf).await.unwrap();
    assert_eq!(desk.client.outbox().await.unwrap().len(), 2);
    // The first letter's cached file disappears (a cleaner, a disk error, a person).
    let sha = desk.client.documents().save(&first_pdf).await.unwrap();
    std::fs::remove_file(desk.client.documents().path(&sha)).unwrap();
    world.proxy.set_mode(Mode::Pass);

    desk.client.sync_once().await.expect("the round goes on");
    let outbox = desk.client.outbox().await.unwrap();
    assert_eq!(outbox.len(), 1, "the other registration went up: {outbox:?}");
    assert_eq!(outbox[0].answer.as_ref().unwrap().code, ErrorCode::FileUnreadable);
    let kppn = world.server.login(&world.kppn_nik, crate::support::KPPN_PASSWORD).await.unwrap();
    assert_eq!(kppn.rows_of(&second.nik).await.len(), 1);
}

/// Queued offline with a name the registry does not know: the refusal comes back into the
/// outbox with its explanation (for Sinkronisasi), naming the typed words only.
async fn a_queued_name_the_registry_refuses_comes_back_explained(world: World) {
    let desk = world.kppn_desk().await;
    let (mut person, pdf) = input(12, "019001");
    person.name = "Bambang Sutrisno".into();
    desk.client.register(person, pdf).await.unwrap();
    desk.client.sync_once().await.unwrap();
    let items = desk.client.outbox().await.unwrap();
    let answer = items[0].answer.as_ref().expect("the refusal is kept");
    assert_eq!(answer.code, myintress_core::ErrorCode::NameMismatch);
    let explanation = answer.explanation.as_ref().expect("explained");
    assert_eq!(explanation.compared, "bambang sutrisno");
    assert_eq!(explanation.words.len(), 2);

    // "Perbaiki": the form and letter come back; the corrected registration replaces the
    // refusal and lands once.
    let key = items[0].key.clone();
    let (mut form, letter) = desk.client.correction(&key).await.unwrap();
    assert_eq!((form.name.as_str(), letter.starts_with(b"%PDF")), ("Bambang Sutrisno", true));
    form.name = resident(12).1;
    desk.client.register_correction(form, myintress_client::CheckedPdf::check_here(letter).unwrap(), &key).await.unwrap();
    let items = desk.client.outbox().await.unwrap();
    assert_eq!(items.len(), 1, "the correction replaced the refusal");
    assert_eq!(items[0].state, myintress_client::outbox::OutboxState::Pending);
    desk.client.sync_once().await.unwrap();
    assert!(desk.client.outbox().await.unwrap().is_empty());
    assert_exactly_once(&world, &desk, &[resident(12).0]).await;
}

/// The server's overdue / escalated flags reach the desk through the feed and are there
/// offline: the Antrean shows each request's age, Beranda's counts the overdue ones.
async fn the_antrean_flags_reach_the_desk_and_stay_offline(world: World) {
    let operator = world.operator_desk().await;
    let (person, pdf) = input(13, "019001");
    operator.client.register(person.clone(), pdf).await.unwrap();
    operator.client.sync_once().await.unwrap();
    let desk = world.kppn_desk().await;
    let row = desk.client.queue().await.unwrap().into_iter().find(|r| r.membership.nik == person.nik).unwrap();
    assert_eq!(row.flags, myintress_core::workday::QueueFlags::default(), "new: no flags yet");

    // A week on (whatever the weekday today), at least five working days have passed.
    let week_on = chrono::Utc::now() + chrono::Duration::days(7);
    myintress_server::queue::refresh_flags(world.server.state(), week_on).await.unwrap();
    desk.client.sync_once().await.unwrap();
    world.proxy.set_mode(Mode::Refuse);
    let row = desk.client.queue().await.unwrap().into_iter().find(|r| r.membership.nik == person.nik).unwrap();
    assert!(row.flags.overdue && row.flags.escalated && row.flags.working_days_pending >= 5, "{:?}", row.flags);
    let status = desk.client.subscribe().borrow().clone();
    assert_eq!((status.overdue_registrations, status.escalated_registrations), (1, 1));
    let (kept, recounted) = myintress_client::testing::queue_counts_kept_and_recounted(&desk.client).await.unwrap();
    assert_eq!(kept, recounted, "the counts the store keeps are the rows' counts");
    assert_eq!((kept.1, kept.2), (1, 1));

    // Approved offline: no longer pending, overdue or escalated, at once.
    desk.client.act(row.membership.id, Action::Approve).await.unwrap();
    let status = desk.client.subscribe().borrow().clone();
    assert_eq!((status.pending_registrations, status.overdue_registrations, status.escalated_registrations), (kept.0 - 1, 0, 0));
    let (kept, recounted) = myintress_client::testing::queue_counts_kept_and_recounted(&desk.client).await.unwrap();
    assert_eq!(kept, recounted);
    world.proxy.set_mode(Mode::Pass);

    // Sent, and the server's answer applied: still equal.
    desk.client.sync_once().await.unwrap();
    let (kept, recounted) = myintress_client::testing::queue_counts_kept_and_recounted(&desk.client).await.unwrap();
    assert_eq!(kept, recounted);
}

/// A bulk approval taken offline: only requests whose letter was opened here are queued
/// (one entry each, one batch id), shown approved at once; online, the batch goes up in one
/// request and each item ends on its own — the one another verifier rejected meanwhile
/// becomes a conflict, the others are approved under one batch id in the audit trail.
async fn a_bulk_approval_offline_goes_up_as_one_batch_one_conflicting(world: World) {
    use myintress_client::BatchItemState;
    use myintress_core::api::{AuditEntry, BulkAction, Page};

    let operator = world.operator_desk().await;
    let people: Vec<_> = (30..35).map(|n| input(n, "019001")).collect();
    for (person, pdf) in &people {
        operator.client.register(person.clone(), pdf.clone()).await.unwrap();
    }
    operator.client.sync_once().await.unwrap();
    let a = world.kppn_desk().await;
    let b = world.second_kppn_desk().await;
    let rows_now = a.client.queue().await.unwrap();
    let ids: Vec<_> = people.iter().map(|(p, _)| rows_now.iter().find(|r| r.membership.nik == p.nik).unwrap().membership.id).collect();
    // The last request's letter is never opened on desk A.
    for id in &ids[..4] {
        a.client.letter_seen(*id).await.unwrap();
    }
    let rows = a.client.queue().await.unwrap();
    assert_eq!(rows.iter().filter(|r| ids.contains(&r.membership.id) && r.letter_seen).count(), 4);

    // Meanwhile another verifier rejects the second one.
    b.client.act(ids[1], Action::Reject { reason: "Surat tugas kedaluwarsa".into() }).await.unwrap();
    b.client.sync_once().await.unwrap();

    world.proxy.set_mode(Mode::Refuse);
    let queued = a.client.bulk(&ids, BulkAction::Approve, None).await.unwrap();
    let refused: Vec<_> = queued.items.iter().filter_map(|i| i.refused.as_ref().map(|r| (i.id, r.code.clone()))).collect();
    assert_eq!(refused, vec![(ids[4], ErrorCode::LetterNotSeen)], "only the unopened letter is refused here");
    let outbox = a.client.outbox().await.unwrap();
    assert_eq!(outbox.len(), 4, "one entry per queued request");
    for id in &ids[..4] {
        assert_eq!(a.client.view(*id).await.unwrap().unwrap().0.status, Status::Active, "shown approved at once");
    }
    let states = a.client.batch(queued.batch_id, &ids[..4]).await.unwrap();
    assert!(states.iter().all(|(_, s)| *s == BatchItemState::Waiting), "{states:?}");
    // A rejection needs its one reason.
    assert!(matches!(a.client.bulk(&ids, BulkAction::Reject, Some(" ".into())).await, Err(ClientError::Fields(_))));

    world.proxy.set_mode(Mode::Pass);
    a.client.sync_once().await.unwrap();
    let states = a.client.batch(queued.batch_id, &ids[..4]).await.unwrap();
    for (id, state) in &states {
        match state {
            BatchItemState::Refused { .. } => assert_eq!(*id, ids[1], "only the request decided meanwhile conflicts"),
            other => assert_eq!(*other, BatchItemState::Done, "{id}"),
        }
    }
    let outbox = a.client.outbox().await.unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].answer.as_ref().unwrap().code, ErrorCode::VersionConflict);
    assert_eq!(a.client.view(ids[1]).await.unwrap().unwrap().0.status, Status::Rejected, "rolled back to the server's state");

    let kppn = world.server.login(&world.kppn_nik, crate::support::KPPN_PASSWORD).await.unwrap();
    let mut batches = std::collections::HashSet::new();
    for (i, (person, _)) in people.iter().enumerate() {
        let detail: MembershipDetail = kppn.get_json(&format!("/api/v1/memberships/{}", ids[i])).await;
        let expected = if i == 1 {
            Status::Rejected
        } else if i == 4 {
            Status::Registered
        } else {
            Status::Active
        };
        assert_eq!(detail.membership.status, expected, "request {i}");
        let audit: Page<AuditEntry> = kppn.get_json(&format!("/api/v1/audit?nik={}", person.nik)).await;
        let approvals: Vec<_> = audit.items.iter().filter(|e| e.to_status == Some(Status::Active)).collect();
        assert_eq!(approvals.len(), usize::from(expected == Status::Active), "request {i} approved exactly once");
        batches.extend(approvals.iter().map(|e| e.batch_id.expect("approved in the batch")));
    }
    assert_eq!(batches.len(), 1, "one batch id ties the approvals");
}

/// A deletion request made offline at the satker reaches the KPPN's Antrean; the KPPN
/// declines it offline while the satker asks again… the server decides: the decline lands,
/// the satker sees why; a second request for the same user made at another desk meanwhile
/// comes back refused (`deletion_request_exists`) beside the server's state.
async fn a_deletion_request_goes_both_ways_offline(world: World) {
    use myintress_core::api::{DeletionRequestState, Page};
    use myintress_core::registration::DeletionRequestInput;

    let operator = world.operator_desk().await;
    let (person, pdf) = input(36, "019001");
    operator.client.register(person.clone(), pdf).await.unwrap();
    operator.client.sync_once().await.unwrap();
    let kppn = world.kppn_desk().await;
    let id = kppn.client.queue().await.unwrap().into_iter().find(|r| r.membership.nik == person.nik).unwrap().membership.id;
    kppn.client.act(id, Action::Reject { reason: "Surat tugas tidak lengkap".into() }).await.unwrap();
    kppn.client.sync_once().await.unwrap();
    operator.client.sync_once().await.unwrap();

    let ask = || DeletionRequestInput { reason: "Pegawai pindah tugas".into(), letter_number: "ND-36/SATKER/2026".into() };
    let letter = || myintress_testkit::letter(&person.nik, &person.name, "ND-36/SATKER/2026");
    // The rules refuse early: a KPPN does not ask, an active user is not deleted.
    assert_eq!(kppn.client.request_deletion(id, ask(), letter()).await.unwrap_err().code(), ErrorCode::Forbidden);

    world.proxy.set_mode(Mode::Refuse);
    let local = operator.client.request_deletion(id, ask(), letter()).await.expect("queued offline");
    assert_eq!(local.state, DeletionRequestState::Open);
    assert_eq!(operator.client.request_deletion(id, ask(), letter()).await.unwrap_err().code(), ErrorCode::DeletionRequestExists);
    let rows = operator.client.deletion_requests().await.unwrap();
    assert_eq!((rows.len(), rows[0].pending), (1, 1), "shown, waiting for sync");
    world.proxy.set_mode(Mode::Pass);
    operator.client.sync_once().await.unwrap();
    let rows = operator.client.deletion_requests().await.unwrap();
    assert_eq!(rows.len(), 1, "the server's request replaced this desk's");
    assert_ne!(rows[0].request.id, local.id);
    assert_eq!((rows[0].pending, rows[0].request.letter_document_id.is_nil()), (0, false));

    // Another desk of the same satker knows the request from its first sync: asking again
    // is refused there at once.
    let second = world.operator_desk().await;
    assert_eq!(second.client.request_deletion(id, ask(), letter()).await.unwrap_err().code(), ErrorCode::DeletionRequestExists);
    kppn.client.sync_once().await.unwrap();
    let queued = kppn.client.queue().await.unwrap();
    let item = queued.iter().find(|r| r.deletion_request.is_some()).expect("the request in the KPPN's Antrean");
    assert_eq!(item.membership.id, id);
    let request_id = item.deletion_request.as_ref().unwrap().id;
    assert_eq!(kppn.client.document(item.deletion_request.as_ref().unwrap().letter_document_id).await.unwrap(), letter());

    world.proxy.set_mode(Mode::Refuse);
    let declined = kppn.client.decline_deletion(request_id, "Surat permohonan belum ditandatangani".into()).await.unwrap();
    assert_eq!(declined.state, DeletionRequestState::Declined);
    assert!(kppn.client.queue().await.unwrap().iter().all(|r| r.deletion_request.is_none()), "gone from the Antrean at once");
    world.proxy.set_mode(Mode::Pass);
    kppn.client.sync_once().await.unwrap();
    assert!(kppn.client.outbox().await.unwrap().is_empty());

    // The satker sees why, and may ask again; two desks do so at once, offline: the first
    // to reach the server opens it, the other comes back refused.
    operator.client.sync_once().await.unwrap();
    let rows = operator.client.deletion_requests().await.unwrap();
    assert_eq!(rows[0].request.decline_reason.as_deref(), Some("Surat permohonan belum ditandatangani"));
    second.client.sync_once().await.unwrap();
    let again = second.client.request_deletion(id, ask(), letter()).await.unwrap();
    let third = world.operator_desk().await;
    third.client.request_deletion(id, ask(), letter()).await.unwrap();
    second.client.sync_once().await.unwrap();
    third.client.sync_once().await.unwrap();
    let outbox = third.client.outbox().await.unwrap();
    assert_eq!(outbox.len(), 1, "the second open request is refused, kept beside the server's state");
    assert_eq!(outbox[0].answer.as_ref().unwrap().code, ErrorCode::DeletionRequestExists);
    assert!(third.client.deletion_requests().await.unwrap().iter().all(|r| r.request.id != again.id || r.pending == 0));

    // The KPPN deletes the user: the request is done, on the server and on the desks.
    kppn.client.sync_once().await.unwrap();
    kppn.client
        .delete(
            id,
            myintress_core::registration::DeletionInput { reason: "Pindah tugas".into(), decree_number: "SK-36/2026".into() },
            letter(),
        )
        .await
        .unwrap();
    kppn.client.sync_once().await.unwrap();
    let server = world.server.login(&world.kppn_nik, crate::support::KPPN_PASSWORD).await.unwrap();
    let done: Page<myintress_core::api::DeletionRequest> = server.get_json("/api/v1/deletion-requests?status=done").await;
    assert_eq!(done.items.len(), 1);
    second.client.sync_once().await.unwrap();
    assert!(second.client.deletion_requests().await.unwrap().iter().all(|r| r.request.state != DeletionRequestState::Open));
}
