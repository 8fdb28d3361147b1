//! Administration: central operators (`admin`) create, disable, enable and move KPPN
//! verifiers, mark supervisors, and upload the reference lists. The server host's account
//! commands (`create-admin`, `create-verifier`, `disable-account`, …) and the verifier
//! dormancy job go through the same functions, so every change is written the same way
//! and recorded in the account audit. No HTTP here: the endpoints are `http/admin.rs`.
//!
//! Administrators see no membership data: their sessions resolve to no [`crate::registry::Caller`],
//! so every membership endpoint answers `403` to them.

use std::path::Path;

use chrono::{DateTime, Utc};
use myintress_core::api::{Kppn, NewVerifier, ReferenceLoaded, Role, Verifier, VerifierMove};
use myintress_core::error::{ErrorCode, FieldError};
use uuid::Uuid;

use crate::error::ApiError;
use crate::reference::{self, Lists};
use crate::state::AppState;
use crate::store::{AccountAction, AccountAuditRow, AccountRow, LockKey, Store, WriteConn};

/// Who changes an account, as the audit records it.
#[derive(Debug, Clone, Copy)]
pub enum By<'a> {
    /// A signed-in administrator.
    Admin(&'a AccountRow),
    /// A command run on the server host.
    Host,
    /// A background job of the server.
    System,
}

impl By<'_> {
    /// The audit entry of `action` by this actor.
    pub fn audit(self, action: AccountAction, nik: Option<&str>, detail: serde_json::Value, at: DateTime<Utc>) -> AccountAuditRow {
        let (actor_nik, actor_name) = match self {
            By::Admin(a) => (Some(a.nik.clone()), a.name.clone()),
            By::Host => (None, "server host".to_owned()),
            By::System => (None, "sistem".to_owned()),
        };
        AccountAuditRow { id: Uuid::new_v4(), at, actor_nik, actor_name, action, nik: nik.map(str::to_owned), detail: detail.to_string() }
    }
}

pub fn verifier_to_api(row: &AccountRow) -> Verifier {
    Verifier {
        nik: row.nik.clone(),
        name: row.name.clone(),
        email: row.email.clone(),
        kppn_code: row.kppn_code.clone().unwrap_or_default(),
        supervisor: row.supervisor,
        activated: row.password_hash.is_some(),
        disabled_at: row.disabled_at,
        last_sign_in_at: row.last_sign_in_at,
        created_at: row.created_at,
    }
}

/// Every verifier, by KPPN and name.
pub async fn verifiers(store: &dyn Store) -> Result<Vec<Verifier>, ApiError> {
    Ok(store.read().await?.verifiers().await?.iter().map(verifier_to_api).collect())
}

/// Every KPPN of the reference list.
pub async fn kppns(store: &dyn Store) -> Result<Vec<Kppn>, ApiError> {
    Ok(store.read().await?.kppns().await?.into_iter().map(|k| Kppn { code: k.code, name: k.name }).collect())
}

/// A new account of a verifier (`role` [`Role::Kppn`], with `form.kppn_code`) or an
/// administrator ([`Role::Admin`]; the KPPN is not used). With `password`, it may sign in
/// at once (the host's commands); without, a single-use activation link goes to its e-mail
/// through the outbox in the same transaction.
pub async fn create_account(
    state: &AppState,
    by: By<'_>,
    role: Role,
    form: &NewVerifier,
    password: Option<&str>,
) -> Result<AccountRow, ApiError> {
    let form = form.validate().map_err(ApiError::Fields)?;
    if role == Role::Satker {
        return Err(ApiError::Forbidden);
    }
    let hash = match password {
        Some(p) => {
            if state.passwords.check(p, p).is_err() {
                return Err(ApiError::Fields(vec![FieldError::new("password", ErrorCode::PasswordTooWeak)]));
            }
            Some(crate::credentials::hash_off_thread(p).await?)
        }
        None => None,
    };
    let nik = form.nik.as_str();
    let now = Utc::now();
    let mut tx = state.store.write().await?;
    tx.lock(LockKey::Person(nik)).await?;
    let kppn_code = match role {
        Role::Kppn => Some(known_kppn(tx.as_mut(), form.kppn_code.as_str()).await?),
        _ => None,
    };
    if tx.account(nik).await?.is_some() {
        return Err(ApiError::code(ErrorCode::AccountExists));
    }
    let row = AccountRow {
        nik: nik.to_owned(),
        name: form.name.as_str().to_owned(),
        email: form.email.as_str().to_owned(),
        nip: None,
        password_hash: hash,
        role,
        kppn_code,
        created_at: now,
        last_sign_in_at: None,
        disabled_at: None,
        supervisor: role == Role::Kppn && form.supervisor,
    };
    tx.insert_account(&row).await?;
    if row.password_hash.is_none() {
        crate::registry::queue_activation(state, tx.as_mut(), nik, &row.name, &row.email, now).await?;
    }
    let detail = serde_json::json!({ "role": role.as_str(), "kppn_code": row.kppn_code, "supervisor": row.supervisor });
    tx.record_account_audit(&by.audit(AccountAction::VerifierCreated, Some(nik), detail, now)).await?;
    tx.commit().await?;
    state.mail_wake.notify_one();
    tracing::info!(nik = %form.nik.masked(), role = role.as_str(), "account created");
    Ok(row)
}

/// The KPPN code if it is in the reference list, else `kppn_unknown` on the field.
async fn known_kppn(tx: &mut dyn WriteConn, code: &str) -> Result<String, ApiError> {
    match tx.kppn(code).await? {
        Some(k) => Ok(k.code),
        None => Err(ApiError::Fields(vec![FieldError::new("kppn_code", ErrorCode::KppnUnknown)])),
    }
}

