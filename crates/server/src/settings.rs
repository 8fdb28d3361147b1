//! The server's settings: one flag each, every flag also read from `MYINTRESS_<FLAG>`
//! (upper case, dashes as underscores). Every subcommand reads the same settings, so one
//! environment serves them all (README, "The central server").

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use secrecy::{ExposeSecret, SecretString};

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
    #[arg(long, env = "MYINTRESS_DATABASE_URL", value_parser = parse_secret, global = true)]
    pub database_url: Option<SecretString>,

    /// Connections to the database this process keeps: PostgreSQL's pool, or SQLite's
    /// readers (its writer is always one). Default: twice this machine's cores, at least
    /// 4. A database busy with more queries than it has cores only makes each of them
    /// wait longer, so with PostgreSQL on a machine of its own, set it so that all the
    /// replicas together hold about twice the database machine's cores.
    #[arg(long, env = "MYINTRESS_DATABASE_CONNECTIONS", value_parser = clap::value_parser!(u32).range(2..), global = true)]
    pub database_connections: Option<u32>,

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

    /// Folder of PEM certificates (roots and intermediates) that signed letters are checked
    /// against; desktops receive the same list (`GET /api/v1/trust`). Without it, every
    /// signature's signer reads as unknown.
    #[arg(long, env = "MYINTRESS_TRUST_DIR", global = true)]
    pub trust_dir: Option<PathBuf>,

    /// Write each e-mail as an `.eml` file here instead of sending it.
    #[arg(long, env = "MYINTRESS_MAIL_DIR", global = true)]
    pub mail_dir: Option<PathBuf>,

    /// SMTP server, e.g. `smtps://user:pass@mail.example.go.id:465`.
    #[arg(long, env = "MYINTRESS_SMTP_URL", value_parser = parse_secret, global = true)]
    pub smtp_url: Option<SecretString>,

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

    /// Months without a sign-in after which a KPPN verifier's account is disabled by the
    /// background round (a verifier who left the KPPN stops having a working account).
    #[arg(long, env = "MYINTRESS_VERIFIER_DORMANCY_MONTHS", default_value_t = 6, global = true)]
    pub verifier_dormancy_months: u32,

    /// Working days (Monday–Friday less the holidays of `libur.csv`) after which a pending
    /// request is overdue in the Antrean and the KPPN's verifiers are reminded.
    #[arg(long, env = "MYINTRESS_PENDING_REMINDER_DAYS", default_value_t = 2, global = true)]
    pub pending_reminder_days: u32,

    /// Working days after which a pending request is escalated to the KPPN's supervisors.
    #[arg(long, env = "MYINTRESS_PENDING_ESCALATION_DAYS", default_value_t = 5, global = true)]
    pub pending_escalation_days: u32,

    /// Hours without use after which a refresh-token family expires (ASVS L2); the person
    /// signs in again, and actions queued meanwhile go after that.
    #[arg(long, env = "MYINTRESS_SESSION_IDLE_HOURS", default_value_t = 12, global = true)]
    pub session_idle_hours: i64,

    /// Seconds a replica remembers who an access token belongs to (and the caller's
    /// scope), so a request reads the database once. A sign-out, a disabled account or a
    /// changed scope takes effect at once on the replica that made it and within this
    /// many seconds on the others; 0 turns the cache off.
    #[arg(long, env = "MYINTRESS_SESSION_CACHE_SECONDS", default_value_t = 5, global = true)]
    pub session_cache_seconds: u64,

    /// Where letters and decrees are stored: `file:///folder` (default: `documents/` under
    /// the data dir) or `s3://bucket/prefix`, configured by the standard `AWS_ENDPOINT_URL`,
    /// `AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_ALLOW_HTTP`.
    /// Several replicas need one store they all reach.
    #[arg(long, env = "MYINTRESS_DOCUMENTS_URL", global = true)]
    pub documents_url: Option<url::Url>,

    /// Minutes an object no row names is kept before the collector removes it.
    #[arg(long, env = "MYINTRESS_DOCUMENTS_GRACE_MINUTES", default_value_t = 60, global = true)]
    pub documents_grace_minutes: i64,

    /// Peers whose `X-Forwarded-For` is believed (CIDRs or addresses, comma-separated):
    /// the load balancers in front of the replicas. From anyone else the header is ignored.
    #[arg(long, env = "MYINTRESS_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_net, global = true)]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// Seconds a connection may take to send a request's headers (a slow or idle
    /// connection is closed after that, so a slowloris holds nothing for long).
    #[arg(long, env = "MYINTRESS_HEADER_READ_TIMEOUT", default_value_t = 10, global = true)]
    pub header_read_timeout: u64,

    /// Seconds a request may take in all (its body, the letter check, the answer).
    #[arg(long, env = "MYINTRESS_REQUEST_TIMEOUT", default_value_t = 90, global = true)]
    pub request_timeout: u64,

    /// Requests served at once; beyond that an answer is `503 service_overloaded` with
    /// `Retry-After` at once instead of a queue that grows.
    #[arg(long, env = "MYINTRESS_MAX_CONCURRENT_REQUESTS", default_value_t = 1024, global = true)]
    pub max_concurrent_requests: usize,

    /// Open connections at once; beyond that new ones wait to be accepted.
    #[arg(long, env = "MYINTRESS_MAX_CONNECTIONS", default_value_t = 10_000, global = true)]
    pub max_connections: usize,

    /// Seconds a stopping server lets requests in flight finish before it closes them.
    #[arg(long, env = "MYINTRESS_SHUTDOWN_GRACE", default_value_t = 30, global = true)]
    pub shutdown_grace: u64,

    /// The bearer token Prometheus sends to `GET /metrics` (`Authorization: Bearer …`).
    /// Unset, `/metrics` is not served at all.
    #[arg(long, env = "MYINTRESS_METRICS_TOKEN", value_parser = parse_secret, global = true)]
    pub metrics_token: Option<SecretString>,
}

