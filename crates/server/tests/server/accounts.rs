//! Accounts that belong to their people: mail that waits for the mail server instead of
//! getting lost, password reset that tells nobody which NIKs exist, change password and
//! sign-out everywhere, and a registration that never changes whose account it is.

use std::time::{Duration, Instant};

use myintress_core::ErrorCode;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Backend, Client, Registration, SmtpServer, TestServer, problem, resident};

myintress_testkit::on_both_backends!(
    mail_waits_for_the_mail_server_and_survives_a_restart,
    password_reset_answers_alike_and_ends_every_session,
    change_password_and_sign_out_everywhere,
    a_registration_never_changes_whose_account_it_is,
    the_kppn_corrects_an_address_and_the_old_link_stops_working,
    decisions_are_mailed_to_the_registered_person,
    a_session_unused_for_the_idle_limit_ends,
    the_server_host_disables_an_account_and_ends_its_sessions,
    verifiers_who_stop_signing_in_are_disabled,
);

async fn correct(server: &TestServer, who: &Client, id: uuid::Uuid, version: i64, body: serde_json::Value) -> reqwest::Response {
    let url = server.url(&format!("/api/v1/memberships/{id}/contact"));
    server.http.post(url).bearer_auth(&who.token).header("If-Match", format!("\"{version}\"")).json(&body).send().await.unwrap()
}

async fn resend(server: &TestServer, who: &Client, id: uuid::Uuid) -> StatusCode {
    let url = server.url(&format!("/api/v1/memberships/{id}/resend-activation"));
    server.http.post(url).bearer_auth(&who.token).send().await.unwrap().status()
}

async fn reset(server: &TestServer, nik: &str) -> (StatusCode, Vec<u8>) {
    let body = json!({"nik": nik, "captcha_id": "x", "captcha_answer": "x"});
    let response = server.http.post(server.url("/api/v1/auth/password-reset")).json(&body).send().await.unwrap();
    (response.status(), response.bytes().await.unwrap().to_vec())
}

async fn me(server: &TestServer, token: &str) -> StatusCode {
    server.http.get(server.url("/api/v1/me")).bearer_auth(token).send().await.unwrap().status()
}

async fn refresh(server: &TestServer, client: &Client) -> StatusCode {
    let body = json!({"refresh_token": client.pair.refresh_token});
    server.http.post(server.url("/api/v1/auth/refresh")).json(&body).send().await.unwrap().status()
}

async fn set_password(server: &TestServer, link: &str, password: &str) -> StatusCode {
    server.http.post(link).form(&[("password", password), ("password_confirmation", password)]).send().await.unwrap().status()
}

async fn mail_waits_for_the_mail_server_and_survives_a_restart(backend: &Backend) {
    let Some(mut smtp) = SmtpServer::start() else { return };
    smtp.stop();
    let mut server = TestServer::start_with(backend, |s| {
        s.smtp_url = Some(smtp.url().into());
        s.mail_dir = None;
    })
    .await;
    let kppn = server.verifier("019").await;
    // The registration does not wait for the mail server: it is accepted at once.
    kppn.registered(&Registration::new(80, "019001")).await;

    // The sender tried, failed, and keeps the e-mail for later.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let far = chrono::Utc::now() + chrono::Duration::days(1);
        let waiting = server.state().store.read().await.unwrap().due_mail(far, 10).await.unwrap();
        assert_eq!(waiting.len(), 1, "the activation e-mail waits in the outbox");
        if waiting[0].attempts >= 1 {
            break;
        }
        assert!(Instant::now() < deadline, "the sender never tried");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The API server restarts and the mail server comes back: the e-mail arrives, and its
    // link works.
    server.restart().await;
    smtp.resume();
    let link = smtp.wait_for_link("warga80@contoh.go.id", "/activate/").await;
    // (The restarted test server listens on a new port; a real one keeps its --public-url.)
    let path = &link[link.find("/activate/").unwrap()..];
    assert_eq!(set_password(&server, &server.url(path), "Rahasia#Pos2026").await, StatusCode::OK);
    server.mail_settled().await;
    assert_eq!(smtp.mails().len(), 1, "sent once");
}

