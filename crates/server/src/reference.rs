//! Reference data: the KPPN list and the satker list, each satker with its KPPN (*mitra
//! kerja*), loaded from `kppn.csv` (`kode,nama`) and `satker.csv` (`kode,nama,kode_kppn`)
//! at start. New or changed satkers go to the change feed so desktops learn of them.

use std::path::Path;

use anyhow::{Context, Result, bail};
use chrono::Utc;
use myintress_core::text::{KppnCode, SatkerCode};
use serde::Deserialize;

use crate::store::{KppnRow, NewChange, Store};

#[derive(Debug, Deserialize)]
struct KppnCsv {
    kode: String,
    nama: String,
}

#[derive(Debug, Deserialize)]
struct SatkerCsv {
    kode: String,
    nama: String,
    kode_kppn: String,
}

/// Loads both files in one transaction; returns (kppns, satkers, satkers changed).
pub async fn load(store: &dyn Store, dir: &Path) -> Result<(usize, usize, usize)> {
    let kppns: Vec<KppnCsv> = read_csv(&dir.join("kppn.csv"))?;
    let satkers: Vec<SatkerCsv> = read_csv(&dir.join("satker.csv"))?;
    for k in &kppns {
        KppnCode::parse(&k.kode).with_context(|| format!("kppn.csv: kode {:?} bukan kode KPPN 3 digit", k.kode))?;
    }
    for s in &satkers {
        SatkerCode::parse(&s.kode).with_context(|| format!("satker.csv: kode {:?} bukan kode satker 6 digit", s.kode))?;
        if !kppns.iter().any(|k| k.kode.trim() == s.kode_kppn.trim()) {
            bail!("satker.csv: satker {} menyebut KPPN {} yang tidak ada di kppn.csv", s.kode, s.kode_kppn);
        }
    }

    let mut tx = store.write().await?;
    for k in &kppns {
        tx.upsert_kppn(&KppnRow { code: k.kode.trim().to_owned(), name: k.nama.trim().to_owned() }).await?;
    }
    let mut changes = Vec::new();
    for s in &satkers {
        let (code, name, kppn) = (s.kode.trim(), s.nama.trim(), s.kode_kppn.trim());
        if tx.upsert_satker(code, name, kppn).await? {
            let row = tx.satker(code).await?.context("satker just written")?;
            changes.push(NewChange {
                kind: "satker".into(),
                entity_id: code.to_owned(),
                satker_code: code.to_owned(),
                kppn_code: kppn.to_owned(),
                entity: serde_json::to_value(crate::registry::satker_to_api(&row))?,
            });
        }
    }
    let changed = changes.len();
    tx.append_changes(&changes, Utc::now()).await?;
    tx.commit().await?;
    Ok((kppns.len(), satkers.len(), changed))
}

fn read_csv<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .with_context(|| format!("membaca {}", path.display()))?;
    let mut rows = Vec::new();
    for (i, row) in reader.deserialize().enumerate() {
        rows.push(row.with_context(|| format!("{} baris {}", path.display(), i + 2))?);
    }
    Ok(rows)
}
