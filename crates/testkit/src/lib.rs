//! The test kit (a crate of its own, never in a shipped binary): a real server on 127.0.0.1:0 with a fresh database per
//! test (a new SQLite file, or a new database in the PostgreSQL cluster the test command
//! started, with its documents in the S3-compatible server the test command started),
//! driven over HTTP; or two `myintress-server` processes on one PostgreSQL and one object
//! store behind a round-robin proxy ([`TestServer::start_replicas`]). Everything it creates
//! is removed on drop, also when a test fails. Used by the server's, the client's and the
//! app's integration tests and by the benchmarks.

pub mod postgres;
pub mod producers;
pub mod proxy;
pub mod signed;
pub mod tls;
pub mod webdriver;

use std::path::PathBuf;
use std::sync::Arc;

use myintress_core::api::{Membership, Problem, TokenPair};
use myintress_server::RunningServer;
use myintress_server::settings::{CaptchaMode, Settings};
use myintress_server::state::AppState;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The password of every verifier [`TestServer::verifier`] makes.
pub const VERIFIER_PASSWORD: &str = "Verifikator#Uji2026";
/// The password of [`TestServer::admin`]'s central operators.
pub const ADMIN_PASSWORD: &str = "Pengelola#Uji2026";

/// Which store a test runs against.
#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    /// The admin URL of a running cluster (`MYINTRESS_TEST_POSTGRES_URL`).
    Postgres(String),
}

impl Backend {
    /// The PostgreSQL cluster, if the test command started one. `cargo xtask test` always
    /// does and sets `MYINTRESS_TEST_TOOLS_REQUIRED`, so there a missing cluster fails.
    pub fn postgres() -> Option<Backend> {
        match std::env::var("MYINTRESS_TEST_POSTGRES_URL") {
            Ok(url) if !url.is_empty() => Some(Backend::Postgres(url)),
            _ if tools_required() => {
                panic!("MYINTRESS_TEST_POSTGRES_URL is not set although the test command requires PostgreSQL")
            }
            _ => {
                eprintln!("PostgreSQL tests skipped: MYINTRESS_TEST_POSTGRES_URL is not set (cargo xtask test sets it)");
                None
            }
        }
    }
}

fn tools_required() -> bool {
    std::env::var_os("MYINTRESS_TEST_TOOLS_REQUIRED").is_some()
}

/// The S3-compatible server the test command started, as `s3://bucket` (its endpoint and
/// credentials are in the `AWS_*` variables). Tests on PostgreSQL keep their documents
/// there, under a prefix of their own, as a production deployment with replicas does.
pub fn s3_base() -> Option<String> {
    match std::env::var("MYINTRESS_TEST_S3_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if tools_required() => panic!("MYINTRESS_TEST_S3_URL is not set although the test command requires the S3 server"),
        _ => None,
    }
}

const FIRST: [&str; 16] =
    ["Budi", "Siti", "Ahmad", "Dewi", "Agus", "Rina", "Hendra", "Sri", "Yusuf", "Ratna", "Andi", "Fitri", "Eko", "Wulan", "Rudi", "Maya"];
const LAST: [&str; 16] = [
    "Santoso",
    "Rahmawati",
    "Fauzi",
    "Lestari",
    "Salim",
    "Kartika",
    "Gunawan",
    "Wahyuni",
    "Maulana",
    "Sari",
    "Pratama",
    "Handayani",
    "Prasetyo",
    "Anggraini",
    "Hartono",
    "Kurniawan",
];

/// Resident number `n` (1–9999) of the test civil registry: a valid NIK and a name.
pub fn resident(n: u32) -> (String, String) {
    assert!((1..=9999).contains(&n));
    let nik = format!("3171011201{:02}{:04}", 80 + n % 20, n);
    let name = format!("{} {}", FIRST[(n % 16) as usize], LAST[((n / 16) % 16) as usize]);
    (nik, name)
}

/// How many residents the test registry holds.
pub const RESIDENTS: u32 = 600;

/// A letter PDF naming the person, made by the server's own demo code.
pub fn letter(nik: &str, name: &str, number: &str) -> Vec<u8> {
    myintress_server::demo::assignment_letter(nik, name, number, "Satker Uji")
}

