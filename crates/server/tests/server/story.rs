//! The guide's scenarios, each named after its rule, on SQLite and on PostgreSQL.

use myintress_core::ErrorCode;
use myintress_core::api::{AuditEntry, ChangesPage, DigitAccount, Membership, MembershipDetail, Page};
use myintress_core::status::Status;
use reqwest::StatusCode;

use crate::support::{Backend, Registration, TestServer, letter, problem, resident};
use myintress_testkit::on_both_backends;

on_both_backends!(
    registrations_are_checked_while_typing_storing_nothing,
    registration_through_kppn_is_active_at_once,
    self_registration_by_active_operator_waits_for_kppn,
    self_registration_needs_an_active_user_of_that_satker,
    ali_0_5_1_becomes_ali_0_2,
    reentering_pending_replaces_the_request,
    reentering_active_or_dormant_is_refused,
    deletion_only_from_inactive_or_rejected_with_decree,
    deleted_user_cannot_sign_in,
    digit_found_vs_not_found_and_activation_link,
    activation_link_expires,
    name_score_below_threshold_is_refused_with_the_exact_text,
    name_threshold_is_a_setting,
    nik_not_found_is_refused_with_the_exact_text,
    dukcapil_unavailable_stores_nothing,
    dormancy_job_and_reactivation,
    sessions_end_with_the_last_active_membership,
    refresh_rotation_and_reuse_detection,
    lockout_after_repeated_failures_reveals_nothing,
    idempotency_key_replays_and_refuses_reuse,
    audit_trail_records_every_change,
    change_feed_is_ordered_scoped_and_gap_free_under_concurrency,
    documents_are_served_only_in_scope,
);

async fn registration_through_kppn_is_active_at_once(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let m = kppn.registered(&Registration::new(1, "019001").set("ticket_number", "HAI-0001")).await;
    assert_eq!(m.status, Status::Active, "the KPPN verified the letter itself (guide A)");
    assert_eq!(m.status_label, "Aktif");
    assert_eq!(m.ticket_number.as_deref(), Some("HAI-0001"));
    assert!(m.decided_at.is_some() && m.listed);
    assert!(server.activation_link("warga1@contoh.go.id").await.is_some(), "no DIGIT account yet: activation e-mail (guide A.4)");
}

async fn self_registration_by_active_operator_waits_for_kppn(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let operator = server.operator(&kppn, "019001", 10).await;
    let m = operator.registered(&Registration::new(2, "019001").set("ticket_number", "abaikan")).await;
    assert_eq!(m.status, Status::Registered, "guide B.3.a: 1 Terdaftar, belum disetujui");
    assert_eq!(m.ticket_number, None, "a ticket number belongs to the KPPN route");

    let approved: Membership = kppn.act(m.id, "approve", None).await.json().await.unwrap();
    assert_eq!(approved.status, Status::Active);
    assert_eq!(approved.decided_by.as_deref(), Some(kppn.pair.account.name.as_str()));
}

