//! Problem documents on the wire: [`ApiError`] as an HTTP answer.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use myintress_core::api::Problem;

use crate::error::ApiError;
use crate::idempotency::StoredAnswer;

/// Renders a problem document with its status and media type.
pub fn problem_response(problem: &Problem) -> Response {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(problem).unwrap_or_default();
    let mut response = (status, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    if status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::INSUFFICIENT_STORAGE {
        // Nothing was stored: try again in a moment (the desktop retries on its own).
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECONDS));
    }
    response
}

/// What a `503` asks the client to wait before trying again.
pub const RETRY_AFTER_SECONDS: &str = "5";

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(cause) = &self {
            // The request span carries the request id; the client only sees the id.
            tracing::error!(error = %format!("{cause:#}"), "internal error");
        }
        problem_response(&self.problem())
    }
}

/// The first answer to an `Idempotency-Key`, sent again.
pub fn replayed(saved: StoredAnswer) -> Response {
    let status = StatusCode::from_u16(saved.status).unwrap_or(StatusCode::OK);
    let media = if status.is_success() { "application/json" } else { "application/problem+json" };
    let mut response = (status, saved.body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_checker_is_a_503_with_retry_after() {
        let error = crate::error::checker_fault(myintress_pdfcheck::Busy.into());
        assert_eq!(error.problem().code, myintress_core::ErrorCode::ServiceOverloaded);
        let response = error.into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], RETRY_AFTER_SECONDS);
        let other = crate::error::checker_fault(anyhow::anyhow!("no such program"));
        assert_eq!(other.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