/// Scratch space for test servers: `MYINTRESS_TEST_TMP` if set, else the system temp dir.
/// Writes a reliability scenario's figures where the test command leaves its artifacts
/// (`test-artifacts/reliability/<scenario>.txt`, which RELIABILITY.md quotes), and prints them.
pub fn report(scenario: &str, lines: &[String]) {
    let text = lines.join("\n") + "\n";
    println!("== {scenario}\n{text}");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-artifacts/reliability");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join(format!("{scenario}.txt")), text);
}

/// The `p` quantile (0–1) of sorted durations.
pub fn percentile(sorted: &[std::time::Duration], p: f64) -> std::time::Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Where tests put their throwaway folders (`MYINTRESS_TEST_TMP`, or the system's).
pub fn scratch_dir() -> PathBuf {
    std::env::var_os("MYINTRESS_TEST_TMP").map(PathBuf::from).unwrap_or_else(std::env::temp_dir)
}

/// The server binary that runs the PDF check in a child process: `MYINTRESS_PDF_CHECKER`,
/// or `myintress-server` beside the running test binary (`target/<profile>/`).
fn checker_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("MYINTRESS_PDF_CHECKER") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).expect("target/<profile>/deps");
    let path = profile_dir.join(format!("myintress-server{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: build it (`cargo build -p myintress-server`) or run the tests with `cargo test --workspace`",
        path.display()
    );
    path
}

pub struct TestServer {
    /// Where clients reach the server (the balancer, with replicas).
    pub base: String,
    pub dir: PathBuf,
    settings: Settings,
    /// The server's state in this process: the running server's, or (with replicas) one
    /// opened on the replicas' database and document store, for set-up and inspection.
    state: Arc<AppState>,
    server: Option<RunningServer>,
    replicas: Vec<Replica>,
    balancer: Option<proxy::FaultProxy>,
    postgres: Option<(String, String)>,
    pub http: reqwest::Client,
    next_verifier: std::sync::atomic::AtomicU32,
}

/// One `myintress-server serve` child process.
struct Replica {
    child: Option<std::process::Child>,
    addr: std::net::SocketAddr,
}

impl TestServer {
    pub async fn start(backend: &Backend) -> TestServer {
        Self::start_with(backend, |_| {}).await
    }

    pub async fn start_with(backend: &Backend, adjust: impl FnOnce(&mut Settings)) -> TestServer {
        Self::start_after(backend, adjust, |_| {}).await
    }

    /// A server on a fresh database and data dir, with `before` run on its settings
    /// before it starts (the host's CLI on a stopped server: a restore…).
    pub async fn start_after(backend: &Backend, adjust: impl FnOnce(&mut Settings), before: impl FnOnce(&Settings)) -> TestServer {
        let (dir, settings, postgres) = prepare(backend, adjust).await;
        before(&settings);
        let server = myintress_server::start(settings.clone()).await.expect("server starts");
        let base = format!("http://{}", server.addr);
        TestServer {
            base,
            dir,
            settings,
            state: server.state.clone(),
            server: Some(server),
            replicas: Vec::new(),
            balancer: None,
            postgres,
            http: http_client(),
            next_verifier: std::sync::atomic::AtomicU32::new(0),
        }
    }

    /// `count` replicas: `myintress-server serve` processes on one PostgreSQL database and
    /// one S3-compatible store, behind a round-robin TCP proxy (`base`), the way several
    /// stateless replicas run behind a load balancer. Each replica runs the background
    /// jobs. `None` when the test command did not start PostgreSQL and the S3 server.
    pub async fn start_replicas(count: usize, adjust: impl FnOnce(&mut Settings)) -> Option<TestServer> {
        Self::start_replicas_env(count, &[], adjust).await
    }

