//! The commands the UI calls: a few lines each over `myintress-client` and the core.
//! Errors cross as `{code, message}`; `code` is core's [`ErrorCode`] (a TypeScript union in
//! the bindings), so the UI branches on it, type-checked, never on the text.

pub mod actions;
pub mod admin;
pub mod data;
pub mod export;
pub mod files;
pub mod session;
pub mod sync;
pub mod system;
pub mod update;

use std::sync::Arc;

use myintress_client::{Client, ClientError};
use myintress_core::error::{Coded, ErrorCode, FieldError};
use myintress_core::name_match::NameExplanation;
use serde::Serialize;
use specta::Type;

use crate::state::AppState;

/// An error as the UI receives it.
#[derive(Debug, Serialize, Type)]
pub struct CommandError {
    /// What a screen branches on (`nik_invalid`, `offline`, `version_conflict`, …).
    pub code: ErrorCode,
    /// The Indonesian sentence to show.
    pub message: String,
    /// Field errors of a form, to show beside each field.
    pub fields: Vec<FieldError>,
    /// On `name_mismatch`: why, to show beside the Nama field.
    pub explanation: Option<Box<NameExplanation>>,
}

impl CommandError {
    pub fn new(code: ErrorCode, message: &str) -> Self {
        CommandError { code, message: message.into(), fields: Vec::new(), explanation: None }
    }

    /// The code with its own sentence.
    pub fn from_code(code: ErrorCode) -> Self {
        let message = code.detail();
        CommandError::new(code, message)
    }

    /// The code's sentence followed by what went wrong.
    pub fn because(code: ErrorCode, cause: &dyn std::fmt::Display) -> Self {
        let message = format!("{} ({cause})", code.detail());
        CommandError::new(code, &message)
    }
}

impl From<ClientError> for CommandError {
    fn from(e: ClientError) -> Self {
        let (fields, explanation) = match &e {
            ClientError::Fields(f) => (f.clone(), None),
            ClientError::Api(myintress_client::api::ApiError::Problem { problem, .. }) => {
                (problem.errors.clone(), problem.explanation.clone())
            }
            _ => (Vec::new(), None),
        };
        CommandError { code: e.code(), message: e.message(), fields, explanation }
    }
}

impl From<myintress_core::nik::NikError> for CommandError {
    fn from(e: myintress_core::nik::NikError) -> Self {
        CommandError { code: e.code(), message: e.detail(), fields: vec![e.for_field("nik")], explanation: None }
    }
}

pub type CommandResult<T> = Result<T, CommandError>;

/// The client of the configured server, or the error the UI shows: no server set yet
/// (the settings screen asks for one), or a local store that cannot be opened.
pub async fn client(state: &AppState) -> CommandResult<Arc<Client>> {
    Ok(state.client().await?)
}