async fn password_reset_answers_alike_and_ends_every_session(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let operator = server.operator(&kppn, "019001", 81).await;
    let email = "operator81@satker.go.id";

    // A NIK with an account, one without, and one that is not a NIK: the same answer.
    let known = reset(&server, &operator.nik).await;
    let unknown = reset(&server, &resident(9_981).0).await;
    let garbage = reset(&server, "bukan-nik").await;
    assert_eq!(known.0, StatusCode::ACCEPTED);
    assert_eq!(known, unknown, "status and body must not tell whether the NIK has an account");
    assert_eq!(known, garbage);
    let first = server.reset_link(email).await.expect("the reset e-mail");
    let resets = server.mails().await.iter().filter(|m| m.contains("/reset/")).count();
    assert_eq!(resets, 1, "only the account's e-mail gets a link");

    // A newer request replaces the link; the older one stops working.
    reset(&server, &operator.nik).await;
    let second = server.reset_link(email).await.unwrap();
    assert_ne!(first, second);
    assert_eq!(server.http.get(&first).send().await.unwrap().status(), StatusCode::GONE);
    // An activation link is not a reset link, nor the other way round.
    kppn.registered(&Registration::new(82, "019001")).await;
    let activation = server.activation_link("warga82@contoh.go.id").await.unwrap();
    let token = activation.rsplit('/').next().unwrap();
    assert_eq!(server.http.get(server.url(&format!("/reset/{token}"))).send().await.unwrap().status(), StatusCode::GONE);
    let token = second.rsplit('/').next().unwrap();
    assert_eq!(server.http.get(server.url(&format!("/activate/{token}"))).send().await.unwrap().status(), StatusCode::GONE);

    // The rules of the activation page hold; then the new password works, once, and every
    // session of the account has ended.
    assert_eq!(set_password(&server, &second, "12345678").await, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(set_password(&server, &second, "Baru#Reset2026").await, StatusCode::OK);
    let page = server
        .http
        .post(&second)
        .form(&[("password", "Lagi#Reset2026"), ("password_confirmation", "Lagi#Reset2026")])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::GONE, "single use");
    assert!(page.text().await.unwrap().contains("Lupa kata sandi?"), "the 410 page says how to ask again");
    assert_eq!(me(&server, &operator.token).await, StatusCode::UNAUTHORIZED, "the access token ended");
    assert_eq!(refresh(&server, &operator).await, StatusCode::UNAUTHORIZED, "the refresh token ended");
    assert!(server.login(&operator.nik, "Operator#Satker2026").await.is_err(), "the old password is gone");
    assert!(server.login(&operator.nik, "Baru#Reset2026").await.is_ok());
}

async fn change_password_and_sign_out_everywhere(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let here = server.operator(&kppn, "019001", 83).await;
    let there = server.login(&here.nik, "Operator#Satker2026").await.unwrap();
    let change = |current: &str, new: &str| json!({"current_password": current, "new_password": new});

    let (status, p) = problem(here.post_json("/api/v1/auth/password", change("salah-sekali", "Ganti#Sandi2026")).await).await;
    assert_eq!(
        (status, p.errors[0].field.as_str(), &p.errors[0].code),
        (StatusCode::UNPROCESSABLE_ENTITY, "current_password", &ErrorCode::CredentialsInvalid)
    );
    let (status, p) = problem(here.post_json("/api/v1/auth/password", change("Operator#Satker2026", "12345678")).await).await;
    assert_eq!(
        (status, p.errors[0].field.as_str(), &p.errors[0].code),
        (StatusCode::UNPROCESSABLE_ENTITY, "new_password", &ErrorCode::PasswordTooWeak)
    );

    let response = here.post_json("/api/v1/auth/password", change("Operator#Satker2026", "Ganti#Sandi2026")).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(me(&server, &here.token).await, StatusCode::OK, "the desk that changed it stays signed in");
    assert_eq!(me(&server, &there.token).await, StatusCode::UNAUTHORIZED, "every other session ended");
    assert_eq!(refresh(&server, &there).await, StatusCode::UNAUTHORIZED);
    assert!(server.login(&here.nik, "Operator#Satker2026").await.is_err());
    let third = server.login(&here.nik, "Ganti#Sandi2026").await.unwrap();

    // Keluar dari semua perangkat.
    assert_eq!(here.post("/api/v1/auth/logout-all").await.status(), StatusCode::NO_CONTENT);
    for client in [&here, &third] {
        assert_eq!(me(&server, &client.token).await, StatusCode::UNAUTHORIZED);
        assert_eq!(refresh(&server, client).await, StatusCode::UNAUTHORIZED);
    }
}

