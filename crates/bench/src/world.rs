//! What the benchmarks stand on: reference data, residents, memberships written straight
//! into the server's store (100,000 registrations through HTTP would take longer than the
//! benchmark), sessions, and the release server as a child process on 127.0.0.1.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::Utc;
use myintress_core::status::{Route, Status};
use myintress_server::settings::{CaptchaMode, Settings};
use myintress_server::state::AppState;
use myintress_server::store::{MembershipRow, NewChange, SessionRow};
use rand::Rng;
use rand::seq::IndexedRandom;
use uuid::Uuid;

pub const PASSWORD: &str = "Verifikator#Bench2026";

const FIRST: [&str; 24] = [
    "Budi", "Siti", "Ahmad", "Dewi", "Agus", "Rina", "Hendra", "Sri", "Yusuf", "Ratna", "Andi", "Fitri", "Eko", "Wulan", "Rudi", "Maya",
    "Bambang", "Nur", "Joko", "Intan", "Dian", "Putu", "Made", "Kadek",
];
const LAST: [&str; 24] = [
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
    "Siregar",
    "Nasution",
    "Wibowo",
    "Setiawan",
    "Hidayat",
    "Saputra",
    "Purnama",
    "Utami",
];

/// A random person's name, two or three words.
pub fn name(rng: &mut impl Rng) -> String {
    let mut n = format!("{} {}", FIRST.choose(rng).unwrap(), LAST.choose(rng).unwrap());
    if rng.random_bool(0.4) {
        n = format!("{} {}", FIRST.choose(rng).unwrap(), n);
    }
    n
}

/// The word pieces names are made of, for search queries.
pub fn name_parts() -> Vec<&'static str> {
    FIRST.iter().chain(LAST.iter()).copied().collect()
}

/// KPPN `k` (0-based): code `100 + k`; its satkers `<kppn>001`…
pub fn kppn_code(k: usize) -> String {
    format!("{}", 100 + k)
}

pub fn satker_code(k: usize, s: usize) -> String {
    format!("{}{:03}", 100 + k, s + 1)
}

/// The server's data dir with reference data (`kppns` × `satkers` each) and the test
/// civil registry (residents 1–`residents` of the server's test kit).
pub fn server_dir(dir: &Path, kppns: usize, satkers: usize, residents: u32) -> Result<()> {
    let reference = dir.join("reference");
    std::fs::create_dir_all(&reference)?;
    let mut k = String::from("kode,nama\n");
    let mut s = String::from("kode,nama,kode_kppn\n");
    for a in 0..kppns {
        k.push_str(&format!("{},KPPN Uji {a}\n", kppn_code(a)));
        for b in 0..satkers {
            s.push_str(&format!("{},Satker Uji {a}-{b},{}\n", satker_code(a, b), kppn_code(a)));
        }
    }
    std::fs::write(reference.join("kppn.csv"), k)?;
    std::fs::write(reference.join("satker.csv"), s)?;
    let mut csv = String::from("nik,nama_lengkap,tanggal_lahir,jenis_kelamin\n");
    for n in 1..=residents {
        let (nik, name) = myintress_testkit::resident(n);
        csv.push_str(&format!("{nik},{},1990-01-12,L\n", name.to_uppercase()));
    }
    for v in 0..kppns {
        csv.push_str(&format!("{},VERIFIKATOR {v},1987-08-17,P\n", verifier_nik(v)));
    }
    std::fs::write(dir.join("residents.csv"), csv)?;
    Ok(())
}

pub fn verifier_nik(k: usize) -> String {
    format!("3273015708{:06}", 870001 + k)
}

/// The server's settings for a data dir and database.
pub fn settings(dir: &Path, database_url: Option<String>, server_bin: &Path) -> Settings {
    let mut s = myintress_testkit::settings(dir.to_path_buf(), database_url);
    s.reference_dir = Some(dir.join("reference"));
    s.residents = Some(dir.join("residents.csv"));
    s.pdf_checker = Some(server_bin.to_path_buf());
    s.captcha = CaptchaMode::Disabled;
    s.access_token_seconds = 24 * 3600;
    s
}

