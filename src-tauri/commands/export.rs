//! Export of *Daftar Pengguna* as CSV or XLSX (`rust_xlsxwriter`), to a file chosen in the
//! native save dialog.

use myintress_client::{ListFilter, ListRow};
use rust_xlsxwriter::{Format, Workbook};
use serde::Deserialize;
use specta::Type;
use tauri::{AppHandle, State};
use tauri_plugin_dialog::DialogExt;

use myintress_core::ErrorCode;

use super::{CommandError, CommandResult, client};
use crate::state::AppState;

#[derive(Debug, Clone, Copy, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Csv,
    Xlsx,
}

const HEADERS: [&str; 10] =
    ["NIK", "Nama", "NIP", "Satker", "Status", "No. ST", "Alasan penolakan", "Didaftarkan", "Diputuskan", "Diperbarui"];

fn cells(row: &ListRow) -> [String; 10] {
    let m = &row.membership;
    let date = |d: chrono::DateTime<chrono::Utc>| d.with_timezone(&chrono::Local).format("%d-%m-%Y %H:%M").to_string();
    [
        m.nik.clone(),
        m.name.clone(),
        m.nip.clone().unwrap_or_default(),
        m.satker_code.clone(),
        m.status.display_label(),
        m.letter_number.clone(),
        m.rejection_reason.clone().unwrap_or_default(),
        date(m.created_at),
        m.decided_at.map(date).unwrap_or_default(),
        date(m.updated_at),
    ]
}

/// Writes every row matching `filter`; returns the saved path, or `None` when cancelled.
#[tauri::command]
#[specta::specta]
pub async fn export_list(
    app: AppHandle,
    state: State<'_, AppState>,
    filter: ListFilter,
    format: ExportFormat,
) -> CommandResult<Option<String>> {
    let client = client(&state).await?;
    let total = client.list(&ListFilter { limit: 1, offset: 0, ..filter.clone() }).await?.total;
    let mut rows = Vec::with_capacity(total as usize);
    let mut offset = 0;
    while offset < total {
        let page = client.list(&ListFilter { limit: 1000, offset, ..filter.clone() }).await?;
        offset += page.rows.len() as i64;
        if page.rows.is_empty() {
            break;
        }
        rows.extend(page.rows);
    }
    let (ext, label) = match format {
        ExportFormat::Csv => ("csv", "CSV"),
        ExportFormat::Xlsx => ("xlsx", "Excel"),
    };
    let dialog = app.dialog().file().add_filter(label, &[ext]).set_file_name(format!("daftar-pengguna.{ext}"));
    let picked = tauri::async_runtime::spawn_blocking(move || dialog.blocking_save_file())
        .await
        .map_err(|e| CommandError::because(ErrorCode::DialogFailed, &e))?;
    let Some(file) = picked else { return Ok(None) };
    let path = file.into_path().map_err(|e| CommandError::because(ErrorCode::DialogFailed, &e))?;
    let written = tauri::async_runtime::spawn_blocking({
        let path = path.clone();
        move || write(&path, format, &rows)
    })
    .await
    .map_err(|e| CommandError::because(ErrorCode::ExportFailed, &e))?;
    written.map_err(|e| CommandError::because(ErrorCode::ExportFailed, &e))?;
    Ok(Some(path.display().to_string()))
}

/// A cell as Excel in an Indonesian locale should read it from a CSV file:
/// - a long number (NIK, NIP) as `="…"`, so all its digits stay (Excel would turn
///   3171011201900001 into 3,17101E+15); only digits reach this form, so it is no formula
///   anybody typed;
/// - text a person typed that starts with `=`, `+`, `-`, `@`, a tab or a carriage return
///   behind a `'`, so Excel shows it instead of running it (formula injection).
fn csv_cell(value: &str) -> String {
    if value.len() >= 8 && value.bytes().all(|b| b.is_ascii_digit()) {
        return format!("=\"{value}\"");
    }
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_owned(),
    }
}

pub fn write(path: &std::path::Path, format: ExportFormat, rows: &[ListRow]) -> anyhow::Result<()> {
    match format {
        ExportFormat::Csv => {
            // A UTF-8 byte order mark (names keep their letters) and `;` between fields:
            // Excel with Indonesian settings (decimal comma) splits columns on `;`.
            let mut file = std::fs::File::create(path)?;
            std::io::Write::write_all(&mut file, "\u{feff}".as_bytes())?;
            let mut w = csv::WriterBuilder::new().delimiter(b';').from_writer(file);
            w.write_record(HEADERS)?;
            for row in rows {
                w.write_record(cells(row).iter().map(|c| csv_cell(c)))?;
            }
            w.flush()?;
        }
        ExportFormat::Xlsx => {
            let mut book = Workbook::new();
            let sheet = book.add_worksheet().set_name("Daftar Pengguna")?;
            let bold = Format::new().set_bold();
            for (c, h) in HEADERS.iter().enumerate() {
                sheet.write_string_with_format(0, c as u16, *h, &bold)?;
            }
            for (r, row) in rows.iter().enumerate() {
                for (c, value) in cells(row).iter().enumerate() {
                    // Text, not numbers: a NIK must keep all 16 digits.
                    sheet.write_string(r as u32 + 1, c as u16, value)?;
                }
            }
            sheet.autofit();
            book.save(path)?;
        }
    }
    Ok(())
}
