//! The reliability suite: hostile and heavy traffic against a real server, each scenario
//! bounded in time, each printing its figures (also written to
//! `test-artifacts/reliability/<scenario>.txt`; RELIABILITY.md holds the latest). What must
//! hold is asserted; how fast is only reported.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use myintress_testkit::{percentile, report};

use crate::support::{Backend, Registration, TestServer};

/// 1,000 connections that send half a request line and then nothing (slowloris) do not
/// stop a signed-in verifier's approvals; the server closes them after the header-read
/// timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_does_not_stop_approvals() {
    const SLOW: usize = 1000;
    const APPROVALS: u32 = 40;
    let server = TestServer::start_with(&Backend::Sqlite, |s| s.header_read_timeout = 3).await;
    let kppn = server.verifier("019").await;
    let operator = server.operator(&kppn, "019001", 200).await;
    let mut pending = Vec::new();
    for n in 0..APPROVALS {
        pending.push(operator.registered(&Registration::new(201 + n, "019001")).await);
    }

    let opened = Instant::now();
    let mut slow = Vec::with_capacity(SLOW);
    for _ in 0..SLOW {
        let mut stream = tokio::net::TcpStream::connect(server.addr()).await.expect("connect");
        stream.write_all(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: myintress\r\nX-Lambat: ").await.unwrap();
        slow.push(stream);
    }
    let open_time = opened.elapsed();

    let mut latencies = Vec::new();
    for m in &pending {
        let started = Instant::now();
        let response = kppn.act(m.id, "approve", None).await;
        latencies.push(started.elapsed());
        assert_eq!(response.status(), StatusCode::OK, "approval under a slowloris");
    }
    latencies.sort();

    // After the header-read timeout the server has hung up on every slow connection.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let mut closed = 0;
    for stream in &mut slow {
        let mut byte = [0u8; 1];
        match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut byte)).await {
            Ok(Ok(_)) | Ok(Err(_)) => closed += 1,
            Err(_) => {}
        }
    }
    report(
        "slowloris",
        &[
            format!("slow connections: {SLOW} (opened in {:.1} s), header-read timeout 3 s", open_time.as_secs_f64()),
            format!(
                "approvals meanwhile: {APPROVALS}/{APPROVALS} succeeded; p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
                percentile(&latencies, 0.5).as_secs_f64() * 1e3,
                percentile(&latencies, 0.99).as_secs_f64() * 1e3,
                latencies.last().unwrap().as_secs_f64() * 1e3
            ),
            format!("slow connections closed by the server afterwards: {closed}/{SLOW}"),
        ],
    );
    assert_eq!(closed, SLOW, "every slow connection is closed by the header-read timeout");
}

/// More requests at once than the server serves: the rest are told `503
/// service_overloaded` with `Retry-After` at once; none is half-applied, and each accepted
/// one is there exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overload_is_shed_with_retry_after_and_nothing_half_applied() {
    const BURST: u32 = 40;
    let server = TestServer::start_with(&Backend::Sqlite, |s| s.max_concurrent_requests = 4).await;
    let kppn = server.verifier("019").await;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for n in 0..BURST {
        let kppn = kppn.clone();
        tasks.push(tokio::spawn(async move {
            let response = kppn.register(&Registration::new(300 + n, "019001")).await;
            let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
            let status = response.status();
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            (n, status, retry_after, body)
        }));
    }
    let mut accepted = Vec::new();
    let mut shed = 0;
    for task in tasks {
        let (n, status, retry_after, body) = task.await.unwrap();
        match status.as_u16() {
            201 => accepted.push(n),
            503 => {
                assert_eq!(body["code"], "service_overloaded");
                assert!(retry_after.is_some(), "a 503 says when to try again");
                shed += 1;
            }
            other => panic!("registration {n}: {other} {body}"),
        }
    }
    let took = started.elapsed();
    // Exactly the accepted ones exist, each once.
    for n in 0..BURST {
        let (nik, _) = myintress_testkit::resident(300 + n);
        let rows = kppn.rows_of(&nik).await;
        assert_eq!(rows.len(), usize::from(accepted.contains(&n)), "resident {n}: {rows:?}");
    }
    report(
        "overload",
        &[
            format!("burst: {BURST} registrations at once (each with a letter check), --max-concurrent-requests 4"),
            format!("accepted: {}, shed with 503 + Retry-After: {shed}, other answers: 0, in {:.1} s", accepted.len(), took.as_secs_f64()),
            "half-applied: 0 (every accepted registration is there once, every shed one is absent)".into(),
        ],
    );
    assert!(!accepted.is_empty() && shed > 0, "some served, some shed: {} / {shed}", accepted.len());
}

