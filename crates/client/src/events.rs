//! What the sync engine tells the UI: the connection state with progress, how many actions
//! wait, how many were refused, and new registrations waiting for the KPPN.

use myintress_core::status::Status;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Connection {
    /// Not tried yet since start.
    Idle,
    Online,
    /// The server could not be reached; actions wait in the outbox.
    Offline {
        reason: String,
    },
    /// Sending actions or reading changes: `done` of `total` (total unknown while reading).
    Syncing {
        done: u64,
        total: Option<u64>,
    },
    /// The session ended (signed out elsewhere, expired, deactivated): sign in again.
    SignInNeeded {
        reason: String,
    },
    /// Something unexpected; sync retries.
    Error {
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SyncStatus {
    pub connection: Connection,
    /// Actions waiting to be sent.
    pub outbox: i64,
    /// Actions the server refused, waiting for the user.
    pub conflicts: i64,
    /// Registrations waiting for the KPPN (status 1) in scope.
    pub pending_registrations: i64,
    /// Of those, overdue and escalated (the server's flags, so the same offline).
    pub overdue_registrations: i64,
    pub escalated_registrations: i64,
    /// When the last pull finished (RFC 3339).
    pub last_sync: Option<String>,
}

impl Default for SyncStatus {
    fn default() -> Self {
        SyncStatus {
            connection: Connection::Idle,
            outbox: 0,
            conflicts: 0,
            pending_registrations: 0,
            overdue_registrations: 0,
            escalated_registrations: 0,
            last_sync: None,
        }
    }
}

/// A one-off notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    /// New registrations arrived for the KPPN to verify.
    NewRegistrations { count: u64 },
    /// A membership the user follows changed status on the server.
    StatusChanged { membership_id: String, name: String, status: Status },
    /// The server refused an action.
    Conflict { key: String, detail: String },
}
