//! The HTTP surface: routes, middleware, and the small extractors every handler shares.
//!
//! Middleware, outermost first: request id (`x-request-id`, generated when absent and
//! returned on every response), one tracing span per request labelled by its route,
//! panic → 500 problem, body limit (checked against `Content-Length` before anything is
//! read), and a rewrite of framework errors (404, 405, 413) into problem documents.

mod activation;
mod admin;
mod auth;
mod catalog;
mod deletions;
mod feed;
mod memberships;
pub mod openapi;
pub mod problem;
mod queue;
mod registrations;
pub mod serve;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, FromRequest, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::http::problem::problem_response;
use crate::idempotency::{self, Idempotency};
use crate::state::AppState;
use myintress_core::error::{ErrorCode, FieldError};

/// Largest request body: a 5 MB document plus the form fields and multipart framing.
pub const MAX_BODY_BYTES: usize = myintress_core::pdf::MAX_DOCUMENT_BYTES + 256 * 1024;

/// JSON in and out, with rejections answered as problem documents.
pub struct AppJson<T>(pub T);

impl<T: Serialize> IntoResponse for AppJson<T> {
    fn into_response(self) -> Response {
        Json(self.0).into_response()
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for AppJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
        if !headers.contains_key(header::CONTENT_TYPE) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let body = match Bytes::from_request(req, state).await {
            Ok(body) => body,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(ApiError::TooLarge),
            Err(e) => return Err(ApiError::BadRequest(e.body_text())),
        };
        parse_json(&headers, &body).map(AppJson)
    }
}

/// Parses a JSON body already read as bytes (handlers that also fingerprint the body).
pub fn parse_json<T: DeserializeOwned>(headers: &HeaderMap, body: &[u8]) -> Result<T, ApiError> {
    if let Some(ct) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok())
        && !ct.starts_with("application/json")
    {
        return Err(ApiError::UnsupportedMediaType);
    }
    // Unknown fields are refused by name (422 `unknown_field`), as the contract says; the
    // request types leave missing fields empty (`#[serde(default)]`) so the domain's own
    // checks name them (`reason_required`, `credentials_invalid`, …).
    let mut unknown = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(body);
    let value: T = serde_ignored::deserialize(&mut de, |path| unknown.push(path.to_string()))
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| ApiError::BadRequest(format!("JSON tidak valid: {e}")))?;
    if !unknown.is_empty() {
        return Err(ApiError::Fields(unknown.iter().map(|f| FieldError::new(f, ErrorCode::UnknownField)).collect()));
    }
    Ok(value)
}

/// The request's `Idempotency-Key` record, when it carries one.
pub async fn idempotency(headers: &HeaderMap, nik: &str, method: &str, path: &str, body: &[u8]) -> Result<Option<Idempotency>, ApiError> {
    let Some(value) = headers.get(idempotency::HEADER) else { return Ok(None) };
    let key = value.to_str().map_err(|_| ApiError::BadRequest("Idempotency-Key bukan teks".into()))?;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let meaning = idempotency::meaning(content_type, body).await;
    Idempotency::new(key, nik, method, path, &meaning).map(Some)
}

/// The request id of the current request, for the audit trail.
pub fn request_id(headers: &HeaderMap) -> String {
    headers.get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-").to_owned()
}

/// Reads `If-Match: "<version>"` (the bare number is accepted too).
pub fn if_match(headers: &HeaderMap) -> Result<Option<i64>, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else { return Ok(None) };
    let text = value.to_str().map_err(|_| ApiError::BadRequest("If-Match bukan teks".into()))?.trim();
    let text = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
    text.parse::<i64>().map(Some).map_err(|_| ApiError::BadRequest("If-Match harus berisi versi, misalnya \"3\"".into()))
}

/// The address a request comes from (see [`client_addr`]), set on every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// The client's address: the peer's, unless the peer is a trusted proxy
/// (`--trusted-proxies`); then `X-Forwarded-For` is read from the right (the hop our
/// proxies appended) and the first address that is not a trusted proxy is the client.
/// Whatever stands left of it was written by the client and is not believed.
pub fn client_addr(peer: IpAddr, headers: &HeaderMap, trusted: &[ipnet::IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let peer = peer.to_canonical();
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<&str> =
        headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).map(str::trim).collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>() else { break };
        client = ip.to_canonical();
        if !is_trusted(&client) {
            break;
        }
    }
    client
}

