//! Bad input: each gets a clear problem document and changes nothing.

use myintress_core::ErrorCode;
use std::io::{Read, Write};

use myintress_core::api::ChangesPage;
use reqwest::StatusCode;

use crate::support::{Backend, Client, Registration, TestServer, problem};

myintress_testkit::on_both_backends!(bad_registrations_are_refused_and_change_nothing, oversized_bodies_are_refused_before_reading);

fn corpus(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../core/tests/pdf/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

async fn feed_len(client: &Client) -> usize {
    client.get_json::<ChangesPage>("/api/v1/changes?limit=2000").await.changes.len()
}

async fn bad_registrations_are_refused_and_change_nothing(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let before = feed_len(&kppn).await;

    let mut big = corpus("accepted/minimal-hand-written.pdf");
    // A valid PDF grown by a comment to one byte over 5 MiB.
    let eof = big.windows(5).rposition(|w| w == b"%%EOF").unwrap();
    let pad = myintress_core::pdf::MAX_DOCUMENT_BYTES + 1 - big.len();
    big.splice(eof..eof, std::iter::once(b'%').chain(std::iter::repeat_n(b' ', pad - 2)).chain(std::iter::once(b'\n')));
    assert_eq!(big.len(), 5 * 1024 * 1024 + 1);

    let base = Registration::new(300, "019001");
    let sql = "Robert'); DROP TABLE memberships;--";
    let cases: Vec<(&str, Registration, u16, ErrorCode, &str)> = vec![
        ("PNG renamed .pdf", base.clone().letter(corpus("bad/not_pdf-png-renamed.pdf")), 422, ErrorCode::LetterNotPdf, "letter"),
        ("5 MiB + 1 byte", base.clone().letter(big), 422, ErrorCode::LetterTooLarge, "letter"),
        ("user password", base.clone().letter(corpus("bad/encrypted-user-password-aes256.pdf")), 422, ErrorCode::LetterEncrypted, "letter"),
        ("truncated", base.clone().letter(corpus("bad/unreadable-truncated-half.pdf")), 422, ErrorCode::LetterUnreadable, "letter"),
        (
            "JavaScript",
            base.clone().letter(corpus("bad/active_content-javascript-openaction.pdf")),
            422,
            ErrorCode::LetterActiveContent,
            "letter",
        ),
        ("no letter", base.clone().without("letter"), 422, ErrorCode::FieldRequired, "letter"),
        ("NIK with letters", base.clone().set("nik", "31710112019000AB"), 422, ErrorCode::NikInvalid, "nik"),
        ("NIK of 15 digits", base.clone().set("nik", "317101120190001"), 422, ErrorCode::NikInvalid, "nik"),
        ("NIK of 17 digits", base.clone().set("nik", "31710112019000011"), 422, ErrorCode::NikInvalid, "nik"),
        ("NIK with 30 February", base.clone().set("nik", "3171013002900001"), 422, ErrorCode::NikInvalid, "nik"),
        ("SQL in the NIK", base.clone().set("nik", "1' OR '1'='1"), 422, ErrorCode::NikInvalid, "nik"),
        ("SQL in the name", base.clone().set("name", sql), 422, ErrorCode::NameMismatch, ""),
        ("bad e-mail", base.clone().set("email", "warga300@"), 422, ErrorCode::EmailInvalid, "email"),
        ("bad phone", base.clone().set("phone", "12"), 422, ErrorCode::PhoneInvalid, "phone"),
        ("unknown field", base.clone().set("role", "admin"), 422, ErrorCode::UnknownField, "role"),
        ("satker that does not exist", base.clone().set("satker_code", "999999"), 403, ErrorCode::SatkerOutOfScope, ""),
    ];
    for (what, registration, status, code, field) in cases {
        let (got, p) = problem(kppn.register(&registration).await).await;
        assert_eq!((got.as_u16(), p.code.clone()), (status, code), "{what}: {p:?}");
        assert!(!p.detail.is_empty(), "{what}: a sentence to read");
        if !field.is_empty() {
            assert!(p.errors.iter().any(|e| e.field == field), "{what}: field {field} in {:?}", p.errors);
        }
    }
    assert_eq!(feed_len(&kppn).await, before, "no state change");
    assert!(server.activation_link("warga300@contoh.go.id").await.is_none(), "no account created");

    // SQL in a free-text field is stored as text, and searching with SQL finds nothing odd.
    let m = kppn.registered(&base.clone().set("letter_number", sql)).await;
    assert_eq!(m.letter_number, sql);
    let page: myintress_core::api::Page<myintress_core::api::Membership> =
        kppn.get_json("/api/v1/memberships?q=%25'%20OR%201%3D1%20--").await;
    assert!(page.items.is_empty());
    let all: myintress_core::api::Page<myintress_core::api::Membership> = kppn.get_json("/api/v1/memberships").await;
    assert_eq!(all.items.len(), 1, "the table is still there");

    // Unknown JSON fields, and JSON that is not JSON.
    let (status, p) = problem(
        kppn.post_json(&format!("/api/v1/memberships/{}/deactivate", m.id), serde_json::json!({"reason": "x", "force": true})).await,
    )
    .await;
    assert_eq!((status.as_u16(), p.code.clone()), (422, ErrorCode::UnknownField));
    let garbage = kppn
        .http
        .post(kppn.url(&format!("/api/v1/memberships/{}/deactivate", m.id)))
        .bearer_auth(&kppn.token)
        .header("content-type", "application/json")
        .body("{\"reason\": ")
        .send()
        .await
        .unwrap();
    let (status, p) = problem(garbage).await;
    assert_eq!((status.as_u16(), p.code.clone()), (400, ErrorCode::BadRequest));
    let (status, p) = problem(kppn.act(m.id, "deactivate", Some("   ")).await).await;
    assert_eq!((status.as_u16(), p.code.clone()), (422, ErrorCode::ReasonRequired));
    let (status, _) = problem(kppn.get("/api/v1/memberships?status=4").await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "there is no status 4");
    let (status, _) = problem(kppn.get("/api/v1/memberships/bukan-uuid").await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = problem(kppn.get("/api/v1/tidak-ada").await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn oversized_bodies_are_refused_before_reading(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let before = feed_len(&kppn).await;

    // A 10 MB JSON body, announced by Content-Length: the answer comes before we send a
    // single byte of it.
    let addr = server.base.trim_start_matches("http://").to_owned();
    let token = kppn.token.clone();
    let head = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
        write!(
            stream,
            "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 10485760\r\n\r\n"
        )
        .unwrap();
        let mut buf = [0u8; 4096];
        let n = stream.read(&mut buf).unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    })
    .await
    .unwrap();
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    assert!(head.contains("application/problem+json"), "{head}");

    // The same with the body actually sent.
    let body = format!("{{\"nik\": \"{}\"}}", "9".repeat(10 * 1024 * 1024));
    let response = server.http.post(server.url("/api/v1/auth/login")).header("content-type", "application/json").body(body).send().await;
    if let Ok(response) = response {
        let (status, p) = problem(response).await;
        assert_eq!((status, p.code.clone()), (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge));
    }
    assert_eq!(feed_len(&kppn).await, before);
}
