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

/// The first answer to an `Idempotency-Key`, sent again.
pub fn replayed(saved: StoredAnswer) -> Response {
    let status = StatusCode::from_u16(saved.status).unwrap_or(StatusCode::OK);
    let media = if status.is_success() { "application/json" } else { "application/problem+json" };
    let mut response = (status, saved.body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}
