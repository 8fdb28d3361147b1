//! The pages an e-mailed link opens to set a password: `/activate/{token}` (the first
//! password of an account a registration made) and `/reset/{token}` (a new password asked
//! for by NIK; every session of the account ends). A link works once, for its own page
//! only, and expires; a used, expired, replaced or unknown link answers `410` with a page
//! that says what to do next. Plain HTML, no script; the page's CSP allows only its own
//! stylesheet and posting back to itself.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;

use crate::credentials::{hash_off_thread, token_hash};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::TokenPurpose;

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

/// The words of each page, by what its link is for.
fn title(purpose: TokenPurpose) -> &'static str {
    match purpose {
        TokenPurpose::Activation => "Aktivasi akun MyIntress",
        TokenPurpose::Reset => "Atur ulang kata sandi MyIntress",
    }
}

fn path(purpose: TokenPurpose) -> &'static str {
    match purpose {
        TokenPurpose::Activation => "activate",
        TokenPurpose::Reset => "reset",
    }
}

fn gone(purpose: TokenPurpose) -> Response {
    match purpose {
        TokenPurpose::Activation => render(
            StatusCode::GONE,
            "Tautan aktivasi tidak berlaku",
            "<p>Tautan ini sudah pernah digunakan, sudah kedaluwarsa, atau sudah diganti tautan yang lebih baru.</p>\
             <p>Jika Anda sudah membuat kata sandi, buka aplikasi MyIntress dan masuk dengan NIK dan kata sandi \
             Anda. Jika lupa kata sandi, pilih <strong>Lupa kata sandi?</strong> di layar masuk.</p>\
             <p>Jika belum pernah membuat kata sandi, minta KPPN mitra kerja Anda mengirim ulang tautan aktivasi \
             (dari menu detail pengguna di aplikasi MyIntress); tautan baru dikirim ke email Anda.</p>",
        ),
        TokenPurpose::Reset => render(
            StatusCode::GONE,
            "Tautan atur ulang kata sandi tidak berlaku",
            "<p>Tautan ini sudah pernah digunakan, sudah kedaluwarsa (berlaku 60 menit), atau sudah diganti \
             tautan yang lebih baru.</p>\
             <p>Untuk meminta tautan baru, buka aplikasi MyIntress, pilih <strong>Lupa kata sandi?</strong> di \
             layar masuk, lalu isi NIK Anda. Tautan dikirim ke email yang terdaftar pada akun Anda; bila email \
             itu sudah tidak dapat Anda buka, hubungi KPPN mitra kerja untuk memperbaikinya.</p>",
        ),
    }
}

fn form(purpose: TokenPurpose, token: &str, error: Option<&str>) -> String {
    let error = error.map(|e| format!("<p class=\"salah\" role=\"alert\">{}</p>", escape(e))).unwrap_or_default();
    let intro = match purpose {
        TokenPurpose::Activation => "Buat kata sandi untuk akun DIGIT Anda.",
        TokenPurpose::Reset => "Buat kata sandi baru untuk akun MyIntress Anda. Setelah disimpan, Anda keluar dari semua perangkat.",
    };
    format!(
        "<p>{intro} Kata sandi minimal 8 karakter; hindari kata sandi yang \
         mudah ditebak.</p>{error}\
         <form method=\"post\" action=\"/{path}/{token}\">\
         <label for=\"password\">Kata sandi</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" required minlength=\"8\" maxlength=\"128\">\
         <label for=\"password_confirmation\">Ulangi kata sandi</label>\
         <input id=\"password_confirmation\" name=\"password_confirmation\" type=\"password\" autocomplete=\"new-password\" required>\
         <button type=\"submit\">Simpan kata sandi</button></form>",
        path = path(purpose),
        token = escape(token)
    )
}

async fn usable(state: &AppState, purpose: TokenPurpose, token: &str) -> Result<Option<String>, ApiError> {
    let mut conn = state.store.read().await?;
    let row = conn.activation(&token_hash(token)).await?;
    Ok(row.filter(|r| r.purpose == purpose && r.used_at.is_none() && r.expires_at > Utc::now()).map(|r| r.nik))
}

async fn show(state: &AppState, purpose: TokenPurpose, token: &str) -> Result<Response, ApiError> {
    Ok(match usable(state, purpose, token).await? {
        Some(_) => render(StatusCode::OK, title(purpose), &form(purpose, token, None)),
        None => gone(purpose),
    })
}

