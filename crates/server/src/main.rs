//! `myintress-server`: the central MyIntress API server.
//!
//! ```text
//! myintress-server serve              serve the API (flags or MYINTRESS_* variables)
//! myintress-server create-verifier    --nik --name --email --kppn-code, password on stdin
//! myintress-server create-admin       --nik --name --email, password on stdin (a central operator)
//! myintress-server disable-account    --nik: no sign-in, every session ends (enable-account undoes it)
//! myintress-server revoke-sessions    --nik: every session of the account ends
//! myintress-server reload-reference   re-read kppn.csv and satker.csv (as SIGHUP does)
//! myintress-server backup --to DIR     database snapshot + the letters it names
//! myintress-server restore --from DIR  into an empty server, then migrated and counted
//! myintress-server demo               write demo data, load it, and serve
//! myintress-server check-pdf          (internal) check a PDF on stdin, print JSON
//! ```

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use myintress_server::admin::{By, Change};
use myintress_server::settings::{CaptchaMode, Settings};

/// mimalloc: under the list page's load glibc's malloc took a fifth of the machine, rows
/// being allocated on SQLite's threads and freed on the request threads (BENCHMARKS.md,
/// "Round two, the server, continued"). The letter-check child is this program too and
/// keeps its address-space limit; mimalloc only reserves what fits under it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "myintress-server", version, about = "Server pusat MyIntress Satker")]
struct Cli {
    #[command(flatten)]
    settings: Settings,
    /// `text` for people, `json` (one object per line) for log collectors.
    #[arg(long, env = "MYINTRESS_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API until SIGINT/SIGTERM.
    Serve,
    /// Create a KPPN verifier account; the password is read from stdin.
    CreateVerifier {
        #[arg(long)]
        nik: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        kppn_code: String,
    },
    /// Create a central operator's account (`admin`: manages verifiers and the reference
    /// lists in the app's Administrasi screen); the password is read from stdin.
    CreateAdmin {
        #[arg(long)]
        nik: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
    },
    /// Disable an account (a verifier who left): every session ends at once, sign-in is
    /// refused with `account_disabled` until `enable-account`.
    DisableAccount {
        #[arg(long)]
        nik: String,
    },
    /// Enable a disabled account again (it signs in with its password).
    EnableAccount {
        #[arg(long)]
        nik: String,
    },
    /// End every session of an account (a lost laptop); the password stays.
    RevokeSessions {
        #[arg(long)]
        nik: String,
    },
    /// Re-read `kppn.csv` and `satker.csv` from `--reference-dir` into the database (running
    /// servers see the result at once; `SIGHUP` to a server does the same).
    ReloadReference,
    /// Copy the database (one consistent snapshot) and every letter it names into an
    /// empty folder, while the server keeps serving. PostgreSQL needs `pg_dump` on PATH.
    Backup {
        #[arg(long)]
        to: std::path::PathBuf,
    },
    /// Put a backup into this (empty, stopped) server's database and document store,
    /// migrate it to this version and check its rows against the backup's manifest.
    /// PostgreSQL needs `pg_restore` on PATH.
    Restore {
        #[arg(long)]
        from: std::path::PathBuf,
    },
    /// Write demo reference data and residents under the data dir, load demo accounts and
    /// registrations, print how to sign in, and serve (captcha disabled).
    Demo,
    /// Check a PDF read from stdin and print the outcome as JSON (run by the server as a
    /// child process with limits).
    #[command(hide = true)]
    CheckPdf,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    if let Command::CheckPdf = cli.command {
        return myintress_pdfcheck::serve_child();
    }
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn,tower_http=info".into());
    match cli.log_format {
        LogFormat::Text => tracing_subscriber::fmt().with_env_filter(filter).init(),
        LogFormat::Json => tracing_subscriber::fmt().json().with_current_span(true).with_env_filter(filter).init(),
    }
    without_sqlite_memory_statistics();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(cli))
}

/// SQLite counts every allocation under one process-wide mutex, for statistics nobody
/// reads; with eight reading threads that mutex is contended on every row. Set while this
/// is the only thread, before anything opens a database, as `sqlite3_config` requires.
fn without_sqlite_memory_statistics() {
    // SAFETY: SQLITE_CONFIG_MEMSTATUS takes one int, and no other thread exists yet to
    // call into SQLite while the setting is made (before sqlite3_initialize).
    let _ = unsafe { libsqlite3_sys::sqlite3_config(libsqlite3_sys::SQLITE_CONFIG_MEMSTATUS, 0 as std::ffi::c_int) };
}

