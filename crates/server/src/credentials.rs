//! Passwords and tokens.
//!
//! Passwords are hashed with argon2id, m = 19456 KiB, t = 2, p = 1 (the OWASP minimum).
//! Password rules, as NIST SP 800-63B recommends: at least 8 and at most 128 characters,
//! not in the shipped list of common passwords, and no composition rules.
//! Tokens (access, refresh, activation, captcha ids) are 256 random bits, URL-safe base64;
//! only their SHA-256 is stored, so a copy of the database opens no session.

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 128;

fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| anyhow::anyhow!("argon2: {e}"))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => argon2().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// [`hash_password`] on the blocking pool: argon2 takes tens of milliseconds of CPU, which
/// no async worker (and no transaction) should wait on.
pub async fn hash_off_thread(password: &str) -> anyhow::Result<String> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || hash_password(&password)).await?
}

/// [`verify_password`] against `hash` on the blocking pool; without a hash (no account, or
/// no password yet) the same work against nothing, and `false`.
pub async fn verify_off_thread(password: &str, hash: Option<&str>) -> anyhow::Result<bool> {
    let (password, hash) = (password.to_owned(), hash.map(str::to_owned));
    Ok(tokio::task::spawn_blocking(move || match hash {
        Some(hash) => verify_password(&password, &hash),
        None => {
            verify_against_nothing(&password);
            false
        }
    })
    .await?)
}

/// Spends the same time as a real check when there is no account or no password yet, so
/// the response time does not tell whether a NIK exists.
pub fn verify_against_nothing(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let hash = DUMMY.get_or_init(|| hash_password("kata-sandi-yang-tidak-pernah-dipakai").expect("hash"));
    let _ = verify_password(password, hash);
}

/// Why a new password is refused (activation page), in Indonesian.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRuleError {
    #[error("Kata sandi minimal 8 karakter.")]
    TooShort,
    #[error("Kata sandi maksimal 128 karakter.")]
    TooLong,
    #[error("Kata sandi ini terlalu umum dan mudah ditebak. Pilih kata sandi lain.")]
    Common,
    #[error("Konfirmasi kata sandi tidak sama.")]
    Mismatch,
}

/// The shipped list of common passwords (`data/common-passwords.txt`).
#[derive(Clone)]
pub struct CommonPasswords(Arc<HashSet<String>>);

impl CommonPasswords {
    pub fn shipped() -> Self {
        static LIST: OnceLock<Arc<HashSet<String>>> = OnceLock::new();
        let set = LIST.get_or_init(|| {
            let text = include_str!("../data/common-passwords.txt");
            Arc::new(text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).map(str::to_owned).collect())
        });
        CommonPasswords(set.clone())
    }

    pub fn contains(&self, password: &str) -> bool {
        self.0.contains(&password.to_lowercase())
    }

    pub fn check(&self, password: &str, confirmation: &str) -> Result<(), PasswordRuleError> {
        let chars = password.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(PasswordRuleError::TooShort);
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(PasswordRuleError::TooLong);
        }
        if self.contains(password) {
            return Err(PasswordRuleError::Common);
        }
        if password != confirmation {
            return Err(PasswordRuleError::Mismatch);
        }
        Ok(())
    }
}

/// A new random token (256 bits, URL-safe base64 without padding).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What is stored for a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}