    /// [`TestServer::start_replicas`] with extra environment variables for the replica
    /// processes (e.g. `AWS_ENDPOINT_URL` through a fault proxy in front of the S3 server).
    pub async fn start_replicas_env(count: usize, env: &[(&str, String)], adjust: impl FnOnce(&mut Settings)) -> Option<TestServer> {
        let backend = Backend::postgres()?;
        s3_base()?;
        let (dir, mut settings, postgres) = prepare(&backend, adjust).await;
        let addrs: Vec<std::net::SocketAddr> = (0..count).map(|_| free_addr()).collect();
        let balancer = proxy::FaultProxy::start_balanced(addrs.clone()).await;
        // Links in e-mails point at the balancer, as `--public-url` would in production.
        settings.public_url = Some(balancer.url().parse().unwrap());
        // Migrations and reference data once, before the replicas start.
        let state = AppState::open(settings.clone()).await.expect("store opens");
        let mut replicas = Vec::new();
        for (i, addr) in addrs.iter().enumerate() {
            let mut s = settings.clone();
            s.listen = *addr;
            let log = std::fs::File::create(dir.join(format!("replica-{i}.log"))).unwrap();
            let child = std::process::Command::new(checker_binary())
                .arg("serve")
                .envs(s.env_vars())
                .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
                .env("RUST_LOG", "warn,myintress_server=info")
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .expect("replica starts");
            replicas.push(Replica { child: Some(child), addr: *addr });
        }
        let http = http_client();
        for r in &replicas {
            wait_healthy(&http, &format!("http://{}", r.addr)).await;
        }
        Some(TestServer {
            base: balancer.url(),
            dir,
            settings,
            state,
            server: None,
            replicas,
            balancer: Some(balancer),
            postgres,
            http,
            next_verifier: std::sync::atomic::AtomicU32::new(0),
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The address of replica `i`, bypassing the balancer.
    pub fn replica_url(&self, i: usize) -> String {
        format!("http://{}", self.replicas[i].addr)
    }

    /// Kills replica `i` at once (SIGKILL): requests in flight on it are cut.
    pub fn kill_replica(&mut self, i: usize) {
        if let Some(mut child) = self.replicas[i].child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// Sends SIGHUP to replica `i` (it reloads the reference lists).
    pub fn hang_up_replica(&self, i: usize) {
        let child = self.replicas[i].child.as_ref().expect("replica running");
        // SAFETY: kill(2) on a child of ours; no memory is touched.
        let sent = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGHUP) };
        assert_eq!(sent, 0, "SIGHUP to replica {i}");
    }

    /// Moves a satker to another KPPN in the reference files (reload to apply).
    pub fn move_satker(&self, satker: &str, kppn: &str) {
        let path = self.dir.join("reference/satker.csv");
        let text = std::fs::read_to_string(&path).unwrap();
        let moved: Vec<String> = text
            .lines()
            .map(|line| match line.split(',').collect::<Vec<_>>().as_slice() {
                [code, name, _] if *code == satker => format!("{code},{name},{kppn}"),
                _ => line.to_owned(),
            })
            .collect();
        assert_ne!(moved.join("\n"), text.trim_end(), "satker {satker} not in {}", path.display());
        std::fs::write(&path, moved.join("\n") + "\n").unwrap();
    }

    /// Reloads the reference files into the database (as `reload-reference` does).
    pub async fn reload_reference(&self) -> myintress_server::reference::Loaded {
        myintress_server::reference::load(self.state.store.as_ref(), &self.dir.join("reference")).await.expect("reference reloads")
    }

    /// The SHA-256 names of every object in the document store.
    pub async fn stored_documents(&self) -> Vec<String> {
        self.state.documents.list().await.expect("document store lists").into_iter().map(|o| o.sha256).collect()
    }

    /// Stops the server gracefully (the harness also cleans up on drop).
    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await.unwrap();
        }
    }

