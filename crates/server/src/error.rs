//! One error type for every handler, answered as RFC 9457 `application/problem+json`.
//!
//! Each variant says the status it maps to. Internal causes are logged with the request id
//! and never sent to the client; the client gets the Indonesian sentence and a stable code.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use myintress_core::api::{Membership, Problem};
use myintress_core::error::{ErrorCode, FieldError};

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A refusal from the contract's code list (status from [`ErrorCode::http_status`]).
    #[error("{code}")]
    Coded { code: ErrorCode, detail: Option<String>, membership: Option<Box<Membership>>, score: Option<(u8, u8)> },
    /// 422: one or more form fields are wrong; the code is the first field's.
    #[error("validation")]
    Fields(Vec<FieldError>),
    /// 401: no valid session.
    #[error("unauthorized")]
    Unauthorized { code: &'static str, detail: &'static str },
    /// 403: this role never does this.
    #[error("forbidden")]
    Forbidden,
    /// 404: not there, or not in the caller's scope (the two are indistinguishable).
    #[error("not found")]
    NotFound,
    /// 400: the request itself is malformed (not JSON, wrong query parameter, …).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 413: the body is over the limit; refused before it is read.
    #[error("payload too large")]
    TooLarge,
    /// 415: not the media type the endpoint takes.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// 422: an `Idempotency-Key` reused with a different body.
    #[error("idempotency key reused")]
    IdempotencyKeyReused,
    /// 429: too many requests from this address.
    #[error("rate limited")]
    RateLimited,
    /// 500: a fault of ours; the cause is logged, not sent.
    #[error("internal: {0}")]
    Internal(#[from] anyhow::Error),
}

/// 401 for a missing, expired or revoked session, or an account that no longer gives access.
pub const SESSION_EXPIRED: ApiError =
    ApiError::Unauthorized { code: "unauthorized", detail: "Sesi Anda telah berakhir atau tidak valid. Silakan masuk kembali." };

impl ApiError {
    pub fn code(code: ErrorCode) -> Self {
        ApiError::Coded { code, detail: None, membership: None, score: None }
    }

    pub fn with_membership(code: ErrorCode, membership: Membership) -> Self {
        ApiError::Coded { code, detail: None, membership: Some(Box::new(membership)), score: None }
    }

    pub fn field(field: &str, code: ErrorCode) -> Self {
        ApiError::Fields(vec![FieldError::new(field, code)])
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Coded { code, .. } => StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::BAD_REQUEST),
            ApiError::Fields(_) | ApiError::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The problem document for this error.
    pub fn problem(&self) -> Problem {
        let status = self.status();
        let (code, detail): (String, String) = match self {
            ApiError::Coded { code, detail, score, .. } => {
                let text = match (detail, score) {
                    (Some(d), _) => d.clone(),
                    (None, Some((s, t))) => myintress_core::NameScore { score: *s, threshold: *t }.mismatch_detail(),
                    (None, None) => code.detail().to_owned(),
                };
                (code.as_str().to_owned(), text)
            }
            ApiError::Fields(errors) => {
                let first = errors.first();
                let code = first.map(|e| e.code.as_str()).unwrap_or("validation_failed").to_owned();
                let detail = match errors.as_slice() {
                    [one] => one.detail.clone(),
                    _ => "Beberapa isian belum benar; periksa kembali formulir.".to_owned(),
                };
                (code, detail)
            }
            ApiError::Unauthorized { code, detail } => ((*code).to_owned(), (*detail).to_owned()),
            ApiError::Forbidden => ("forbidden".into(), "Peran Anda tidak dapat melakukan tindakan ini.".into()),
            ApiError::NotFound => ("not_found".into(), "Data tidak ditemukan.".into()),
            ApiError::BadRequest(why) => ("bad_request".into(), format!("Permintaan tidak valid: {why}")),
            ApiError::TooLarge => ("payload_too_large".into(), "Ukuran kiriman melebihi batas; dokumen maksimal 5MB.".into()),
            ApiError::UnsupportedMediaType => ("unsupported_media_type".into(), "Format kiriman tidak didukung untuk alamat ini.".into()),
            ApiError::IdempotencyKeyReused => {
                ("idempotency_key_reused".into(), "Idempotency-Key ini sudah dipakai untuk permintaan yang berbeda.".into())
            }
            ApiError::RateLimited => ("rate_limited".into(), "Terlalu banyak permintaan. Tunggu sebentar lalu coba lagi.".into()),
            ApiError::Internal(_) => {
                ("internal_error".into(), "Terjadi kesalahan pada server. Silakan coba lagi; bila berulang, hubungi petugas.".into())
            }
        };
        let (score, threshold) = match self {
            ApiError::Coded { score: Some((s, t)), .. } => (Some(*s), Some(*t)),
            _ => (None, None),
        };
        Problem {
            kind: format!("urn:myintress:problem:{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            code,
            errors: match self {
                ApiError::Fields(errors) => errors.clone(),
                _ => Vec::new(),
            },
            score,
            threshold,
            membership: match self {
                ApiError::Coded { membership, .. } => membership.clone(),
                _ => None,
            },
            request_id: None,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Internal(anyhow::Error::new(e))
    }
}

/// Renders a problem document with its status and media type.
pub fn problem_response(problem: &Problem) -> Response {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(problem).unwrap_or_default();
    let mut response = (status, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(cause) = &self {
            // The request span carries the request id; the client only sees the id.
            tracing::error!(error = %format!("{cause:#}"), "internal error");
        }
        problem_response(&self.problem())
    }
}