async fn set_client_addr(State(state): State<Arc<AppState>>, mut request: Request, next: Next) -> Response {
    let peer =
        request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()).unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    let client = client_addr(peer, request.headers(), &state.settings.trusted_proxies);
    request.extensions_mut().insert(ClientAddr(client));
    next.run(request).await
}

async fn rate_limit_auth(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let client = client_of(&request);
    if !state.limits.allow_auth(client) {
        return ApiError::RateLimited.into_response();
    }
    next.run(request).await
}

/// The address a request came from, as `set_client_addr` recorded it.
fn client_of(request: &Request) -> IpAddr {
    request.extensions().get::<ClientAddr>().map(|c| c.0).unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
}

/// The captcha's own per-address limit: it is anonymous and draws an image (with the
/// captcha disabled, for tests and demos, there is no image to protect).
async fn rate_limit_captcha(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let client = client_of(&request);
    if state.settings.captcha == crate::settings::CaptchaMode::Image && !state.limits.allow_captcha(client) {
        return ApiError::RateLimited.into_response();
    }
    next.run(request).await
}

/// Framework answers (unknown route, wrong method, body over the limit) become problem
/// documents like every other error.
async fn problems_for_framework_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let is_problem = response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if is_problem {
        return response;
    }
    let error = match response.status() {
        StatusCode::NOT_FOUND if response.headers().get(header::CONTENT_TYPE).is_none() => ApiError::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => {
            let allow = response.headers().get(header::ALLOW).cloned();
            let mut r = problem_response(&ApiError::BadRequest("metode tidak didukung untuk alamat ini".into()).problem());
            *r.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
            if let Some(allow) = allow {
                r.headers_mut().insert(header::ALLOW, allow);
            }
            return r;
        }
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge,
        _ => return response,
    };
    error.into_response()
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::Internal(anyhow::anyhow!("handler panicked")).into_response()
}

/// Whether the database answers a ping now.
async fn database_answers(state: &AppState) -> bool {
    match state.store.read().await {
        Ok(mut conn) => conn.ping().await.is_ok(),
        Err(_) => false,
    }
}

async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    let ok = database_answers(&state).await;
    let body = serde_json::json!({ "status": if ok { "ok" } else { "unavailable" }, "database": state.store.backend() });
    let status = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(body)).into_response()
}

/// Ready to serve: the database and the document store both answer. A load balancer takes
/// a replica that is not ready out of rotation (`/healthz` only says the process lives).
async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    let database = database_answers(&state).await;
    let documents = match state.documents.probe().await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = %e, "readyz: document store not reachable");
            false
        }
    };
    let word = |ok: bool| if ok { "ok" } else { "unavailable" };
    let body = serde_json::json!({ "status": word(database && documents), "database": word(database), "documents": word(documents) });
    let status = if database && documents { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(body)).into_response()
}

/// Prometheus text for a scraper holding `--metrics-token`; without the setting the
/// address does not exist, and a wrong or missing token reads the same as no address.
async fn metrics(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    use secrecy::ExposeSecret;
    use sha2::{Digest, Sha256};
    let Some(token) = &state.settings.metrics_token else { return ApiError::NotFound.into_response() };
    let sent = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    // Digests compared, so the time taken says nothing about how much of the token matched.
    if sent.map(|s| Sha256::digest(s.as_bytes())) != Some(Sha256::digest(token.expose_secret().as_bytes())) {
        return ApiError::NotFound.into_response();
    }
    let outbox = match state.store.read().await {
        Ok(mut conn) => conn.unsent_mail().await.unwrap_or(-1),
        Err(_) => -1,
    };
    let text = state.metrics.render(outbox);
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text).into_response()
}

/// Counts every answer by route template and status, with its duration.
async fn count_request(State(state): State<Arc<AppState>>, request: Request, next: middleware::Next) -> Response {
    let started = std::time::Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "unmatched".into());
    let response = next.run(request).await;
    state.metrics.request(&method, &route, response.status().as_u16(), started.elapsed());
    response
}

