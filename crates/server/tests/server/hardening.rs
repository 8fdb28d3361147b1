//! Hardening (what hostile or merely long use would otherwise wear down): spent
//! credentials do not pile up; no answer is kept by a cache.

use chrono::{Duration, Utc};
use myintress_server::store::{ActivationRow, LoginFailure, RefreshRow, TokenPurpose};

use crate::support::{Backend, Registration, TestServer};

myintress_testkit::on_both_backends!(spent_tokens_and_old_failures_are_purged, no_cache_keeps_an_answer);

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
