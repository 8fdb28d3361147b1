//! `myintress-server backup --to DIR` and `restore --from DIR`: the database and the
//! letters it names, taken at one moment, and put back into an empty server.
//!
//! Consistency: the database is copied as one snapshot (SQLite `VACUUM INTO`; PostgreSQL
//! `pg_dump --snapshot` of a repeatable-read transaction that also reads the counts and the
//! documents' names). Documents are immutable and named by their SHA-256; an object is
//! only removed once no row names it and the grace period (`--documents-grace-minutes`)
//! has passed, so every letter the snapshot names is still in the store while it is copied
//! right after. Each copied letter is verified against its name, on backup and on restore.
//!
//! The folder: `manifest.json` (what was copied and how many rows), `database.sqlite3` or
//! `database.pgdump` (custom format), and `documents/<aa>/<sha256>.pdf`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use sqlx::Connection;

use crate::documents::{DocumentStore, sha256_hex};
use crate::settings::Settings;

/// The rows a restore is checked against (read by [`COUNTS_SQL`] on either backend).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Counts {
    pub accounts: i64,
    pub memberships: i64,
    pub audit: i64,
    pub documents: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    /// This layout's version.
    pub format: u32,
    pub server_version: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub backend: Backend,
    pub counts: Counts,
    /// The letters and decrees copied (distinct SHA-256).
    pub letters: usize,
}

const FORMAT: u32 = 1;
const COUNTS_SQL: &str = "SELECT (SELECT COUNT(*) FROM accounts) AS accounts, (SELECT COUNT(*) FROM memberships) AS memberships, \
                          (SELECT COUNT(*) FROM audit) AS audit, (SELECT COUNT(*) FROM documents) AS documents";
const SQLITE_FILE: &str = "database.sqlite3";
const PG_FILE: &str = "database.pgdump";

fn backend_of(url: &str) -> Backend {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") { Backend::Postgres } else { Backend::Sqlite }
}

/// Copies the database and its letters into `dir` (created; it must be empty).
pub async fn backup(settings: &Settings, dir: &Path) -> Result<Manifest> {
    std::fs::create_dir_all(dir).with_context(|| format!("membuat {}", dir.display()))?;
    if std::fs::read_dir(dir)?.next().is_some() {
        bail!("Folder cadangan {} tidak kosong; pilih folder baru untuk setiap cadangan.", dir.display());
    }
    let url = settings.database_url();
    let backend = backend_of(&url);
    let (counts, names) = match backend {
        Backend::Sqlite => {
            let file = dir.join(SQLITE_FILE);
            let mut live = sqlx::SqliteConnection::connect_with(&sqlx::sqlite::SqliteConnectOptions::from_str(&url)?.read_only(true))
                .await
                .context("membuka basis data")?;
            sqlx::query("VACUUM INTO ?").bind(file.to_str().context("jalur cadangan bukan UTF-8")?).execute(&mut live).await?;
            live.close().await?;
            let mut copy =
                sqlx::SqliteConnection::connect_with(&sqlx::sqlite::SqliteConnectOptions::new().filename(&file).read_only(true)).await?;
            let counts: Counts = sqlx::query_as(COUNTS_SQL).fetch_one(&mut copy).await?;
            let names: Vec<String> = sqlx::query_scalar("SELECT DISTINCT sha256 FROM documents").fetch_all(&mut copy).await?;
            copy.close().await?;
            (counts, names)
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&url).await.context("membuka basis data")?;
            sqlx::query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").execute(&mut conn).await?;
            let snapshot: String = sqlx::query_scalar("SELECT pg_export_snapshot()").fetch_one(&mut conn).await?;
            let counts: Counts = sqlx::query_as(COUNTS_SQL).fetch_one(&mut conn).await?;
            let names: Vec<String> = sqlx::query_scalar("SELECT DISTINCT sha256 FROM documents").fetch_all(&mut conn).await?;
            let file = dir.join(PG_FILE);
            let mut dump = pg_command("pg_dump", &url)?;
            dump.args(["--format=custom", "--no-owner", "--no-privileges"]).arg(format!("--snapshot={snapshot}")).arg("--file").arg(&file);
            run(dump, "pg_dump")?;
            sqlx::query("COMMIT").execute(&mut conn).await?;
            (counts, names)
        }
    };
    let documents = DocumentStore::open(&settings.documents_url()?)?;
    for name in &names {
        let bytes = documents.get(name).await.with_context(|| format!("membaca dokumen {name}"))?;
        if sha256_hex(&bytes) != *name {
            bail!("Dokumen {name} di penyimpanan tidak sesuai dengan namanya (rusak); cadangan dihentikan.");
        }
        let path = letter_path(dir, name);
        std::fs::create_dir_all(path.parent().expect("under documents/"))?;
        std::fs::write(&path, &bytes).with_context(|| format!("menulis {}", path.display()))?;
    }
    let manifest = Manifest {
        format: FORMAT,
        server_version: env!("CARGO_PKG_VERSION").into(),
        created_at: chrono::Utc::now(),
        backend,
        counts,
        letters: names.len(),
    };
    std::fs::write(dir.join("manifest.json"), serde_json::to_vec_pretty(&manifest)?)?;
    Ok(manifest)
}

