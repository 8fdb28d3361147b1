//! [`ClientError`]: every failure a screen may show, with its code and its cause.

use myintress_core::error::{ErrorCode, FieldError};

use crate::api::ApiError;
use crate::keychain::KeychainError;

/// Every failure a screen may show. [`ClientError::code`] is what a program branches on,
/// [`ClientError::message`] the Indonesian sentence; causes stay attached as sources.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{0}")]
    Api(#[from] ApiError),
    /// Form fields refused by the core's rules, before anything was queued.
    #[error("isian belum benar")]
    Fields(Vec<FieldError>),
    /// A rule refuses the action here and now (e.g. the person is already active), with
    /// the sentence to show.
    #[error("{1}")]
    Refused(ErrorCode, String),
    #[error("belum masuk")]
    NotSignedIn,
    #[error("{0}")]
    Keychain(#[from] KeychainError),
    /// The local database failed.
    #[error("penyimpanan lokal: {0}")]
    Store(#[from] sqlx::Error),
    /// The local database could not be brought to this version's schema.
    #[error("penyimpanan lokal: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A file of the app's data folder could not be read or written.
    #[error("berkas lokal: {0}")]
    Io(#[from] std::io::Error),
    /// Something stored locally that this build cannot read (a bad row, a broken JSON).
    #[error("data lokal rusak: {0}")]
    Corrupt(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ClientError {
    /// A refusal with the code's own sentence.
    pub fn refused(code: ErrorCode) -> ClientError {
        let detail = code.detail().to_owned();
        ClientError::Refused(code, detail)
    }

    pub fn corrupt(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> ClientError {
        ClientError::Corrupt(cause.into())
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            ClientError::Api(e) => e.code(),
            ClientError::Fields(errors) => errors.first().map_or(ErrorCode::FieldRequired, |e| e.code.clone()),
            ClientError::Refused(code, _) => code.clone(),
            ClientError::NotSignedIn => ErrorCode::NotSignedIn,
            ClientError::Keychain(_) => ErrorCode::KeychainUnavailable,
            ClientError::Store(_) | ClientError::Migrate(_) | ClientError::Io(_) | ClientError::Corrupt(_) => ErrorCode::LocalStore,
        }
    }

    /// The sentence to show.
    pub fn message(&self) -> String {
        match self {
            ClientError::Api(ApiError::Problem { problem, .. }) => problem.detail.clone(),
            ClientError::Fields(errors) if errors.len() == 1 => errors[0].detail.clone(),
            ClientError::Fields(_) => "Beberapa isian belum benar; periksa kembali formulir.".into(),
            ClientError::Refused(_, text) => text.clone(),
            ClientError::Api(_) | ClientError::NotSignedIn => self.code().detail().to_owned(),
            other => format!("{} ({other})", other.code().detail()),
        }
    }
}

impl From<serde_json::Error> for ClientError {
    fn from(e: serde_json::Error) -> Self {
        ClientError::Corrupt(Box::new(e))
    }
}

impl From<uuid::Error> for ClientError {
    fn from(e: uuid::Error) -> Self {
        ClientError::Corrupt(Box::new(e))
    }
}

pub type ClientResult<T> = Result<T, ClientError>;
