//! `myintress-server demo`, the README's first command's server: it loads the demo data
//! and prints how to sign in as each kind of person, and what it prints works.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use myintress_core::api::Role;

use myintress_testkit::webdriver::RemoveOnDrop;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_prints_credentials_that_sign_in() {
    let dir = RemoveOnDrop(std::env::temp_dir().join(format!("myintress-demo-{}", uuid::Uuid::new_v4())));
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_myintress-server"))
        .args(["demo", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(&dir.0)
        .env_remove("MYINTRESS_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _guard = KillOnDrop(&mut child);
    let stdout = _guard.0.stdout.take().unwrap();
    let printed = tokio::task::spawn_blocking(move || {
        let mut printed = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let done = line.contains("Captcha dimatikan");
            printed.push(line);
            if done {
                break;
            }
        }
        printed
    })
    .await
    .unwrap();

    // Each "NIK : …" is followed by its "Kata sandi : …"; the section names who it is.
    let value = |line: &str| line.split_once(':').map(|(_, v)| v.trim().to_owned()).unwrap_or_default();
    let mut people = Vec::new();
    for (i, line) in printed.iter().enumerate() {
        if line.trim_start().starts_with("NIK") {
            people.push((printed[i - 1].trim().to_owned(), value(line), value(&printed[i + 1])));
        }
    }
    assert_eq!(people.len(), 3, "a verifier, an operator and an administrator:\n{}", printed.join("\n"));
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let mut roles = Vec::new();
    let mut tokens = Vec::new();
    for (who, nik, password) in &people {
        let challenge: serde_json::Value = http.get(format!("{base}/api/v1/auth/captcha")).send().await.unwrap().json().await.unwrap();
        let body =
            serde_json::json!({"nik": nik, "password": password, "captcha_id": challenge["captcha_id"], "captcha_answer": "apa saja"});
        let response = http.post(format!("{base}/api/v1/auth/login")).json(&body).send().await.unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::OK, "{who} signs in");
        let pair = response.json::<myintress_core::api::TokenPair>().await.unwrap();
        roles.push(pair.role);
        tokens.push(pair.access_token);
    }
    assert_eq!(roles, [Role::Kppn, Role::Satker, Role::Admin]);
    // The verifier's Antrean shows what the demo promises: overdue and escalated requests,
    // and a satker's deletion request.
    let queue: myintress_core::api::Page<myintress_core::api::QueueItem> =
        http.get(format!("{base}/api/v1/queue")).bearer_auth(&tokens[0]).send().await.unwrap().json().await.unwrap();
    assert!(queue.items.iter().any(|i| i.flags.escalated), "an escalated request");
    assert!(queue.items.iter().any(|i| i.flags.overdue && !i.flags.escalated), "an overdue request");
    assert!(
        queue.items.iter().any(|i| i.kind == myintress_core::api::QueueItemKind::DeletionRequest && i.deletion_request.is_some()),
        "a deletion request"
    );
    // Two requests carry electronically signed letters, checked against the demo CA: one
    // intact, one changed after signing.
    let verdicts: Vec<_> = queue
        .items
        .iter()
        .filter_map(|i| i.membership.letter_check.as_ref())
        .flat_map(|c| c.signatures.iter().map(|s| s.verdict))
        .collect();
    use myintress_core::signature::Verdict;
    assert_eq!(
        (verdicts.iter().filter(|v| **v == Verdict::Valid).count(), verdicts.iter().filter(|v| **v == Verdict::Invalid).count()),
        (1, 1),
        "a signed letter and a tampered one: {verdicts:?}"
    );
}

struct KillOnDrop<'a>(&'a mut std::process::Child);

impl Drop for KillOnDrop<'_> {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A database with real people in it (a production URL in the environment by mistake) is
/// refused, before anything is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_refuses_a_database_with_real_data() {
    let server = crate::support::TestServer::start(&crate::support::Backend::Sqlite).await;
    server.verifier("019").await;
    let (ok, out) = server.cli(&["demo", "--listen", "127.0.0.1:0"], "");
    assert!(!ok && out.contains("sudah berisi data nyata"), "{out}");
    assert!(server.state().store.read().await.unwrap().account(myintress_server::demo::VERIFIER_NIK).await.unwrap().is_none());
}