/// The whole application.
pub fn router(state: Arc<AppState>) -> Router {
    let captcha_routes =
        OpenApiRouter::new().routes(routes!(auth::captcha)).layer(middleware::from_fn_with_state(state.clone(), rate_limit_captcha));
    let auth_routes = OpenApiRouter::new()
        .routes(routes!(auth::login))
        .routes(routes!(auth::refresh))
        .routes(routes!(auth::password_reset))
        .layer(middleware::from_fn_with_state(state.clone(), rate_limit_auth));

    let (api, spec) = OpenApiRouter::with_openapi(openapi::base())
        .merge(captcha_routes)
        .merge(auth_routes)
        .routes(routes!(auth::logout))
        .routes(routes!(auth::me))
        .routes(routes!(auth::change_password))
        .routes(routes!(auth::logout_all))
        .routes(routes!(catalog::satkers))
        .routes(routes!(catalog::digit))
        .routes(routes!(catalog::trust))
        .routes(routes!(registrations::register))
        .routes(routes!(registrations::check_registration))
        .routes(routes!(memberships::list))
        .routes(routes!(memberships::bulk))
        .routes(routes!(queue::queue))
        .routes(routes!(memberships::detail))
        .routes(routes!(memberships::approve))
        .routes(routes!(memberships::reject))
        .routes(routes!(memberships::deactivate))
        .routes(routes!(memberships::reactivate))
        .routes(routes!(memberships::delete))
        .routes(routes!(memberships::contact))
        .routes(routes!(memberships::resend_activation))
        .routes(routes!(deletions::request))
        .routes(routes!(deletions::list))
        .routes(routes!(deletions::decline))
        .routes(routes!(feed::document))
        .routes(routes!(feed::changes))
        .routes(routes!(feed::audit))
        .routes(routes!(admin::verifiers, admin::create_verifier))
        .routes(routes!(admin::disable))
        .routes(routes!(admin::enable))
        .routes(routes!(admin::move_verifier))
        .routes(routes!(admin::kppns))
        .routes(routes!(admin::reference))
        .routes(routes!(activation::page, activation::submit))
        .routes(routes!(activation::reset_page, activation::reset_submit))
        .split_for_parts();
    let spec = Arc::new(openapi::finish(spec));

    let trace = TraceLayer::new_for_http()
        .make_span_with(|request: &Request<Body>| {
            let route = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "-".into());
            let id = request.extensions().get::<RequestId>().and_then(|id| id.header_value().to_str().ok()).unwrap_or("-").to_owned();
            tracing::info_span!("request", method = %request.method(), route, request_id = id)
        })
        .on_response(tower_http::trace::DefaultOnResponse::new().level(tracing::Level::INFO));

    api.route("/healthz", axum::routing::get(healthz))
        .route("/readyz", axum::routing::get(readyz))
        .route("/metrics", axum::routing::get(metrics))
        .route(
            "/openapi.json",
            axum::routing::get(move || {
                let spec = spec.clone();
                async move { Json(spec.as_ref().clone()) }
            }),
        )
        .route("/assets/activation.css", axum::routing::get(activation::stylesheet))
        .fallback(|| async { ApiError::NotFound })
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        // Outside the body limit, so its plain-text 413 becomes a problem document too.
        .layer(middleware::from_fn(problems_for_framework_errors))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panic_response))
        .layer(tower_http::set_header::SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        // Answers carry people's data and credentials: no cache (a proxy's, a browser's)
        // keeps one. The desktop keeps its own encrypted copy of what it needs.
        .layer(tower_http::set_header::SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        // Overload: beyond --max-concurrent-requests, or past --request-timeout, the answer
        // is 503 service_overloaded with Retry-After at once (nothing was stored), which
        // the desktop retries; a queue that only grows helps nobody.
        .layer(
            tower::ServiceBuilder::new()
                .layer(axum::error_handling::HandleErrorLayer::new(overloaded))
                .load_shed()
                .concurrency_limit(state.settings.max_concurrent_requests.max(1))
                .timeout(std::time::Duration::from_secs(state.settings.request_timeout.max(1))),
        )
        .layer(trace)
        .layer(middleware::from_fn_with_state(state.clone(), count_request))
        .layer(middleware::from_fn_with_state(state.clone(), set_client_addr))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// The answer to a request shed by the concurrency limit or stopped by the request
/// timeout.
async fn overloaded(error: tower::BoxError) -> Response {
    if error.is::<tower::timeout::error::Elapsed>() {
        tracing::warn!("request exceeded --request-timeout");
    } else {
        tracing::warn!(error = %error, "request shed: too many at once");
    }
    ApiError::code(myintress_core::ErrorCode::ServiceOverloaded).into_response()
}

/// A `multipart/form-data` body: text fields, and at most one file part.
pub struct FormParts {
    pub fields: std::collections::HashMap<String, String>,
    /// The file's bytes; `None` when the part is missing or empty.
    pub file: Option<Vec<u8>>,
}

/// Reads a multipart form whose only file part is `file_field` and whose text fields are
/// `text_fields` (a text file's part may be one of them: its content is the text). Any
/// other part is `unknown_field`; a second file is refused, since the guide allows exactly
/// one PDF.
pub async fn read_multipart(request: Request, file_field: Option<&str>, text_fields: &[&str]) -> Result<FormParts, ApiError> {
    use myintress_core::error::{ErrorCode, FieldError};
    let bad = |e: axum::extract::multipart::MultipartError| ApiError::BadRequest(e.body_text());
    let mut multipart = axum::extract::Multipart::from_request(request, &()).await.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let mut parts = FormParts { fields: Default::default(), file: None };
    let mut seen_file = false;
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_owned();
        if Some(name.as_str()) == file_field {
            if seen_file {
                return Err(ApiError::Fields(vec![FieldError::with_detail(
                    &name,
                    ErrorCode::LetterNotPdf,
                    "Hanya 1 file (pdf) yang dapat diunggah".into(),
                )]));
            }
            seen_file = true;
            parts.file = Some(field.bytes().await.map_err(bad)?.to_vec()).filter(|b| !b.is_empty());
        } else if text_fields.contains(&name.as_str()) {
            let value = field.text().await.map_err(bad)?;
            parts.fields.insert(name, value);
        } else {
            return Err(ApiError::Fields(vec![FieldError::new(&name, ErrorCode::UnknownField)]));
        }
    }
    Ok(parts)
}

/// Reads the whole body (already bounded by the body limit layer).
pub async fn body_bytes(request: Request) -> Result<(axum::http::request::Parts, Bytes), ApiError> {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| ApiError::TooLarge)?;
    Ok((parts, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let balancer: IpAddr = "10.0.0.5".parse().unwrap();
        let stranger: IpAddr = "203.0.113.9".parse().unwrap();
        // From the balancer: the hop it appended is the client.
        assert_eq!(client_addr(balancer, &forwarded("198.51.100.7"), &trusted), "198.51.100.7".parse::<IpAddr>().unwrap());
        // A client that writes its own header gets its own header ignored: the rightmost
        // untrusted hop (what our balancer saw) wins.
        assert_eq!(client_addr(balancer, &forwarded("1.2.3.4, 198.51.100.7"), &trusted), "198.51.100.7".parse::<IpAddr>().unwrap());
        // Two proxies of ours in a row are skipped.
        assert_eq!(client_addr(balancer, &forwarded("198.51.100.7, 10.1.1.1"), &trusted), "198.51.100.7".parse::<IpAddr>().unwrap());
        // From anyone else the header means nothing.
        assert_eq!(client_addr(stranger, &forwarded("198.51.100.7"), &trusted), stranger);
        // Garbage left of our hop stops the walk at the last address we can trust.
        assert_eq!(client_addr(balancer, &forwarded("bukan-ip, 10.1.1.1"), &trusted), "10.1.1.1".parse::<IpAddr>().unwrap());
        // No header from a trusted peer: the peer.
        assert_eq!(client_addr(balancer, &HeaderMap::new(), &trusted), balancer);
        // IPv4 seen as IPv4-mapped IPv6 is the same address.
        let mapped: IpAddr = "::ffff:203.0.113.9".parse().unwrap();
        assert_eq!(client_addr(mapped, &HeaderMap::new(), &trusted), stranger);
    }
}
