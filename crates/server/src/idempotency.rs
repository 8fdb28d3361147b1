//! `Idempotency-Key`: the same key with the same request returns the first response again
//! without doing the work twice; the same key with a different request is
//! `422 idempotency_key_reused`. "The same" is by meaning ([`meaning`]): a multipart form's
//! fields and the SHA-256 of its files, whatever boundary the client chose on the retry
//! (curl, browsers and most HTTP libraries choose a new one); a JSON body's value,
//! whatever its spacing or key order. Keys are per account and kept 30 days ([`crate::store::IDEMPOTENCY_DAYS`]).
//!
//! A state change saves its key in the same transaction as the change, so a retry after a
//! lost response can never apply it twice. A refusal before any change (validation, PDF,
//! Dukcapil) is saved on its own; a 5xx is never saved, so a retry tries again.

use chrono::Utc;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::store::{IdempotencyRow, ReadConn, StoreResult, WriteConn};

pub const HEADER: &str = "idempotency-key";

/// What a request body says, as bytes to fingerprint: for `multipart/form-data`, every
/// part as `name = text` or `name = sha256:<hex>` for a file, sorted; for JSON, the value
/// written in one canonical way (keys sorted); anything else, or a body that does not
/// parse (the request is refused later anyway), its bytes.
pub async fn meaning(content_type: Option<&str>, body: &[u8]) -> Vec<u8> {
    let media = content_type.unwrap_or_default();
    if media.starts_with("multipart/form-data")
        && let Ok(boundary) = multer::parse_boundary(media)
        && let Some(parts) = multipart_meaning(&boundary, body).await
    {
        return parts;
    }
    if (media.is_empty() || media.starts_with("application/json"))
        && let Ok(value) = serde_json::from_slice::<serde_json::Value>(body)
    {
        return serde_json::to_vec(&value).unwrap_or_else(|_| body.to_vec());
    }
    body.to_vec()
}

async fn multipart_meaning(boundary: &str, body: &[u8]) -> Option<Vec<u8>> {
    let bytes = bytes::Bytes::copy_from_slice(body);
    let stream = futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(bytes) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut parts = Vec::new();
    while let Some(field) = multipart.next_field().await.ok()? {
        let name = field.name().unwrap_or_default().to_owned();
        let is_file = field.file_name().is_some();
        let content = field.bytes().await.ok()?;
        let value = if is_file {
            format!("sha256:{}", hex::encode(Sha256::digest(&content)))
        } else {
            String::from_utf8_lossy(&content).into_owned()
        };
        parts.push(format!("{name}\u{0}{value}"));
    }
    parts.sort();
    Some(parts.join("\u{1}").into_bytes())
}

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
    /// method, path and the body's [`meaning`].
    pub fn new(key: &str, nik: &str, method: &str, path: &str, meaning: &[u8]) -> Result<Idempotency, ApiError> {
        let key = key.trim();
        if key.is_empty() || key.len() > 200 {
            return Err(ApiError::BadRequest("Idempotency-Key harus 1–200 karakter".into()));
        }
        let mut digest = Sha256::new();
        digest.update(method.as_bytes());
        digest.update([0]);
        digest.update(path.as_bytes());
        digest.update([0]);
        digest.update(meaning);
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