async fn self_registration_needs_an_active_user_of_that_satker(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let operator = server.operator(&kppn, "019002", 11).await;
    let (status, p) = problem(operator.register(&Registration::new(3, "019001")).await).await;
    assert_eq!((status, p.code.clone()), (StatusCode::FORBIDDEN, ErrorCode::SatkerOutOfScope), "another satker (Unit kerja)");

    // Once deactivated, the operator has no active membership: the session ends.
    let own = operator.pair.memberships[0].id;
    assert_eq!(kppn.act(own, "deactivate", Some("Pindah tugas")).await.status(), StatusCode::OK);
    let response = operator.register(&Registration::new(3, "019002")).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

async fn ali_0_5_1_becomes_ali_0_2(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let operator = server.operator(&kppn, "019001", 20).await;
    let ali = Registration::new(21, "019001");
    let nik = resident(21).0;

    let first = kppn.registered(&ali).await;
    assert_eq!(kppn.act(first.id, "deactivate", Some("Pensiun")).await.status(), StatusCode::OK);
    let second = operator.registered(&ali.clone().set("letter_number", "ST-2/UJI/2026")).await;
    assert_ne!(second.id, first.id, "after 0 a new row is added (Tip 4)");
    assert_eq!(kppn.act(second.id, "reject", Some("kurang lengkap")).await.status(), StatusCode::OK);
    let third = operator.registered(&ali.clone().set("letter_number", "ST-3/UJI/2026")).await;
    assert_eq!(third.status, Status::Registered);

    let shown: Vec<u8> = operator.rows_of(&nik).await.iter().map(|m| m.status.code()).collect();
    assert_eq!(shown, vec![0, 5, 1], "Ali 0, Ali 5, Ali 1");
    let rejected = operator.rows_of(&nik).await.into_iter().find(|m| m.status == Status::Rejected).unwrap();
    assert_eq!(rejected.rejection_reason.as_deref(), Some("kurang lengkap"));

    assert_eq!(kppn.act(third.id, "approve", None).await.status(), StatusCode::OK);
    let shown: Vec<u8> = operator.rows_of(&nik).await.iter().map(|m| m.status.code()).collect();
    assert_eq!(shown, vec![0, 2], "after approval: Ali 0, Ali 2");
    let detail: MembershipDetail = kppn.get_json(&format!("/api/v1/memberships/{}", second.id)).await;
    assert!(!detail.membership.listed, "the rejected row stays in the history, not in the list");
}

async fn reentering_pending_replaces_the_request(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let operator = server.operator(&kppn, "019001", 30).await;
    let first = operator.registered(&Registration::new(31, "019001")).await;

    let response = operator.register(&Registration::new(31, "019001").set("letter_number", "ST-BARU/2026")).await;
    assert_eq!(response.status(), StatusCode::OK, "a replacement answers 200, not 201");
    let second: Membership = response.json().await.unwrap();
    assert_eq!(second.id, first.id, "still one request (Tip 2)");
    assert_eq!(second.letter_number, "ST-BARU/2026", "the newest letter counts");
    assert_ne!(second.letter_document_id, first.letter_document_id);
    assert_eq!(operator.rows_of(&resident(31).0).await.len(), 1);

    // A decision based on the replaced request is refused as superseded.
    let stale = kppn
        .http
        .post(kppn.url(&format!("/api/v1/memberships/{}/approve", first.id)))
        .bearer_auth(&kppn.token)
        .header("If-Match", format!("\"{}\"", first.version))
        .send()
        .await
        .unwrap();
    let (status, p) = problem(stale).await;
    assert_eq!((status, p.code.clone()), (StatusCode::CONFLICT, ErrorCode::RequestSuperseded));
    assert_eq!(p.membership.unwrap().letter_number, "ST-BARU/2026", "the body carries the current state");
}

async fn reentering_active_or_dormant_is_refused(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let active = kppn.registered(&Registration::new(40, "019001")).await;
    let (status, p) = problem(kppn.register(&Registration::new(40, "019001")).await).await;
    assert_eq!((status, p.code.clone()), (StatusCode::CONFLICT, ErrorCode::AlreadyActive), "Tip 3");

    // The dormancy job, as if seven months passed without sign-in.
    let later = chrono::Utc::now() + chrono::Months::new(7);
    myintress_server::registry::mark_dormant(server.state(), later).await.unwrap();
    let (status, p) = problem(kppn.register(&Registration::new(40, "019001")).await).await;
    assert_eq!((status, p.code.clone()), (StatusCode::CONFLICT, ErrorCode::DormantExists));
    assert!(p.detail.contains("KPPN"), "{}", p.detail);
    let _ = active;
}

async fn deletion_only_from_inactive_or_rejected_with_decree(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let m = kppn.registered(&Registration::new(50, "019001")).await;
    let sk = letter("0", "SK Penghapusan", "SK-7/2026");

    let (status, p) = problem(kppn.delete(m.id, "Permintaan satker", "SK-7/2026", sk.clone()).await).await;
    assert_eq!((status, p.code.clone()), (StatusCode::CONFLICT, ErrorCode::InvalidTransition), "an active user cannot be deleted");

    assert_eq!(kppn.act(m.id, "deactivate", Some("Mutasi")).await.status(), StatusCode::OK);
    let (status, p) = problem(kppn.delete(m.id, "", "SK-7/2026", sk.clone()).await).await;
    assert_eq!((status, p.errors[0].field.as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "reason"), "a reason is required: {p:?}");
    let response = kppn.delete(m.id, "Permintaan satker", "SK-7/2026", sk).await;
    assert_eq!(response.status(), StatusCode::OK);

    assert!(kppn.rows_of(&resident(50).0).await.is_empty(), "gone from Daftar Pengguna");
    assert_eq!(kppn.get(&format!("/api/v1/memberships/{}", m.id)).await.status(), StatusCode::NOT_FOUND);
    let audit: Page<AuditEntry> = kppn.get_json(&format!("/api/v1/audit?nik={}", resident(50).0)).await;
    let events: Vec<&str> = audit.items.iter().map(|a| a.event.as_str()).collect();
    assert_eq!(events, vec!["register", "deactivate", "delete"], "kept in the audit trail");
    assert_eq!(audit.items[2].reason.as_deref(), Some("Permintaan satker"));
}

async fn deleted_user_cannot_sign_in(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let operator = server.operator(&kppn, "019001", 60).await;
    let own = operator.pair.memberships[0].id;
    assert_eq!(kppn.act(own, "deactivate", Some("Berhenti")).await.status(), StatusCode::OK);
    let (status, p) = server.login(&operator.nik, "Operator#Satker2026").await.err().unwrap();
    assert_eq!((status, p.code.clone()), (StatusCode::UNAUTHORIZED, ErrorCode::AccountInactive));
    let sk = letter("0", "SK", "SK-1/2026");
    assert_eq!(kppn.delete(own, "Berhenti", "SK-1/2026", sk).await.status(), StatusCode::OK);
    let (status, p) = server.login(&operator.nik, "Operator#Satker2026").await.err().unwrap();
    assert_eq!((status, p.code.clone()), (StatusCode::UNAUTHORIZED, ErrorCode::CredentialsInvalid), "no access any more");
}

async fn digit_found_vs_not_found_and_activation_link(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let nik = resident(70).0;
    let (status, p) = problem(kppn.get(&format!("/api/v1/digit/{nik}")).await).await;
    assert_eq!((status, p.code.clone()), (StatusCode::NOT_FOUND, ErrorCode::DigitAccountNotFound));

    kppn.registered(&Registration::new(70, "019001")).await;
    let found: DigitAccount = kppn.get_json(&format!("/api/v1/digit/{nik}")).await;
    assert_eq!((found.name.as_str(), found.email.as_str()), (resident(70).1.as_str(), "warga70@contoh.go.id"));

    let link = server.activation_link("warga70@contoh.go.id").await.expect("activation e-mail written");
    let page = server.http.get(&link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Kata sandi"));
    // Rules: too short, common, mismatch — each shows the form again with the reason.
    for (pw, confirm, text) in [
        ("pendek", "pendek", "minimal 8"),
        ("password123", "password123", "terlalu umum"),
        ("Rahasia#Unik2026", "Rahasia#Unik2025", "tidak sama"),
    ] {
        let r = server.http.post(&link).form(&[("password", pw), ("password_confirmation", confirm)]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains(text), "{pw}");
    }
    assert_eq!(server.activate("warga70@contoh.go.id", "Rahasia#Unik2026").await, StatusCode::OK);
    assert_eq!(server.activate("warga70@contoh.go.id", "Rahasia#Unik2027").await, StatusCode::GONE, "single use");
    assert!(server.login(&nik, "Rahasia#Unik2026").await.is_ok(), "the new password signs in");

    // A person who already has a DIGIT account gets no second e-mail.
    let before = server.mails().await.len();
    kppn.registered(&Registration::new(70, "019002")).await;
    assert_eq!(server.mails().await.len(), before);
}

async fn activation_link_expires(backend: &Backend) {
    let server = TestServer::start_with(backend, |s| s.activation_hours = 0).await;
    let kppn = server.verifier("019").await;
    kppn.registered(&Registration::new(71, "019001")).await;
    let link = server.activation_link("warga71@contoh.go.id").await.unwrap();
    let page = server.http.get(&link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::GONE);
    assert!(page.text().await.unwrap().contains("kedaluwarsa"));
}

async fn name_score_below_threshold_is_refused_with_the_exact_text(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let before = kppn.get_json::<ChangesPage>("/api/v1/changes").await.changes.len();
    let (status, p) = problem(kppn.register(&Registration::new(80, "019001").set("name", "Bambang Sutrisno")).await).await;
    assert_eq!((status, p.code.clone()), (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::NameMismatch));
    let (score, threshold) = (p.score.unwrap(), p.threshold.unwrap());
    assert!(score < 80 && threshold == 80);
    assert_eq!(p.detail, format!("Berdasarkan pengecekan di DUKCAPIL: Nama lengkap tidak valid {score}/80"));
    // Explained without the registry's spelling: the typed words, each found or not.
    let explanation = p.explanation.expect("explained");
    assert_eq!(explanation.compared, "bambang sutrisno");
    let registry_words: Vec<String> = myintress_core::name_match::normalize(&resident(80).1).split(' ').map(String::from).collect();
    for w in &explanation.words {
        assert_eq!(w.found, registry_words.contains(&w.word), "{w:?}");
    }
    let body = serde_json::to_string(&explanation).unwrap();
    for word in &registry_words {
        assert!(explanation.words.iter().any(|w| &w.word == word) || !body.contains(word.as_str()), "the registry's {word} leaked: {body}");
    }
    assert_eq!(kppn.get_json::<ChangesPage>("/api/v1/changes").await.changes.len(), before, "nothing stored");

    // A typo and a title are within 80%.
    let name = format!("Drs. {}x", resident(80).1);
    assert_eq!(kppn.register(&Registration::new(80, "019001").set("name", &name)).await.status(), StatusCode::CREATED);
}

async fn name_threshold_is_a_setting(backend: &Backend) {
    let server = TestServer::start_with(backend, |s| s.name_threshold = 95).await;
    let kppn = server.verifier("019").await;
    let name = format!("{}xy", resident(81).1);
    let (_, p) = problem(kppn.register(&Registration::new(81, "019001").set("name", &name)).await).await;
    assert!(p.detail.ends_with("/95"), "{}", p.detail);
}

async fn nik_not_found_is_refused_with_the_exact_text(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let (status, p) = problem(kppn.register(&Registration::new(90, "019001").set("nik", "3171011201999999")).await).await;
    assert_eq!((status, p.code.clone()), (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::NikNotFound));
    assert_eq!(p.detail, "Berdasarkan pengecekan di DUKCAPIL: NIK tidak ditemukan");
}

async fn dukcapil_unavailable_stores_nothing(backend: &Backend) {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let server = TestServer::start_with(backend, |s| s.dukcapil_url = Some(format!("http://127.0.0.1:{port}/").parse().unwrap())).await;
    let kppn = server.verifier("019").await;
    let (status, p) = problem(kppn.register(&Registration::new(91, "019001")).await).await;
    assert_eq!((status, p.code.clone()), (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::DukcapilUnavailable));
    assert!(kppn.rows_of(&resident(91).0).await.is_empty());
    assert!(server.activation_link("warga91@contoh.go.id").await.is_none(), "no account, no e-mail");
}

async fn dormancy_job_and_reactivation(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let operator = server.operator(&kppn, "019001", 100).await;
    let own = operator.pair.memberships[0].id;
    let now = chrono::Utc::now();
    assert_eq!(myintress_server::registry::mark_dormant(server.state(), now + chrono::Months::new(5)).await.unwrap(), 0);
    assert!(myintress_server::registry::mark_dormant(server.state(), now + chrono::Months::new(7)).await.unwrap() >= 1);
    let m: MembershipDetail = kppn.get_json(&format!("/api/v1/memberships/{own}")).await;
    assert_eq!(m.membership.status, Status::Dormant);
    assert_eq!(m.history.last().unwrap().event, myintress_core::Event::MarkDormant);
    let (status, p) = server.login(&operator.nik, "Operator#Satker2026").await.err().unwrap();
    assert_eq!((status, p.code.clone()), (StatusCode::UNAUTHORIZED, ErrorCode::AccountDormant));
    assert!(p.detail.contains("KPPN"));

    let back: Membership = kppn.act(own, "reactivate", None).await.json().await.unwrap();
    assert_eq!(back.status, Status::Active);
    assert!(server.login(&operator.nik, "Operator#Satker2026").await.is_ok());
}

async fn sessions_end_with_the_last_active_membership(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let operator = server.operator(&kppn, "019001", 110).await;
    assert_eq!(operator.get("/api/v1/me").await.status(), StatusCode::OK);
    assert_eq!(kppn.act(operator.pair.memberships[0].id, "deactivate", Some("Mutasi")).await.status(), StatusCode::OK);
    assert_eq!(operator.get("/api/v1/me").await.status(), StatusCode::UNAUTHORIZED);
    let refreshed = operator.post_json("/api/v1/auth/refresh", serde_json::json!({"refresh_token": operator.pair.refresh_token})).await;
    assert_eq!(refreshed.status(), StatusCode::UNAUTHORIZED);
}

async fn refresh_rotation_and_reuse_detection(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let refresh = |token: String| {
        let http = server.http.clone();
        let url = server.url("/api/v1/auth/refresh");
        async move { http.post(url).json(&serde_json::json!({ "refresh_token": token })).send().await.unwrap() }
    };
    let first = kppn.pair.refresh_token.clone();
    let response = refresh(first.clone()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let second: myintress_core::api::TokenPair = response.json().await.unwrap();
    assert_ne!(second.refresh_token, first, "rotated");

    let (status, p) = problem(refresh(first).await).await;
    assert_eq!((status, p.code.clone()), (StatusCode::UNAUTHORIZED, ErrorCode::RefreshTokenReused));
    let (status, _) = problem(refresh(second.refresh_token.clone()).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "reuse revoked the whole family");
    let me = server.http.get(server.url("/api/v1/me")).bearer_auth(&second.access_token).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED, "and its access tokens");
}

async fn lockout_after_repeated_failures_reveals_nothing(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let unknown = "3171011201999998";
    for nik in [kppn.nik.as_str(), unknown] {
        for _ in 0..myintress_server::session::MAX_FAILURES {
            let (status, p) = server.login(nik, "salah-salah-salah").await.err().unwrap();
            assert_eq!((status, p.code.clone()), (StatusCode::UNAUTHORIZED, ErrorCode::CredentialsInvalid));
        }
    }
    let (status, p) = server.login(&kppn.nik, "Verifikator#Uji2026").await.err().unwrap();
    assert_eq!((status, p.code.clone()), (StatusCode::LOCKED, ErrorCode::AccountLocked), "even the right password waits");
    let (status, _) = server.login(unknown, "apa saja").await.err().unwrap();
    assert_eq!(status, StatusCode::LOCKED, "a NIK that does not exist locks the same way");
}

async fn idempotency_key_replays_and_refuses_reuse(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let operator = server.operator(&kppn, "019001", 120).await;
    let m = operator.registered(&Registration::new(121, "019001")).await;
    let approve = |key: &'static str| {
        kppn.http
            .post(kppn.url(&format!("/api/v1/memberships/{}/approve", m.id)))
            .bearer_auth(&kppn.token)
            .header("If-Match", format!("\"{}\"", m.version))
            .header("Idempotency-Key", key)
            .send()
    };
    let first = approve("9b2f6d3e-0000-4000-8000-000000000001").await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let first_body = first.text().await.unwrap();
    let again = approve("9b2f6d3e-0000-4000-8000-000000000001").await.unwrap();
    assert_eq!(again.status(), StatusCode::OK, "replayed, not refused as already approved");
    assert_eq!(again.headers().get("idempotent-replayed").unwrap(), "true");
    assert_eq!(again.text().await.unwrap(), first_body);
    let detail: MembershipDetail = kppn.get_json(&format!("/api/v1/memberships/{}", m.id)).await;
    assert_eq!(detail.history.iter().filter(|h| h.event == myintress_core::Event::Approve).count(), 1, "applied once");

    // Same key, different request body.
    let other = kppn
        .http
        .post(kppn.url(&format!("/api/v1/memberships/{}/reject", m.id)))
        .bearer_auth(&kppn.token)
        .header("Idempotency-Key", "9b2f6d3e-0000-4000-8000-000000000001")
        .json(&serde_json::json!({"reason": "x"}))
        .send()
        .await
        .unwrap();
    let (status, p) = problem(other).await;
    assert_eq!((status, p.code.clone()), (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::IdempotencyKeyReused));

    // A registration resent with the same key and the very same bytes (as the desktop
    // client resends from its outbox) is replayed; other bytes under that key are refused.
    let registration = Registration::new(122, "019001");
    let (media, body) = registration.encoded("batas-uji-122");
    let send = |body: Vec<u8>| {
        operator
            .http
            .post(operator.url("/api/v1/registrations"))
            .bearer_auth(&operator.token)
            .header("Idempotency-Key", "reg-122")
            .header("content-type", media.clone())
            .body(body)
            .send()
    };
    assert_eq!(send(body.clone()).await.unwrap().status(), StatusCode::CREATED);
    let replay = send(body).await.unwrap();
    assert_eq!(replay.status(), StatusCode::CREATED, "the first answer again, not 200 'replaced'");
    assert_eq!(replay.headers().get("idempotent-replayed").unwrap(), "true");
    let (_, changed) = registration.clone().set("letter_number", "ST-LAIN/2026").encoded("batas-uji-122");
    let (status, p) = problem(send(changed).await.unwrap()).await;
    assert_eq!((status, p.code.clone()), (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::IdempotencyKeyReused));
    let rows = operator.rows_of(&resident(122).0).await;
    assert_eq!(rows.len(), 1, "never two rows");
    assert_eq!(rows[0].version, 1, "and not replaced either");
}

async fn audit_trail_records_every_change(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let operator = server.operator(&kppn, "019001", 130).await;
    let m = operator.registered(&Registration::new(131, "019001")).await;
    let response = kppn.act(m.id, "reject", Some("Surat tugas tidak ditandatangani")).await;
    let request_id = response.headers().get("x-request-id").unwrap().to_str().unwrap().to_owned();
    assert_eq!(response.status(), StatusCode::OK);

    let audit: Page<AuditEntry> = kppn.get_json(&format!("/api/v1/audit?nik={}", resident(131).0)).await;
    let reject = audit.items.iter().find(|a| a.event == myintress_core::Event::Reject).unwrap();
    assert_eq!(reject.actor_nik.as_deref(), Some(kppn.nik.as_str()));
    assert_eq!((reject.from_status, reject.to_status), (Some(Status::Registered), Some(Status::Rejected)));
    assert_eq!(reject.reason.as_deref(), Some("Surat tugas tidak ditandatangani"));
    assert_eq!(reject.request_id, request_id, "the request id ties the audit to the logs");
    let register = audit.items.iter().find(|a| a.event == myintress_core::Event::Register).unwrap();
    assert_eq!(register.actor_nik.as_deref(), Some(operator.nik.as_str()));

    // Satker operators do not read the audit trail; another KPPN sees nothing of it.
    assert_eq!(operator.get(&format!("/api/v1/audit?nik={}", resident(131).0)).await.status(), StatusCode::FORBIDDEN);
    let other = server.verifier("020").await;
    let none: Page<AuditEntry> = other.get_json(&format!("/api/v1/audit?nik={}", resident(131).0)).await;
    assert!(none.items.is_empty());
}

async fn change_feed_is_ordered_scoped_and_gap_free_under_concurrency(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let other = server.verifier("020").await;

    // A reader follows the feed while eight writers register in parallel.
    let reader = {
        let kppn = kppn.clone();
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut after = 0;
            for _ in 0..400 {
                let page: ChangesPage = kppn.get_json(&format!("/api/v1/changes?after={after}&limit=3")).await;
                for c in &page.changes {
                    assert!(c.seq > after, "strictly increasing: {} after {after}", c.seq);
                    seen.push(c.seq);
                    after = c.seq;
                }
                if seen.len() >= 3 + 24 {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            seen
        })
    };
    let mut writers = Vec::new();
    for w in 0..8u32 {
        let kppn = kppn.clone();
        writers.push(tokio::spawn(async move {
            for i in 0..3u32 {
                kppn.registered(&Registration::new(200 + w * 10 + i, if i % 2 == 0 { "019001" } else { "019002" })).await;
            }
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    let seen = reader.await.unwrap();
    let all: ChangesPage = kppn.get_json("/api/v1/changes?after=0&limit=2000").await;
    let all_seqs: Vec<i64> = all.changes.iter().map(|c| c.seq).collect();
    assert_eq!(seen, all_seqs, "the concurrent reader saw every change, in order, none skipped");
    assert!(!all.has_more);
    assert_eq!(all.remaining, None, "counted only when asked");

    // Asked, a page says how many changes in scope come after `after`, its own included.
    let counted: ChangesPage = kppn.get_json("/api/v1/changes?after=0&limit=5&count=true").await;
    assert_eq!(counted.remaining, Some(all_seqs.len() as i64));
    let rest: ChangesPage = kppn.get_json(&format!("/api/v1/changes?after={}&limit=5&count=true", counted.last_seq)).await;
    assert_eq!(rest.remaining, Some(all_seqs.len() as i64 - 5));
    let refused = kppn.get("/api/v1/changes?after=0&count=ya").await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);

    // Scope: the other KPPN sees only its own satker.
    let theirs: ChangesPage = other.get_json("/api/v1/changes?after=0").await;
    assert!(theirs.changes.iter().all(|c| c.entity["code"] == "020001" || c.entity["satker_code"] == "020001"), "{theirs:?}");
    // Every satker belongs to one of the two KPPNs: together the feeds are the whole
    // sequence, and it has no holes.
    let mut union: Vec<i64> = all_seqs.iter().chain(theirs.changes.iter().map(|c| &c.seq)).copied().collect();
    union.sort_unstable();
    assert_eq!(union, (1..=union.len() as i64).collect::<Vec<_>>(), "no gaps");
}

async fn documents_are_served_only_in_scope(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let m = kppn.registered(&Registration::new(140, "019001")).await;
    let response = kppn.get(&format!("/api/v1/documents/{}", m.letter_document_id)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "application/pdf");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers["content-disposition"].to_str().unwrap().contains("filename="));
    let bytes = response.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    let sha = myintress_server::documents::sha256_hex(&bytes);
    assert!(server.stored_documents().await.contains(&sha), "stored in the document store under its SHA-256");

    let other = server.verifier("020").await;
    assert_eq!(other.get(&format!("/api/v1/documents/{}", m.letter_document_id)).await.status(), StatusCode::NOT_FOUND);

    // Graceful shutdown: the server stops, and nothing answers afterwards.
    let url = server.url("/healthz");
    server.stop().await;
    assert!(reqwest::get(url).await.is_err());
}

/// `POST /registrations/check`: the civil registry's word on the NIK and the name before a
/// letter is chosen — the same codes a registration would get, the DIGIT account when
/// there is one, and nothing stored.
async fn registrations_are_checked_while_typing_storing_nothing(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let operator = server.operator(&kppn, "019001", 90).await;
    let before = kppn.get_json::<ChangesPage>("/api/v1/changes").await.changes.len();
    let (nik, name) = resident(91);
    let check = |who: &crate::support::Client, nik: &str, name: &str, satker: &str| {
        let body = serde_json::json!({"nik": nik, "name": name, "satker_code": satker});
        let who = who.clone();
        async move { who.post_json("/api/v1/registrations/check", body).await }
    };

    // A match: its score, no DIGIT account yet.
    let ok: myintress_core::api::RegistrationCheck = check(&kppn, &nik, &format!("Drs. {name}"), "019001").await.json().await.unwrap();
    assert!(ok.score >= 80 && ok.threshold == 80 && ok.digit_account.is_none(), "{ok:?}");
    // A mismatch, explained; an unknown NIK on its field; a bad NIK; another KPPN's satker.
    let (status, p) = problem(check(&kppn, &nik, "Bambang Sutrisno", "019001").await).await;
    assert_eq!((status, p.code), (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::NameMismatch));
    assert_eq!(p.explanation.expect("explained").compared, "bambang sutrisno");
    let (status, p) = problem(check(&kppn, "3171011201990999", "Siapa Saja", "019001").await).await;
    assert_eq!(
        (status, p.errors[0].field.as_str(), p.errors[0].code.clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, "nik", ErrorCode::NikNotFound)
    );
    let (status, p) = problem(check(&kppn, "12345", &name, "019001").await).await;
    assert_eq!((status, p.errors[0].field.as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "nik"));
    let (status, p) = problem(check(&kppn, &nik, &name, "020001").await).await;
    assert_eq!((status, p.code), (StatusCode::FORBIDDEN, ErrorCode::SatkerOutOfScope));
    let unknown =
        kppn.post_json("/api/v1/registrations/check", serde_json::json!({"nik": nik, "name": name, "satker_code": "019001", "x": 1})).await;
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(kppn.get_json::<ChangesPage>("/api/v1/changes").await.changes.len(), before, "nothing stored");

    // Once the person has a DIGIT account the check names it — masked for a satker operator.
    kppn.registered(&Registration::new(91, "019002")).await;
    let for_kppn: myintress_core::api::RegistrationCheck = check(&kppn, &nik, &name, "019001").await.json().await.unwrap();
    assert!(!for_kppn.digit_account.expect("a DIGIT account").masked);
    let for_operator: myintress_core::api::RegistrationCheck = check(&operator, &nik, &name, "019001").await.json().await.unwrap();
    assert!(for_operator.digit_account.expect("a DIGIT account").masked);
}
