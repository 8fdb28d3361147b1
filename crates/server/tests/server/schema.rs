//! The served OpenAPI document against the server: `schemathesis` (PyPI, installed by the
//! test command into `target/tools/venv`) generates requests from `/openapi.json`, valid
//! and invalid, with a signed-in KPPN verifier's token, and checks that nothing answers 5xx
//! and every response matches its documented status, media type, headers and schema.

use std::process::Command;

use crate::support::{Backend, Registration, TestServer};

fn schemathesis() -> Option<std::path::PathBuf> {
    let from_env = std::env::var_os("MYINTRESS_SCHEMATHESIS").map(std::path::PathBuf::from);
    match from_env.filter(|p| p.exists()) {
        Some(p) => Some(p),
        None if std::env::var_os("MYINTRESS_TEST_TOOLS_REQUIRED").is_some() => {
            panic!("MYINTRESS_SCHEMATHESIS is not set although the test command requires schemathesis")
        }
        None => {
            eprintln!("schemathesis test skipped: MYINTRESS_SCHEMATHESIS is not set (cargo xtask test sets it)");
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_contract_holds_under_generated_requests() {
    let Some(program) = schemathesis() else { return };
    let server = TestServer::start(&Backend::Sqlite).await;
    let kppn = server.verifier("019").await;
    let operator = server.operator(&kppn, "019001", 1).await;
    operator.registered(&Registration::new(2, "019001")).await;
    kppn.registered(&Registration::new(3, "019002")).await;

    let schema = server.url("/openapi.json");
    let token = format!("Authorization: Bearer {}", kppn.token);
    let report = server.dir.join("schemathesis");
    let output = tokio::task::spawn_blocking(move || {
        Command::new(program)
            .args(["run", &schema, "--checks"])
            .arg("not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance")
            .args(["--phases", "examples,coverage,fuzzing", "--max-examples", "25", "--seed", "20261125", "--workers", "2"])
            .args(["--header", &token, "--request-timeout", "30", "--no-color"])
            // Signing out would end the token the other operations use.
            .args(["--exclude-path", "/api/v1/auth/logout"])
            .env("SCHEMATHESIS_HOOKS", "")
            .current_dir(std::env::temp_dir())
            .arg("--report-dir")
            .arg(&report)
            .output()
            .expect("schemathesis runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "schemathesis found problems:\n{stdout}\n{stderr}");
    println!("{}", stdout.lines().rev().take(12).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n"));
}
