//! The server's settings: one flag each, every flag also read from `MYINTRESS_<FLAG>`
//! (upper case, dashes as underscores). Every subcommand reads the same settings, so one
//! environment serves them all (API.md, "Operating the server").

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CaptchaMode {
    /// A PNG challenge the person must read.
    Image,
    /// Any answer is accepted. For tests and demos only; the server warns at start.
    Disabled,
}

#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Address to listen on.
    #[arg(long, env = "MYINTRESS_LISTEN", default_value = "127.0.0.1:8080", global = true)]
    pub listen: SocketAddr,

    /// `sqlite://…` (default: `myintress.db` under the data dir) or `postgres://…`.
    #[arg(long, env = "MYINTRESS_DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// Documents (by SHA-256) and the default SQLite database live here.
    #[arg(long, env = "MYINTRESS_DATA_DIR", default_value = "./myintress-data", global = true)]
    pub data_dir: PathBuf,

    /// Residents CSV for the built-in Dukcapil simulator
    /// (`nik,nama_lengkap,tanggal_lahir,jenis_kelamin`).
    #[arg(long, env = "MYINTRESS_RESIDENTS", global = true)]
    pub residents: Option<PathBuf>,

    /// A real civil registry to ask instead of the simulator.
    #[arg(long, env = "MYINTRESS_DUKCAPIL_URL", global = true)]
    pub dukcapil_url: Option<url::Url>,

    /// Folder with `kppn.csv` (`kode,nama`) and `satker.csv` (`kode,nama,kode_kppn`),
    /// loaded at start.
    #[arg(long, env = "MYINTRESS_REFERENCE_DIR", global = true)]
    pub reference_dir: Option<PathBuf>,

    /// Write each e-mail as an `.eml` file here instead of sending it.
    #[arg(long, env = "MYINTRESS_MAIL_DIR", global = true)]
    pub mail_dir: Option<PathBuf>,

    /// SMTP server, e.g. `smtps://user:pass@mail.example.go.id:465`.
    #[arg(long, env = "MYINTRESS_SMTP_URL", global = true)]
    pub smtp_url: Option<String>,

    /// Sender of activation e-mails.
    #[arg(long, env = "MYINTRESS_MAIL_FROM", default_value = "MyIntress <no-reply@myintress.local>", global = true)]
    pub mail_from: String,

    /// Lowest accepted name score against Dukcapil (0–100).
    #[arg(long, env = "MYINTRESS_NAME_THRESHOLD", default_value_t = 80, value_parser = clap::value_parser!(u8).range(0..=100), global = true)]
    pub name_threshold: u8,

    #[arg(long, env = "MYINTRESS_CAPTCHA", value_enum, default_value_t = CaptchaMode::Image, global = true)]
    pub captcha: CaptchaMode,

    /// Base URL of this server as people reach it, for links in e-mails
    /// (default: `http://<listen>`).
    #[arg(long, env = "MYINTRESS_PUBLIC_URL", global = true)]
    pub public_url: Option<url::Url>,

    /// Program that checks PDFs in a child process (default: this binary's `check-pdf`).
    #[arg(long, env = "MYINTRESS_PDF_CHECKER", global = true)]
    pub pdf_checker: Option<PathBuf>,

    /// Check PDFs inside the server process instead of a limited child. Only for the
    /// benchmark that measures what the child costs: a hostile PDF could then take the
    /// server down. The server warns at start.
    #[arg(long, env = "MYINTRESS_PDF_CHECK_IN_PROCESS", hide = true, global = true)]
    pub pdf_check_in_process: bool,

    /// Months without sign-in after which active memberships become dormant.
    #[arg(long, env = "MYINTRESS_DORMANCY_MONTHS", default_value_t = 6, global = true)]
    pub dormancy_months: u32,

    /// Seconds between runs of the dormancy job.
    #[arg(long, env = "MYINTRESS_DORMANCY_INTERVAL", default_value_t = 3600, global = true)]
    pub dormancy_interval: u64,

    /// Hours an activation link stays valid.
    #[arg(long, env = "MYINTRESS_ACTIVATION_HOURS", default_value_t = 72, global = true)]
    pub activation_hours: i64,

    /// Seconds an access token is valid.
    #[arg(long, env = "MYINTRESS_ACCESS_TOKEN_SECONDS", default_value_t = 900, global = true)]
    pub access_token_seconds: i64,

    /// Days after sign-in when a refresh token family expires, however often rotated.
    #[arg(long, env = "MYINTRESS_SESSION_DAYS", default_value_t = 30, global = true)]
    pub session_days: i64,
}

impl Settings {
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("myintress.db").display()))
    }

    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(u) => u.as_str().trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        }
    }

    pub fn dormancy_interval(&self) -> Duration {
        Duration::from_secs(self.dormancy_interval.max(1))
    }

    /// Settings for tests: everything under `data_dir`, captcha off, mail to files.
    pub fn for_tests(data_dir: PathBuf, database_url: Option<String>) -> Settings {
        Settings {
            listen: "127.0.0.1:0".parse().expect("valid address"),
            database_url,
            mail_dir: Some(data_dir.join("mail")),
            data_dir,
            residents: None,
            dukcapil_url: None,
            reference_dir: None,
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
        }
    }
}
