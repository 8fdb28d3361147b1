//! The user's actions as outbox entries, and what each does to the local view before the
//! server has seen it (the overlay). The overlay uses the core's state machine, so the
//! optimistic view follows the same rules the server will apply.

use chrono::{DateTime, Utc};
use myintress_core::api::Membership;
use myintress_core::registration::RegistrationInput;
use myintress_core::status::{self, Actor, Outcome, Route, Status};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where an outbox entry is: waiting to be sent, or refused by the server and waiting for
/// the person (dismiss or redo). Stored as its name; statements bind [`OutboxState::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    Pending,
    Conflict,
}

impl OutboxState {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Conflict => "conflict",
        }
    }

    /// The state stored as `text`; anything else is a corrupt row.
    pub fn decode(text: &str) -> Result<OutboxState, sqlx::Error> {
        [OutboxState::Pending, OutboxState::Conflict]
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| sqlx::Error::Decode(format!("outbox state {text}").into()))
    }
}

/// One action, as stored in the outbox (`payload`). `OutboxAction` in the bindings, beside
/// the core's [`status::Action`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename = "OutboxAction")]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    Register { input: RegistrationInput, letter_sha256: String },
    Approve,
    Reject { reason: String },
    Deactivate { reason: String },
    Reactivate,
    Delete { reason: String, decree_number: String, decree_sha256: String },
}

impl Action {
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Register { .. } => "register",
            Action::Approve => "approve",
            Action::Reject { .. } => "reject",
            Action::Deactivate { .. } => "deactivate",
            Action::Reactivate => "reactivate",
            Action::Delete { .. } => "delete",
        }
    }

    /// The core's action for everything but a registration.
    pub fn core(&self) -> Option<status::Action> {
        match self {
            Action::Register { .. } => None,
            Action::Approve => Some(status::Action::Approve),
            Action::Reject { .. } => Some(status::Action::Reject),
            Action::Deactivate { .. } => Some(status::Action::Deactivate),
            Action::Reactivate => Some(status::Action::Reactivate),
            Action::Delete { .. } => Some(status::Action::Delete),
        }
    }

    /// The endpoint the action goes to.
    pub fn path(&self, membership_id: Uuid) -> String {
        match self {
            Action::Register { .. } => "/api/v1/registrations".to_owned(),
            other => format!("/api/v1/memberships/{membership_id}/{}", other.kind()),
        }
    }

    /// The Indonesian word for the action, for the sync screen.
    pub fn label(&self) -> &'static str {
        match self {
            Action::Register { .. } => "Tambah Pengguna",
            other => other.core().map(|a| a.label()).unwrap_or_default(),
        }
    }
}

/// Who acts, for the overlay: the signed-in account's role and NIK.
#[derive(Debug, Clone)]
pub struct Acting {
    pub actor: Actor,
    pub nik: String,
    pub name: String,
}

/// Applies one pending action to the view of a membership. `None` in means "no row yet"
/// (a new registration); `None` out means "removed".
pub fn overlay(view: Option<Membership>, action: &Action, membership_id: Uuid, acting: &Acting, at: DateTime<Utc>) -> Option<Membership> {
    match action {
        Action::Register { input, .. } => {
            let route = Route::for_actor(acting.actor).unwrap_or(Route::Satker);
            let initial = route.initial_status();
            let phone =
                myintress_core::PhoneNumber::parse(&input.phone).map(|p| p.as_e164().to_owned()).unwrap_or_else(|_| input.phone.clone());
            let nip = Some(input.nip.trim().to_owned()).filter(|n| !n.is_empty());
            let ticket = Some(input.ticket_number.trim().to_owned()).filter(|t| !t.is_empty() && route == Route::Kppn);
            let active = initial == Status::Active;
            match view {
                // Re-entering a pending request replaces it in place (guide Tip 2).
                Some(mut m) if m.status == Status::Registered => {
                    m.name = input.name.trim().to_owned();
                    m.nip = nip;
                    m.phone = phone;
                    m.email = input.email.trim().to_owned();
                    m.letter_number = input.letter_number.trim().to_owned();
                    m.route = route;
                    m.ticket_number = ticket;
                    m.status = initial;
                    m.status_label = initial.label().to_owned();
                    m.updated_at = at;
                    if active {
                        m.decided_at = Some(at);
                        m.decided_by = Some(acting.name.clone());
                    }
                    Some(m)
                }
                Some(m) => Some(m),
                None => Some(Membership {
                    id: membership_id,
                    nik: input.nik.split_whitespace().collect(),
                    name: input.name.trim().to_owned(),
                    nip,
                    phone,
                    email: input.email.trim().to_owned(),
                    satker_code: input.satker_code.trim().to_owned(),
                    status: initial,
                    status_label: initial.label().to_owned(),
                    letter_number: input.letter_number.trim().to_owned(),
                    letter_document_id: Uuid::nil(),
                    rejection_reason: None,
                    route,
                    ticket_number: ticket,
                    version: 0,
                    created_at: at,
                    updated_at: at,
                    decided_at: active.then_some(at),
                    decided_by: active.then(|| acting.name.clone()),
                    listed: true,
                }),
            }
        }
        other => {
            let mut m = view?;
            let core = other.core().expect("not a registration");
            let own = m.nik == acting.nik;
            // An action the rules refuse leaves the view as it is; the server will answer
            // with the conflict.
            let Ok(t) = status::decide(acting.actor, core, m.status, own) else { return Some(m) };
            match t.to {
                Outcome::Removed => None,
                Outcome::Status(to) => {
                    m.status = to;
                    m.status_label = to.label().to_owned();
                    m.updated_at = at;
                    match other {
                        Action::Approve => {
                            m.decided_at = Some(at);
                            m.decided_by = Some(acting.name.clone());
                        }
                        Action::Reject { reason } => {
                            m.decided_at = Some(at);
                            m.decided_by = Some(acting.name.clone());
                            m.rejection_reason = Some(reason.trim().to_owned());
                        }
                        _ => {}
                    }
                    Some(m)
                }
            }
        }
    }
}
