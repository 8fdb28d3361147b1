//! Reference data: the KPPN list and the satker list, each satker with its KPPN (*mitra
//! kerja*), loaded from `kppn.csv` (`kode,nama`) and `satker.csv` (`kode,nama,kode_kppn`)
//! at start, on `SIGHUP` and by `myintress-server reload-reference`. New or changed
//! satkers go to the change feed so desktops learn of them.
//!
//! Scope follows the current lists: a satker moved to another KPPN is seen by the new
//! KPPN's desktops and no longer by the old one's. Its desktops need telling, so a move
//! writes a `satker_removed` change addressed to the KPPN it left (its desktops drop the
//! satker, its people and their cached letters) and sends the satker and every current
//! membership of it again, so the new KPPN's desktops receive them whatever their cursor.

use std::path::Path;

use anyhow::{Context, Result, bail};
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

/// Loads both files in one transaction, under the reference lock (replicas reloading at
/// the same moment apply each change once).
pub async fn load(store: &dyn Store, dir: &Path) -> Result<Loaded> {
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
    tx.lock(LockKey::Reference).await?;
    for k in &kppns {
        tx.upsert_kppn(&KppnRow { code: k.kode.trim().to_owned(), name: k.nama.trim().to_owned() }).await?;
    }
    let mut loaded = Loaded { kppns: kppns.len(), satkers: satkers.len(), ..Loaded::default() };
    let mut changes = Vec::new();
    for s in &satkers {
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

fn read_csv<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>> {
    let mut reader =
        csv::ReaderBuilder::new().trim(csv::Trim::All).from_path(path).with_context(|| format!("membaca {}", path.display()))?;
    let mut rows = Vec::new();
    for (i, row) in reader.deserialize().enumerate() {
        rows.push(row.with_context(|| format!("{} baris {}", path.display(), i + 2))?);
    }
    Ok(rows)
}
