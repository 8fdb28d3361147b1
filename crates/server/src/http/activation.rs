//! The activation page: the e-mailed link opens it, the person sets a password. The link
//! works once and expires; a used, expired or unknown link answers `410` with a page that
//! says so. Plain HTML, no script; the page's CSP allows only its own stylesheet and
//! posting back to itself.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;

use crate::credentials::{hash_password, token_hash};
use crate::error::ApiError;
use crate::state::AppState;

const CSP: &str = "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const STYLESHEET: &str = "\
body{font-family:'Segoe UI','Noto Sans','DejaVu Sans',sans-serif;background:#f5f7fa;color:#1d2530;margin:0}\
header{background:#0b3b74;color:#fff;padding:14px 24px;border-bottom:4px solid #f2b705;font-weight:700;font-size:1.2rem}\
main{max-width:480px;margin:40px auto;background:#fff;border:1px solid #d5dbe3;border-radius:10px;padding:24px 28px}\
h1{font-size:1.2rem;color:#0b3b74;margin-top:0}label{display:block;font-weight:600;margin:14px 0 6px}\
input{width:100%;box-sizing:border-box;padding:10px;font-size:1rem;border:1px solid #d5dbe3;border-radius:6px}\
button{margin-top:18px;background:#0b3b74;color:#fff;border:0;border-radius:6px;padding:10px 18px;font-size:1rem}\
.salah{color:#b42318}.bantuan{color:#5b6675;font-size:.9rem}";

pub async fn stylesheet() -> Response {
    let mut r = STYLESHEET.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"));
    r
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

fn render(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"id\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} — MyIntress</title><link rel=\"stylesheet\" href=\"/assets/activation.css\"></head>\
         <body><header>MyIntress</header><main><h1>{title}</h1>{body}</main></body></html>",
        title = escape(title)
    );
    let mut r = (status, html).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert("content-security-policy", HeaderValue::from_static(CSP));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    r
}

fn gone() -> Response {
    render(
        StatusCode::GONE,
        "Tautan aktivasi tidak berlaku",
        "<p>Tautan ini sudah pernah digunakan atau sudah kedaluwarsa. Jika Anda sudah membuat kata sandi, \
         silakan masuk ke MyIntress dengan NIK dan kata sandi Anda. Jika belum, hubungi KPPN mitra kerja \
         atau satker Anda untuk dikirimi tautan baru.</p>",
    )
}

fn form(token: &str, error: Option<&str>) -> String {
    let error = error.map(|e| format!("<p class=\"salah\" role=\"alert\">{}</p>", escape(e))).unwrap_or_default();
    format!(
        "<p>Buat kata sandi untuk akun DIGIT Anda. Kata sandi minimal 8 karakter; hindari kata sandi yang \
         mudah ditebak.</p>{error}\
         <form method=\"post\" action=\"/activate/{token}\">\
         <label for=\"password\">Kata sandi</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" required minlength=\"8\" maxlength=\"128\">\
         <label for=\"password_confirmation\">Ulangi kata sandi</label>\
         <input id=\"password_confirmation\" name=\"password_confirmation\" type=\"password\" autocomplete=\"new-password\" required>\
         <button type=\"submit\">Simpan kata sandi</button></form>",
        token = escape(token)
    )
}

async fn usable(state: &AppState, token: &str) -> Result<Option<String>, ApiError> {
    let mut conn = state.store.read().await?;
    let row = conn.activation(&token_hash(token)).await?;
    Ok(row.filter(|r| r.used_at.is_none() && r.expires_at > Utc::now()).map(|r| r.nik))
}

/// `GET /activate/{token}`
#[utoipa::path(get, path = "/activate/{token}", tag = "activation",
    params(("token" = String, Path, description = "The token from the activation e-mail")),
    responses((status = 200, description = "The form to set a password", content_type = "text/html", body = String),
        (status = 410, description = "Used, expired or unknown link", content_type = "text/html", body = String)))]
pub async fn page(State(state): State<Arc<AppState>>, Path(token): Path<String>) -> Result<Response, ApiError> {
    Ok(match usable(&state, &token).await? {
        Some(_) => render(StatusCode::OK, "Aktivasi akun MyIntress", &form(&token, None)),
        None => gone(),
    })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PasswordForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirmation: String,
}

/// `POST /activate/{token}`
#[utoipa::path(post, path = "/activate/{token}", tag = "activation",
    params(("token" = String, Path, description = "The token from the activation e-mail")),
    request_body(content = PasswordForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "Password set", content_type = "text/html", body = String),
        (status = 422, description = "The password breaks a rule; the form is shown again", content_type = "text/html", body = String),
        (status = 410, description = "Used, expired or unknown link", content_type = "text/html", body = String)))]
pub async fn submit(
    State(state): State<Arc<AppState>>,
    Path(token): Path<String>,
    form_data: Result<Form<PasswordForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let Some(nik) = usable(&state, &token).await? else { return Ok(gone()) };
    let Form(data) = match form_data {
        Ok(f) => f,
        Err(_) => Form(PasswordForm { password: String::new(), password_confirmation: String::new() }),
    };
    if let Err(rule) = state.passwords.check(&data.password, &data.password_confirmation) {
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, "Aktivasi akun MyIntress", &form(&token, Some(&rule.to_string()))));
    }
    let password = data.password.clone();
    let hash = tokio::task::spawn_blocking(move || hash_password(&password)).await.map_err(anyhow::Error::from)??;
    let mut tx = state.store.write().await?;
    // The conditional update is the single-use guarantee: of two concurrent posts, one wins.
    if !tx.use_activation(&token_hash(&token), Utc::now()).await? {
        return Ok(gone());
    }
    tx.set_password(&nik, &hash).await?;
    tx.commit().await?;
    Ok(render(
        StatusCode::OK,
        "Kata sandi berhasil dibuat",
        "<p>Akun DIGIT Anda sudah aktif. Anda dapat masuk ke MyIntress dengan NIK dan kata sandi yang baru \
         dibuat setelah pendaftaran Anda disetujui KPPN mitra kerja.</p>",
    ))
}
