//! The server's one error type: a refusal in the contract's codes (core's [`ErrorCode`]) or
//! a fault of ours. The registry, the sessions and the handlers all return it; `http`
//! alone turns it into an RFC 9457 `application/problem+json` answer.
//!
//! Each variant says the status it maps to. Internal causes are logged with the request id
//! and never sent to the client; the client gets the Indonesian sentence and a stable code.

use http::StatusCode;
use myintress_core::api::{Membership, Problem};
use myintress_core::error::{ErrorCode, FieldError};
use myintress_core::name_match::NameExplanation;

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A refusal from the contract's code list (status from [`ErrorCode::http_status`]).
    #[error("{code}")]
    Coded {
        code: ErrorCode,
        detail: Option<String>,
        membership: Option<Box<Membership>>,
        score: Option<(u8, u8)>,
        explanation: Option<Box<NameExplanation>>,
    },
    /// 422: one or more form fields are wrong; the code is the first field's.
    #[error("validation")]
    Fields(Vec<FieldError>),
    /// 401: no valid session ([`ErrorCode::Unauthorized`] or [`ErrorCode::RefreshTokenReused`]).
    #[error("unauthorized: {0}")]
    Unauthorized(ErrorCode),
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
pub const SESSION_EXPIRED: ApiError = ApiError::Unauthorized(ErrorCode::Unauthorized);

impl ApiError {
    pub fn code(code: ErrorCode) -> Self {
        ApiError::Coded { code, detail: None, membership: None, score: None, explanation: None }
    }

    pub fn with_membership(code: ErrorCode, membership: Membership) -> Self {
        ApiError::Coded { code, detail: None, membership: Some(Box::new(membership)), score: None, explanation: None }
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

    /// The code a program acts on.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            ApiError::Coded { code, .. } | ApiError::Unauthorized(code) => code.clone(),
            ApiError::Fields(errors) => errors.first().map_or(ErrorCode::FieldRequired, |e| e.code.clone()),
            ApiError::Forbidden => ErrorCode::Forbidden,
            ApiError::NotFound => ErrorCode::NotFound,
            ApiError::BadRequest(_) => ErrorCode::BadRequest,
            ApiError::TooLarge => ErrorCode::PayloadTooLarge,
            ApiError::UnsupportedMediaType => ErrorCode::UnsupportedMediaType,
            ApiError::IdempotencyKeyReused => ErrorCode::IdempotencyKeyReused,
            ApiError::RateLimited => ErrorCode::RateLimited,
            ApiError::Internal(_) => ErrorCode::InternalError,
        }
    }

    /// The problem document for this error.
    pub fn problem(&self) -> Problem {
        let status = self.status();
        let code = self.error_code();
        let detail = match self {
            ApiError::Coded { detail: Some(d), .. } => d.clone(),
            ApiError::Coded { score: Some((s, t)), .. } => myintress_core::NameScore { score: *s, threshold: *t }.mismatch_detail(),
            ApiError::Fields(errors) => match errors.as_slice() {
                [one] => one.detail.clone(),
                _ => "Beberapa isian belum benar; periksa kembali formulir.".to_owned(),
            },
            ApiError::BadRequest(why) => format!("{}: {why}", code.detail()),
            _ => code.detail().to_owned(),
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
            explanation: match self {
                ApiError::Coded { explanation, .. } => explanation.clone(),
                _ => None,
            },
            request_id: None,
        }
    }
}

impl From<crate::documents::DocumentError> for ApiError {
    fn from(e: crate::documents::DocumentError) -> Self {
        use crate::documents::DocumentError;
        match e {
            DocumentError::Full(cause) => {
                tracing::error!(error = %format!("{cause:#}"), "the document volume is full");
                ApiError::code(ErrorCode::StorageFull)
            }
            DocumentError::Unavailable(cause) => {
                tracing::warn!(error = %format!("{cause:#}"), "the document store is unavailable; answered 503");
                ApiError::code(ErrorCode::StorageUnavailable)
            }
            DocumentError::Other(cause) => ApiError::Internal(cause),
        }
    }
}

/// A fault of the letter checker: [`myintress_pdfcheck::Busy`] is the server shedding load
/// (`503 service_overloaded`, with `Retry-After`; not remembered under an idempotency key),
/// anything else is ours.
pub fn checker_fault(e: anyhow::Error) -> ApiError {
    if e.downcast_ref::<myintress_pdfcheck::Busy>().is_some() {
        tracing::warn!("letter check shed: the checker is busy");
        return ApiError::code(ErrorCode::ServiceOverloaded);
    }
    ApiError::Internal(e)
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        if e.is_full() {
            tracing::error!(error = %e, "the database's disk is full");
            return ApiError::code(ErrorCode::StorageFull);
        }
        if e.is_unavailable() {
            tracing::warn!(error = %e, "the database is unavailable; answered 503");
            return ApiError::code(ErrorCode::StorageUnavailable);
        }
        ApiError::Internal(anyhow::Error::new(e))
    }
}