    /// Stops the server gracefully and starts it again on the same database and data dir
    /// (on a new port: `base` changes).
    pub async fn restart(&mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await.unwrap();
        }
        let mut settings = self.settings.clone();
        settings.public_url = None;
        let server = myintress_server::start(settings).await.expect("server restarts");
        self.base = format!("http://{}", server.addr);
        self.state = server.state.clone();
        self.server = Some(server);
    }

    /// Every access token issued so far reads as expired, as if their minutes had passed:
    /// the server purges sessions as its clock an hour ahead would. Refresh tokens are
    /// untouched, so a client can refresh.
    pub async fn expire_access_tokens(&self) {
        let mut tx = self.state.store.write().await.expect("store");
        tx.purge_expired(chrono::Utc::now() + chrono::Duration::hours(1)).await.expect("purge");
        tx.commit().await.expect("commit");
        // Changed beside the server's own code paths, which would forget what they end.
        self.state.sessions.forget_all();
    }

    /// Makes every session look unused for `hours` more (the idle limit's clock moved on),
    /// and every access token expired.
    pub async fn idle_sessions(&self, hours: i64) {
        let shift = hours * 3_600_000_000;
        self.execute(&format!("UPDATE refresh_tokens SET issued_at = issued_at - {shift} WHERE issued_at IS NOT NULL")).await;
        self.expire_access_tokens().await;
    }

    /// Makes the memberships of `nik` look made `days` days earlier (the Antrean's clock
    /// moved on for them).
    pub async fn age_requests(&self, nik: &str, days: i64) {
        assert!(nik.bytes().all(|b| b.is_ascii_digit()));
        let shift = days * 86_400_000_000;
        self.execute(&format!("UPDATE memberships SET created_at = created_at - {shift} WHERE nik = '{nik}'")).await;
    }

    /// Runs one statement on the server's database, as an operator with a SQL shell would.
    async fn execute(&self, sql: &str) {
        let url = self.settings.database_url();
        if url.starts_with("postgres") {
            let pool = sqlx::PgPool::connect(&url).await.expect("database");
            sqlx::query(sql).execute(&pool).await.expect(sql);
            pool.close().await;
        } else {
            let pool = sqlx::SqlitePool::connect(&url).await.expect("database");
            sqlx::query(sql).execute(&pool).await.expect(sql);
            pool.close().await;
        }
    }

    /// Runs `myintress-server <args>` on this server's database and data dir (the server
    /// host's CLI), feeding `stdin`; returns its exit status and standard output.
    pub fn cli(&self, args: &[&str], stdin: &str) -> (bool, String) {
        server_cli(&self.settings, args, stdin)
    }

    /// The address the server listens on now.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.server.as_ref().expect("running").addr
    }

    /// A fresh KPPN verifier of `kppn`, signed in.
    pub async fn verifier(&self, kppn: &str) -> Client {
        let n = self.next_verifier.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let nik = format!("327301570887{:04}", 9000 + n);
        let password = VERIFIER_PASSWORD;
        myintress_server::demo::create_verifier(
            self.state(),
            &nik,
            &format!("Verifikator {kppn}-{n}"),
            &format!("verifikator{n}@kemenkeu.go.id"),
            kppn,
            password,
        )
        .await
        .unwrap();
        self.login(&nik, password).await.unwrap()
    }

    /// A fresh central operator (`admin`), signed in.
    pub async fn admin(&self) -> Client {
        let n = self.next_verifier.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let nik = format!("317101060780{:04}", 9000 + n);
        myintress_server::demo::create_admin(
            self.state(),
            &nik,
            &format!("Pengelola {n}"),
            &format!("pengelola{n}@kemenkeu.go.id"),
            ADMIN_PASSWORD,
        )
        .await
        .unwrap();
        self.login(&nik, ADMIN_PASSWORD).await.unwrap()
    }

    pub async fn login(&self, nik: &str, password: &str) -> Result<Client, (StatusCode, Problem)> {
        let challenge: Value = self.http.get(self.url("/api/v1/auth/captcha")).send().await.unwrap().json().await.unwrap();
        let response = self
            .http
            .post(self.url("/api/v1/auth/login"))
            .json(&serde_json::json!({
                "nik": nik, "password": password,
                "captcha_id": challenge["captcha_id"], "captcha_answer": "apa saja"
            }))
            .send()
            .await
            .unwrap();
        let status = response.status();
        if status != StatusCode::OK {
            return Err((status, response.json().await.unwrap()));
        }
        let pair: TokenPair = response.json().await.unwrap();
        Ok(Client { base: self.base.clone(), http: self.http.clone(), token: pair.access_token.clone(), pair, nik: nik.to_owned() })
    }

    /// Waits until the mail job has sent every e-mail in the outbox (the server queues
    /// mail in its transactions and sends it right after; tests read it once it went).
    pub async fn mail_settled(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let mut conn = self.state.store.read().await.expect("store");
            // Requests first: the mail job turns a request into an unsent mail in one
            // transaction, so "no request, then no unsent mail" cannot miss one in between
            // (the other order can).
            let requests = conn.reset_requests(1).await.expect("reset requests").len();
            let unsent = conn.unsent_mail().await.expect("outbox");
            drop(conn);
            if unsent == 0 && requests == 0 {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "{unsent} e-mails still unsent after a minute");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// The activation link of the latest e-mail to `email`, once the outbox is sent.
    pub async fn activation_link(&self, email: &str) -> Option<String> {
        self.mail_settled().await;
        latest_link(&self.dir.join("mail"), email, "/activate/")
    }

    /// The password-reset link of the latest e-mail to `email`, once the outbox is sent.
    pub async fn reset_link(&self, email: &str) -> Option<String> {
        self.mail_settled().await;
        latest_link(&self.dir.join("mail"), email, "/reset/")
    }

    /// Every e-mail the server wrote to its mail folder (`.eml` files), once the outbox is sent.
    pub async fn mails(&self) -> Vec<String> {
        self.mail_settled().await;
        read_mails(&self.dir.join("mail"))
    }

    /// Sets a password through the activation link.
    pub async fn activate(&self, email: &str, password: &str) -> StatusCode {
        let link = self.activation_link(email).await.unwrap_or_else(|| {
            panic!(
                "no activation e-mail to {email}: {:?}",
                std::fs::read_dir(self.dir.join("mail"))
                    .map(|d| d.flatten().map(|e| std::fs::read_to_string(e.path()).unwrap_or_default()).collect::<Vec<_>>())
            )
        });
        self.http.post(link).form(&[("password", password), ("password_confirmation", password)]).send().await.unwrap().status()
    }

    /// A satker operator active in `satker`: registered by `kppn`, activated, signed in.
    pub async fn operator(&self, kppn: &Client, satker: &str, resident_no: u32) -> Client {
        let (nik, name) = resident(resident_no);
        let email = format!("operator{resident_no}@satker.go.id");
        let response = kppn.register(&Registration::new(resident_no, satker).email(&email)).await;
        assert_eq!(response.status(), StatusCode::CREATED, "{}", response.text().await.unwrap());
        let _ = name;
        assert_eq!(self.activate(&email, "Operator#Satker2026").await, StatusCode::OK);
        self.login(&nik, "Operator#Satker2026").await.unwrap()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        drop(self.server.take());
        for r in &mut self.replicas {
            if let Some(mut child) = r.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        drop(self.balancer.take());
        let _ = std::fs::remove_dir_all(&self.dir);
        let documents = self.state.documents.clone();
        let postgres = self.postgres.take();
        // Drop has no runtime of its own to await on: use a short-lived one.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                if documents.url().starts_with("s3://") {
                    for object in documents.list().await.unwrap_or_default() {
                        let _ = documents.delete(&object.sha256).await;
                    }
                }
                if let Some((admin, name)) = postgres
                    && let Ok(pool) = sqlx::PgPool::connect(&admin).await
                {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&pool).await;
                    pool.close().await;
                }
            });
        })
        .join();
    }
}

