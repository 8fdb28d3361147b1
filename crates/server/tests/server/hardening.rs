//! Hardening (what hostile or merely long use would otherwise wear down): spent
//! credentials do not pile up; no answer is kept by a cache.

use chrono::{Duration, Utc};
use myintress_server::store::{ActivationRow, LoginFailure, RefreshRow, TokenPurpose};

use crate::support::{Backend, Registration, TestServer};

myintress_testkit::on_both_backends!(
    spent_tokens_and_old_failures_are_purged,
    no_cache_keeps_an_answer,
    an_idempotency_key_means_the_request_not_its_bytes,
    an_action_needs_the_version_it_was_decided_on,
    the_captcha_is_solved_or_nothing,
    digit_lookups_are_masked_limited_and_recorded,
    the_name_score_is_no_oracle,
);

async fn spent_tokens_and_old_failures_are_purged(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let now = Utc::now();
    let long_ago = now - Duration::days(40);
    let refresh = |expires_at, revoked_at| RefreshRow {
        family_id: "f".into(),
        nik: "3171011201900001".into(),
        expires_at,
        used_at: None,
        revoked_at,
        issued_at: Some(long_ago),
    };
    let link = |expires_at, used_at| ActivationRow { nik: "3171011201900001".into(), expires_at, used_at, purpose: TokenPurpose::Reset };
    let failure =
        |at| LoginFailure { at, window_start: at - Duration::hours(12), max_failures: 10, lock_until: at + Duration::minutes(15) };

    let mut tx = server.state().store.write().await.unwrap();
    tx.insert_refresh("expired", &refresh(now - Duration::hours(1), None)).await.unwrap();
    tx.insert_refresh("revoked-long-ago", &refresh(now + Duration::days(20), Some(now - Duration::days(2)))).await.unwrap();
    tx.insert_refresh("live", &refresh(now + Duration::days(20), None)).await.unwrap();
    tx.insert_refresh("revoked-just-now", &refresh(now + Duration::days(20), Some(now))).await.unwrap();
    tx.insert_activation("link-expired", &link(now - Duration::minutes(1), None)).await.unwrap();
    tx.insert_activation("link-used", &link(now + Duration::hours(1), Some(now - Duration::days(2)))).await.unwrap();
    tx.insert_activation("link-live", &link(now + Duration::hours(1), None)).await.unwrap();
    tx.record_login_failure("3171011201900002", &failure(now - Duration::days(3))).await.unwrap();
    tx.record_login_failure("3171011201900003", &failure(now)).await.unwrap();
    tx.purge_expired(now).await.unwrap();
    tx.commit().await.unwrap();

    let mut conn = server.state().store.read().await.unwrap();
    for (hash, kept) in [("expired", false), ("revoked-long-ago", false), ("live", true), ("revoked-just-now", true)] {
        assert_eq!(conn.refresh(hash).await.unwrap().is_some(), kept, "refresh token {hash}");
    }
    for (hash, kept) in [("link-expired", false), ("link-used", false), ("link-live", true)] {
        assert_eq!(conn.activation(hash).await.unwrap().is_some(), kept, "link {hash}");
    }
    assert!(conn.login_attempts("3171011201900002").await.unwrap().is_none(), "failures of days ago");
    assert!(conn.login_attempts("3171011201900003").await.unwrap().is_some(), "a failure counting now");
}

async fn no_cache_keeps_an_answer(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let m = kppn.registered(&Registration::new(30, "019001")).await;
    let captcha = server.http.get(server.url("/api/v1/auth/captcha")).send().await.unwrap();
    let refresh =
        server.http.post(server.url("/api/v1/auth/refresh")).json(&serde_json::json!({"refresh_token": "x"})).send().await.unwrap();
    let answers = [
        ("captcha", captcha),
        ("refresh", refresh),
        ("me", kppn.get("/api/v1/me").await),
        ("memberships", kppn.get("/api/v1/memberships").await),
        ("document", kppn.get(&format!("/api/v1/documents/{}", m.letter_document_id)).await),
    ];
    for (what, response) in answers {
        assert_eq!(response.headers().get("cache-control").map(|v| v.to_str().unwrap()), Some("no-store"), "{what}");
    }
}