/// A CIDR (`10.0.0.0/8`) or a single address (`10.0.0.1`, i.e. `/32` or `/128`).
fn parse_net(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{text:?} bukan alamat IP atau CIDR"))
}

/// A setting that holds a password (database and SMTP URLs): `Debug` prints
/// `[REDACTED]`, so logging the settings never shows it.
fn parse_secret(text: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(text.to_owned()))
}

impl Settings {
    /// The database URL, password included: for opening the database, never for a log.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.expose_secret().to_owned(),
            None => format!("sqlite://{}", self.data_dir.join("myintress.db").display()),
        }
    }

    /// `--database-connections`, or twice this machine's cores (at least 4).
    pub fn database_connections(&self) -> u32 {
        self.database_connections.unwrap_or_else(|| {
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get() as u32);
            (2 * cores).max(4)
        })
    }

    /// The SMTP URL, password included: for the mailer, never for a log.
    pub fn smtp_url(&self) -> Option<&str> {
        self.smtp_url.as_ref().map(|u| u.expose_secret())
    }

    /// `--public-url` is the base of every link in an e-mail: required unless the server
    /// listens on a loopback address, and `https://` unless its host is a loopback one.
    pub fn check_public_url(&self) -> anyhow::Result<()> {
        match &self.public_url {
            None if self.listen.ip().is_loopback() => Ok(()),
            None => anyhow::bail!(
                "--public-url wajib diisi bila server mendengarkan di {}: alamat yang dibuka pengguna dari tautan di email, \
                 misalnya https://myintress.kemenkeu.go.id",
                self.listen
            ),
            Some(url) => {
                let host = url.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
                let loopback = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
                if url.scheme() != "https" && !loopback {
                    anyhow::bail!("--public-url harus diawali https:// (kecuali alamat loopback): {url}");
                }
                Ok(())
            }
        }
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

    /// `--documents-url`, or the `documents/` folder under the data dir.
    pub fn documents_url(&self) -> anyhow::Result<url::Url> {
        if let Some(url) = &self.documents_url {
            return Ok(url.clone());
        }
        let dir = std::path::absolute(self.data_dir.join("documents"))?;
        url::Url::from_directory_path(&dir).map_err(|_| anyhow::anyhow!("{}: bukan jalur absolut", dir.display()))
    }

    /// Every setting as the `MYINTRESS_*` variables a child `myintress-server` reads, so
    /// tests and benchmarks can start replicas with exactly these settings.
    pub fn env_vars(&self) -> Vec<(String, String)> {
        let mut vars: Vec<(&str, String)> = vec![
            ("LISTEN", self.listen.to_string()),
            ("DATA_DIR", self.data_dir.display().to_string()),
            ("MAIL_FROM", self.mail_from.clone()),
            ("NAME_THRESHOLD", self.name_threshold.to_string()),
            (
                "CAPTCHA",
                match self.captcha {
                    CaptchaMode::Image => "image",
                    CaptchaMode::Disabled => "disabled",
                }
                .into(),
            ),
            ("DORMANCY_MONTHS", self.dormancy_months.to_string()),
            ("DORMANCY_INTERVAL", self.dormancy_interval.to_string()),
            ("ACTIVATION_HOURS", self.activation_hours.to_string()),
            ("ACCESS_TOKEN_SECONDS", self.access_token_seconds.to_string()),
            ("SESSION_DAYS", self.session_days.to_string()),
            ("SESSION_IDLE_HOURS", self.session_idle_hours.to_string()),
            ("SESSION_CACHE_SECONDS", self.session_cache_seconds.to_string()),
            ("VERIFIER_DORMANCY_MONTHS", self.verifier_dormancy_months.to_string()),
            ("PENDING_REMINDER_DAYS", self.pending_reminder_days.to_string()),
            ("PENDING_ESCALATION_DAYS", self.pending_escalation_days.to_string()),
            ("DOCUMENTS_GRACE_MINUTES", self.documents_grace_minutes.to_string()),
            ("HEADER_READ_TIMEOUT", self.header_read_timeout.to_string()),
            ("REQUEST_TIMEOUT", self.request_timeout.to_string()),
            ("MAX_CONCURRENT_REQUESTS", self.max_concurrent_requests.to_string()),
            ("MAX_CONNECTIONS", self.max_connections.to_string()),
            ("SHUTDOWN_GRACE", self.shutdown_grace.to_string()),
        ];
        let optional: [(&str, Option<String>); 13] = [
            ("DATABASE_URL", self.database_url.as_ref().map(|u| u.expose_secret().to_owned())),
            ("DATABASE_CONNECTIONS", self.database_connections.map(|n| n.to_string())),
            ("METRICS_TOKEN", self.metrics_token.as_ref().map(|t| t.expose_secret().to_owned())),
            ("RESIDENTS", self.residents.as_ref().map(|p| p.display().to_string())),
            ("DUKCAPIL_URL", self.dukcapil_url.as_ref().map(|u| u.to_string())),
            ("REFERENCE_DIR", self.reference_dir.as_ref().map(|p| p.display().to_string())),
            ("TRUST_DIR", self.trust_dir.as_ref().map(|p| p.display().to_string())),
            ("MAIL_DIR", self.mail_dir.as_ref().map(|p| p.display().to_string())),
            ("SMTP_URL", self.smtp_url().map(str::to_owned)),
            ("PUBLIC_URL", self.public_url.as_ref().map(|u| u.to_string())),
            ("PDF_CHECKER", self.pdf_checker.as_ref().map(|p| p.display().to_string())),
            ("DOCUMENTS_URL", self.documents_url.as_ref().map(|u| u.to_string())),
            (
                "TRUSTED_PROXIES",
                (!self.trusted_proxies.is_empty())
                    .then(|| self.trusted_proxies.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(",")),
            ),
        ];
        vars.extend(optional.into_iter().filter_map(|(k, v)| Some((k, v?))));
        if self.pdf_check_in_process {
            vars.push(("PDF_CHECK_IN_PROCESS", "true".into()));
        }
        vars.into_iter().map(|(k, v)| (format!("MYINTRESS_{k}"), v)).collect()
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        settings: Settings,
    }

    /// `env_vars` names every setting: turned back into flags and parsed, they give the
    /// same settings (give a new flag a non-default value here, so leaving it out of
    /// `env_vars` fails).
    #[test]
    fn env_vars_round_trip() {
        let start = ["myintress-server", "--data-dir", "/tmp/myintress-uji", "--database-url", "postgres://u@127.0.0.1:5/db"];
        let mut s = Cli::try_parse_from(start).expect("flags parse").settings;
        s.mail_dir = Some("/tmp/surat".into());
        s.residents = Some("/tmp/warga.csv".into());
        s.dukcapil_url = Some("http://127.0.0.1:9/".parse().unwrap());
        s.reference_dir = Some("/tmp/ref".into());
        s.trust_dir = Some("/tmp/tte".into());
        s.smtp_url = Some("smtp://surat:rahasia@127.0.0.1:25".to_owned().into());
        s.public_url = Some("https://myintress.example.go.id/".parse().unwrap());
        s.pdf_checker = Some("/usr/bin/true".into());
        s.pdf_check_in_process = true;
        s.documents_url = Some("s3://bucket/prefix".parse().unwrap());
        s.trusted_proxies = vec![parse_net("10.0.0.0/8").unwrap(), parse_net("::1").unwrap()];
        s.dormancy_months = 7;
        s.documents_grace_minutes = 5;
        s.session_idle_hours = 9;
        s.session_cache_seconds = 2;
        s.verifier_dormancy_months = 5;
        s.pending_reminder_days = 3;
        s.pending_escalation_days = 8;
        s.header_read_timeout = 3;
        s.request_timeout = 33;
        s.max_concurrent_requests = 7;
        s.max_connections = 99;
        s.database_connections = Some(6);
        s.shutdown_grace = 4;
        s.metrics_token = Some("token-rahasia".to_owned().into());
        let vars = s.env_vars();
        let names: Vec<&str> = vars.iter().map(|(k, _)| k.as_str()).collect();
        let flags: Vec<String> = vars
            .iter()
            .flat_map(|(k, v)| [format!("--{}", k.trim_start_matches("MYINTRESS_").to_lowercase().replace('_', "-")), v.clone()])
            .filter(|a| a != "true")
            .collect();
        let parsed = Cli::try_parse_from(std::iter::once("myintress-server".to_owned()).chain(flags)).expect("flags parse").settings;
        assert_eq!(format!("{parsed:?}"), format!("{s:?}"), "variables: {names:?}");
        // The secrets round-trip too, and `Debug` never shows them.
        assert_eq!(parsed.database_url(), s.database_url());
        assert_eq!(parsed.smtp_url(), s.smtp_url());
        assert!(!format!("{s:?}").contains("rahasia"), "neither the SMTP password nor the metrics token is in Debug");
        assert!(!format!("{s:?}").contains("postgres://"), "the database URL is not in Debug");
    }
}