/// A fresh data dir with reference data and residents, a fresh database (and, on
/// PostgreSQL, a fresh prefix in the S3 server), and the settings for them.
async fn prepare(backend: &Backend, adjust: impl FnOnce(&mut Settings)) -> (PathBuf, Settings, Option<(String, String)>) {
    let id = uuid::Uuid::new_v4();
    let dir = scratch_dir().join("server-tests").join(id.to_string());
    std::fs::create_dir_all(&dir).unwrap();
    write_reference(&dir);
    let (database_url, postgres) = match backend {
        Backend::Sqlite => (None, None),
        Backend::Postgres(admin) => {
            let name = format!("t_{}", id.simple());
            let pool = sqlx::PgPool::connect(admin).await.expect("connect to the test cluster");
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&pool).await.unwrap();
            pool.close().await;
            let url = replace_database(admin, &name);
            (Some(url), Some((admin.clone(), name)))
        }
    };
    let mut settings = settings(dir.clone(), database_url);
    settings.reference_dir = Some(dir.join("reference"));
    settings.residents = Some(dir.join("residents.csv"));
    settings.pdf_checker = Some(checker_binary());
    if let (Backend::Postgres(_), Some(base)) = (backend, s3_base()) {
        settings.documents_url = Some(format!("{}/{}", base.trim_end_matches('/'), id.simple()).parse().unwrap());
    }
    adjust(&mut settings);
    (dir, settings, postgres)
}

fn http_client() -> reqwest::Client {
    reqwest::Client::builder().timeout(std::time::Duration::from_secs(60)).build().unwrap()
}

/// A port nobody listens on now.
fn free_addr() -> std::net::SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