async fn set_password(
    state: &AppState,
    purpose: TokenPurpose,
    token: &str,
    form_data: Result<Form<PasswordForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let Some(nik) = usable(state, purpose, token).await? else { return Ok(gone(purpose)) };
    let Form(data) = match form_data {
        Ok(f) => f,
        Err(_) => Form(PasswordForm { password: String::new(), password_confirmation: String::new() }),
    };
    if let Err(rule) = state.passwords.check(&data.password, &data.password_confirmation) {
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, title(purpose), &form(purpose, token, Some(&rule.to_string()))));
    }
    let hash = hash_off_thread(&data.password).await?;
    let now = Utc::now();
    let mut tx = state.store.write().await?;
    // The conditional update is the single-use guarantee: of two concurrent posts, one wins.
    if !tx.use_activation(&token_hash(token), now).await? {
        return Ok(gone(purpose));
    }
    tx.set_password(&nik, &hash).await?;
    if purpose == TokenPurpose::Reset {
        // A reset ends every session, and no other link of either kind sets a password any more.
        tx.revoke_all_sessions_of(&nik, now).await?;
    }
    tx.void_tokens(&nik, TokenPurpose::Reset, now).await?;
    tx.void_tokens(&nik, TokenPurpose::Activation, now).await?;
    tx.commit().await?;
    state.sessions.forget_person(&nik);
    Ok(match purpose {
        TokenPurpose::Activation => render(
            StatusCode::OK,
            "Kata sandi berhasil dibuat",
            "<p>Akun DIGIT Anda sudah aktif. Anda dapat masuk ke MyIntress dengan NIK dan kata sandi yang baru \
             dibuat setelah pendaftaran Anda disetujui KPPN mitra kerja.</p>",
        ),
        TokenPurpose::Reset => render(
            StatusCode::OK,
            "Kata sandi berhasil diganti",
            "<p>Kata sandi baru sudah tersimpan dan Anda sudah dikeluarkan dari semua perangkat. Buka aplikasi \
             MyIntress dan masuk dengan NIK dan kata sandi baru Anda.</p>",
        ),
    })
}

/// `GET /activate/{token}`
#[utoipa::path(get, path = "/activate/{token}", tag = "activation",
    params(("token" = String, Path, description = "The token from the activation e-mail")),
    responses((status = 200, description = "The form to set a password", content_type = "text/html", body = String),
        (status = 410, description = "Used, expired, replaced or unknown link", content_type = "text/html", body = String)))]
pub async fn page(State(state): State<Arc<AppState>>, Path(token): Path<String>) -> Result<Response, ApiError> {
    show(&state, TokenPurpose::Activation, &token).await
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
        (status = 410, description = "Used, expired, replaced or unknown link", content_type = "text/html", body = String)))]
pub async fn submit(
    State(state): State<Arc<AppState>>,
    Path(token): Path<String>,
    form_data: Result<Form<PasswordForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    set_password(&state, TokenPurpose::Activation, &token, form_data).await
}

/// `GET /reset/{token}`
#[utoipa::path(get, path = "/reset/{token}", tag = "activation",
    params(("token" = String, Path, description = "The token from the password-reset e-mail")),
    responses((status = 200, description = "The form to set a new password", content_type = "text/html", body = String),
        (status = 410, description = "Used, expired, replaced or unknown link", content_type = "text/html", body = String)))]
pub async fn reset_page(State(state): State<Arc<AppState>>, Path(token): Path<String>) -> Result<Response, ApiError> {
    show(&state, TokenPurpose::Reset, &token).await
}

/// `POST /reset/{token}`
#[utoipa::path(post, path = "/reset/{token}", tag = "activation",
    params(("token" = String, Path, description = "The token from the password-reset e-mail")),
    request_body(content = PasswordForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "Password set; every session of the account ended", content_type = "text/html", body = String),
        (status = 422, description = "The password breaks a rule; the form is shown again", content_type = "text/html", body = String),
        (status = 410, description = "Used, expired, replaced or unknown link", content_type = "text/html", body = String)))]
pub async fn reset_submit(
    State(state): State<Arc<AppState>>,
    Path(token): Path<String>,
    form_data: Result<Form<PasswordForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    set_password(&state, TokenPurpose::Reset, &token, form_data).await
}
