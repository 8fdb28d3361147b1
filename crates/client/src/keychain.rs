//! The refresh token lives only in the OS keychain (Windows Credential Manager, macOS
//! Keychain, Secret Service on Linux) through `keyring`, never in the database or a file.
//! One entry per server and account. Windows caps a credential at 2,560 bytes; a refresh
//! token is 43 characters, and [`Keychain::store`] refuses anything near the cap.
//!
//! The keychain also holds the key of each data folder ([`Keychain::local_key`]): 32
//! random bytes that encrypt the local store (SQLCipher) and the cached letters, so the
//! folder alone, copied off a laptop, reads as noise.

use std::path::Path;

use hkdf::Hkdf;
use sha2::{Digest, Sha256};

/// Largest secret stored, well under Windows' 2,560-byte credential limit.
pub const MAX_SECRET_BYTES: usize = 2048;

#[derive(Debug, thiserror::Error)]
pub enum KeychainError {
    #[error("keychain sistem tidak dapat dipakai: {0}")]
    Unavailable(String),
    #[error("rahasia terlalu besar untuk keychain ({0} byte)")]
    TooLarge(usize),
}

/// One keychain call at a time in this process: the Secret Service daemon (gnome-keyring)
/// has been seen to crash under many concurrent sessions, and a call takes milliseconds.
/// Also makes "load, or make and store" of a folder's key atomic within the process.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// The keychain entries of one installation (`service`), e.g. `id.go.kemenkeu.myintress.satker`.
#[derive(Debug, Clone)]
pub struct Keychain {
    service: String,
}

impl Keychain {
    pub fn new(service: &str) -> Keychain {
        Keychain { service: service.to_owned() }
    }

    fn entry(&self, server: &str, nik: &str) -> Result<keyring::Entry, KeychainError> {
        self.entry_named(&format!("{nik}@{server}"))
    }

    fn entry_named(&self, user: &str) -> Result<keyring::Entry, KeychainError> {
        keyring::Entry::new(&self.service, user).map_err(|e| KeychainError::Unavailable(e.to_string()))
    }

    pub fn store(&self, server: &str, nik: &str, secret: &str) -> Result<(), KeychainError> {
        if secret.len() > MAX_SECRET_BYTES {
            return Err(KeychainError::TooLarge(secret.len()));
        }
        let _one = one_at_a_time();
        self.entry(server, nik)?.set_password(secret).map_err(|e| KeychainError::Unavailable(e.to_string()))
    }

    pub fn load(&self, server: &str, nik: &str) -> Result<Option<String>, KeychainError> {
        let _one = one_at_a_time();
        match self.entry(server, nik)?.get_password() {
            Ok(secret) => Ok(Some(secret)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(KeychainError::Unavailable(e.to_string())),
        }
    }

    /// The key of the data folder `folder`, made (from the OS's random source) and stored
    /// on first use. Made only when the keychain says there is none: a locked or unreachable
    /// keychain is an error, never a new key that could not read what the old one wrote.
    pub fn local_key(&self, folder: &Path) -> Result<LocalKey, KeychainError> {
        // Two clients of one process opening the same folder must not both make a key.
        let _one = one_at_a_time();
        let folder = std::fs::canonicalize(folder).unwrap_or_else(|_| folder.to_owned());
        let name = format!("penyimpanan-lokal:{}", &hex::encode(Sha256::digest(folder.to_string_lossy().as_bytes()))[..32]);
        let entry = self.entry_named(&name)?;
        match entry.get_password() {
            Ok(stored) => {
                let mut bytes = [0u8; 32];
                hex::decode_to_slice(stored.trim(), &mut bytes)
                    .map_err(|_| KeychainError::Unavailable("kunci penyimpanan lokal di keychain rusak".into()))?;
                Ok(LocalKey(bytes))
            }
            Err(keyring::Error::NoEntry) => {
                let bytes: [u8; 32] = rand::random();
                entry.set_password(&hex::encode(bytes)).map_err(|e| KeychainError::Unavailable(e.to_string()))?;
                Ok(LocalKey(bytes))
            }
            Err(e) => Err(KeychainError::Unavailable(e.to_string())),
        }
    }

    pub fn remove(&self, server: &str, nik: &str) -> Result<(), KeychainError> {
        let _one = one_at_a_time();
        match self.entry(server, nik)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(KeychainError::Unavailable(e.to_string())),
        }
    }
}

/// The 32-byte key of one data folder. Its two uses get keys of their own (HKDF-SHA256).
#[derive(Clone)]
pub struct LocalKey([u8; 32]);

impl LocalKey {
    fn derive(&self, purpose: &[u8]) -> [u8; 32] {
        let mut out = [0u8; 32];
        Hkdf::<Sha256>::new(None, &self.0).expand(purpose, &mut out).expect("32 bytes is a valid HKDF length");
        out
    }

    /// SQLCipher's raw-key form (`"x'…'"`, no passphrase derivation on open).
    pub fn sqlcipher(&self) -> String {
        format!("\"x'{}'\"", hex::encode(self.derive(b"myintress penyimpanan lokal v1")))
    }

    /// The key of the cached letters (XChaCha20-Poly1305).
    pub fn documents(&self) -> [u8; 32] {
        self.derive(b"myintress dokumen v1")
    }
}

impl std::fmt::Debug for LocalKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LocalKey(…)")
    }
}