/// A replica killed (SIGKILL) in the middle of a stream of registrations, the other one
/// carrying on behind the balancer: every registration the clients were told about is
/// there once, every membership's letter is in the store, and after the collector ran no
/// object is left without its row. PostgreSQL and the S3 store (the test command starts
/// both); skipped without them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_during_registrations_leaves_nothing_half_done() {
    const REGISTRATIONS: u32 = 60;
    let Some(mut server) = TestServer::start_replicas(2, |_| {}).await else {
        eprintln!("skipped: needs PostgreSQL and the S3 server of the test command");
        return;
    };
    let kppn = server.verifier("019").await;
    let mut tasks = Vec::new();
    for n in 0..REGISTRATIONS {
        let kppn = kppn.clone();
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(u64::from(n) * 5)).await;
            let response = kppn
                .http
                .post(kppn.url("/api/v1/registrations"))
                .bearer_auth(&kppn.token)
                .multipart(Registration::new(400 + n, "019001").form())
                .send()
                .await;
            (n, response.map(|r| r.status().as_u16()).unwrap_or(0))
        }));
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    let killed_at = Instant::now();
    server.kill_replica(0);
    let mut created = Vec::new();
    let mut cut = 0;
    for task in tasks {
        match task.await.unwrap() {
            (n, 201) => created.push(n),
            (_, 0 | 502 | 503) => cut += 1,
            (n, other) => panic!("registration {n}: {other}"),
        }
    }
    let after_kill = killed_at.elapsed();

    // Checked on the replica still running (the balancer still sends half to the dead one).
    let mut live = kppn.clone();
    live.base = server.replica_url(1);
    let kppn = live;
    // Every answered registration is there exactly once; the cut ones at most once.
    let mut present = 0;
    for n in 0..REGISTRATIONS {
        let (nik, _) = myintress_testkit::resident(400 + n);
        let rows = kppn.rows_of(&nik).await;
        assert!(rows.len() <= 1, "resident {n}: {rows:?}");
        if created.contains(&n) {
            assert_eq!(rows.len(), 1, "resident {n} was answered 201");
        }
        present += rows.len();
    }
    // Every membership's letter is stored; after collection no object lacks its row.
    let state = server.state();
    let page: myintress_core::api::Page<myintress_core::api::Membership> = kppn.get_json("/api/v1/memberships?limit=500").await;
    let stored = server.stored_documents().await;
    for m in &page.items {
        let doc = state.store.read().await.unwrap().document(m.letter_document_id).await.unwrap().expect("a document row");
        assert!(stored.contains(&doc.sha256), "the letter of {} is stored", m.nik);
    }
    let collected =
        myintress_server::documents::collect_garbage(state.store.as_ref(), &state.documents, chrono::Duration::zero(), chrono::Utc::now())
            .await
            .unwrap();
    let referenced = state.store.read().await.unwrap().referenced_documents().await.unwrap();
    for sha in server.stored_documents().await {
        assert!(referenced.contains(&sha), "object {sha} has no row after collection");
    }
    report(
        "replica-killed",
        &[
            format!(
                "{REGISTRATIONS} registrations, 25 ms apart, through a balancer over 2 replicas (PostgreSQL, S3 store); replica 0 SIGKILLed after 0.6 s"
            ),
            format!(
                "answered 201: {}, cut (connection lost or 502/503): {cut}, finished {:.1} s after the kill",
                created.len(),
                after_kill.as_secs_f64()
            ),
            format!("memberships present: {present} (every 201 once, no person twice); every membership's letter stored"),
            format!("objects without a row after collection: 0 (collector removed {})", collected.removed),
        ],
    );
}

/// What the request was, and the status (and code, when the answer is a problem document)
/// it must get.
struct Hostile {
    what: String,
    body: Vec<u8>,
    content_type: String,
    extra_header: Option<(String, String)>,
    status: u16,
    code: Option<&'static str>,
}