/// Restores a backup into this server's database and document store, which must hold no
/// accounts and no memberships; then migrates it to this version and checks the counts.
pub async fn restore(settings: &Settings, dir: &Path) -> Result<Manifest> {
    let manifest: Manifest = serde_json::from_slice(
        &std::fs::read(dir.join("manifest.json")).with_context(|| format!("{} bukan folder cadangan (manifest.json)", dir.display()))?,
    )?;
    if manifest.format != FORMAT {
        bail!("Format cadangan {} tidak dikenal versi ini.", manifest.format);
    }
    let url = settings.database_url();
    let backend = backend_of(&url);
    if backend != manifest.backend {
        bail!("Cadangan ini dari basis data {:?}; pulihkan ke basis data yang sama jenisnya.", manifest.backend);
    }
    // Letters first, verified: a database is never restored without what it names.
    let documents = DocumentStore::open(&settings.documents_url()?)?;
    let mut letters = 0;
    for path in files_under(&dir.join("documents"))? {
        let bytes = std::fs::read(&path)?;
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
        if sha256_hex(&bytes) != name {
            bail!("{} rusak (isinya tidak sesuai dengan namanya); pemulihan dihentikan.", path.display());
        }
        documents.put(&name, &bytes).await?;
        letters += 1;
    }
    if letters != manifest.letters {
        bail!("Cadangan tidak lengkap: {letters} dokumen, manifest menyebut {}.", manifest.letters);
    }
    match backend {
        Backend::Sqlite => {
            let options = sqlx::sqlite::SqliteConnectOptions::from_str(&url)?;
            let target = options.get_filename().to_path_buf();
            if target.exists() {
                let mut conn = sqlx::SqliteConnection::connect_with(&options.clone().read_only(true)).await?;
                let has_schema: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE name = 'memberships'").fetch_one(&mut conn).await?;
                let counts = if has_schema > 0 { Some(sqlx::query_as(COUNTS_SQL).fetch_one(&mut conn).await?) } else { None };
                conn.close().await?;
                refuse_data(counts)?;
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(PathBuf::from(format!("{}{suffix}", target.display())));
                }
            }
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::copy(dir.join(SQLITE_FILE), &target).with_context(|| format!("menyalin ke {}", target.display()))?;
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&url).await.context("membuka basis data")?;
            let has_schema: bool = sqlx::query_scalar("SELECT to_regclass('public.memberships') IS NOT NULL").fetch_one(&mut conn).await?;
            let counts = if has_schema { Some(sqlx::query_as(COUNTS_SQL).fetch_one(&mut conn).await?) } else { None };
            conn.close().await?;
            refuse_data(counts)?;
            let mut load = pg_command("pg_restore", &url)?;
            load.args(["--clean", "--if-exists", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"])
                .arg(dir.join(PG_FILE));
            run(load, "pg_restore")?;
        }
    }
    // Migrations of this version on top of the backup's (the smallest pool: it only
    // migrates, then closes).
    drop(crate::store::migrate_and_open(&url, 2).await.context("memigrasi basis data yang dipulihkan")?);
    let counts: Counts = match backend {
        Backend::Sqlite => sqlx::query_as(COUNTS_SQL).fetch_one(&mut sqlx::SqliteConnection::connect(&url).await?).await?,
        Backend::Postgres => sqlx::query_as(COUNTS_SQL).fetch_one(&mut sqlx::PgConnection::connect(&url).await?).await?,
    };
    if counts != manifest.counts {
        bail!("Hasil pemulihan tidak sama dengan cadangan: {counts:?}, manifest {:?}.", manifest.counts);
    }
    Ok(manifest)
}

fn refuse_data(counts: Option<Counts>) -> Result<()> {
    match counts {
        Some(c) if c.accounts > 0 || c.memberships > 0 => bail!(
            "Basis data tujuan tidak kosong ({} akun, {} keanggotaan); pemulihan hanya ke server baru yang kosong.",
            c.accounts,
            c.memberships
        ),
        _ => Ok(()),
    }
}

fn letter_path(dir: &Path, sha256: &str) -> PathBuf {
    dir.join("documents").join(&sha256[..2]).join(format!("{sha256}.pdf"))
}

fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    if !dir.exists() {
        return Ok(out);
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            out.extend(files_under(&path)?);
        } else if path.extension().is_some_and(|e| e == "pdf") {
            out.push(path);
        }
    }
    Ok(out)
}

/// `pg_dump` / `pg_restore` (from `PATH`) against `url`, its password in `PGPASSWORD`
/// rather than on a command line every user of the machine can read.
fn pg_command(program: &str, url: &str) -> Result<Command> {
    let mut parsed = url::Url::parse(url).context("--database-url")?;
    let password = parsed.password().map(|p| percent_encoding::percent_decode_str(p).decode_utf8_lossy().into_owned());
    let _ = parsed.set_password(None);
    let mut command = Command::new(program);
    command.arg(format!("--dbname={parsed}"));
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    Ok(command)
}

fn run(mut command: Command, what: &str) -> Result<()> {
    let output = command.output().with_context(|| format!("{what} tidak dapat dijalankan (PostgreSQL client tools terpasang?)"))?;
    if !output.status.success() {
        bail!("{what} gagal ({}): {}", output.status, String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(())
}