async fn a_registration_never_changes_whose_account_it_is(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let operator = server.operator(&kppn, "019002", 84).await;
    let person = resident(85).0;
    kppn.registered(&Registration::new(85, "019001").email("asli85@contoh.go.id")).await;
    assert!(server.activation_link("asli85@contoh.go.id").await.is_some());

    // Another satker's operator registers the same person with an address they control.
    let response = operator.register(&Registration::new(85, "019002").email("penyerang@contoh.go.id")).await;
    assert_eq!(response.status(), StatusCode::CREATED, "{}", response.text().await.unwrap());
    let mails = server.mails().await;
    assert!(!mails.iter().any(|m| m.contains("penyerang@contoh.go.id")), "no link goes to the second address");

    // The account still answers to the first address: a reset goes there.
    reset(&server, &person).await;
    assert!(server.reset_link("asli85@contoh.go.id").await.is_some());
    assert!(server.reset_link("penyerang@contoh.go.id").await.is_none());
}

async fn the_kppn_corrects_an_address_and_the_old_link_stops_working(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let elsewhere = server.verifier("020").await;
    let operator = server.operator(&kppn, "019001", 87).await;
    // The operator registers a colleague with an address the operator controls.
    let m = operator.registered(&Registration::new(88, "019001").email("dikuasai-operator@contoh.go.id")).await;
    let old = server.activation_link("dikuasai-operator@contoh.go.id").await.unwrap();

    // Only the KPPN of the satker may correct it, on the version it saw.
    let fix = json!({"email": "pemilik88@contoh.go.id"});
    assert_eq!(correct(&server, &operator, m.id, m.version, fix.clone()).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(correct(&server, &elsewhere, m.id, m.version, fix.clone()).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(correct(&server, &kppn, m.id, m.version + 5, fix.clone()).await.status(), StatusCode::CONFLICT);
    let (status, p) = problem(correct(&server, &kppn, m.id, m.version, json!({"email": "bukan-email"})).await).await;
    assert_eq!((status, &p.code), (StatusCode::UNPROCESSABLE_ENTITY, &ErrorCode::EmailInvalid));

    let response = correct(&server, &kppn, m.id, m.version, fix).await;
    assert_eq!(response.status(), StatusCode::OK);
    let corrected: myintress_core::api::Membership = response.json().await.unwrap();
    assert_eq!((corrected.email.as_str(), corrected.version), ("pemilik88@contoh.go.id", m.version + 1));
    let detail: myintress_core::api::MembershipDetail = kppn.get_json(&format!("/api/v1/memberships/{}", m.id)).await;
    assert!(detail.history.iter().any(|h| h.event == myintress_core::Event::ContactCorrected), "in the history");

    // The old link is void; the new one, at the corrected address, works.
    assert_eq!(server.http.get(&old).send().await.unwrap().status(), StatusCode::GONE);
    assert_eq!(server.activate("pemilik88@contoh.go.id", "Pemilik#Akun2026").await, StatusCode::OK);
    assert_eq!(resend(&server, &kppn, m.id).await, StatusCode::CONFLICT, "already_activated");

    // With a password set, a changed address is announced to both addresses.
    let before = server.mails().await.len();
    let now: myintress_core::api::MembershipDetail = kppn.get_json(&format!("/api/v1/memberships/{}", m.id)).await;
    let response = correct(&server, &kppn, m.id, now.membership.version, json!({"email": "baru88@contoh.go.id"})).await;
    assert_eq!(response.status(), StatusCode::OK);
    let mails = server.mails().await;
    assert_eq!(mails.len(), before + 2);
    for to in ["pemilik88@contoh.go.id", "baru88@contoh.go.id"] {
        assert!(mails.iter().any(|m| m.contains(to) && m.contains("diperbaiki")), "a notice to {to}");
    }

    // A person without a password: a resend voids the earlier link.
    let other = kppn.registered(&Registration::new(89, "019001")).await;
    let first = server.activation_link("warga89@contoh.go.id").await.unwrap();
    assert_eq!(resend(&server, &operator, other.id).await, StatusCode::FORBIDDEN);
    assert_eq!(resend(&server, &kppn, other.id).await, StatusCode::ACCEPTED);
    let second = server.activation_link("warga89@contoh.go.id").await.unwrap();
    assert_ne!(first, second);
    assert_eq!(server.http.get(&first).send().await.unwrap().status(), StatusCode::GONE);
    assert_eq!(server.http.get(&second).send().await.unwrap().status(), StatusCode::OK);
}

async fn decisions_are_mailed_to_the_registered_person(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let operator = server.operator(&kppn, "019001", 90).await;
    let approved = operator.registered(&Registration::new(91, "019001")).await;
    let rejected = operator.registered(&Registration::new(92, "019001")).await;
    assert_eq!(kppn.act(approved.id, "approve", None).await.status(), StatusCode::OK);
    assert_eq!(kppn.act(rejected.id, "reject", Some("Surat tugas belum ditandatangani")).await.status(), StatusCode::OK);
    let mails = server.mails().await;
    assert!(mails.iter().any(|m| m.contains("warga91@contoh.go.id") && m.contains("disetujui")), "approval mailed");
    assert!(
        mails.iter().any(|m| m.contains("warga92@contoh.go.id") && m.contains("ditolak") && m.contains("Surat tugas belum ditandatangani")),
        "rejection mailed with its reason"
    );
}

async fn a_session_unused_for_the_idle_limit_ends(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let operator = server.operator(&kppn, "019001", 94).await;
    // Used within the limit, a session goes on (and its clock restarts).
    server.idle_sessions(11).await;
    let body = json!({"refresh_token": operator.pair.refresh_token});
    let response = server.http.post(server.url("/api/v1/auth/refresh")).json(&body).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let pair: myintress_core::api::TokenPair = response.json().await.unwrap();
    // Unused for longer than --session-idle-hours (12), it ends; signing in again works.
    server.idle_sessions(13).await;
    let body = json!({"refresh_token": pair.refresh_token});
    let response = server.http.post(server.url("/api/v1/auth/refresh")).json(&body).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(server.login(&operator.nik, "Operator#Satker2026").await.is_ok());
}

/// The host's commands change the database beside the running server, as another replica
/// would: the server sees them once its session cache's lifetime has passed.
async fn the_server_host_disables_an_account_and_ends_its_sessions(backend: &Backend) {
    const CACHE: std::time::Duration = std::time::Duration::from_secs(1);
    let server = TestServer::start_with(backend, |s| s.session_cache_seconds = CACHE.as_secs()).await;
    let kppn = server.verifier("019").await;
    let leaving = server.verifier("019").await;
    assert_eq!(me(&server, &leaving.token).await, StatusCode::OK);

    let (ok, out) = server.cli(&["disable-account", "--nik", &leaving.nik], "");
    assert!(ok, "{out}");
    tokio::time::sleep(CACHE).await;
    assert_eq!(me(&server, &leaving.token).await, StatusCode::UNAUTHORIZED, "its next request is refused");
    assert_eq!(refresh(&server, &leaving).await, StatusCode::UNAUTHORIZED, "and its refresh");
    let Err((status, p)) = server.login(&leaving.nik, crate::support::VERIFIER_PASSWORD).await else {
        panic!("a disabled account signed in")
    };
    assert_eq!((status, p.code), (StatusCode::UNAUTHORIZED, ErrorCode::AccountDisabled));
    assert_eq!(me(&server, &kppn.token).await, StatusCode::OK, "nobody else is touched");

    let (ok, out) = server.cli(&["enable-account", "--nik", &leaving.nik], "");
    assert!(ok, "{out}");
    let back = server.login(&leaving.nik, crate::support::VERIFIER_PASSWORD).await.unwrap();
    assert_eq!(me(&server, &back.token).await, StatusCode::OK);
    let (ok, out) = server.cli(&["revoke-sessions", "--nik", &leaving.nik], "");
    assert!(ok, "{out}");
    tokio::time::sleep(CACHE).await;
    assert_eq!(me(&server, &back.token).await, StatusCode::UNAUTHORIZED);
    assert!(server.login(&leaving.nik, crate::support::VERIFIER_PASSWORD).await.is_ok(), "the password stays");
    let (ok, out) = server.cli(&["disable-account", "--nik", "3171011201999999"], "");
    assert!(!ok && out.contains("Tidak ada akun"), "{out}");
}

async fn verifiers_who_stop_signing_in_are_disabled(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let present = server.verifier("019").await;
    let gone = server.verifier("019").await;
    // The second verifier's last sign-in was seven months ago.
    let mut tx = server.state().store.write().await.unwrap();
    tx.set_last_sign_in(&gone.nik, chrono::Utc::now() - chrono::Duration::days(213)).await.unwrap();
    tx.commit().await.unwrap();

    let disabled = myintress_server::jobs::disable_idle_verifiers(server.state(), chrono::Utc::now()).await.unwrap();
    assert_eq!(disabled, 1);
    assert_eq!(me(&server, &gone.token).await, StatusCode::UNAUTHORIZED, "its sessions ended");
    let Err((status, p)) = server.login(&gone.nik, crate::support::VERIFIER_PASSWORD).await else {
        panic!("a disabled verifier signed in")
    };
    assert_eq!((status, p.code), (StatusCode::UNAUTHORIZED, ErrorCode::AccountDisabled));
    assert_eq!(me(&server, &present.token).await, StatusCode::OK, "a verifier who signs in keeps the account");
    assert_eq!(myintress_server::jobs::disable_idle_verifiers(server.state(), chrono::Utc::now()).await.unwrap(), 0, "once");
}