/// Waits until `base/healthz` answers 200 (a replica is up), for at most a minute.
pub async fn wait_healthy(http: &reqwest::Client, base: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if http.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{base} did not become healthy within a minute");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

fn replace_database(url: &str, name: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("postgres URL");
    parsed.set_path(&format!("/{name}"));
    parsed.to_string()
}

fn write_reference(dir: &std::path::Path) {
    let reference = dir.join("reference");
    std::fs::create_dir_all(&reference).unwrap();
    std::fs::write(reference.join("kppn.csv"), "kode,nama\n019,KPPN Jakarta II\n020,KPPN Jakarta III\n").unwrap();
    std::fs::write(
        reference.join("satker.csv"),
        "kode,nama,kode_kppn\n019001,Satker Satu,019\n019002,Satker Dua,019\n020001,Satker Tiga,020\n",
    )
    .unwrap();
    let mut csv = String::from("nik,nama_lengkap,tanggal_lahir,jenis_kelamin\n");
    for n in 1..=RESIDENTS {
        let (nik, name) = resident(n);
        csv.push_str(&format!("{nik},{},1990-01-12,L\n", name.to_uppercase()));
    }
    // The verifiers are residents too.
    for n in 0..50u32 {
        csv.push_str(&format!("327301570887{:04},VERIFIKATOR {n},1987-08-17,P\n", 9000 + n));
    }
    std::fs::write(dir.join("residents.csv"), csv).unwrap();
}

/// The fields of a registration, with sensible defaults for resident `n`.
#[derive(Clone)]
pub struct Registration {
    pub fields: Vec<(String, String)>,
    pub letter: Option<Vec<u8>>,
}

impl Registration {
    pub fn new(n: u32, satker: &str) -> Registration {
        let (nik, name) = resident(n);
        let number = format!("ST-{n:04}/UJI/2026");
        let letter = letter(&nik, &name, &number);
        Registration {
            fields: vec![
                ("nik".into(), nik),
                ("name".into(), name),
                ("phone".into(), "081234567890".into()),
                ("email".into(), format!("warga{n}@contoh.go.id")),
                ("satker_code".into(), satker.into()),
                ("letter_number".into(), number),
            ],
            letter: Some(letter),
        }
    }

    pub fn set(mut self, field: &str, value: &str) -> Registration {
        self.fields.retain(|(k, _)| k != field);
        self.fields.push((field.into(), value.into()));
        self
    }

    pub fn without(mut self, field: &str) -> Registration {
        self.fields.retain(|(k, _)| k != field);
        if field == "letter" {
            self.letter = None;
        }
        self
    }

    pub fn email(self, email: &str) -> Registration {
        self.set("email", email)
    }

    pub fn letter(mut self, bytes: Vec<u8>) -> Registration {
        self.letter = Some(bytes);
        self
    }

    /// The multipart body with a fixed boundary, so the same registration can be sent
    /// byte for byte again.
    pub fn encoded(&self, boundary: &str) -> (String, Vec<u8>) {
        let mut body = Vec::new();
        for (k, v) in &self.fields {
            body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes());
        }
        if let Some(bytes) = &self.letter {
            body.extend(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"letter\"; filename=\"surat.pdf\"\r\n\
                     Content-Type: application/pdf\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend(bytes);
            body.extend(b"\r\n");
        }
        body.extend(format!("--{boundary}--\r\n").as_bytes());
        (format!("multipart/form-data; boundary={boundary}"), body)
    }

    pub fn form(&self) -> reqwest::multipart::Form {
        let mut form = reqwest::multipart::Form::new();
        for (k, v) in &self.fields {
            form = form.text(k.clone(), v.clone());
        }
        if let Some(bytes) = &self.letter {
            let part = reqwest::multipart::Part::bytes(bytes.clone()).file_name("surat-tugas.pdf").mime_str("application/pdf").unwrap();
            form = form.part("letter", part);
        }
        form
    }
}

/// A signed-in account.
#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
    pub token: String,
    pub pair: TokenPair,
    pub nik: String,
}