/// A client that writes the same request again with a new multipart boundary (reqwest,
/// curl and browsers all do) or other JSON spacing gets the first answer, not a
/// `422 idempotency_key_reused`; another request under the same key still gets one.
async fn an_idempotency_key_means_the_request_not_its_bytes(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let registration = Registration::new(31, "019001");
    let send = |form: reqwest::multipart::Form, key: &'static str| {
        kppn.http.post(kppn.url("/api/v1/registrations")).bearer_auth(&kppn.token).header("Idempotency-Key", key).multipart(form).send()
    };
    let first = send(registration.form(), "daftar-31").await.unwrap();
    assert_eq!(first.status().as_u16(), 201);
    let first: serde_json::Value = first.json().await.unwrap();
    // reqwest picks a new random boundary for every form.
    let again = send(registration.form(), "daftar-31").await.unwrap();
    assert_eq!(again.status().as_u16(), 201, "replayed");
    assert_eq!(again.headers().get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
    assert_eq!(again.json::<serde_json::Value>().await.unwrap(), first);
    let other = registration.clone().set("letter_number", "ST-9999/LAIN/2026");
    assert_eq!(send(other.form(), "daftar-31").await.unwrap().status().as_u16(), 422, "another request under the same key");

    // JSON: spacing and key order do not matter.
    let id = first["id"].as_str().unwrap();
    let path = kppn.url(&format!("/api/v1/memberships/{id}/deactivate"));
    let version = first["version"].as_i64().unwrap();
    let post = |body: &'static str| {
        kppn.http
            .post(&path)
            .bearer_auth(&kppn.token)
            .header("Idempotency-Key", "nonaktif-31")
            .header("If-Match", format!("\"{version}\""))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    assert_eq!(post(r#"{"reason":"pindah tugas"}"#).await.unwrap().status().as_u16(), 200);
    let again = post("{ \"reason\" :  \"pindah tugas\" }").await.unwrap();
    assert_eq!((again.status().as_u16(), again.headers().contains_key("idempotent-replayed")), (200, true));
}

/// Every action on an existing membership names the version it was decided on
/// (`If-Match`); without it, `428 precondition_required`, and nothing changes. Out of
/// scope it is `404` still: the missing header tells nothing.
async fn an_action_needs_the_version_it_was_decided_on(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let other = server.verifier("020").await;
    let operator = server.operator(&kppn, "019001", 32).await;
    let m = operator.registered(&Registration::new(33, "019001")).await;
    let (status, p) = crate::support::problem(kppn.post(&format!("/api/v1/memberships/{}/approve", m.id)).await).await;
    assert_eq!((status.as_u16(), p.code), (428, myintress_core::ErrorCode::PreconditionRequired));
    assert_eq!(other.post(&format!("/api/v1/memberships/{}/approve", m.id)).await.status().as_u16(), 404);
    let contact = kppn.post_json(&format!("/api/v1/memberships/{}/contact", m.id), serde_json::json!({"phone": "081298765432"})).await;
    assert_eq!(contact.status().as_u16(), 428);
    assert_eq!(kppn.version_of(m.id).await, Some(m.version), "nothing changed");
    assert_eq!(kppn.act(m.id, "approve", None).await.status().as_u16(), 200, "with the version it goes");
}

/// The captcha for real (every other test runs with it disabled): solving nothing, a
/// wrong answer, a forged or reused challenge all fail; the right answer (read with the
/// server's key, as only the server can) signs in once. Asking for challenges has its own
/// per-address limit.
async fn the_captcha_is_solved_or_nothing(backend: &Backend) {
    use myintress_server::settings::CaptchaMode;
    let server = TestServer::start_with(backend, |s| s.captcha = CaptchaMode::Image).await;
    let nik = "3273015708879000";
    myintress_server::demo::create_verifier(
        server.state(),
        nik,
        "Verifikator Uji",
        "uji@kemenkeu.go.id",
        "019",
        crate::support::VERIFIER_PASSWORD,
    )
    .await
    .unwrap();
    let challenge = || async {
        let c: myintress_core::api::CaptchaChallenge =
            server.http.get(server.url("/api/v1/auth/captcha")).send().await.unwrap().json().await.unwrap();
        assert!(c.image_png_base64.len() > 1000, "a drawn image");
        c.captcha_id
    };
    let server = &server;
    let login = |id: String, answer: String| async move {
        let body =
            serde_json::json!({"nik": nik, "password": crate::support::VERIFIER_PASSWORD, "captcha_id": id, "captcha_answer": answer});
        let response = server.http.post(server.url("/api/v1/auth/login")).json(&body).send().await.unwrap();
        let status = response.status().as_u16();
        let code = response.json::<serde_json::Value>().await.unwrap()["code"].as_str().unwrap_or_default().to_owned();
        (status, code)
    };
    let refused = (401, "captcha_invalid".to_owned());
    let answer_of = |id: &str| server.state().captcha.answer_for(id, Utc::now()).expect("a challenge of this server");

    assert_eq!(login(challenge().await, String::new()).await, refused, "solving nothing");
    let id = challenge().await;
    assert_eq!(login(id.clone(), "salah".into()).await, refused, "a wrong answer");
    assert_eq!(login(id.clone(), answer_of(&id)).await, refused, "a challenge is answerable once");
    assert_eq!(login("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into(), "abcde".into()).await, refused, "a forged id");
    let id = challenge().await;
    assert_eq!(login(id.clone(), answer_of(&id).to_uppercase()).await.0, 200, "the right answer, in any case");
    assert_eq!(login(id.clone(), answer_of(&id)).await, refused, "and only once");

    // Its own limit: a burst of challenges from one address is cut off.
    let mut limited = 0;
    for _ in 0..40 {
        if server.http.get(server.url("/api/v1/auth/captcha")).send().await.unwrap().status().as_u16() == 429 {
            limited += 1;
        }
    }
    assert!(limited > 0, "40 challenges at once from one address");
}

/// "Cari": a KPPN verifier gets what the form fills in, a satker operator the name with
/// NIP and e-mail masked; each lookup is recorded, and an account's lookups are limited.
async fn digit_lookups_are_masked_limited_and_recorded(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let operator = server.operator(&kppn, "019001", 34).await;
    kppn.registered(&Registration::new(35, "019001").set("nip", "198001012005011001")).await;
    let (nik, name) = myintress_testkit::resident(35);
    let path = format!("/api/v1/digit/{nik}");

    let full: myintress_core::api::DigitAccount = kppn.get_json(&path).await;
    assert_eq!((full.name.as_str(), full.nip.as_deref(), full.masked), (name.as_str(), Some("198001012005011001"), false));
    let masked: myintress_core::api::DigitAccount = operator.get_json(&path).await;
    assert!(masked.masked && masked.name == name);
    assert_eq!(masked.nip.as_deref(), Some("••••••••••••••1001"));
    assert!(masked.email.contains("•••@") && masked.email != full.email, "{}", masked.email);
    let recorded = server.state().store.read().await.unwrap().digit_lookups_by(&operator.nik).await.unwrap();
    assert_eq!(recorded, 1);

    let mut limited = 0;
    for _ in 0..40 {
        if operator.get(&path).await.status().as_u16() == 429 {
            limited += 1;
        }
    }
    assert!(limited > 0, "40 lookups at once by one account");
    assert_eq!(kppn.get(&path).await.status().as_u16(), 200, "another account is not held back");
}

/// A script that tries names learns the score of its first thirty misses, then only that
/// the name does not match.
async fn the_name_score_is_no_oracle(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let mut scores = Vec::new();
    for i in 0..32 {
        let wrong = Registration::new(36, "019001").set("name", &format!("Nama Lain Sekali {i}"));
        let (status, p) = crate::support::problem(kppn.register(&wrong).await).await;
        assert_eq!((status.as_u16(), p.code), (422, myintress_core::ErrorCode::NameMismatch));
        // The explanation's per-word answers are an oracle as well: held back alike.
        let explanation = p.explanation.expect("a name mismatch is explained");
        assert_eq!(explanation.compared, format!("nama lain sekali {i}"));
        scores.push((p.score, explanation.words.len()));
    }
    assert!(scores[..30].iter().all(|(s, words)| s.is_some() && *words == 4), "{scores:?}");
    assert!(scores[30..].iter().all(|(s, words)| s.is_none() && *words == 0), "{scores:?}");
}
