//! The HTTP adapter for a real civil registry, against a registry served over real HTTP
//! on 127.0.0.1 by this test: it retries 5xx with backoff, reads 404 as "NIK not found",
//! and gives up with `dukcapil_unavailable` (nothing stored) when the registry keeps failing.

use myintress_core::ErrorCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use reqwest::StatusCode as Status;

use crate::support::{Backend, Registration, TestServer, problem, resident};

/// A registry that fails `flaky` times for every NIK before answering, and knows only
/// residents 1–100.
async fn registry(flaky: u32) -> (String, Arc<AtomicU32>) {
    let calls = Arc::new(AtomicU32::new(0));
    let app = axum::Router::new()
        .route(
            "/nik/{nik}",
            axum::routing::get(|State((calls, flaky)): State<(Arc<AtomicU32>, u32)>, Path(nik): Path<String>| async move {
                let n = calls.fetch_add(1, Ordering::SeqCst);
                if n % (flaky + 1) < flaky {
                    return StatusCode::SERVICE_UNAVAILABLE.into_response();
                }
                match (1..=100).map(resident).find(|(k, _)| *k == nik) {
                    Some((nik, name)) => axum::Json(serde_json::json!({
                        "nik": nik, "nama_lengkap": name.to_uppercase(), "tanggal_lahir": "1990-01-12", "jenis_kelamin": "L"
                    }))
                    .into_response(),
                    None => StatusCode::NOT_FOUND.into_response(),
                }
            }),
        )
        .with_state((calls.clone(), flaky));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, calls)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dukcapil_http_adapter_retries_then_answers() {
    let (url, calls) = registry(2).await;
    let server = TestServer::start_with(&Backend::Sqlite, |s| s.dukcapil_url = Some(url.parse().unwrap())).await;
    let kppn = server.verifier("019").await;
    calls.store(0, Ordering::SeqCst);
    kppn.registered(&Registration::new(5, "019001")).await;
    assert_eq!(calls.load(Ordering::SeqCst), 3, "two 503s, then the answer");

    calls.store(0, Ordering::SeqCst);
    let (status, p) = problem(kppn.register(&Registration::new(5, "019001").set("nik", "3171011201999999")).await).await;
    assert_eq!((status, p.code.clone()), (Status::UNPROCESSABLE_ENTITY, ErrorCode::NikNotFound), "404 from the registry");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dukcapil_http_adapter_gives_up_after_retries() {
    let (url, calls) = registry(10).await;
    let server = TestServer::start_with(&Backend::Sqlite, |s| s.dukcapil_url = Some(url.parse().unwrap())).await;
    let kppn = server.verifier("019").await;
    calls.store(0, Ordering::SeqCst);
    let (status, p) = problem(kppn.register(&Registration::new(6, "019001")).await).await;
    assert_eq!((status, p.code.clone()), (Status::SERVICE_UNAVAILABLE, ErrorCode::DukcapilUnavailable));
    assert_eq!(calls.load(Ordering::SeqCst), 4, "one try and three retries");
    assert!(kppn.rows_of(&resident(6).0).await.is_empty(), "nothing stored");
}
