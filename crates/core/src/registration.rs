//! The *Tambah Pengguna* and *Penghapusan Pengguna* forms, validated as a whole so a
//! person sees every field error at once (guide §3 and the deletion guide).
//!
//! The letter itself is checked by [`crate::pdf::check`]; which satkers the signed-in
//! account may register for is the server's scope check.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api::Membership;

use crate::contact::{Email, PhoneNumber};
use crate::error::{Coded, FieldError};
use crate::nik::Nik;
use crate::status::{Route, Status};
use crate::text::{DecreeNumber, LetterNumber, Nip, PersonName, Reason, SatkerCode, TicketNumber};

/// `Tipe pengguna` on the form: only users of type Satker are registered here, so the
/// field is filled in and cannot be changed (guide §3).
pub const USER_TYPE_LABEL: &str = "Satker";

/// The form as typed: every field a string, nothing checked yet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RegistrationInput {
    pub nik: String,
    pub name: String,
    #[serde(default)]
    pub nip: String,
    pub phone: String,
    pub email: String,
    pub satker_code: String,
    pub letter_number: String,
    #[serde(default)]
    pub ticket_number: String,
}

/// A registration whose every field is valid. `Tipe pengguna` is always *satker* and so is
/// not a field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationForm {
    pub nik: Nik,
    pub name: PersonName,
    pub nip: Option<Nip>,
    pub phone: PhoneNumber,
    pub email: Email,
    pub satker_code: SatkerCode,
    pub letter_number: LetterNumber,
    pub ticket_number: Option<TicketNumber>,
}

impl RegistrationInput {
    /// Checks every field and returns all errors, in form order. The ticket number is
    /// recorded only on the KPPN route (guide A); a satker's own registration ignores it.
    pub fn validate(&self, route: Route) -> Result<RegistrationForm, Vec<FieldError>> {
        let mut errors = Vec::new();
        let nik = collect(&mut errors, "nik", Nik::parse(&self.nik));
        let name = collect(&mut errors, "name", PersonName::parse(&self.name));
        let nip = collect(&mut errors, "nip", Nip::parse_optional(&self.nip));
        let phone = collect(&mut errors, "phone", PhoneNumber::parse(&self.phone));
        let email = collect(&mut errors, "email", Email::parse(&self.email));
        let satker_code = collect(&mut errors, "satker_code", SatkerCode::parse(&self.satker_code));
        let letter_number = collect(&mut errors, "letter_number", LetterNumber::parse(&self.letter_number));
        let ticket_number = match route {
            Route::Kppn => collect(&mut errors, "ticket_number", TicketNumber::parse_optional(&self.ticket_number)),
            Route::Satker => Some(None),
        };
        match (nik, name, nip, phone, email, satker_code, letter_number, ticket_number) {
            (Some(nik), Some(name), Some(nip), Some(phone), Some(email), Some(satker_code), Some(letter_number), Some(ticket_number))
                if errors.is_empty() =>
            {
                Ok(RegistrationForm { nik, name, nip, phone, email, satker_code, letter_number, ticket_number })
            }
            _ => Err(errors),
        }
    }
}

/// What a registration does to its membership, decided once for the server's write and
/// the desktop's offline view: the fields as stored (trimmed, the phone in E.164, the
/// ticket number only on the KPPN route), the status it starts in, and whether it is
/// decided at once (the KPPN route activates, guide A) so that `decided_at`/`decided_by`
/// are set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationEffect {
    pub nik: String,
    pub satker_code: String,
    pub name: String,
    pub nip: Option<String>,
    pub phone: String,
    pub email: String,
    pub letter_number: String,
    pub ticket_number: Option<String>,
    pub route: Route,
    pub status: Status,
    /// The registration is also the decision: the membership is active from now on.
    pub decided: bool,
}

impl RegistrationForm {
    /// What this registration, through `route`, does to a membership.
    pub fn effect(&self, route: Route) -> RegistrationEffect {
        let status = route.initial_status();
        RegistrationEffect {
            nik: self.nik.as_str().to_owned(),
            satker_code: self.satker_code.as_str().to_owned(),
            name: self.name.as_str().to_owned(),
            nip: self.nip.as_ref().map(|n| n.as_str().to_owned()),
            phone: self.phone.as_e164().to_owned(),
            email: self.email.as_str().to_owned(),
            letter_number: self.letter_number.as_str().to_owned(),
            ticket_number: match route {
                Route::Kppn => self.ticket_number.as_ref().map(|t| t.as_str().to_owned()),
                Route::Satker => None,
            },
            route,
            status,
            decided: status == Status::Active,
        }
    }
}

