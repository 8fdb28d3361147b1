//! The authorization matrix: every endpoint × {KPPN verifier of this KPPN, of another
//! KPPN, satker operator of this satker, of another satker, central operator (admin),
//! anonymous}. Each cell acts on a fresh target in satker 019001 (KPPN 019), so no cell
//! depends on another. Administrators see no membership data (`403` everywhere there),
//! and only they reach `/api/v1/admin/…`.

use std::sync::atomic::{AtomicU32, Ordering};

use myintress_core::api::Membership;
use reqwest::StatusCode;
use uuid::Uuid;

use crate::support::{Backend, Client, Registration, TestServer, letter};

#[derive(Clone, Copy, Debug)]
enum Who {
    KppnOwn,
    KppnOther,
    SatkerOwn,
    SatkerOther,
    Admin,
    Anonymous,
}

const WHO: [Who; 6] = [Who::KppnOwn, Who::KppnOther, Who::SatkerOwn, Who::SatkerOther, Who::Admin, Who::Anonymous];

struct World {
    server: TestServer,
    kppn_own: Client,
    kppn_other: Client,
    satker_own: Client,
    satker_other: Client,
    admin: Client,
    next: AtomicU32,
}

impl World {
    fn client(&self, who: Who) -> Option<&Client> {
        match who {
            Who::KppnOwn => Some(&self.kppn_own),
            Who::KppnOther => Some(&self.kppn_other),
            Who::SatkerOwn => Some(&self.satker_own),
            Who::SatkerOther => Some(&self.satker_other),
            Who::Admin => Some(&self.admin),
            Who::Anonymous => None,
        }
    }

    fn resident(&self) -> u32 {
        self.next.fetch_add(1, Ordering::SeqCst)
    }

    async fn pending(&self) -> Membership {
        self.satker_own.registered(&Registration::new(self.resident(), "019001")).await
    }

    async fn active(&self) -> Membership {
        self.kppn_own.registered(&Registration::new(self.resident(), "019001")).await
    }

    async fn inactive(&self) -> Membership {
        let m = self.active().await;
        assert_eq!(self.kppn_own.act(m.id, "deactivate", Some("uji")).await.status(), StatusCode::OK);
        m
    }

    async fn dormant(&self) -> Membership {
        let m = self.active().await;
        // Set up directly in the store: the dormancy job would also make the operators
        // dormant, and this matrix needs them signed in.
        let state = self.server.state();
        let mut tx = state.store.write().await.unwrap();
        let mut row = tx.membership(m.id).await.unwrap().unwrap();
        row.status = myintress_core::Status::Dormant;
        row.version += 1;
        assert!(tx.update_membership(&row, row.version - 1).await.unwrap());
        tx.commit().await.unwrap();
        m
    }

    /// Sends `method path` as `who`, with an optional JSON or multipart body. An action on
    /// a membership carries `If-Match` with its current version (what a screen would
    /// send), so each cell tests who may act, not whether the header is there.
    async fn send(&self, who: Who, method: reqwest::Method, path: &str, body: Body) -> StatusCode {
        let http = &self.server.http;
        let mut request = http.request(method.clone(), self.server.url(path));
        let on_membership = path.strip_prefix("/api/v1/memberships/").and_then(|rest| rest.split_once('/')).map(|(id, _)| id);
        if method == reqwest::Method::POST
            && let Some(id) = on_membership.and_then(|id| Uuid::parse_str(id).ok())
            && let Some(row) = self.server.state().store.read().await.unwrap().membership(id).await.unwrap()
        {
            request = request.header("If-Match", format!("\"{}\"", row.version));
        }
        if let Some(client) = self.client(who) {
            request = request.bearer_auth(&client.token);
        }
        request = match body {
            Body::None => request,
            Body::Json(v) => request.json(&v),
            Body::Registration(r) => request.multipart(r.form()),
            Body::Reference => request.multipart(reqwest::multipart::Form::new().part(
                "kppn",
                reqwest::multipart::Part::text("kode,nama\n019,KPPN Jakarta II\n020,KPPN Jakarta III\n").file_name("kppn.csv"),
            )),
            Body::DeletionRequest => request.multipart(
                reqwest::multipart::Form::new()
                    .text("reason", "Pegawai pindah tugas")
                    .text("letter_number", "ND-1/2026")
                    .part("letter", reqwest::multipart::Part::bytes(letter("0", "Permohonan", "ND-1/2026")).file_name("nd.pdf")),
            ),
            Body::Deletion => request.multipart(
                reqwest::multipart::Form::new()
                    .text("reason", "uji")
                    .text("decree_number", "SK-1/2026")
                    .part("decree", reqwest::multipart::Part::bytes(letter("0", "SK", "SK-1/2026")).file_name("sk.pdf")),
            ),
        };
        request.send().await.unwrap().status()
    }
}

