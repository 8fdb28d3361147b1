//! Reads for the screens, from the local store (the detail screen asks the server for the
//! history when online and shows the last copy otherwise).

use myintress_client::{ListFilter, ListPage, QueueRow};
use myintress_core::api::{AuditEntry, DigitAccount, HistoryEntry, Membership, RegistrationCheck, RegistrationCheckRequest, Satker};
use myintress_core::nik::Nik;
use myintress_core::scan::{self, PageImage};
use myintress_core::status::{Action, available_actions};
use serde::Serialize;
use specta::Type;
use tauri::State;
use uuid::Uuid;

use myintress_core::ErrorCode;

use super::{CommandError, CommandResult, client};
use crate::state::AppState;

#[tauri::command]
#[specta::specta]
pub async fn satkers(state: State<'_, AppState>) -> CommandResult<Vec<Satker>> {
    Ok(client(&state).await?.satkers().await?)
}

#[derive(Debug, Serialize, Type)]
pub struct StatusCount {
    pub status: myintress_core::Status,
    pub label: String,
    pub count: i64,
}

/// Beranda: rows by status in the user's scope.
#[tauri::command]
#[specta::specta]
pub async fn counts(state: State<'_, AppState>) -> CommandResult<Vec<StatusCount>> {
    let counts = client(&state).await?.counts().await?;
    Ok(myintress_core::Status::ALL
        .iter()
        .map(|s| StatusCount {
            status: *s,
            label: s.label().into(),
            count: counts.iter().find(|(c, _)| c == s).map(|(_, n)| *n).unwrap_or(0),
        })
        .collect())
}

/// Daftar Pengguna: one page of the filtered list.
#[tauri::command]
#[specta::specta]
pub async fn list_memberships(state: State<'_, AppState>, filter: ListFilter) -> CommandResult<ListPage> {
    Ok(client(&state).await?.list(&filter).await?)
}

/// A pending registration on the Verifikasi screen.
#[derive(Debug, Serialize, Type)]
pub struct QueueItem {
    pub membership: Membership,
    pub pending: i64,
    /// The name as a letter would write it without titles, which the letter's text is
    /// searched for ([`myintress_core::name_match::without_titles`]).
    pub name_in_letter: String,
    /// Age in working days, overdue, escalated (the server's flags, kept offline).
    pub flags: myintress_core::workday::QueueFlags,
    /// Its letter was opened in this app, so it may be selected for a bulk decision.
    pub letter_seen: bool,
    /// A satker's request to delete this user (its letter is the request's), not a registration.
    pub deletion_request: Option<myintress_core::api::DeletionRequest>,
}

/// The satkers' deletion requests in scope as this desk knows them (Daftar Pengguna marks
/// the rows; the satker reads why one was declined).
#[tauri::command]
#[specta::specta]
pub async fn deletion_requests(state: State<'_, AppState>) -> CommandResult<Vec<myintress_client::DeletionRequestRow>> {
    Ok(client(&state).await?.deletion_requests().await?)
}

/// Verifikasi: pending registrations, oldest first.
#[tauri::command]
#[specta::specta]
pub async fn queue(state: State<'_, AppState>) -> CommandResult<Vec<QueueItem>> {
    let rows = client(&state).await?.queue().await?;
    Ok(rows
        .into_iter()
        .map(|QueueRow { membership, pending, flags, letter_seen, deletion_request }| QueueItem {
            name_in_letter: myintress_core::name_match::without_titles(&membership.name),
            membership,
            pending,
            flags,
            letter_seen,
            deletion_request,
        })
        .collect())
}

/// Detail pengguna: the row, the person's other rows in the satker, the actions the
/// signed-in role may take now, and the history (fresh when online).
#[derive(Debug, Serialize, Type)]
pub struct Detail {
    pub membership: Membership,
    pub pending: i64,
    pub actions: Vec<Action>,
    pub history: Vec<HistoryEntry>,
    pub history_fresh: bool,
    pub same_person: Vec<Membership>,
}

#[tauri::command]
#[specta::specta]
pub async fn membership_detail(state: State<'_, AppState>, id: String) -> CommandResult<Detail> {
    let client = client(&state).await?;
    let id = Uuid::parse_str(&id).map_err(|_| CommandError::new(ErrorCode::NotFound, "Data tidak ditemukan."))?;
    let (membership, pending) =
        client.view(id).await?.ok_or_else(|| CommandError::new(ErrorCode::NotFound, "Data pengguna tidak ditemukan."))?;
    let account = client.account().await?.ok_or_else(|| CommandError::from_code(ErrorCode::NotSignedIn))?;
    let actions = available_actions(account.acting()?.actor, membership.status, membership.nik == account.nik);
    let same_person = client.person_rows(&membership.nik, &membership.satker_code).await?;
    let fetched = if membership.version > 0 {
        let client = &client;
        client.online(|token| async move { client.api().membership(&token, id).await }).await.ok()
    } else {
        None
    };
    let (history, history_fresh) = match fetched {
        Some(detail) => (detail.history, true),
        None => (Vec::new(), false),
    };
    Ok(Detail { membership, pending, actions, history, history_fresh, same_person })
}

