//! Reference data: the KPPN list and the satker list, each satker with its KPPN (*mitra
//! kerja*), loaded from `kppn.csv` (`kode,nama`) and `satker.csv` (`kode,nama,kode_kppn`),
//! and the public holidays of `libur.csv` (`tanggal`, optional), at start, on `SIGHUP` and by `myintress-server reload-reference`. New or changed
//! satkers go to the change feed so desktops learn of them.
//!
//! Scope follows the current lists: a satker moved to another KPPN is seen by the new
//! KPPN's desktops and no longer by the old one's. Its desktops need telling, so a move
//! writes a `satker_removed` change addressed to the KPPN it left (its desktops drop the
//! satker, its people and their cached letters) and sends the satker and every current
//! membership of it again, so the new KPPN's desktops receive them whatever their cursor.

use std::path::Path;

use anyhow::{Context, Result};
use chrono::Utc;
use myintress_core::api::ChangeKind;
use myintress_core::text::{KppnCode, SatkerCode};
use serde::Deserialize;

use crate::store::{KppnRow, LockKey, NewChange, Store};

#[derive(Debug, Deserialize)]
struct KppnCsv {
    kode: String,
    nama: String,
}

/// `libur.csv`: the public holidays working days leave out (`tanggal` as `YYYY-MM-DD`; any
/// other column, such as `keterangan`, is for people).
#[derive(Debug, Deserialize)]
struct HolidayCsv {
    tanggal: String,
}

#[derive(Debug, Deserialize)]
struct SatkerCsv {
    kode: String,
    nama: String,
    kode_kppn: String,
}

/// What a load changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Loaded {
    pub kppns: usize,
    pub satkers: usize,
    /// Satkers new or renamed or moved.
    pub changed: usize,
    /// Satkers that moved to another KPPN: (satker, from, to).
    pub moved: Vec<(String, String, String)>,
}

/// The two lists as read and checked, before anything is written.
#[derive(Debug, Default)]
pub struct Lists {
    kppns: Vec<KppnCsv>,
    satkers: Vec<SatkerCsv>,
    /// `None`: the holidays stay as they are (an upload without `libur.csv`).
    holidays: Option<Vec<chrono::NaiveDate>>,
}

/// Reads `libur.csv`: each line's `tanggal` a date `YYYY-MM-DD`.
pub fn parse_holidays(text: &str) -> Result<Vec<chrono::NaiveDate>, String> {
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).flexible(true).from_reader(text.as_bytes());
    let mut days = Vec::new();
    for (i, row) in reader.deserialize::<HolidayCsv>().enumerate() {
        let row = row.map_err(|e| format!("libur.csv baris {}: {}", i + 2, csv_problem(&e)))?;
        let day = chrono::NaiveDate::parse_from_str(&row.tanggal, "%Y-%m-%d")
            .map_err(|_| format!("libur.csv baris {}: tanggal {:?} harus berbentuk TTTT-BB-HH, mis. 2026-12-25", i + 2, row.tanggal))?;
        days.push(day);
    }
    Ok(days)
}

impl Lists {
    /// Reads and checks `kppn.csv` and `satker.csv` (either may be absent from an upload:
    /// `None`). Every satker's KPPN must be in the KPPN list given, or already in
    /// `known_kppns`. The error is a sentence for the person who supplied the files, naming
    /// the file and line.
    pub fn parse(kppn_csv: Option<&str>, satker_csv: Option<&str>, known_kppns: &[String]) -> Result<Lists, String> {
        let kppns: Vec<KppnCsv> = kppn_csv.map(|t| parse_csv("kppn.csv", t)).transpose()?.unwrap_or_default();
        let satkers: Vec<SatkerCsv> = satker_csv.map(|t| parse_csv("satker.csv", t)).transpose()?.unwrap_or_default();
        for k in &kppns {
            if KppnCode::parse(&k.kode).is_err() {
                return Err(format!("kppn.csv: kode {:?} bukan kode KPPN 3 digit", k.kode));
            }
            if k.nama.trim().is_empty() {
                return Err(format!("kppn.csv: KPPN {} tanpa nama", k.kode));
            }
        }
        for s in &satkers {
            if SatkerCode::parse(&s.kode).is_err() {
                return Err(format!("satker.csv: kode {:?} bukan kode satker 6 digit", s.kode));
            }
            if s.nama.trim().is_empty() {
                return Err(format!("satker.csv: satker {} tanpa nama", s.kode));
            }
            let kppn = s.kode_kppn.trim();
            if !kppns.iter().any(|k| k.kode.trim() == kppn) && !known_kppns.iter().any(|k| k == kppn) {
                return Err(format!("satker.csv: satker {} menyebut KPPN {} yang tidak ada di kppn.csv", s.kode, s.kode_kppn));
            }
        }
        Ok(Lists { kppns, satkers, holidays: None })
    }
}