enum Body {
    None,
    Json(serde_json::Value),
    Registration(Registration),
    Deletion,
    DeletionRequest,
    /// The KPPN list as it is (uploading it changes nothing).
    Reference,
}

async fn world(backend: &Backend) -> World {
    let server = TestServer::start(backend).await;
    let kppn_own = server.verifier("019").await;
    let kppn_other = server.verifier("020").await;
    let satker_own = server.operator(&kppn_own, "019001", 1).await;
    let satker_other = server.operator(&kppn_own, "019002", 2).await;
    let admin = server.admin().await;
    World { server, kppn_own, kppn_other, satker_own, satker_other, admin, next: AtomicU32::new(10) }
}

myintress_testkit::on_both_backends!(every_endpoint_for_every_role);

async fn every_endpoint_for_every_role(backend: &Backend) {
    use reqwest::Method;
    let w = world(backend).await;
    let mut failures = Vec::new();
    let mut check = |endpoint: &str, who: Who, got: StatusCode, expected: u16| {
        if got.as_u16() != expected {
            failures.push(format!("{endpoint} as {who:?}: {got}, expected {expected}"));
        }
    };

    for who in WHO {
        let signed_in = if matches!(who, Who::Anonymous) { 401 } else { 200 };
        check("GET /me", who, w.send(who, Method::GET, "/api/v1/me", Body::None).await, signed_in);
        // Membership work: verifiers and operators; an administrator is refused.
        let ok_if_signed_in = match who {
            Who::Anonymous => 401,
            Who::Admin => 403,
            _ => 200,
        };
        check("GET /satkers", who, w.send(who, Method::GET, "/api/v1/satkers", Body::None).await, ok_if_signed_in);
        check("GET /memberships", who, w.send(who, Method::GET, "/api/v1/memberships", Body::None).await, ok_if_signed_in);
        check("GET /changes", who, w.send(who, Method::GET, "/api/v1/changes", Body::None).await, ok_if_signed_in);
        check("GET /trust", who, w.send(who, Method::GET, "/api/v1/trust", Body::None).await, ok_if_signed_in);
        let known = w.active().await;
        check("GET /digit", who, w.send(who, Method::GET, &format!("/api/v1/digit/{}", known.nik), Body::None).await, ok_if_signed_in);

        let expect = |own_kppn: u16, other_kppn: u16, own_satker: u16, other_satker: u16| match who {
            Who::KppnOwn => own_kppn,
            Who::KppnOther => other_kppn,
            Who::SatkerOwn => own_satker,
            Who::SatkerOther => other_satker,
            Who::Admin => 403,
            Who::Anonymous => 401,
        };

        check("GET /queue", who, w.send(who, Method::GET, "/api/v1/queue", Body::None).await, expect(200, 200, 403, 403));
        let decided = w.active().await;
        let bulk = serde_json::json!({"action": "approve", "items": [{"id": decided.id, "version": decided.version}]});
        check(
            "POST /memberships/bulk",
            who,
            w.send(who, Method::POST, "/api/v1/memberships/bulk", Body::Json(bulk)).await,
            expect(200, 200, 403, 403),
        );

        let (nik, name) = myintress_testkit::resident(w.resident());
        let request = serde_json::json!({"nik": nik, "name": name, "satker_code": "019001"});
        let got = w.send(who, Method::POST, "/api/v1/registrations/check", Body::Json(request)).await;
        check("POST /registrations/check", who, got, expect(200, 403, 200, 403));

        let registration = Registration::new(w.resident(), "019001");
        let got = w.send(who, Method::POST, "/api/v1/registrations", Body::Registration(registration)).await;
        check("POST /registrations", who, got, expect(201, 403, 201, 403));

        let m = w.active().await;
        check(
            "GET /memberships/{id}",
            who,
            w.send(who, Method::GET, &format!("/api/v1/memberships/{}", m.id), Body::None).await,
            expect(200, 404, 200, 404),
        );
        let doc = format!("/api/v1/documents/{}", m.letter_document_id);
        check("GET /documents/{id}", who, w.send(who, Method::GET, &doc, Body::None).await, expect(200, 404, 200, 404));
        let audit = format!("/api/v1/audit?nik={}", m.nik);
        check("GET /audit", who, w.send(who, Method::GET, &audit, Body::None).await, expect(200, 200, 403, 403));

        let act = |id: Uuid, action: &str| format!("/api/v1/memberships/{id}/{action}");
        let reason = || Body::Json(serde_json::json!({"reason": "uji"}));
        let p = w.pending().await;
        check("POST approve", who, w.send(who, Method::POST, &act(p.id, "approve"), Body::None).await, expect(200, 404, 403, 404));
        let p = w.pending().await;
        check("POST reject", who, w.send(who, Method::POST, &act(p.id, "reject"), reason()).await, expect(200, 404, 403, 404));
        let a = w.active().await;
        check("POST deactivate", who, w.send(who, Method::POST, &act(a.id, "deactivate"), reason()).await, expect(200, 404, 200, 404));
        let d = w.dormant().await;
        check("POST reactivate", who, w.send(who, Method::POST, &act(d.id, "reactivate"), Body::None).await, expect(200, 404, 403, 404));
        let i = w.inactive().await;
        check("POST delete", who, w.send(who, Method::POST, &act(i.id, "delete"), Body::Deletion).await, expect(200, 404, 403, 404));
        let i = w.inactive().await;
        let asked = w.send(who, Method::POST, &act(i.id, "deletion-request"), Body::DeletionRequest).await;
        check("POST deletion-request", who, asked, expect(403, 404, 201, 404));
        check(
            "GET /deletion-requests",
            who,
            w.send(who, Method::GET, "/api/v1/deletion-requests?status=open", Body::None).await,
            ok_if_signed_in,
        );
        let i = w.inactive().await;
        let open = w.satker_own.ask_deletion(i.id, "Pegawai pindah tugas", "ND-2/2026", letter("0", "Permohonan", "ND-2/2026")).await;
        assert_eq!(open.status(), StatusCode::CREATED);
        let open: myintress_core::api::DeletionRequest = open.json().await.unwrap();
        let decline = format!("/api/v1/deletion-requests/{}/decline", open.id);
        check("POST decline", who, w.send(who, Method::POST, &decline, reason()).await, expect(200, 404, 403, 403));
        let c = w.active().await;
        let body = Body::Json(serde_json::json!({"phone": "081298765432"}));
        check("POST contact", who, w.send(who, Method::POST, &act(c.id, "contact"), body).await, expect(200, 404, 403, 404));
        // A person who never set a password (registered by an operator, not activated).
        let p = w.pending().await;
        check(
            "POST resend-activation",
            who,
            w.send(who, Method::POST, &act(p.id, "resend-activation"), Body::None).await,
            expect(202, 404, 403, 404),
        );
        let unknown = Uuid::new_v4();
        check(
            "GET /memberships/{unknown}",
            who,
            w.send(who, Method::GET, &format!("/api/v1/memberships/{unknown}"), Body::None).await,
            match who {
                Who::Anonymous => 401,
                Who::Admin => 403,
                _ => 404,
            },
        );

        // Administration: administrators only.
        let admin_only = |ok: u16| match who {
            Who::Admin => ok,
            Who::Anonymous => 401,
            _ => 403,
        };
        check("GET /admin/verifiers", who, w.send(who, Method::GET, "/api/v1/admin/verifiers", Body::None).await, admin_only(200));
        check("GET /admin/kppns", who, w.send(who, Method::GET, "/api/v1/admin/kppns", Body::None).await, admin_only(200));
        let n = w.resident();
        let new = serde_json::json!({
            "nik": format!("317101410190{:04}", n), "name": "Verifikator Baru", "email": format!("baru{n}@kemenkeu.go.id"), "kppn_code": "019"
        });
        check("POST /admin/verifiers", who, w.send(who, Method::POST, "/api/v1/admin/verifiers", Body::Json(new)).await, admin_only(201));
        let target = w.server.verifier("019").await;
        let verifier = |what: &str| format!("/api/v1/admin/verifiers/{}/{what}", target.nik);
        check("POST /admin/…/disable", who, w.send(who, Method::POST, &verifier("disable"), Body::None).await, admin_only(200));
        check("POST /admin/…/enable", who, w.send(who, Method::POST, &verifier("enable"), Body::None).await, admin_only(200));
        let to = Body::Json(serde_json::json!({"kppn_code": "020"}));
        check("POST /admin/…/move", who, w.send(who, Method::POST, &verifier("move"), to).await, admin_only(200));
        check("POST /admin/reference", who, w.send(who, Method::POST, "/api/v1/admin/reference", Body::Reference).await, admin_only(200));
    }
    // Public endpoints, and logout last (it ends the sessions).
    for who in WHO {
        check("GET /healthz", who, w.send(who, Method::GET, "/healthz", Body::None).await, 200);
        check("GET /openapi.json", who, w.send(who, Method::GET, "/openapi.json", Body::None).await, 200);
        check("GET /auth/captcha", who, w.send(who, Method::GET, "/api/v1/auth/captcha", Body::None).await, 200);
        check("GET /activate/{unknown}", who, w.send(who, Method::GET, "/activate/tidak-ada", Body::None).await, 410);
        check("GET /reset/{unknown}", who, w.send(who, Method::GET, "/reset/tidak-ada", Body::None).await, 410);
        let reset = Body::Json(serde_json::json!({"nik": "3171011201900001", "captcha_id": "x", "captcha_answer": "x"}));
        check("POST /auth/password-reset", who, w.send(who, Method::POST, "/api/v1/auth/password-reset", reset).await, 202);
        // A wrong current password: refused for the signed-in, nothing changes.
        let change = Body::Json(serde_json::json!({"current_password": "salah-sekali", "new_password": "Ganti#Sandi2026"}));
        let expected = if matches!(who, Who::Anonymous) { 401 } else { 422 };
        check("POST /auth/password", who, w.send(who, Method::POST, "/api/v1/auth/password", change).await, expected);
        let expected = if matches!(who, Who::Anonymous) { 401 } else { 204 };
        check("POST /auth/logout", who, w.send(who, Method::POST, "/api/v1/auth/logout", Body::None).await, expected);
    }
    // Sign-out everywhere, on fresh sessions (the ones above ended).
    let people = [
        (Who::KppnOwn, &w.kppn_own.nik, crate::support::VERIFIER_PASSWORD),
        (Who::SatkerOwn, &w.satker_own.nik, "Operator#Satker2026"),
        (Who::Admin, &w.admin.nik, crate::support::ADMIN_PASSWORD),
    ];
    for (who, nik, password) in people {
        let client = w.server.login(nik, password).await.unwrap();
        let got = w.server.http.post(w.server.url("/api/v1/auth/logout-all")).bearer_auth(&client.token).send().await.unwrap().status();
        check("POST /auth/logout-all", who, got, 204);
    }
    let got = w.server.http.post(w.server.url("/api/v1/auth/logout-all")).send().await.unwrap().status();
    check("POST /auth/logout-all", Who::Anonymous, got, 401);
    assert!(failures.is_empty(), "authorization matrix:\n{}", failures.join("\n"));
}
