//! `Idempotency-Key`: the same key with the same body returns the first response again
//! without doing the work twice; the same key with a different body is
//! `422 idempotency_key_reused`. Keys are per account and kept 30 days ([`crate::store::IDEMPOTENCY_DAYS`]).
//!
//! A state change saves its key in the same transaction as the change, so a retry after a
//! lost response can never apply it twice. A refusal before any change (validation, PDF,
//! Dukcapil) is saved on its own; a 5xx is never saved, so a retry tries again.

use chrono::Utc;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::store::{IdempotencyRow, ReadConn, StoreResult, WriteConn};

pub const HEADER: &str = "idempotency-key";

/// The answer first given to a key: its status and body, sent again as they were.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    pub status: u16,
    pub body: String,
}

#[derive(Debug, Clone)]
pub struct Idempotency {
    pub key: String,
    pub nik: String,
    pub fingerprint: String,
}

impl Idempotency {
    /// The record of `key` (the header's text) for this request; the fingerprint covers
    /// method, path and body.
    pub fn new(key: &str, nik: &str, method: &str, path: &str, body: &[u8]) -> Result<Idempotency, ApiError> {
        let key = key.trim();
        if key.is_empty() || key.len() > 200 {
            return Err(ApiError::BadRequest("Idempotency-Key harus 1–200 karakter".into()));
        }
        let mut digest = Sha256::new();
        digest.update(method.as_bytes());
        digest.update([0]);
        digest.update(path.as_bytes());
        digest.update([0]);
        digest.update(body);
        Ok(Idempotency { key: key.to_owned(), nik: nik.to_owned(), fingerprint: hex::encode(digest.finalize()) })
    }

    /// The stored response if this key was seen with the same request; an error if it was
    /// seen with another.
    pub async fn replay(&self, conn: &mut dyn ReadConn) -> Result<Option<StoredAnswer>, ApiError> {
        match conn.idempotency(&self.nik, &self.key).await? {
            None => Ok(None),
            Some(saved) if saved.fingerprint == self.fingerprint => {
                Ok(Some(StoredAnswer { status: u16::try_from(saved.status).unwrap_or(200), body: saved.body }))
            }
            Some(_) => Err(ApiError::IdempotencyKeyReused),
        }
    }

    pub async fn save(&self, conn: &mut dyn WriteConn, status: u16, body: &str) -> StoreResult<()> {
        let row = IdempotencyRow { fingerprint: self.fingerprint.clone(), status: i64::from(status), body: body.to_owned() };
        conn.save_idempotency(&self.nik, &self.key, &row, Utc::now()).await
    }
}
