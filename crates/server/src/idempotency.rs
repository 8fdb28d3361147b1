//! `Idempotency-Key`: the same key with the same body returns the first response again
//! without doing the work twice; the same key with a different body is
//! `422 idempotency_key_reused`. Keys are per account and kept 48 hours.
//!
//! A state change saves its key in the same transaction as the change, so a retry after a
//! lost response can never apply it twice. A refusal before any change (validation, PDF,
//! Dukcapil) is saved on its own; a 5xx is never saved, so a retry tries again.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::store::{Conn, IdempotencyRow, StoreResult};

pub const HEADER: &str = "idempotency-key";

#[derive(Debug, Clone)]
pub struct Idempotency {
    pub key: String,
    pub nik: String,
    pub fingerprint: String,
}

impl Idempotency {
    /// Reads the key from the headers; the fingerprint covers method, path and body.
    pub fn from_request(headers: &HeaderMap, nik: &str, method: &str, path: &str, body: &[u8]) -> Result<Option<Idempotency>, ApiError> {
        let Some(value) = headers.get(HEADER) else { return Ok(None) };
        let key = value.to_str().map_err(|_| ApiError::BadRequest("Idempotency-Key bukan teks".into()))?.trim();
        if key.is_empty() || key.len() > 200 {
            return Err(ApiError::BadRequest("Idempotency-Key harus 1–200 karakter".into()));
        }
        let mut digest = Sha256::new();
        digest.update(method.as_bytes());
        digest.update([0]);
        digest.update(path.as_bytes());
        digest.update([0]);
        digest.update(body);
        Ok(Some(Idempotency { key: key.to_owned(), nik: nik.to_owned(), fingerprint: hex::encode(digest.finalize()) }))
    }

    /// The stored response if this key was seen with the same request; an error if it was
    /// seen with another.
    pub async fn replay(&self, conn: &mut dyn Conn) -> Result<Option<Response>, ApiError> {
        match conn.idempotency(&self.nik, &self.key).await? {
            None => Ok(None),
            Some(saved) if saved.fingerprint == self.fingerprint => Ok(Some(stored_response(&saved))),
            Some(_) => Err(ApiError::IdempotencyKeyReused),
        }
    }

    pub async fn save(&self, conn: &mut dyn Conn, status: StatusCode, body: &str) -> StoreResult<()> {
        let row = IdempotencyRow { fingerprint: self.fingerprint.clone(), status: status.as_u16() as i64, body: body.to_owned() };
        conn.save_idempotency(&self.nik, &self.key, &row, Utc::now()).await
    }
}

fn stored_response(saved: &IdempotencyRow) -> Response {
    let status = StatusCode::from_u16(saved.status as u16).unwrap_or(StatusCode::OK);
    let media = if status.is_success() { "application/json" } else { "application/problem+json" };
    let mut response = (status, saved.body.clone()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}