/// At least thirty kinds of hostile or broken registration, each refused with its own
/// status and code, and nothing stored: no membership, no change in the feed, no
/// account, no document.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_kinds_of_bad_input_are_refused_and_store_nothing() {
    let server = TestServer::start(&Backend::Sqlite).await;
    let kppn = server.verifier("019").await;
    let corpus = |name: &str| std::fs::read(format!("{}/../core/tests/pdf/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let base = Registration::new(500, "019001");
    let boundary = "batas-uji";
    let multipart = |r: &Registration| {
        let (_, body) = r.encoded(boundary);
        (body, format!("multipart/form-data; boundary={boundary}"))
    };
    let mut cases: Vec<Hostile> = Vec::new();
    let mut add = |what: &str, r: Registration, status: u16, code: &'static str| {
        let (body, content_type) = multipart(&r);
        cases.push(Hostile { what: what.to_owned(), body, content_type, extra_header: None, status, code: Some(code) });
    };
    for file in
        ["not_pdf-png-renamed.pdf", "not_pdf-html-renamed.pdf", "not_pdf-zip-docx-renamed.pdf", "not_pdf-header-not-at-offset-0.pdf"]
    {
        add(&format!("not a PDF: {file}"), base.clone().letter(corpus(&format!("bad/{file}"))), 422, "letter_not_pdf");
    }
    for file in ["encrypted-user-password-aes128.pdf", "encrypted-user-password-aes256.pdf", "encrypted-user-password-rc4.pdf"] {
        add(&format!("PDF with a user password: {file}"), base.clone().letter(corpus(&format!("bad/{file}"))), 422, "letter_encrypted");
    }
    for file in [
        "unreadable-deep-nesting.pdf",
        "unreadable-garbage-after-header.pdf",
        "unreadable-header-only.pdf",
        "unreadable-page-tree-loop.pdf",
        "unreadable-truncated-half.pdf",
        "unreadable-zero-pages.pdf",
    ] {
        add(&format!("broken PDF: {file}"), base.clone().letter(corpus(&format!("bad/{file}"))), 422, "letter_unreadable");
    }
    for file in [
        "active_content-javascript-name-tree.pdf",
        "active_content-javascript-openaction.pdf",
        "active_content-launch-action.pdf",
        "active_content-page-aa-javascript.pdf",
        "active_content-xfa-form.pdf",
    ] {
        add(&format!("PDF with active content: {file}"), base.clone().letter(corpus(&format!("bad/{file}"))), 422, "letter_active_content");
    }
    add("no letter", base.clone().without("letter"), 422, "field_required");
    add("NIK with letters", base.clone().set("nik", "31710112019000AB"), 422, "nik_invalid");
    add("NIK with an impossible birth date", base.clone().set("nik", "3171013002900001"), 422, "nik_invalid");
    add("SQL in the NIK", base.clone().set("nik", "1' OR '1'='1"), 422, "nik_invalid");
    add("a name of 10,000 characters", base.clone().set("name", &"A".repeat(10_000)), 422, "field_too_long");
    add("a NIP of 60 characters", base.clone().set("nip", &"1".repeat(60)), 422, "field_too_long");
    add(
        "a header injected into the e-mail",
        base.clone().set("email", "warga500@contoh.go.id\r\nBcc: semua@contoh.go.id"),
        422,
        "email_invalid",
    );
    add("a phone of two digits", base.clone().set("phone", "12"), 422, "phone_invalid");
    add("a field nobody asked for", base.clone().set("role", "admin"), 422, "unknown_field");
    add("a satker that does not exist", base.clone().set("satker_code", "999999"), 403, "satker_out_of_scope");
    add("a letter number of 1,000 characters", base.clone().set("letter_number", &"9".repeat(1000)), 422, "field_too_long");
    // Bytes that are not UTF-8 in a text field.
    let (mut body, content_type) = multipart(&base.clone().set("nik", "NIKXXXXXXXXXXXXX"));
    let at = body.windows(16).position(|w| w == b"NIKXXXXXXXXXXXXX").unwrap();
    body[at..at + 4].copy_from_slice(&[0xff, 0xfe, 0xc3, 0x28]);
    cases.push(Hostile {
        what: "invalid UTF-8 in the NIK".into(),
        body,
        content_type,
        extra_header: None,
        status: 422,
        code: Some("nik_invalid"),
    });
    // 10,000 form fields.
    let mut body = Vec::new();
    for i in 0..10_000 {
        body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"f{i}\"\r\n\r\nx\r\n").as_bytes());
    }
    body.extend(format!("--{boundary}--\r\n").as_bytes());
    cases.push(Hostile {
        what: "10,000 form fields".into(),
        body,
        content_type: format!("multipart/form-data; boundary={boundary}"),
        extra_header: None,
        status: 422,
        code: Some("unknown_field"),
    });
    let (body, content_type) = multipart(&base);
    cases.push(Hostile {
        what: "JSON declared, multipart sent".into(),
        body: body.clone(),
        content_type: "application/json".into(),
        extra_header: None,
        status: 415,
        code: Some("unsupported_media_type"),
    });
    cases.push(Hostile {
        what: "a 1 MB header".into(),
        body,
        content_type,
        extra_header: Some(("x-besar".into(), "a".repeat(1024 * 1024))),
        status: 431,
        code: None,
    });

    let mut refused = Vec::new();
    for case in cases {
        let mut request = kppn
            .http
            .post(kppn.url("/api/v1/registrations"))
            .bearer_auth(&kppn.token)
            .header("content-type", case.content_type.clone())
            .body(case.body.clone());
        if let Some((name, value)) = &case.extra_header {
            request = request.header(name.as_str(), value.as_str());
        }
        let response = match request.send().await {
            Ok(response) => response,
            // A header section over the server's limit is answered 431 and the connection
            // closed; the client may still be writing the rest of it, and then sees only the
            // close. Either way the request was refused before it was read.
            Err(e) if case.status == 431 => {
                refused.push(format!("{} → connection closed by the server ({e})", case.what));
                continue;
            }
            Err(e) => panic!("{}: {e}", case.what),
        };
        let status = response.status().as_u16();
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        assert_eq!(status, case.status, "{}: {body}", case.what);
        if let Some(code) = case.code {
            assert_eq!(body["code"], code, "{}", case.what);
            assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{}: a sentence to read", case.what);
        }
        refused.push(format!("{} → {status} {}", case.what, case.code.unwrap_or("(no document)")));
    }
    let kinds = refused.len();
    assert!(kinds >= 30, "{kinds} kinds");

    // Nothing stored.
    let page: myintress_core::api::Page<myintress_core::api::Membership> = kppn.get_json("/api/v1/memberships").await;
    let changes: myintress_core::api::ChangesPage = kppn.get_json("/api/v1/changes?limit=2000").await;
    let memberships_in_feed = changes.changes.iter().filter(|c| c.kind == myintress_core::api::ChangeKind::Membership).count();
    let stored = server.stored_documents().await;
    assert!(
        page.items.is_empty() && memberships_in_feed == 0 && stored.is_empty(),
        "stored: {:?}, {memberships_in_feed}, {stored:?}",
        page.items
    );
    assert!(server.state().store.read().await.unwrap().account(&base_nik()).await.unwrap().is_none(), "no account");
    let mut lines = vec![format!("{kinds} kinds of bad registration, each refused with its own status and code:")];
    lines.extend(refused.iter().map(|r| format!("  {r}")));
    lines.push("stored afterwards: 0 memberships, 0 membership changes in the feed, 0 accounts, 0 documents".into());
    report("bad-input", &lines);
}

