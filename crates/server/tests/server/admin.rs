//! Administration: central operators create, disable, enable and move KPPN verifiers,
//! mark supervisors, and upload the reference lists; they see no membership data. Every
//! change is in the account audit.

use myintress_core::ErrorCode;
use myintress_core::api::{Page, ReferenceLoaded, Satker, Verifier};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Backend, Client, TestServer, problem};

myintress_testkit::on_both_backends!(
    an_admin_creates_a_verifier_who_activates_and_signs_in,
    a_disabled_verifier_is_out_at_once_and_back_when_enabled,
    a_moved_verifier_sees_the_new_kppns_satkers_only,
    an_uploaded_reference_list_is_applied_and_kept,
    create_admin_from_the_server_host,
);

async fn me(server: &TestServer, token: &str) -> StatusCode {
    server.http.get(server.url("/api/v1/me")).bearer_auth(token).send().await.unwrap().status()
}

async fn refresh(server: &TestServer, client: &Client) -> StatusCode {
    let body = json!({"refresh_token": client.pair.refresh_token});
    server.http.post(server.url("/api/v1/auth/refresh")).json(&body).send().await.unwrap().status()
}

async fn change(admin: &Client, nik: &str, what: &str, body: Option<serde_json::Value>) -> reqwest::Response {
    let path = format!("/api/v1/admin/verifiers/{nik}/{what}");
    match body {
        Some(body) => admin.post_json(&path, body).await,
        None => admin.post(&path).await,
    }
}

async fn audit_actions(server: &TestServer, nik: &str) -> Vec<&'static str> {
    let rows = server.state().store.read().await.unwrap().account_audit(nik).await.unwrap();
    rows.iter().map(|r| r.action.as_str()).collect()
}

async fn an_admin_creates_a_verifier_who_activates_and_signs_in(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let admin = server.admin().await;
    assert_eq!(admin.pair.role, myintress_core::api::Role::Admin);
    assert!(admin.pair.memberships.is_empty());

    let new = json!({"nik": "3171014101900004", "name": "Dewi Lestari", "email": "dewi.lestari@kemenkeu.go.id", "kppn_code": "020", "supervisor": true});
    let response = admin.post_json("/api/v1/admin/verifiers", new.clone()).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Verifier = response.json().await.unwrap();
    assert_eq!((created.kppn_code.as_str(), created.supervisor, created.activated), ("020", true, false));

    // The same NIK again, an unknown KPPN, and a form full of mistakes: nothing is created.
    let (status, p) = problem(admin.post_json("/api/v1/admin/verifiers", new).await).await;
    assert_eq!((status, p.code), (StatusCode::CONFLICT, ErrorCode::AccountExists));
    let unknown = json!({"nik": "3171014101900005", "name": "Tono", "email": "tono@kemenkeu.go.id", "kppn_code": "999"});
    let (status, p) = problem(admin.post_json("/api/v1/admin/verifiers", unknown).await).await;
    assert_eq!(
        (status, p.errors[0].field.as_str(), p.errors[0].code.clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, "kppn_code", ErrorCode::KppnUnknown)
    );
    let wrong = json!({"nik": "12", "name": "", "email": "bukan", "kppn_code": "1"});
    let (status, p) = problem(admin.post_json("/api/v1/admin/verifiers", wrong).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<_> = p.errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["nik", "name", "email", "kppn_code"]);

    // The activation link arrives; the new verifier sets a password and works for KPPN 020.
    assert_eq!(server.activate("dewi.lestari@kemenkeu.go.id", "Verifikasi#Dewi2026").await, StatusCode::OK);
    let dewi = server.login("3171014101900004", "Verifikasi#Dewi2026").await.unwrap();
    let satkers: Page<Satker> = dewi.get_json("/api/v1/satkers").await;
    assert_eq!(satkers.items.iter().map(|s| s.code.as_str()).collect::<Vec<_>>(), ["020001"]);

    let list: Page<Verifier> = admin.get_json("/api/v1/admin/verifiers").await;
    let listed = list.items.iter().find(|v| v.nik == "3171014101900004").expect("listed");
    assert!(listed.activated && listed.last_sign_in_at.is_some() && listed.disabled_at.is_none());
    assert_eq!(audit_actions(&server, "3171014101900004").await, ["verifier_created"]);

    // An administrator sees no membership data.
    for path in ["/api/v1/memberships", "/api/v1/changes", "/api/v1/satkers"] {
        assert_eq!(admin.get(path).await.status(), StatusCode::FORBIDDEN, "{path}");
    }
    // And a verifier no administration.
    assert_eq!(dewi.get("/api/v1/admin/verifiers").await.status(), StatusCode::FORBIDDEN);
}