impl RegistrationEffect {
    /// Writes the registration onto `m` (a new membership, or the pending request it
    /// replaces, guide Tip 2) at `at`, by `by` (the registering account's name).
    pub fn apply(&self, m: &mut Membership, at: DateTime<Utc>, by: &str) {
        m.nik.clone_from(&self.nik);
        m.satker_code.clone_from(&self.satker_code);
        m.name.clone_from(&self.name);
        m.nip.clone_from(&self.nip);
        m.phone.clone_from(&self.phone);
        m.email.clone_from(&self.email);
        m.letter_number.clone_from(&self.letter_number);
        m.ticket_number.clone_from(&self.ticket_number);
        m.route = self.route;
        m.status = self.status;
        m.status_label = self.status.label().to_owned();
        m.updated_at = at;
        if self.decided {
            m.decided_at = Some(at);
            m.decided_by = Some(by.to_owned());
        }
    }

    /// A new membership `id` made by this registration (no letter stored yet, version 0).
    pub fn new_membership(&self, id: Uuid, at: DateTime<Utc>, by: &str) -> Membership {
        let mut m = Membership {
            id,
            nik: String::new(),
            name: String::new(),
            nip: None,
            phone: String::new(),
            email: String::new(),
            satker_code: String::new(),
            status: self.status,
            status_label: String::new(),
            letter_number: String::new(),
            letter_document_id: Uuid::nil(),
            rejection_reason: None,
            route: self.route,
            ticket_number: None,
            version: 0,
            created_at: at,
            updated_at: at,
            decided_at: None,
            decided_by: None,
            listed: true,
            letter_check: None,
        };
        self.apply(&mut m, at, by);
        m
    }
}

/// The deletion form (Penghapusan Pengguna): reason and decree (SK) number; the SK PDF is
/// checked by [`crate::pdf::check`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DeletionInput {
    pub reason: String,
    pub decree_number: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletionForm {
    pub reason: Reason,
    pub decree_number: DecreeNumber,
}

impl DeletionInput {
    pub fn validate(&self) -> Result<DeletionForm, Vec<FieldError>> {
        let mut errors = Vec::new();
        let reason = collect(&mut errors, "reason", parse_reason(&self.reason));
        let decree_number = collect(&mut errors, "decree_number", DecreeNumber::parse(&self.decree_number));
        match (reason, decree_number) {
            (Some(reason), Some(decree_number)) => Ok(DeletionForm { reason, decree_number }),
            _ => Err(errors),
        }
    }
}

/// A satker operator's deletion request as typed: why, and the number of the request letter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DeletionRequestInput {
    pub reason: String,
    pub letter_number: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletionRequestForm {
    pub reason: Reason,
    pub letter_number: LetterNumber,
}

impl DeletionRequestInput {
    pub fn validate(&self) -> Result<DeletionRequestForm, Vec<FieldError>> {
        let mut errors = Vec::new();
        let reason = collect(&mut errors, "reason", parse_reason(&self.reason));
        let letter_number = collect(&mut errors, "letter_number", LetterNumber::parse(&self.letter_number));
        match (reason, letter_number) {
            (Some(reason), Some(letter_number)) => Ok(DeletionRequestForm { reason, letter_number }),
            _ => Err(errors),
        }
    }
}

/// A reason for a rejection, deactivation or deletion; an empty one is `reason_required`.
pub fn parse_reason(input: &str) -> Result<Reason, ReasonError> {
    Reason::parse(input).map_err(ReasonError)
}

/// A refused reason: empty is `reason_required`, too long is `field_too_long`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ReasonError(crate::text::TextError);

impl Coded for ReasonError {
    fn code(&self) -> crate::ErrorCode {
        match self.0 {
            crate::text::TextError::Empty => crate::ErrorCode::ReasonRequired,
            _ => self.0.code(),
        }
    }

    fn detail(&self) -> String {
        match self.0 {
            crate::text::TextError::Empty => crate::ErrorCode::ReasonRequired.detail().to_owned(),
            _ => self.0.detail(),
        }
    }
}

fn collect<T, E: Coded>(errors: &mut Vec<FieldError>, field: &str, result: Result<T, E>) -> Option<T> {
    match result {
        Ok(v) => Some(v),
        Err(e) => {
            errors.push(e.for_field(field));
            None
        }
    }
}