fn base_nik() -> String {
    myintress_testkit::resident(500).0
}

/// A flood of anonymous captcha requests (the one endpoint anyone may call as often as
/// they like) while a verifier keeps registering: the flood is cut off per address, costs
/// the database nothing, and the registrations go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_captcha_flood_does_not_stop_registrations() {
    const FLOOD: usize = 10_000;
    const REGISTRATIONS: u32 = 20;
    let server = TestServer::start_with(&Backend::Sqlite, |s| s.captcha = myintress_server::settings::CaptchaMode::Image).await;
    let nik = "3273015708879001";
    myintress_server::demo::create_verifier(
        server.state(),
        nik,
        "Verifikator Banjir",
        "banjir@kemenkeu.go.id",
        "019",
        crate::support::VERIFIER_PASSWORD,
    )
    .await
    .unwrap();
    // Signed in through the real captcha (its answer read with the server's key).
    let challenge: myintress_core::api::CaptchaChallenge =
        server.http.get(server.url("/api/v1/auth/captcha")).send().await.unwrap().json().await.unwrap();
    let answer = server.state().captcha.answer_for(&challenge.captcha_id, chrono::Utc::now()).unwrap();
    let body = serde_json::json!({"nik": nik, "password": crate::support::VERIFIER_PASSWORD, "captcha_id": challenge.captcha_id, "captcha_answer": answer});
    let pair: myintress_core::api::TokenPair =
        server.http.post(server.url("/api/v1/auth/login")).json(&body).send().await.unwrap().json().await.unwrap();
    let token = pair.access_token;

    let started = Instant::now();
    let flood = {
        let (http, url) = (server.http.clone(), server.url("/api/v1/auth/captcha"));
        tokio::spawn(async move {
            let mut served = 0;
            let mut limited = 0;
            let mut tasks = tokio::task::JoinSet::new();
            for _ in 0..FLOOD {
                let (http, url) = (http.clone(), url.clone());
                tasks.spawn(async move { http.get(url).send().await.map(|r| r.status().as_u16()).unwrap_or(0) });
                // 50 in flight at a time.
                while tasks.len() >= 50 {
                    match tasks.join_next().await {
                        Some(Ok(200)) => served += 1,
                        Some(Ok(429)) => limited += 1,
                        other => panic!("captcha flood: {other:?}"),
                    }
                }
            }
            while let Some(done) = tasks.join_next().await {
                match done {
                    Ok(200) => served += 1,
                    Ok(429) => limited += 1,
                    other => panic!("captcha flood: {other:?}"),
                }
            }
            (served, limited)
        })
    };
    let mut latencies = Vec::new();
    for n in 0..REGISTRATIONS {
        let begun = Instant::now();
        let response = server
            .http
            .post(server.url("/api/v1/registrations"))
            .bearer_auth(&token)
            .multipart(Registration::new(600 - n, "019001").form())
            .send()
            .await
            .unwrap();
        latencies.push(begun.elapsed());
        assert_eq!(response.status(), StatusCode::CREATED, "registration {n} during the flood");
    }
    let (served, limited) = flood.await.unwrap();
    let took = started.elapsed();
    latencies.sort();
    report(
        "captcha-flood",
        &[
            format!("{FLOOD} captcha requests from one address, 50 at a time, with the captcha drawn (not disabled)"),
            format!(
                "served: {served}, cut off by the per-address limit (429): {limited}, in {:.1} s; no database write per challenge",
                took.as_secs_f64()
            ),
            format!(
                "registrations meanwhile: {REGISTRATIONS}/{REGISTRATIONS} created; p50 {:.0} ms, p99 {:.0} ms",
                percentile(&latencies, 0.5).as_secs_f64() * 1e3,
                percentile(&latencies, 0.99).as_secs_f64() * 1e3
            ),
        ],
    );
    assert_eq!(served + limited, FLOOD);
    assert!(limited > FLOOD / 2, "the flood is cut off: {served} served");
}

