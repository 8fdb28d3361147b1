//! The civil registry (Dukcapil): does a NIK exist, and what name does it hold?
//!
//! Two adapters behind one trait: an HTTP client for a real registry and a simulator that
//! reads a residents CSV. The name is scored by the core's matcher in both cases, so the
//! threshold and the refusal text are the same whichever registry answers.
//!
//! The HTTP registry is asked `GET {base}/nik/{nik}` and answers
//! `200 {"nik": "…", "nama_lengkap": "…", "tanggal_lahir": "YYYY-MM-DD", "jenis_kelamin": "L"|"P"}`
//! or `404` when the NIK is unknown. Each request has a 5 s timeout; network errors and
//! 5xx are retried three times with backoff (200 ms, 400 ms, 800 ms), then the registration
//! is refused with `dukcapil_unavailable` and nothing is stored.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use async_trait::async_trait;
use serde::Deserialize;

/// What the registry holds for a NIK.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Resident {
    pub nik: String,
    pub nama_lengkap: String,
    #[serde(default)]
    pub tanggal_lahir: String,
    #[serde(default)]
    pub jenis_kelamin: String,
}

#[derive(Debug, thiserror::Error)]
pub enum DukcapilError {
    #[error("Dukcapil tidak dapat dihubungi: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait Dukcapil: Send + Sync {
    /// `Ok(None)` when the registry does not know the NIK.
    async fn lookup(&self, nik: &str) -> Result<Option<Resident>, DukcapilError>;
}

/// The built-in registry for development, tests and demos: a residents CSV with columns
/// `nik,nama_lengkap,tanggal_lahir,jenis_kelamin`.
pub struct Simulator {
    residents: HashMap<String, Resident>,
}

impl Simulator {
    pub fn empty() -> Self {
        Simulator { residents: HashMap::new() }
    }

    pub fn from_csv(path: &Path) -> Result<Self> {
        let mut reader = csv::Reader::from_path(path).with_context(|| format!("membaca {}", path.display()))?;
        let mut residents = HashMap::new();
        for row in reader.deserialize::<Resident>() {
            let resident = row.with_context(|| format!("baris rusak di {}", path.display()))?;
            residents.insert(resident.nik.trim().to_owned(), resident);
        }
        Ok(Simulator { residents })
    }

    pub fn len(&self) -> usize {
        self.residents.len()
    }

    pub fn is_empty(&self) -> bool {
        self.residents.is_empty()
    }
}

#[async_trait]
impl Dukcapil for Simulator {
    async fn lookup(&self, nik: &str) -> Result<Option<Resident>, DukcapilError> {
        Ok(self.residents.get(nik).cloned())
    }
}

/// A real registry over HTTP.
pub struct HttpRegistry {
    base: url::Url,
    http: reqwest::Client,
    backoff: Vec<Duration>,
}

impl HttpRegistry {
    pub fn new(base: url::Url) -> Result<Self> {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).connect_timeout(Duration::from_secs(3)).build()?;
        let backoff = vec![Duration::from_millis(200), Duration::from_millis(400), Duration::from_millis(800)];
        Ok(HttpRegistry { base, http, backoff })
    }

    async fn once(&self, nik: &str) -> Result<Option<Resident>, Retry> {
        let url = self.base.join(&format!("nik/{nik}")).map_err(|e| Retry::Fatal(e.to_string()))?;
        let response = self.http.get(url).send().await.map_err(|e| Retry::Again(e.to_string()))?;
        match response.status().as_u16() {
            200 => response.json::<Resident>().await.map(Some).map_err(|e| Retry::Fatal(e.to_string())),
            404 => Ok(None),
            s if s >= 500 || s == 429 => Err(Retry::Again(format!("status {s}"))),
            s => Err(Retry::Fatal(format!("status {s}"))),
        }
    }
}

enum Retry {
    Again(String),
    Fatal(String),
}

#[async_trait]
impl Dukcapil for HttpRegistry {
    async fn lookup(&self, nik: &str) -> Result<Option<Resident>, DukcapilError> {
        let mut last = String::new();
        for wait in std::iter::once(Duration::ZERO).chain(self.backoff.iter().copied()) {
            tokio::time::sleep(wait).await;
            match self.once(nik).await {
                Ok(found) => return Ok(found),
                Err(Retry::Again(why)) => last = why,
                Err(Retry::Fatal(why)) => return Err(DukcapilError::Unavailable(why)),
            }
        }
        Err(DukcapilError::Unavailable(last))
    }
}
