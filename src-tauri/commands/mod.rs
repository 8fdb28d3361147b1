//! The commands the UI calls: a few lines each over `myintress-client` and the core.
//! Errors cross as `{code, message}`; the UI branches on `code`, never on the text.

pub mod actions;
pub mod data;
pub mod export;
pub mod files;
pub mod session;
pub mod sync;
pub mod system;

use std::sync::Arc;

use myintress_client::{Client, ClientError};
use myintress_core::error::{Coded, FieldError};
use serde::Serialize;
use specta::Type;

use crate::state::AppState;

/// An error as the UI receives it.
#[derive(Debug, Serialize, Type)]
pub struct CommandError {
    /// A stable snake_case code (`nik_invalid`, `offline`, `version_conflict`, …).
    pub code: String,
    /// The Indonesian sentence to show.
    pub message: String,
    /// Field errors of a form, to show beside each field.
    pub fields: Vec<FieldError>,
}

impl CommandError {
    pub fn new(code: &str, message: &str) -> Self {
        CommandError { code: code.into(), message: message.into(), fields: Vec::new() }
    }
}

impl From<ClientError> for CommandError {
    fn from(e: ClientError) -> Self {
        let fields = match &e {
            ClientError::Fields(f) => f.clone(),
            ClientError::Api(myintress_client::api::ApiError::Problem { problem, .. }) => problem.errors.clone(),
            _ => Vec::new(),
        };
        CommandError { code: e.code(), message: e.message(), fields }
    }
}

impl From<myintress_core::nik::NikError> for CommandError {
    fn from(e: myintress_core::nik::NikError) -> Self {
        CommandError { code: e.code().as_str().into(), message: e.detail(), fields: vec![e.for_field("nik")] }
    }
}

pub type CommandResult<T> = Result<T, CommandError>;

/// The client of the configured server, or the error the UI shows on the settings screen.
pub async fn client(state: &AppState) -> CommandResult<Arc<Client>> {
    state
        .client()
        .await
        .ok_or_else(|| CommandError::new("server_not_set", "Alamat server pusat belum diatur. Buka Pengaturan untuk mengisinya."))
}