/// A small tmpfs mounted for one test (needs root, as the test command runs on its
/// machines; elsewhere the scenario is skipped, or fails when the test command requires
/// its tools). Unmounted on drop.
struct SmallVolume {
    path: std::path::PathBuf,
}

impl SmallVolume {
    fn mount(bytes: u64) -> Option<SmallVolume> {
        let path = myintress_testkit::scratch_dir().join(format!("volume-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&path).unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes},mode=0700"), "tmpfs"])
            .arg(&path)
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            let _ = std::fs::remove_dir(&path);
            assert!(std::env::var_os("MYINTRESS_TEST_TOOLS_REQUIRED").is_none(), "mounting a tmpfs needs root, which the test command has");
            eprintln!("skipped: cannot mount a tmpfs here (not root)");
            return None;
        }
        Some(SmallVolume { path })
    }

    /// Fills the volume to the last byte with one file; returns its path.
    fn fill(&self) -> std::path::PathBuf {
        use std::io::Write;
        let filler = self.path.join("pengisi");
        let mut file = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 64 * 1024];
        loop {
            match file.write(&block) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::StorageFull => break,
                Err(e) => panic!("filling the volume: {e}"),
            }
        }
        // Byte by byte to the very end, so not even a small letter fits.
        while file.write(&[0u8]).is_ok_and(|n| n == 1) {}
        filler
    }
}

