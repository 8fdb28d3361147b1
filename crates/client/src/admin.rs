//! Administration for central operators (`admin`): verifier accounts and the reference
//! lists. Online only: nothing is kept on this machine (an administrator's desktop holds
//! no membership data), and each call is checked early with core's rules.

use myintress_core::api::{Kppn, NewVerifier, ReferenceLoaded, Role, Verifier, VerifierMove};
use myintress_core::error::ErrorCode;

use crate::{Client, ClientError, ClientResult};

/// What an administrator does to a verifier's account.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum VerifierChange {
    /// No sign-in; every session ends at once.
    Disable,
    Enable,
    /// Another KPPN, and the supervisor mark (unchanged when `None`).
    Move(VerifierMove),
}

impl Client {
    async fn require_admin(&self) -> ClientResult<()> {
        match self.require_account().await?.role {
            Role::Admin => Ok(()),
            _ => Err(ClientError::refused(ErrorCode::Forbidden)),
        }
    }

    pub async fn verifiers(&self) -> ClientResult<Vec<Verifier>> {
        self.require_admin().await?;
        self.online(|token| async move { self.api.verifiers(&token).await }).await
    }

    pub async fn kppns(&self) -> ClientResult<Vec<Kppn>> {
        self.require_admin().await?;
        self.online(|token| async move { self.api.kppns(&token).await }).await
    }

    /// A new verifier; the activation link goes to its e-mail.
    pub async fn create_verifier(&self, verifier: &NewVerifier) -> ClientResult<Verifier> {
        self.require_admin().await?;
        verifier.validate().map_err(ClientError::Fields)?;
        self.online(|token| async move { self.api.create_verifier(&token, verifier).await }).await
    }

    pub async fn change_verifier(&self, nik: &str, change: &VerifierChange) -> ClientResult<Verifier> {
        self.require_admin().await?;
        let (what, to) = match change {
            VerifierChange::Disable => ("disable", None),
            VerifierChange::Enable => ("enable", None),
            VerifierChange::Move(to) => {
                to.validate().map_err(ClientError::Fields)?;
                ("move", Some(to))
            }
        };
        self.online(|token| async move { self.api.change_verifier(&token, nik, what, to).await }).await
    }

    /// Uploads `kppn.csv` and/or `satker.csv` (as read from the files the person chose).
    pub async fn upload_reference(&self, kppn: Option<&[u8]>, satker: Option<&[u8]>) -> ClientResult<ReferenceLoaded> {
        self.require_admin().await?;
        if kppn.is_none() && satker.is_none() {
            return Err(ClientError::Fields(vec![myintress_core::FieldError::new("satker", ErrorCode::FieldRequired)]));
        }
        self.online(|token| async move { self.api.upload_reference(&token, kppn, satker).await }).await
    }
}
