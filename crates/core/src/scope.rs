//! Which satkers an account sees and acts for (docs/rules.md, "People, satkers and scope").
//!
//! A KPPN verifier works for the satkers its KPPN serves (its *mitra kerja*); a satker
//! operator for the satkers where its own membership is active. Anything outside is, to
//! that account, not there at all: the server answers `404` so ids of others leak nothing.

use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;
use crate::status::{Actor, Route};
use crate::text::{KppnCode, SatkerCode};

/// The reach of a signed-in account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "role")]
pub enum Scope {
    Kppn { kppn_code: KppnCode },
    Satker { active_satkers: Vec<SatkerCode> },
}

impl Scope {
    pub fn actor(&self) -> Actor {
        match self {
            Scope::Kppn { .. } => Actor::KppnVerifier,
            Scope::Satker { .. } => Actor::SatkerOperator,
        }
    }

    pub fn route(&self) -> Route {
        match self {
            Scope::Kppn { .. } => Route::Kppn,
            Scope::Satker { .. } => Route::Satker,
        }
    }

    /// Whether a satker (served by `satker_kppn`) is within this account's reach.
    pub fn covers(&self, satker: &SatkerCode, satker_kppn: &KppnCode) -> bool {
        match self {
            Scope::Kppn { kppn_code } => kppn_code == satker_kppn,
            Scope::Satker { active_satkers } => active_satkers.contains(satker),
        }
    }

    /// Whether this account may register a user in `satker` (Unit kerja): a satker
    /// operator only in a satker where it is active (never another satker), a KPPN
    /// verifier only in the satkers of its own KPPN.
    pub fn may_register_for(&self, satker: &SatkerCode, satker_kppn: &KppnCode) -> Result<(), ErrorCode> {
        match self {
            Scope::Satker { active_satkers } if active_satkers.is_empty() => Err(ErrorCode::SatkerHasNoActiveUser),
            _ if self.covers(satker, satker_kppn) => Ok(()),
            _ => Err(ErrorCode::SatkerOutOfScope),
        }
    }
}