impl Drop for SmallVolume {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(&self.path).status();
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A registration whose answer came back: status, code, `Retry-After`.
async fn register_with_key(kppn: &myintress_testkit::Client, n: u32, key: &str) -> (u16, String, bool) {
    let response = kppn
        .http
        .post(kppn.url("/api/v1/registrations"))
        .bearer_auth(&kppn.token)
        .header("Idempotency-Key", key)
        .multipart(Registration::new(n, "019001").form())
        .send()
        .await;
    match response {
        Ok(r) => {
            let status = r.status().as_u16();
            let retry_after = r.headers().contains_key("retry-after");
            let body: serde_json::Value = r.json().await.unwrap_or_default();
            (status, body["code"].as_str().unwrap_or_default().to_owned(), retry_after)
        }
        Err(_) => (0, String::new(), false),
    }
}

/// The documents volume full (a 1 MB tmpfs, filled): registrations are refused `507
/// storage_full` with `Retry-After`, and nothing is half-written — no membership, no feed
/// entry, no partial file. Once space is freed, the same requests (same keys) succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_documents_volume_refuses_with_507_and_writes_nothing_half() {
    const TRIED: u32 = 10;
    let Some(volume) = SmallVolume::mount(1024 * 1024) else { return };
    let documents = url::Url::from_directory_path(&volume.path).unwrap();
    let server = TestServer::start_with(&Backend::Sqlite, |s| s.documents_url = Some(documents)).await;
    let kppn = server.verifier("019").await;
    let before = kppn.registered(&Registration::new(500, "019001")).await;
    let feed_before: serde_json::Value = kppn.get_json("/api/v1/changes?limit=2000").await;
    let filler = volume.fill();
    let files_full = myintress_testkit::files_under(&volume.path);

    let keys: Vec<String> = (0..TRIED).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let mut refused = 0;
    for (n, key) in (0..TRIED).zip(&keys) {
        let (status, code, retry_after) = register_with_key(&kppn, 501 + n, key).await;
        assert_eq!((status, code.as_str()), (507, "storage_full"), "registration {n} on a full volume");
        assert!(retry_after, "a 507 says when to try again");
        refused += 1;
    }
    // Nothing half-written: no row, no feed entry, no file beyond what was there.
    for n in 0..TRIED {
        let (nik, _) = myintress_testkit::resident(501 + n);
        assert!(kppn.rows_of(&nik).await.is_empty(), "resident {n} was not stored");
    }
    let feed_full: serde_json::Value = kppn.get_json("/api/v1/changes?limit=2000").await;
    assert_eq!(feed_full, feed_before, "no feed entry for a refused registration");
    assert_eq!(myintress_testkit::files_under(&volume.path), files_full, "no partial or staging file left");
    // Reads go on: the letter stored before the volume filled is served.
    assert_eq!(kppn.get(&format!("/api/v1/documents/{}", before.letter_document_id)).await.status(), StatusCode::OK);

    // Space freed: the same requests land, each once.
    std::fs::remove_file(filler).unwrap();
    let mut landed = 0;
    for (n, key) in (0..TRIED).zip(&keys) {
        let (status, _, _) = register_with_key(&kppn, 501 + n, key).await;
        assert_eq!(status, 201, "registration {n} after space was freed");
        let (again, _, _) = register_with_key(&kppn, 501 + n, key).await;
        assert_eq!(again, 201, "the retry replays the answer");
        let (nik, _) = myintress_testkit::resident(501 + n);
        assert_eq!(kppn.rows_of(&nik).await.len(), 1);
        landed += 1;
    }
    report(
        "disk-full",
        &[
            "documents volume: a 1 MB tmpfs, filled to the last byte; the database on another volume".into(),
            format!("{TRIED} registrations on the full volume: {refused} refused 507 storage_full with Retry-After"),
            "half-written: 0 (no membership, no feed entry, no partial or staging file); reads of stored letters went on".into(),
            format!("after freeing space: the same {landed} requests (same Idempotency-Key) created once each"),
        ],
    );
}