/// A fresh database in the PostgreSQL cluster, named for the benchmark.
pub async fn postgres_database(admin: &str, name: &str) -> Result<String> {
    let pool = sqlx::PgPool::connect(admin).await.context("connecting to the benchmark cluster")?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&pool).await?;
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&pool).await?;
    pool.close().await;
    Ok(url_with_path(admin, name))
}

fn url_with_path(admin: &str, name: &str) -> String {
    match admin.rfind('/') {
        Some(i) if admin[..i].contains("://") && admin[..i].matches('/').count() >= 2 => format!("{}/{name}", &admin[..i]),
        _ => format!("{}/{name}", admin.trim_end_matches('/')),
    }
}

/// Opens the store (migrating it, loading reference data), for seeding before the
/// server process starts.
pub async fn open(settings: &Settings) -> Result<Arc<AppState>> {
    AppState::open(settings.clone()).await
}

/// How seeded memberships are spread over statuses: 10% pending, 60% active, 15%
/// inactive, 10% dormant, 5% rejected.
fn status(rng: &mut impl Rng) -> Status {
    match rng.random_range(0..100) {
        0..10 => Status::Registered,
        10..70 => Status::Active,
        70..85 => Status::Inactive,
        85..95 => Status::Dormant,
        _ => Status::Rejected,
    }
}

/// Writes `n` memberships of distinct people spread over the given satkers,
/// with their change-feed entries, in transactions of 5,000. `status` overrides the
/// mix. Returns the ids in order.
pub async fn seed_memberships(state: &AppState, satkers: &[String], n: usize, fixed: Option<Status>, seed: u64) -> Result<Vec<Uuid>> {
    use rand::SeedableRng;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let start = Utc::now() - chrono::Duration::days(400);
    // A minute apart, or closer where that would reach past today (a million rows).
    let apart_ms = (400 * 86_400_000 / n.max(1) as i64).min(60_000);
    let mut ids = Vec::with_capacity(n);
    let mut done = 0;
    while done < n {
        let chunk = (n - done).min(5000);
        let mut tx = state.store.write().await?;
        let mut changes = Vec::with_capacity(chunk);
        for i in done..done + chunk {
            let st = fixed.unwrap_or_else(|| status(&mut rng));
            let created = start + chrono::Duration::milliseconds(i as i64 * apart_ms);
            let satker = satkers[i % satkers.len()].clone();
            let row = MembershipRow {
                id: Uuid::new_v4(),
                nik: format!("{:02}{:014}", 31 + (seed % 60), i + seed as usize * 1_000_000),
                satker_code: satker.clone(),
                name: name(&mut rng),
                nip: Some(format!("19{:016}", i)),
                phone: format!("0812{:08}", i),
                email: format!("pengguna{i}.{seed}@satker.go.id"),
                status: st,
                letter_number: format!("ST-{i}/WPB.12/KP.{:02}/2026", i % 12 + 1),
                letter_document_id: Uuid::new_v4(),
                rejection_reason: (st == Status::Rejected).then(|| "Surat tugas tidak sesuai".to_owned()),
                route: if i % 3 == 0 { Route::Kppn } else { Route::Satker },
                ticket_number: None,
                version: 1,
                created_at: created,
                updated_at: created,
                decided_at: (st != Status::Registered).then_some(created),
                decided_by: (st != Status::Registered).then(|| "Verifikator Uji".to_owned()),
                ever_active: matches!(st, Status::Active | Status::Inactive | Status::Dormant),
                listed: true,
                activated_at: matches!(st, Status::Active | Status::Inactive | Status::Dormant).then_some(created),
                deleted_at: None,
                registered_seq: i as i64 + 1,
                letter_check: None,
            };
            tx.insert_membership(&row).await?;
            changes.push(NewChange {
                kind: myintress_core::api::ChangeKind::Membership,
                entity_id: row.id.to_string(),
                satker_code: satker,
                addressed_to: None,
                entity: serde_json::to_value(myintress_server::registry::to_api(&row))?,
            });
            ids.push(row.id);
        }
        tx.append_changes(&changes, Utc::now()).await?;
        tx.commit().await?;
        done += chunk;
    }
    Ok(ids)
}

/// A KPPN verifier account (argon2id password, as sign-in expects).
pub async fn verifier(state: &AppState, k: usize) -> Result<String> {
    let nik = verifier_nik(k);
    myintress_server::demo::create_verifier(
        state,
        &nik,
        &format!("Verifikator {k}"),
        &format!("verifikator{k}@kemenkeu.go.id"),
        &kppn_code(k),
        PASSWORD,
    )
    .await?;
    Ok(nik)
}