/// Loads both files from `dir` in one transaction (see [`apply`]).
pub async fn load(store: &dyn Store, dir: &Path) -> Result<Loaded> {
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).with_context(|| format!("membaca {}", dir.join(name).display()));
    let mut lists = Lists::parse(Some(&read("kppn.csv")?), Some(&read("satker.csv")?), &[]).map_err(anyhow::Error::msg)?;
    // Holidays are optional: without `libur.csv` only weekends are days off.
    let holidays = match dir.join("libur.csv").exists() {
        true => parse_holidays(&read("libur.csv")?).map_err(anyhow::Error::msg)?,
        false => Vec::new(),
    };
    lists.holidays = Some(holidays);
    apply(store, &lists).await
}

/// Writes checked lists in one transaction, under the reference lock (replicas reloading
/// at the same moment apply each change once).
pub async fn apply(store: &dyn Store, lists: &Lists) -> Result<Loaded> {
    let Lists { kppns, satkers, holidays } = lists;
    let mut tx = store.write().await?;
    tx.lock(LockKey::Reference).await?;
    if let Some(days) = holidays {
        tx.replace_holidays(days).await?;
    }
    for k in kppns {
        tx.upsert_kppn(&KppnRow { code: k.kode.trim().to_owned(), name: k.nama.trim().to_owned() }).await?;
    }
    let mut loaded = Loaded { kppns: kppns.len(), satkers: satkers.len(), ..Loaded::default() };
    let mut changes = Vec::new();
    for s in satkers {
        let (code, name, kppn) = (s.kode.trim(), s.nama.trim(), s.kode_kppn.trim());
        let before = tx.satker(code).await?;
        if !tx.upsert_satker(code, name, kppn).await? {
            continue;
        }
        loaded.changed += 1;
        let row = tx.satker(code).await?.context("satker just written")?;
        changes.push(NewChange {
            kind: ChangeKind::Satker,
            entity_id: code.to_owned(),
            satker_code: code.to_owned(),
            addressed_to: None,
            entity: serde_json::to_value(crate::registry::satker_to_api(&row))?,
        });
        let Some(before) = before.filter(|b| b.kppn_code != kppn) else { continue };
        changes.push(NewChange {
            kind: ChangeKind::SatkerRemoved,
            entity_id: code.to_owned(),
            satker_code: code.to_owned(),
            addressed_to: Some(before.kppn_code.clone()),
            entity: serde_json::json!({ "code": code, "kppn_code": kppn }),
        });
        for m in tx.memberships_of_satker(code).await? {
            changes.push(crate::registry::membership_change(&m));
            // Its Antrean flags are sent again by the next round, for the new KPPN.
            tx.forget_queue_flags(&m.id.to_string()).await?;
        }
        tracing::info!(satker = code, from = %before.kppn_code, to = kppn, "satker moved to another KPPN");
        loaded.moved.push((code.to_owned(), before.kppn_code, kppn.to_owned()));
    }
    tx.append_changes(&changes, Utc::now()).await?;
    // Now that the counter is ours, every earlier change of a moved satker is the new
    // KPPN's (and none can be appended until this commits).
    for (satker, _, _) in &loaded.moved {
        tx.rescope_changes(satker).await?;
    }
    tx.commit().await?;
    tracing::info!(
        kppn = loaded.kppns,
        satker = loaded.satkers,
        changed = loaded.changed,
        moved = loaded.moved.len(),
        "reference data loaded"
    );
    Ok(loaded)
}

fn parse_csv<T: for<'de> Deserialize<'de>>(name: &str, text: &str) -> Result<Vec<T>, String> {
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (i, row) in reader.deserialize().enumerate() {
        rows.push(row.map_err(|e| format!("{name} baris {}: {}", i + 2, csv_problem(&e)))?);
    }
    Ok(rows)
}

/// What is wrong with a CSV row, in words for the person who made the file.
fn csv_problem(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "bukan teks UTF-8; simpan berkas sebagai CSV UTF-8".into(),
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => format!("{len} kolom, seharusnya {expected_len}"),
        csv::ErrorKind::Deserialize { err, .. } => match err.field() {
            Some(i) => format!("kolom {} tidak dapat dibaca", i + 1),
            None => format!("kolom tidak lengkap; judul kolom harus {}", "kode,nama (kppn.csv) atau kode,nama,kode_kppn (satker.csv)"),
        },
        _ => "tidak dapat dibaca".into(),
    }
}
