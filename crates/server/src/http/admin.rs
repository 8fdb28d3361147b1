//! `/api/v1/admin/…`: central operators manage KPPN verifiers' accounts and upload the
//! reference lists, over [`crate::admin`]. Every endpoint takes an [`Administrator`]:
//! `401` without a session, `403` for any other role.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use myintress_core::api::{Kppn, NewVerifier, Page, Problem, ReferenceLoaded, Role, Verifier, VerifierMove};

use crate::admin::{self, By, Change};
use crate::error::ApiError;
use crate::http::{AppJson, read_multipart};
use crate::session::Administrator;
use crate::state::AppState;

/// `GET /api/v1/admin/verifiers`
#[utoipa::path(get, path = "/api/v1/admin/verifiers", tag = "admin", security(("bearer" = [])),
    responses((status = 200, description = "Every KPPN verifier, by KPPN and name", body = Page<Verifier>),
        (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not an administrator", body = Problem, content_type = "application/problem+json")))]
pub async fn verifiers(State(state): State<Arc<AppState>>, _admin: Administrator) -> Result<AppJson<Page<Verifier>>, ApiError> {
    Ok(AppJson(Page { items: admin::verifiers(state.store.as_ref()).await?, next_cursor: None }))
}

/// `POST /api/v1/admin/verifiers`
#[utoipa::path(post, path = "/api/v1/admin/verifiers", tag = "admin", security(("bearer" = [])), request_body = NewVerifier,
    responses((status = 201, description = "Created; a single-use activation link goes to the e-mail", body = Verifier),
        (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "account_exists", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "field errors: nik_invalid, field_required, email_invalid, kppn_code_invalid, kppn_unknown", body = Problem, content_type = "application/problem+json")))]
pub async fn create_verifier(
    State(state): State<Arc<AppState>>,
    Administrator(by): Administrator,
    AppJson(body): AppJson<NewVerifier>,
) -> Result<(StatusCode, AppJson<Verifier>), ApiError> {
    let row = admin::create_account(&state, By::Admin(&by), Role::Kppn, &body, None).await?;
    Ok((StatusCode::CREATED, AppJson(admin::verifier_to_api(&row))))
}

/// `POST /api/v1/admin/verifiers/{nik}/disable`
#[utoipa::path(post, path = "/api/v1/admin/verifiers/{nik}/disable", tag = "admin", security(("bearer" = [])),
    params(("nik" = String, Path, description = "The verifier's NIK")),
    responses((status = 200, description = "Disabled: every session ended at once; sign-in answers account_disabled", body = Verifier),
        (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no verifier with this NIK", body = Problem, content_type = "application/problem+json")))]
pub async fn disable(
    State(state): State<Arc<AppState>>,
    Administrator(by): Administrator,
    Path(nik): Path<String>,
) -> Result<AppJson<Verifier>, ApiError> {
    let row = admin::change_account(state.store.as_ref(), By::Admin(&by), &nik, Change::Disable, true).await?;
    state.sessions.forget_person(&row.nik);
    Ok(AppJson(admin::verifier_to_api(&row)))
}

/// `POST /api/v1/admin/verifiers/{nik}/enable`
#[utoipa::path(post, path = "/api/v1/admin/verifiers/{nik}/enable", tag = "admin", security(("bearer" = [])),
    params(("nik" = String, Path, description = "The verifier's NIK")),
    responses((status = 200, description = "Enabled: signs in with its password again", body = Verifier),
        (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no verifier with this NIK", body = Problem, content_type = "application/problem+json")))]
pub async fn enable(
    State(state): State<Arc<AppState>>,
    Administrator(by): Administrator,
    Path(nik): Path<String>,
) -> Result<AppJson<Verifier>, ApiError> {
    let row = admin::change_account(state.store.as_ref(), By::Admin(&by), &nik, Change::Enable, true).await?;
    Ok(AppJson(admin::verifier_to_api(&row)))
}

/// `POST /api/v1/admin/verifiers/{nik}/move`
#[utoipa::path(post, path = "/api/v1/admin/verifiers/{nik}/move", tag = "admin", security(("bearer" = [])), request_body = VerifierMove,
    params(("nik" = String, Path, description = "The verifier's NIK")),
    responses((status = 200, description = "Moved (its sessions end when the KPPN changed) or its supervisor mark set", body = Verifier),
        (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no verifier with this NIK", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "kppn_code_invalid, kppn_unknown", body = Problem, content_type = "application/problem+json")))]
pub async fn move_verifier(
    State(state): State<Arc<AppState>>,
    Administrator(by): Administrator,
    Path(nik): Path<String>,
    AppJson(body): AppJson<VerifierMove>,
) -> Result<AppJson<Verifier>, ApiError> {
    let row = admin::move_verifier(state.store.as_ref(), By::Admin(&by), &nik, &body).await?;
    state.sessions.forget_person(&row.nik);
    Ok(AppJson(admin::verifier_to_api(&row)))
}

/// `GET /api/v1/admin/kppns`
#[utoipa::path(get, path = "/api/v1/admin/kppns", tag = "admin", security(("bearer" = [])),
    responses((status = 200, description = "Every KPPN of the reference list", body = Page<Kppn>),
        (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not an administrator", body = Problem, content_type = "application/problem+json")))]
pub async fn kppns(State(state): State<Arc<AppState>>, _admin: Administrator) -> Result<AppJson<Page<Kppn>>, ApiError> {
    Ok(AppJson(Page { items: admin::kppns(state.store.as_ref()).await?, next_cursor: None }))
}

/// The multipart form of a reference upload, for the OpenAPI document.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ReferenceForm {
    /// `kppn.csv`: columns `kode,nama`.
    #[schema(value_type = Option<String>, format = Binary)]
    kppn: Option<Vec<u8>>,
    /// `satker.csv`: columns `kode,nama,kode_kppn`.
    #[schema(value_type = Option<String>, format = Binary)]
    satker: Option<Vec<u8>>,
}

/// `POST /api/v1/admin/reference`
#[utoipa::path(post, path = "/api/v1/admin/reference", tag = "admin", security(("bearer" = [])),
    request_body(content = ReferenceForm, content_type = "multipart/form-data"),
    responses((status = 200, description = "Applied as a reload; the files of --reference-dir are replaced", body = ReferenceLoaded),
        (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "reference_invalid (the field error names file and line), field_required; nothing was changed", body = Problem, content_type = "application/problem+json")))]
pub async fn reference(
    State(state): State<Arc<AppState>>,
    Administrator(by): Administrator,
    request: Request,
) -> Result<AppJson<ReferenceLoaded>, ApiError> {
    let parts = read_multipart(request, None, &["kppn", "satker"]).await?;
    let text = |name: &str| parts.fields.get(name).map(String::as_str).filter(|t| !t.trim().is_empty());
    let dir = state.settings.reference_dir.as_deref();
    Ok(AppJson(admin::upload_reference(state.store.as_ref(), By::Admin(&by), dir, text("kppn"), text("satker")).await?))
}