impl Client {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).bearer_auth(&self.token).send().await.unwrap()
    }

    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> T {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.json().await.unwrap()
    }

    pub async fn post_json(&self, path: &str, body: Value) -> reqwest::Response {
        self.http.post(self.url(path)).bearer_auth(&self.token).json(&body).send().await.unwrap()
    }

    pub async fn post(&self, path: &str) -> reqwest::Response {
        self.http.post(self.url(path)).bearer_auth(&self.token).send().await.unwrap()
    }

    pub async fn register(&self, registration: &Registration) -> reqwest::Response {
        self.http.post(self.url("/api/v1/registrations")).bearer_auth(&self.token).multipart(registration.form()).send().await.unwrap()
    }

    /// Registers and expects success, returning the membership.
    pub async fn registered(&self, registration: &Registration) -> Membership {
        let response = self.register(registration).await;
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status == StatusCode::CREATED || status == StatusCode::OK, "registration refused: {status} {text}");
        serde_json::from_str(&text).unwrap()
    }

    /// The version of membership `id` as this account sees it now (for `If-Match`);
    /// `None` when it cannot see it.
    pub async fn version_of(&self, id: uuid::Uuid) -> Option<i64> {
        let response = self.get(&format!("/api/v1/memberships/{id}")).await;
        if !response.status().is_success() {
            return None;
        }
        let detail: myintress_core::api::MembershipDetail = response.json().await.ok()?;
        Some(detail.membership.version)
    }

    /// An action on membership `id`, on the version this account sees now (`If-Match`),
    /// as a person acts on what the screen shows.
    pub async fn act(&self, id: uuid::Uuid, action: &str, reason: Option<&str>) -> reqwest::Response {
        let mut request = self.http.post(self.url(&format!("/api/v1/memberships/{id}/{action}"))).bearer_auth(&self.token);
        if let Some(version) = self.version_of(id).await {
            request = request.header("If-Match", format!("\"{version}\""));
        }
        if let Some(r) = reason {
            request = request.json(&serde_json::json!({ "reason": r }));
        }
        request.send().await.unwrap()
    }

    pub async fn delete(&self, id: uuid::Uuid, reason: &str, decree_number: &str, decree: Vec<u8>) -> reqwest::Response {
        let form = reqwest::multipart::Form::new()
            .text("reason", reason.to_owned())
            .text("decree_number", decree_number.to_owned())
            .part("decree", reqwest::multipart::Part::bytes(decree).file_name("sk.pdf"));
        let mut request = self.http.post(self.url(&format!("/api/v1/memberships/{id}/delete"))).bearer_auth(&self.token);
        if let Some(version) = self.version_of(id).await {
            request = request.header("If-Match", format!("\"{version}\""));
        }
        request.multipart(form).send().await.unwrap()
    }

    /// A satker operator asks the KPPN to delete membership `id`, with the request letter.
    pub async fn ask_deletion(&self, id: uuid::Uuid, reason: &str, letter_number: &str, letter: Vec<u8>) -> reqwest::Response {
        let form = reqwest::multipart::Form::new()
            .text("reason", reason.to_owned())
            .text("letter_number", letter_number.to_owned())
            .part("letter", reqwest::multipart::Part::bytes(letter).file_name("permohonan.pdf"));
        self.http
            .post(self.url(&format!("/api/v1/memberships/{id}/deletion-request")))
            .bearer_auth(&self.token)
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    /// The visible *Daftar Pengguna* rows of one person, as `name status` strings.
    pub async fn rows_of(&self, nik: &str) -> Vec<Membership> {
        let page: myintress_core::api::Page<Membership> = self.get_json(&format!("/api/v1/memberships?q={nik}&limit=500")).await;
        page.items
    }
}

/// Every file below `dir`, recursively.
pub fn files_under(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() { out.extend(files_under(&path)) } else { out.push(path) }
    }
    out
}

/// Reads a problem document and checks its media type.
pub async fn problem(response: reqwest::Response) -> (StatusCode, Problem) {
    let status = response.status();
    let media = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let text = response.text().await.unwrap();
    assert!(media.starts_with("application/problem+json"), "{status}: expected a problem document, got {media}: {text}");
    (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")))
}

/// Declares each scenario twice: on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(&$crate::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(backend) = $crate::Backend::postgres() {
                        super::$name(&backend).await
                    }
                }
            )*
        }
    };
}

/// Runs `myintress-server <args>` with `settings` (as `MYINTRESS_*` variables), feeding
/// `stdin`; returns whether it succeeded and its standard output and error.
pub fn server_cli(settings: &Settings, args: &[&str], stdin: &str) -> (bool, String) {
    use std::io::Write;
    let mut child = std::process::Command::new(checker_binary())
        .args(args)
        .envs(settings.env_vars())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("myintress-server starts");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("stdin written");
    let out = child.wait_with_output().expect("myintress-server ends");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}