/// An access token for `nik`, written as a session straight into the store (as sign-in
/// would, without 2,000 argon2 hashes and the sign-in rate limit in the way).
pub async fn session(state: &AppState, nik: &str) -> Result<String> {
    let token = format!("bench-{}-{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
    let mut tx = state.store.write().await?;
    tx.insert_session(
        &myintress_server::credentials::token_hash(&token),
        &SessionRow { nik: nik.to_owned(), family_id: Uuid::new_v4().to_string(), expires_at: Utc::now() + chrono::Duration::days(1) },
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// The release server in a child process, stopped with SIGTERM on drop.
pub struct ServerProcess {
    child: Child,
    pub base: String,
}

impl ServerProcess {
    pub async fn start(bin: &Path, settings: &Settings, extra_env: &[(&str, &str)]) -> Result<ServerProcess> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        Self::start_on(bin, settings, port, extra_env).await
    }

    /// The server on a port chosen by the caller (replicas behind a balancer that must
    /// know their addresses first).
    pub async fn start_on(bin: &Path, settings: &Settings, port: u16, extra_env: &[(&str, &str)]) -> Result<ServerProcess> {
        let mut command = Command::new(bin);
        command
            .arg("serve")
            .envs(settings.env_vars())
            .env("MYINTRESS_LISTEN", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        command.envs(extra_env.iter().copied());
        let child = command.spawn().with_context(|| format!("starting {}", bin.display()))?;
        let server = ServerProcess { child, base: format!("http://127.0.0.1:{port}") };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if reqwest::get(server.url("/healthz")).await.is_ok_and(|r| r.status().is_success()) {
                return Ok(server);
            }
            if Instant::now() > deadline {
                bail!("the server did not answer /healthz within 60 s");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// Sends SIGTERM to a process (children of our children, too).
pub fn terminate(pid: u32) {
    // SAFETY: kill(2) has no memory effects; the pid is one we started or found under one.
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
}

/// Stops a child: SIGTERM, up to 10 s for it to leave, then SIGKILL.
pub fn stop(child: &mut Child) {
    terminate(child.id());
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Memory of a process from /proc: (current RSS, peak RSS) in bytes.
pub fn rss(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .map(|kb| kb * 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

pub fn mib(bytes: u64) -> String {
    format!("{:.0} MiB", bytes as f64 / 1024.0 / 1024.0)
}

/// Raises the soft limit of open files to the hard limit (2,000 desktops are 2,000
/// sockets here and 2,000 in the server, which inherits the limit).
pub fn raise_open_files() {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: plain syscalls on a local struct of libc's layout.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// A letter PDF of about `bytes` bytes: real text naming the person, and scanned-page
/// images (incompressible bytes, as a scanner's JPEG is) making up the size.
pub fn letter_of_size(nik: &str, name: &str, number: &str, bytes: usize, rng: &mut impl Rng) -> Vec<u8> {
    use lopdf::{Document, Object, Stream, dictionary};
    let base = myintress_server::demo::assignment_letter(nik, name, number, "Satker Uji");
    let mut doc = Document::load_mem(&base).expect("our own letter parses");
    // The letter's pages share one resource dictionary: the scan images go in there.
    let resources = doc
        .objects
        .iter()
        .find_map(|(id, o)| matches!(o, Object::Dictionary(d) if d.has(b"Font")).then_some(*id))
        .expect("the letter has a font resource");
    let mut data = vec![0u8; bytes.saturating_sub(base.len() + 600)];
    rng.fill(&mut data[..]);
    let image = doc.add_object(Stream::new(
        dictionary! { "Type" => "XObject", "Subtype" => "Image", "Width" => 1240, "Height" => 1754,
        "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8, "Filter" => "DCTDecode" },
        data,
    ));
    if let Ok(Object::Dictionary(d)) = doc.get_object_mut(resources) {
        d.set("XObject", dictionary! { "Im1" => image });
    }
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("PDF writes to memory");
    out
}

pub fn dir(path: PathBuf) -> Result<PathBuf> {
    std::fs::create_dir_all(&path)?;
    Ok(path)
}
