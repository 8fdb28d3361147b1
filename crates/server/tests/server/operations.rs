//! What the people running the server rely on: `/readyz` for the load balancer,
//! `/metrics` for Prometheus (behind its token), and `backup` / `restore` that bring a
//! populated server back into an empty one with every membership, audit row and letter.

use myintress_core::api::{AuditEntry, Membership, Page};
use reqwest::StatusCode;

use crate::support::{Backend, Registration, TestServer, letter, resident, server_cli};

myintress_testkit::on_both_backends!(ready_and_counted, backed_up_and_restored,);

async fn ready_and_counted(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let ready = server.http.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!((body["database"].as_str(), body["documents"].as_str()), (Some("ok"), Some("ok")), "{body}");

    let kppn = server.verifier("019").await;
    let operator = server.operator(&kppn, "019001", 60).await;
    operator.registered(&Registration::new(61, "019001")).await;
    let refused = operator.register(&Registration::new(62, "019001").letter(b"%PDF-1.4 bukan surat".to_vec())).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A round of the background jobs beside the server's own first one (which may still
    // hold the job's lock for a moment).
    let later = chrono::Utc::now() + chrono::Duration::days(1);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while myintress_server::jobs::run_round(server.state(), later).await.unwrap().is_none() {
        assert!(std::time::Instant::now() < deadline, "the job's lock was never free");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    // The mail those made (the round's reminders among them) is sent before the scrape,
    // which reads the outbox's depth as it is at that moment.
    server.mail_settled().await;

    // Without the token, or with a wrong one, there is no such address.
    let metrics = server.url("/metrics");
    assert_eq!(server.http.get(&metrics).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(server.http.get(&metrics).bearer_auth("tebakan").send().await.unwrap().status(), StatusCode::NOT_FOUND);
    let answer = server.http.get(&metrics).bearer_auth(myintress_testkit::METRICS_TOKEN).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert!(answer.headers()["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
    let text = answer.text().await.unwrap();
    let value = |series: &str| -> f64 {
        let line = text.lines().find(|l| l.starts_with(series)).unwrap_or_else(|| panic!("no {series} in\n{text}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    // Requests by route template (not the concrete path) and status, with durations: the
    // operator's own registration by the KPPN, the operator's, the refused one.
    assert_eq!(value(r#"myintress_http_requests_total{method="POST",route="/api/v1/registrations",status="201"}"#), 2.0);
    assert_eq!(value(r#"myintress_http_requests_total{method="POST",route="/api/v1/registrations",status="422"}"#), 1.0);
    assert_eq!(value(r#"myintress_http_request_duration_seconds_count{method="POST",route="/api/v1/registrations"}"#), 3.0);
    assert!(!text.contains(&kppn.nik), "no NIK in any label");
    // Letter checks by outcome: the operator's letter, and the refused one (its envelope
    // passes, so the child saw it).
    assert!(value(r#"myintress_pdf_check_duration_seconds_count{outcome="accepted"}"#) >= 1.0);
    assert_eq!(value(r#"myintress_pdf_check_duration_seconds_count{outcome="refused"}"#), 1.0);
    // Every step of each round (the server's first and ours) once, none failed; the
    // outbox read at the scrape.
    let rounds = value(r#"myintress_job_runs_total{job="dormancy",outcome="ok"}"#);
    assert!(rounds >= 1.0);
    for job in ["verifier_dormancy", "purge", "documents", "compaction", "queue_flags", "reminders"] {
        assert_eq!(value(&format!(r#"myintress_job_runs_total{{job="{job}",outcome="ok"}}"#)), rounds, "{job}");
    }
    assert!(!text.contains(r#"outcome="failed""#), "{text}");
    assert_eq!(value("myintress_mail_outbox_depth"), 0.0);
    assert!(text.ends_with("# EOF\n"), "OpenMetrics text ends with # EOF");

    // A document store the server cannot reach: not ready, and says which part.
    if matches!(backend, Backend::Sqlite) {
        let documents = server.dir.join("documents");
        std::fs::remove_dir_all(&documents).unwrap();
        std::fs::write(&documents, b"bukan folder").unwrap();
        let ready = server.http.get(server.url("/readyz")).send().await.unwrap();
        assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body: serde_json::Value = ready.json().await.unwrap();
        assert_eq!((body["database"].as_str(), body["documents"].as_str()), (Some("ok"), Some("unavailable")), "{body}");
    }
}

async fn backed_up_and_restored(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let kppn = server.verifier("019").await;
    let operator = server.operator(&kppn, "019001", 70).await;
    let mut made = Vec::new();
    for n in 71..76 {
        made.push(operator.registered(&Registration::new(n, "019001")).await);
    }
    assert_eq!(kppn.act(made[0].id, "approve", None).await.status(), StatusCode::OK);
    assert_eq!(kppn.act(made[1].id, "reject", Some("Surat tugas tidak sesuai")).await.status(), StatusCode::OK);
    let (nik, name) = resident(72);
    let decree = letter(&nik, &name, "KEP-1/UJI/2026");
    assert_eq!(kppn.delete(made[1].id, "Pindah tugas", "KEP-1/UJI/2026", decree).await.status(), StatusCode::OK);

    let backup = server.dir.join("cadangan");
    let (ok, out) = server.cli(&["backup", "--to", backup.to_str().unwrap()], "");
    assert!(ok, "backup: {out}");
    assert!(out.contains("Cadangan dibuat"), "{out}");
    // The server keeps serving while it is copied, and a backup never overwrites another.
    let (ok, out) = server.cli(&["backup", "--to", backup.to_str().unwrap()], "");
    assert!(!ok && out.contains("tidak kosong"), "{out}");

    let rows = |client: &crate::support::Client| {
        let client = client.clone();
        async move {
            let mut rows: Vec<Membership> = client.get_json::<Page<Membership>>("/api/v1/memberships?limit=500").await.items;
            rows.sort_by_key(|m| m.id);
            rows
        }
    };
    let audit = |client: &crate::support::Client, nik: String| {
        let client = client.clone();
        async move { client.get_json::<Page<AuditEntry>>(&format!("/api/v1/audit?nik={nik}")).await.items }
    };
    let before = rows(&kppn).await;
    assert!(before.len() >= 4, "{before:?}");
    let mut audit_before = Vec::new();
    for n in 71..76 {
        audit_before.push(audit(&kppn, resident(n).0).await);
    }

    // A damaged letter in a copy of the backup stops the restore before the database.
    let damaged = server.dir.join("cadangan-rusak");
    copy_dir(&backup, &damaged);
    let one = myintress_testkit::files_under(&damaged.join("documents")).into_iter().next().expect("letters in the backup");
    let mut bytes = std::fs::read(&one).unwrap();
    let last = bytes.len() - 2;
    bytes[last] ^= 0x20;
    std::fs::write(&one, bytes).unwrap();
    TestServer::start_after(
        backend,
        |_| {},
        |settings| {
            let (ok, out) = server_cli(settings, &["restore", "--from", damaged.to_str().unwrap()], "");
            assert!(!ok && out.contains("rusak"), "{out}");
        },
    )
    .await;

    // Into an empty server: everything is there, the same sessions still sign people in.
    let restored = TestServer::start_after(
        backend,
        |_| {},
        |settings| {
            let (ok, out) = server_cli(settings, &["restore", "--from", backup.to_str().unwrap()], "");
            assert!(ok, "restore: {out}");
            assert!(out.contains("dipulihkan"), "{out}");
        },
    )
    .await;
    let mut again = kppn.clone();
    again.base = restored.base.clone();
    let after = rows(&again).await;
    assert_eq!(serde_json::to_value(&after).unwrap(), serde_json::to_value(&before).unwrap(), "every membership, as it was");
    for (i, n) in (71..76).enumerate() {
        let entries = audit(&again, resident(n).0).await;
        assert_eq!(serde_json::to_value(&entries).unwrap(), serde_json::to_value(&audit_before[i]).unwrap(), "audit of resident {n}");
    }
    for m in &made {
        let path = format!("/api/v1/documents/{}", m.letter_document_id);
        let (old, new) = (kppn.get(&path).await, again.get(&path).await);
        assert_eq!(new.status(), StatusCode::OK, "letter of {}", m.id);
        assert_eq!(new.bytes().await.unwrap(), old.bytes().await.unwrap(), "letter of {}", m.id);
    }
    // And it works: a new registration lands beside the restored ones.
    let mut desk = operator.clone();
    desk.base = restored.base.clone();
    desk.registered(&Registration::new(76, "019001")).await;

    // A server that holds people is never overwritten by a restore.
    let (ok, out) = restored.cli(&["restore", "--from", backup.to_str().unwrap()], "");
    assert!(!ok && out.contains("tidak kosong"), "{out}");
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
