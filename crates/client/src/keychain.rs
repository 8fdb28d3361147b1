//! The refresh token lives only in the OS keychain (Windows Credential Manager, macOS
//! Keychain, Secret Service on Linux) through `keyring`, never in the database or a file.
//! One entry per server and account. Windows caps a credential at 2,560 bytes; a refresh
//! token is 43 characters, and [`Keychain::store`] refuses anything near the cap.

/// Largest secret stored, well under Windows' 2,560-byte credential limit.
pub const MAX_SECRET_BYTES: usize = 2048;

#[derive(Debug, thiserror::Error)]
pub enum KeychainError {
    #[error("keychain sistem tidak dapat dipakai: {0}")]
    Unavailable(String),
    #[error("rahasia terlalu besar untuk keychain ({0} byte)")]
    TooLarge(usize),
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
        keyring::Entry::new(&self.service, &format!("{nik}@{server}")).map_err(|e| KeychainError::Unavailable(e.to_string()))
    }

    pub fn store(&self, server: &str, nik: &str, secret: &str) -> Result<(), KeychainError> {
        if secret.len() > MAX_SECRET_BYTES {
            return Err(KeychainError::TooLarge(secret.len()));
        }
        self.entry(server, nik)?.set_password(secret).map_err(|e| KeychainError::Unavailable(e.to_string()))
    }

    pub fn load(&self, server: &str, nik: &str) -> Result<Option<String>, KeychainError> {
        match self.entry(server, nik)?.get_password() {
            Ok(secret) => Ok(Some(secret)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(KeychainError::Unavailable(e.to_string())),
        }
    }

    pub fn remove(&self, server: &str, nik: &str) -> Result<(), KeychainError> {
        match self.entry(server, nik)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(KeychainError::Unavailable(e.to_string())),
        }
    }
}