async fn run(cli: Cli) -> Result<()> {
    let mut settings = cli.settings;
    match cli.command {
        Command::Serve => serve(settings).await,
        Command::CreateVerifier { nik, name, email, kppn_code } => {
            let password = read_password()?;
            let state = myintress_server::state::AppState::open(settings).await?;
            myintress_server::demo::create_verifier(&state, &nik, &name, &email, &kppn_code, &password).await?;
            println!("Akun verifikator KPPN {kppn_code} dibuat untuk {name}.");
            Ok(())
        }
        Command::CreateAdmin { nik, name, email } => {
            let password = read_password()?;
            let state = myintress_server::state::AppState::open(settings).await?;
            myintress_server::demo::create_admin(&state, &nik, &name, &email, &password).await?;
            println!("Akun pengelola pusat dibuat untuk {name}.");
            Ok(())
        }
        Command::DisableAccount { nik } => account_command(&settings, &nik, Change::Disable).await,
        Command::EnableAccount { nik } => account_command(&settings, &nik, Change::Enable).await,
        Command::RevokeSessions { nik } => account_command(&settings, &nik, Change::RevokeSessions).await,
        Command::ReloadReference => {
            let dir = settings.reference_dir.clone().context("--reference-dir (MYINTRESS_REFERENCE_DIR) belum diisi")?;
            let store = open_store(&settings).await?;
            let loaded = myintress_server::reference::load(store.as_ref(), &dir).await?;
            println!(
                "Data referensi dimuat: {} KPPN, {} satker, {} satker baru atau berubah.",
                loaded.kppns, loaded.satkers, loaded.changed
            );
            for (satker, from, to) in &loaded.moved {
                println!("Satker {satker} pindah dari KPPN {from} ke KPPN {to}.");
            }
            Ok(())
        }
        Command::Backup { to } => {
            let m = myintress_server::backup::backup(&settings, &to).await?;
            println!(
                "Cadangan dibuat di {}: {} akun, {} keanggotaan, {} baris audit, {} dokumen.",
                to.display(),
                m.counts.accounts,
                m.counts.memberships,
                m.counts.audit,
                m.letters
            );
            Ok(())
        }
        Command::Restore { from } => {
            let m = myintress_server::backup::restore(&settings, &from).await?;
            println!(
                "Cadangan {} dipulihkan: {} akun, {} keanggotaan, {} baris audit, {} dokumen.",
                m.created_at.format("%Y-%m-%d %H:%M UTC"),
                m.counts.accounts,
                m.counts.memberships,
                m.counts.audit,
                m.letters
            );
            Ok(())
        }
        Command::Demo => {
            std::fs::create_dir_all(&settings.data_dir)?;
            // Never demo people in a database that holds real ones (a production URL in
            // the environment by mistake).
            let store = open_store(&settings).await?;
            myintress_server::demo::refuse_real_data(store.as_ref()).await?;
            drop(store);
            let (reference, residents) = myintress_server::demo::write_files(&settings.data_dir)?;
            settings.reference_dir.get_or_insert(reference);
            settings.residents.get_or_insert(residents);
            if settings.trust_dir.is_none() {
                settings.trust_dir = Some(myintress_server::demo::write_trust(&settings.data_dir)?);
            }
            settings.captcha = CaptchaMode::Disabled;
            if settings.mail_dir.is_none() && settings.smtp_url.is_none() {
                settings.mail_dir = Some(settings.data_dir.join("mail"));
            }
            let state = myintress_server::state::AppState::open(settings.clone()).await?;
            if myintress_server::demo::load(&state).await? {
                tracing::info!("demo data loaded");
            }
            drop(state);
            serve(settings).await
        }
        Command::CheckPdf => unreachable!("handled before the runtime starts"),
    }
}

/// The first line of stdin, without its line end.
fn read_password() -> Result<String> {
    let mut password = String::new();
    std::io::stdin().read_line(&mut password).context("membaca kata sandi dari stdin")?;
    Ok(password.trim_end_matches(['\r', '\n']).to_owned())
}

/// The database of `settings`, migrated: for the commands that work on it directly.
async fn open_store(settings: &Settings) -> Result<std::sync::Arc<dyn myintress_server::store::Store>> {
    myintress_server::store::migrate_and_open(&settings.database_url(), settings.database_connections()).await.context("membuka basis data")
}

/// `disable-account`, `enable-account`, `revoke-sessions`: on the database directly, so
/// running servers see the change at the next request; recorded in the account audit.
async fn account_command(settings: &Settings, nik: &str, change: Change) -> Result<()> {
    let store = open_store(settings).await?;
    let account = match myintress_server::admin::change_account(store.as_ref(), By::Host, nik, change, false).await {
        Err(myintress_server::error::ApiError::NotFound) => anyhow::bail!("Tidak ada akun dengan NIK {nik}."),
        other => other.map_err(myintress_server::demo::explain)?,
    };
    println!(
        "{}",
        match change {
            Change::Disable => format!("Akun {} dinonaktifkan; semua sesinya berakhir.", account.name),
            Change::Enable => format!("Akun {} diaktifkan kembali.", account.name),
            Change::RevokeSessions => format!("Semua sesi akun {} berakhir.", account.name),
        }
    );
    Ok(())
}

async fn serve(settings: Settings) -> Result<()> {
    let server = myintress_server::start(settings).await?;
    let url = server.state.settings.public_url.clone().map(|u| u.to_string()).unwrap_or_else(|| format!("http://{}", server.addr));
    tracing::info!(addr = %server.addr, "listening");
    if server.state.settings.residents.is_some() && server.state.settings.captcha == CaptchaMode::Disabled {
        println!("{}", myintress_server::demo::instructions(&url));
    }
    shutdown_signal().await;
    tracing::info!("shutting down");
    server.stop().await
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