/// Settings for tests: everything under `data_dir`, captcha off, mail to files.
pub fn settings(data_dir: PathBuf, database_url: Option<String>) -> Settings {
    Settings {
        listen: "127.0.0.1:0".parse().expect("valid address"),
        database_url: database_url.map(Into::into),
        database_connections: None,
        mail_dir: Some(data_dir.join("mail")),
        data_dir,
        residents: None,
        dukcapil_url: None,
        reference_dir: None,
        trust_dir: None,
        smtp_url: None,
        mail_from: "MyIntress <no-reply@myintress.local>".into(),
        name_threshold: 80,
        captcha: CaptchaMode::Disabled,
        public_url: None,
        pdf_checker: None,
        pdf_check_in_process: false,
        dormancy_months: 6,
        dormancy_interval: 3600,
        activation_hours: 72,
        access_token_seconds: 900,
        session_days: 30,
        session_idle_hours: 12,
        session_cache_seconds: 5,
        verifier_dormancy_months: 6,
        pending_reminder_days: 2,
        pending_escalation_days: 5,
        documents_url: None,
        documents_grace_minutes: 60,
        trusted_proxies: Vec::new(),
        header_read_timeout: 10,
        request_timeout: 90,
        max_concurrent_requests: 1024,
        max_connections: 10_000,
        shutdown_grace: 30,
        metrics_token: Some(METRICS_TOKEN.to_owned().into()),
    }
}

/// The bearer token of `/metrics` on every test server.
pub const METRICS_TOKEN: &str = "metrik-uji";

/// The e-mails in a folder: `.eml` files, or a Maildir's `new/` and `cur/`, unfolded from
/// quoted-printable so links read whole.
pub fn read_mails(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for path in files_under(dir) {
        if let Ok(text) = std::fs::read_to_string(&path) {
            out.push(text.replace("=\r\n", "").replace("=\n", "").replace("=3D", "="));
        }
    }
    out
}

/// The link containing `marker` (`/activate/`, `/reset/`) in the newest e-mail to `email`.
pub fn latest_link(dir: &std::path::Path, email: &str, marker: &str) -> Option<String> {
    let mut found: Option<(std::time::SystemTime, String)> = None;
    for path in files_under(dir) {
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        if !text.contains(email) {
            continue;
        }
        let unfolded = text.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=");
        let Some(start) = unfolded.find(marker) else { continue };
        let Some(link_start) = unfolded[..start].rfind("http") else { continue };
        let link: String = unfolded[link_start..].chars().take_while(|c| !c.is_whitespace()).collect();
        let modified = std::fs::metadata(&path).ok()?.modified().ok()?;
        if found.as_ref().is_none_or(|(t, _)| modified >= *t) {
            found = Some((modified, link));
        }
    }
    found.map(|(_, link)| link)
}

/// A real SMTP server on 127.0.0.1 (aiosmtpd, installed by the test command), keeping
/// what it receives in a Maildir. It can be stopped and started again on the same port,
/// as a mail server that goes down and comes back.
pub struct SmtpServer {
    program: PathBuf,
    port: u16,
    pub maildir: PathBuf,
    child: Option<std::process::Child>,
}

impl SmtpServer {
    /// Starts one, or `None` when the test command did not install aiosmtpd
    /// (`MYINTRESS_TEST_SMTPD`; required under the test command).
    pub fn start() -> Option<SmtpServer> {
        let program = match std::env::var("MYINTRESS_TEST_SMTPD") {
            Ok(p) if !p.is_empty() => PathBuf::from(p),
            _ if tools_required() => panic!("MYINTRESS_TEST_SMTPD is not set although the test command requires the SMTP server"),
            _ => {
                eprintln!("SMTP tests skipped: MYINTRESS_TEST_SMTPD is not set (cargo xtask test sets it)");
                return None;
            }
        };
        let maildir = scratch_dir().join("smtp").join(uuid::Uuid::new_v4().to_string());
        std::fs::create_dir_all(&maildir).unwrap();
        let mut server = SmtpServer { program, port: free_addr().port(), maildir, child: None };
        server.resume();
        Some(server)
    }

    /// `smtp://127.0.0.1:<port>` for `--smtp-url`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Stops it (connections are refused until [`SmtpServer::resume`]).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and waits until it accepts connections.
    pub fn resume(&mut self) {
        self.stop();
        let child = std::process::Command::new(&self.program)
            .args(["-n", "-l", &format!("127.0.0.1:{}", self.port), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(self.maildir.join("box"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("aiosmtpd starts");
        self.child = Some(child);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "aiosmtpd did not listen on {}", self.port);
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// What it received so far.
    pub fn mails(&self) -> Vec<String> {
        read_mails(&self.maildir)
    }

    /// Waits until a mail to `email` with a link containing `marker` arrived; returns the link.
    pub async fn wait_for_link(&self, email: &str, marker: &str) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            if let Some(link) = latest_link(&self.maildir, email, marker) {
                return link;
            }
            assert!(std::time::Instant::now() < deadline, "no e-mail to {email} with {marker} after a minute: {:?}", self.mails());
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.maildir);
    }
}