/// The S3-compatible store away for 30 seconds (a proxy in front of it refuses every
/// connection) under a replica on PostgreSQL: registrations answer `503
/// storage_unavailable` with `Retry-After` in bounded time, lists that need no document
/// go on, and afterwards every refused request (same key) lands once with its letter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_store_away_for_30_seconds_is_503_then_recovers_losing_nothing() {
    use myintress_testkit::proxy::{FaultProxy, Mode};
    const AWAY: Duration = Duration::from_secs(30);
    let Some(endpoint) = std::env::var("AWS_ENDPOINT_URL").ok().filter(|_| myintress_testkit::s3_base().is_some()) else {
        eprintln!("skipped: needs the S3 server of the test command");
        return;
    };
    let upstream: std::net::SocketAddr = endpoint.trim_start_matches("http://").trim_end_matches('/').parse().unwrap();
    let s3_proxy = FaultProxy::start(upstream).await;
    let Some(server) = TestServer::start_replicas_env(1, &[("AWS_ENDPOINT_URL", s3_proxy.url())], |_| {}).await else {
        eprintln!("skipped: needs PostgreSQL and the S3 server of the test command");
        return;
    };
    let kppn = server.verifier("019").await;
    let before = kppn.registered(&Registration::new(540, "019001")).await;

    s3_proxy.set_mode(Mode::Refuse);
    let away_since = Instant::now();
    let mut refused = Vec::new();
    let mut latencies = Vec::new();
    let mut lists_ok = 0;
    let mut n = 0;
    while away_since.elapsed() < AWAY - Duration::from_secs(8) {
        let key = uuid::Uuid::new_v4().to_string();
        let started = Instant::now();
        let (status, code, retry_after) = register_with_key(&kppn, 541 + n, &key).await;
        latencies.push(started.elapsed());
        assert_eq!((status, code.as_str()), (503, "storage_unavailable"), "registration {n} while the store is away");
        assert!(retry_after, "a 503 says when to try again");
        refused.push((541 + n, key));
        if kppn.get("/api/v1/memberships?limit=5").await.status() == StatusCode::OK {
            lists_ok += 1;
        }
        n += 1;
    }
    let document = kppn.get(&format!("/api/v1/documents/{}", before.letter_document_id)).await;
    assert_eq!(document.status(), StatusCode::SERVICE_UNAVAILABLE, "a letter cannot be read while the store is away");
    tokio::time::sleep(AWAY.saturating_sub(away_since.elapsed())).await;
    s3_proxy.set_mode(Mode::Pass);
    let back_after = away_since.elapsed();

    // Back: every refused request, sent again with its key, lands once with its letter.
    for (resident, key) in &refused {
        let (status, code, _) = register_with_key(&kppn, *resident, key).await;
        assert_eq!(status, 201, "resident {resident} after the store came back: {code}");
    }
    let mut letters = 0;
    for (resident, _) in &refused {
        let (nik, _) = myintress_testkit::resident(*resident);
        let rows = kppn.rows_of(&nik).await;
        assert_eq!(rows.len(), 1, "resident {resident} once");
        let letter = kppn.get(&format!("/api/v1/documents/{}", rows[0].letter_document_id)).await;
        assert_eq!(letter.status(), StatusCode::OK);
        letters += 1;
    }
    assert_eq!(kppn.get(&format!("/api/v1/documents/{}", before.letter_document_id)).await.status(), StatusCode::OK);
    assert!(!refused.is_empty());
    latencies.sort();
    report(
        "s3-away",
        &[
            format!(
                "S3-compatible store unreachable for {:.0} s (a proxy refusing every connection) under a replica on PostgreSQL",
                back_after.as_secs_f64()
            ),
            format!(
                "{} registrations meanwhile: all 503 storage_unavailable with Retry-After; answer time p50 {:.1} s, max {:.1} s (the store client's retries, bounded)",
                refused.len(),
                percentile(&latencies, 0.5).as_secs_f64(),
                latencies.last().unwrap().as_secs_f64()
            ),
            format!("lists (no document needed) meanwhile: {lists_ok}/{} answered 200", refused.len()),
            format!(
                "after it came back: {letters}/{} sent again with their keys, each created once with its letter readable",
                refused.len()
            ),
        ],
    );
}