async fn a_disabled_verifier_is_out_at_once_and_back_when_enabled(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let admin = server.admin().await;
    let colleague = server.verifier("019").await;
    let leaving = server.verifier("019").await;
    assert_eq!(me(&server, &leaving.token).await, StatusCode::OK);

    let response = change(&admin, &leaving.nik, "disable", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.json::<Verifier>().await.unwrap().disabled_at.is_some());
    assert_eq!(me(&server, &leaving.token).await, StatusCode::UNAUTHORIZED, "its next request is refused");
    assert_eq!(leaving.get("/api/v1/memberships").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(refresh(&server, &leaving).await, StatusCode::UNAUTHORIZED, "and its refresh");
    let Err((status, p)) = server.login(&leaving.nik, crate::support::VERIFIER_PASSWORD).await else {
        panic!("a disabled verifier signed in")
    };
    assert_eq!((status, p.code), (StatusCode::UNAUTHORIZED, ErrorCode::AccountDisabled));
    assert_eq!(me(&server, &colleague.token).await, StatusCode::OK, "nobody else is touched");

    assert_eq!(change(&admin, &leaving.nik, "enable", None).await.status(), StatusCode::OK);
    server.login(&leaving.nik, crate::support::VERIFIER_PASSWORD).await.expect("signs in again");
    assert_eq!(audit_actions(&server, &leaving.nik).await, ["verifier_created", "disabled", "enabled"]);

    // Only verifiers: an administrator, a satker operator or an unknown NIK is not found.
    let operator = server.operator(&colleague, "019001", 3).await;
    for nik in [admin.nik.as_str(), operator.nik.as_str(), "3171019999990001"] {
        assert_eq!(change(&admin, nik, "disable", None).await.status(), StatusCode::NOT_FOUND, "{nik}");
    }
    assert_eq!(me(&server, &operator.token).await, StatusCode::OK);
}

async fn a_moved_verifier_sees_the_new_kppns_satkers_only(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let admin = server.admin().await;
    let moving = server.verifier("019").await;
    let before: Page<Satker> = moving.get_json("/api/v1/satkers").await;
    assert_eq!(before.items.len(), 2);

    let response = change(&admin, &moving.nik, "move", Some(json!({"kppn_code": "020", "supervisor": true}))).await;
    assert_eq!(response.status(), StatusCode::OK);
    let moved: Verifier = response.json().await.unwrap();
    assert_eq!((moved.kppn_code.as_str(), moved.supervisor), ("020", true));
    // Its sessions end: the desktop signs in again and keeps only the new KPPN's data.
    assert_eq!(me(&server, &moving.token).await, StatusCode::UNAUTHORIZED);
    let again = server.login(&moving.nik, crate::support::VERIFIER_PASSWORD).await.unwrap();
    assert_eq!(again.pair.kppn_code.as_deref(), Some("020"));
    let after: Page<Satker> = again.get_json("/api/v1/satkers").await;
    assert_eq!(after.items.iter().map(|s| s.code.as_str()).collect::<Vec<_>>(), ["020001"]);

    // Only the supervisor mark: the KPPN stays, so do the sessions.
    let response = change(&admin, &moving.nik, "move", Some(json!({"kppn_code": "020", "supervisor": false}))).await;
    assert!(!response.json::<Verifier>().await.unwrap().supervisor);
    assert_eq!(me(&server, &again.token).await, StatusCode::OK);

    let (status, p) = problem(change(&admin, &moving.nik, "move", Some(json!({"kppn_code": "777"}))).await).await;
    assert_eq!((status, p.errors[0].code.clone()), (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::KppnUnknown));
    assert_eq!(audit_actions(&server, &moving.nik).await, ["verifier_created", "moved", "moved"]);
}

async fn upload(admin: &Client, kppn: Option<&str>, satker: Option<&str>) -> reqwest::Response {
    let mut form = reqwest::multipart::Form::new();
    if let Some(text) = kppn {
        form = form.part("kppn", reqwest::multipart::Part::text(text.to_owned()).file_name("kppn.csv"));
    }
    if let Some(text) = satker {
        form = form.part("satker", reqwest::multipart::Part::text(text.to_owned()).file_name("satker.csv"));
    }
    admin.http.post(admin.url("/api/v1/admin/reference")).bearer_auth(&admin.token).multipart(form).send().await.unwrap()
}

async fn an_uploaded_reference_list_is_applied_and_kept(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let admin = server.admin().await;
    let kppn = server.verifier("019").await;
    let satker_csv = server.settings().reference_dir.clone().unwrap().join("satker.csv");
    let before = std::fs::read_to_string(&satker_csv).unwrap();

    // A list that names a KPPN nobody knows, or has a broken line: refused, naming file
    // and line, and nothing changes.
    let bad = "kode,nama,kode_kppn\n019003,Satker Empat,019\n019004,Satker Lima,088\n";
    let (status, p) = problem(upload(&admin, None, Some(bad)).await).await;
    assert_eq!((status, p.errors[0].code.clone()), (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::ReferenceInvalid));
    assert!(p.errors[0].detail.contains("satker.csv") && p.errors[0].detail.contains("088"), "{}", p.errors[0].detail);
    let (_, p) = problem(upload(&admin, Some("kode,nama\n021,KPPN Baru,lebih\n"), None).await).await;
    assert!(p.errors[0].detail.contains("kppn.csv baris 2"), "{}", p.errors[0].detail);
    assert_eq!(std::fs::read_to_string(&satker_csv).unwrap(), before);
    let satkers: Page<Satker> = kppn.get_json("/api/v1/satkers").await;
    assert_eq!(satkers.items.len(), 2);
    assert_eq!(upload(&admin, Some(""), None).await.status(), StatusCode::UNPROCESSABLE_ENTITY, "an empty file is no list");
    assert_eq!(upload(&kppn, None, Some(bad)).await.status(), StatusCode::FORBIDDEN, "a verifier uploads nothing");

    // A new satker for KPPN 019 (with a UTF-8 BOM, as spreadsheets save it): the KPPN's
    // verifier sees it at once, and the file in the reference folder is the new list.
    let good = format!("\u{feff}{}019003,Satker Empat,019\n", before);
    let response = upload(&admin, None, Some(&good)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let loaded: ReferenceLoaded = response.json().await.unwrap();
    assert_eq!((loaded.satkers, loaded.changed, loaded.moved), (4, 1, 0));
    let satkers: Page<Satker> = kppn.get_json("/api/v1/satkers").await;
    assert!(satkers.items.iter().any(|s| s.code == "019003" && s.name == "Satker Empat"));
    assert_eq!(std::fs::read_to_string(&satker_csv).unwrap(), good.trim_start_matches('\u{feff}'));
    // A reload reads the same (nothing new).
    assert_eq!(server.reload_reference().await.changed, 0);
}

async fn create_admin_from_the_server_host(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let (ok, out) = server.cli(
        &["create-admin", "--nik", "3171010607800005", "--name", "Hendra Gunawan", "--email", "hendra@kemenkeu.go.id"],
        "Pengelola#Pusat2026\n",
    );
    assert!(ok, "{out}");
    let admin = server.login("3171010607800005", "Pengelola#Pusat2026").await.unwrap();
    let list: Page<Verifier> = admin.get_json("/api/v1/admin/verifiers").await;
    assert!(list.items.is_empty());
    // A common password is refused, and so is the same NIK twice.
    let (ok, out) =
        server.cli(&["create-admin", "--nik", "3171010607800006", "--name", "Tono", "--email", "tono@kemenkeu.go.id"], "password\n");
    assert!(!ok && out.contains("Kata sandi"), "{out}");
    let (ok, out) = server.cli(
        &["create-admin", "--nik", "3171010607800005", "--name", "Hendra", "--email", "hendra@kemenkeu.go.id"],
        "Pengelola#Pusat2026\n",
    );
    assert!(!ok && out.contains("sudah memiliki akun"), "{out}");
}