/// The audit trail of a person (KPPN verifiers, online).
#[tauri::command]
#[specta::specta]
pub async fn audit(state: State<'_, AppState>, nik: String) -> CommandResult<Vec<AuditEntry>> {
    let client = client(&state).await?;
    let nik = Nik::parse(&nik)?;
    let (client, nik) = (&client, &nik);
    Ok(client.online(|token| async move { client.api().audit(&token, nik.as_str()).await }).await?)
}

/// "Cari": the person's DIGIT account (online).
#[tauri::command]
#[specta::specta]
pub async fn digit_lookup(state: State<'_, AppState>, nik: String) -> CommandResult<Option<DigitAccount>> {
    let client = client(&state).await?;
    let nik = Nik::parse(&nik)?;
    let (client, nik) = (&client, &nik);
    Ok(client.online(|token| async move { client.api().digit(&token, nik.as_str()).await }).await?)
}

/// Tambah Pengguna, while typing: the NIK and name checked against the civil registry (and
/// the DIGIT account) before a letter is chosen. Online only; offline the form queues as
/// before and the UI shows nothing.
#[tauri::command]
#[specta::specta]
pub async fn check_registration(state: State<'_, AppState>, request: RegistrationCheckRequest) -> CommandResult<RegistrationCheck> {
    let client = client(&state).await?;
    let (client, request) = (&client, &request);
    Ok(client.online(|token| async move { client.api().check_registration(&token, request).await }).await?)
}

/// A stored document's bytes, from the cache or the server. The PDF viewer renders these
/// bytes; no file URL ever reaches the web view.
#[tauri::command]
#[specta::specta]
pub async fn document(state: State<'_, AppState>, id: String) -> CommandResult<Bytes> {
    let client = client(&state).await?;
    Ok(Bytes(client.document(document_id(&id)?).await?))
}

/// A document's id as the UI sent it; one that is not a UUID names no document.
fn document_id(id: &str) -> CommandResult<Uuid> {
    Uuid::parse_str(id).map_err(|_| CommandError::new(ErrorCode::NotFound, "Dokumen tidak ditemukan."))
}

/// The widest picture the viewer asks for, in pixels: a 4K screen's width.
const MAX_PICTURE_WIDTH: u32 = 3840;

/// A plain scan's first page as pixels for the viewer's pane, `width` pixels wide or a
/// little more: the page's JPEG (where the letter check found it, `image`) decoded at the
/// smallest of its own scales that is wide enough. The web engine would decode the whole
/// 300 dpi scan for a pane of a few hundred pixels (about 260 ms for a 5 MB scan in
/// WebKitGTK, benchmark 9); this is several times less work. The answer is the picture's
/// width and height (little-endian `u32` each), then its RGBA pixels.
#[tauri::command]
#[specta::specta]
pub async fn scan_picture(state: State<'_, AppState>, id: String, image: PageImage, width: u32) -> CommandResult<Bytes> {
    let client = client(&state).await?;
    let letter = client.document(document_id(&id)?).await?;
    let picture = tokio::task::spawn_blocking(move || {
        let start = usize::try_from(image.start).ok()?;
        let jpeg = letter.get(start..start.checked_add(usize::try_from(image.length).ok()?)?)?;
        scan::picture(jpeg, width.min(MAX_PICTURE_WIDTH))
    })
    .await
    .ok()
    .flatten()
    .ok_or_else(|| CommandError::from_code(ErrorCode::LetterUnreadable))?;
    let mut answer = Vec::with_capacity(8 + picture.rgba.len());
    answer.extend_from_slice(&picture.width.to_le_bytes());
    answer.extend_from_slice(&picture.height.to_le_bytes());
    answer.extend_from_slice(&picture.rgba);
    Ok(Bytes(answer))
}

/// Bytes that cross to the web view as they are: the UI receives an `ArrayBuffer`, not a
/// JSON string to decode. A 5 MB scanned letter was a 6.7 MB base64 string, copied and
/// decoded again in the page each time a verifier opened it.
pub struct Bytes(pub Vec<u8>);

impl Type for Bytes {
    fn definition(_: &mut specta::Types) -> specta::datatype::DataType {
        specta::datatype::DataType::Reference(specta_typescript::define("ArrayBuffer"))
    }
}

impl tauri::ipc::IpcResponse for Bytes {
    fn body(self) -> tauri::Result<tauri::ipc::InvokeResponseBody> {
        Ok(tauri::ipc::InvokeResponseBody::Raw(self.0))
    }
}