/// What an account change does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// No sign-in; every session ends at once.
    Disable,
    /// Signs in again with its password.
    Enable,
    /// Every session ends; the password stays (a lost laptop).
    RevokeSessions,
}

/// Disables, enables or ends the sessions of the account `nik`. `verifiers_only` limits it
/// to KPPN verifiers (what administrators manage; anything else is `404` to them); the
/// host's commands reach any account. Returns the account as it now is.
pub async fn change_account(
    store: &dyn Store,
    by: By<'_>,
    nik: &str,
    change: Change,
    verifiers_only: bool,
) -> Result<AccountRow, ApiError> {
    let now = Utc::now();
    let mut tx = store.write().await?;
    tx.lock(LockKey::Person(nik)).await?;
    let Some(mut account) = tx.account(nik).await?.filter(|a| !verifiers_only || a.role == Role::Kppn) else {
        return Err(ApiError::NotFound);
    };
    let action = match change {
        Change::Disable => {
            if account.disabled_at.is_none() {
                tx.set_disabled(nik, Some(now)).await?;
                account.disabled_at = Some(now);
            }
            tx.revoke_all_sessions_of(nik, now).await?;
            AccountAction::Disabled
        }
        Change::Enable => {
            tx.set_disabled(nik, None).await?;
            account.disabled_at = None;
            AccountAction::Enabled
        }
        Change::RevokeSessions => {
            tx.revoke_all_sessions_of(nik, now).await?;
            AccountAction::SessionsRevoked
        }
    };
    tx.record_account_audit(&by.audit(action, Some(nik), serde_json::json!({}), now)).await?;
    tx.commit().await?;
    tracing::info!(nik = %myintress_core::nik::mask_nik(nik), action = action.as_str(), "account changed");
    Ok(account)
}

/// Moves a verifier to another KPPN and sets (or keeps) its supervisor mark. A verifier
/// who changes KPPN has every session end: its desktop signs in again and keeps only the
/// new KPPN's satkers.
pub async fn move_verifier(store: &dyn Store, by: By<'_>, nik: &str, to: &VerifierMove) -> Result<AccountRow, ApiError> {
    let code = to.validate().map_err(ApiError::Fields)?;
    let now = Utc::now();
    let mut tx = store.write().await?;
    tx.lock(LockKey::Person(nik)).await?;
    let Some(mut account) = tx.account(nik).await?.filter(|a| a.role == Role::Kppn) else { return Err(ApiError::NotFound) };
    let kppn = known_kppn(tx.as_mut(), code.as_str()).await?;
    let supervisor = to.supervisor.unwrap_or(account.supervisor);
    let from = account.kppn_code.clone();
    tx.set_verifier_kppn(nik, &kppn, supervisor).await?;
    if from.as_deref() != Some(kppn.as_str()) {
        tx.revoke_all_sessions_of(nik, now).await?;
    }
    let detail = serde_json::json!({ "from": from, "to": kppn, "supervisor": supervisor });
    tx.record_account_audit(&by.audit(AccountAction::Moved, Some(nik), detail, now)).await?;
    tx.commit().await?;
    account.kppn_code = Some(kppn);
    account.supervisor = supervisor;
    Ok(account)
}

/// Applies uploaded reference lists (either may be absent) as a reload does, and keeps
/// them as the files of `reference_dir`, so a restart or `SIGHUP` reads what was uploaded.
/// Nothing is written when a list is refused (`reference_invalid`, naming file and line).
pub async fn upload_reference(
    store: &dyn Store,
    by: By<'_>,
    reference_dir: Option<&Path>,
    kppn_csv: Option<&str>,
    satker_csv: Option<&str>,
) -> Result<ReferenceLoaded, ApiError> {
    if kppn_csv.is_none() && satker_csv.is_none() {
        return Err(ApiError::Fields(vec![FieldError::new("satker", ErrorCode::FieldRequired)]));
    }
    let known: Vec<String> = store.read().await?.kppns().await?.into_iter().map(|k| k.code).collect();
    let lists = Lists::parse(kppn_csv, satker_csv, &known).map_err(|detail| {
        let field = if detail.starts_with("kppn.csv") { "kppn" } else { "satker" };
        ApiError::Fields(vec![FieldError::with_detail(field, ErrorCode::ReferenceInvalid, detail)])
    })?;
    // The files first: should the database then fail, the next start or reload applies
    // what was uploaded.
    if let Some(dir) = reference_dir {
        for (name, text) in [("kppn.csv", kppn_csv), ("satker.csv", satker_csv)] {
            if let Some(text) = text {
                write_atomically(&dir.join(name), text)?;
            }
        }
    }
    let loaded = reference::apply(store, &lists).await?;
    let answer = ReferenceLoaded {
        kppns: loaded.kppns as u32,
        satkers: loaded.satkers as u32,
        changed: loaded.changed as u32,
        moved: loaded.moved.len() as u32,
    };
    let now = Utc::now();
    let detail = serde_json::json!({ "kppns": answer.kppns, "satkers": answer.satkers, "changed": answer.changed, "moved": answer.moved });
    let mut tx = store.write().await?;
    tx.record_account_audit(&by.audit(AccountAction::ReferenceUploaded, None, detail, now)).await?;
    tx.commit().await?;
    Ok(answer)
}

/// Replaces a file so that a reader sees the old or the new content, never a part: a
/// temporary file beside it, synced, renamed over it.
fn write_atomically(path: &Path, text: &str) -> Result<(), ApiError> {
    let temporary = path.with_extension(format!("{}.tmp", Uuid::new_v4().simple()));
    let written = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        std::io::Write::write_all(&mut file, text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written.map_err(|e| anyhow::anyhow!("menulis {}: {e}", path.display()))?;
    Ok(())
}
