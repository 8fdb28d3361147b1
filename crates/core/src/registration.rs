//! The *Tambah Pengguna* and *Penghapusan Pengguna* forms, validated as a whole so a
//! person sees every field error at once (guide §3 and the deletion guide).
//!
//! The letter itself is checked by [`crate::pdf::check`]; which satkers the signed-in
//! account may register for is the server's scope check.

use serde::{Deserialize, Serialize};

use crate::contact::{Email, PhoneNumber};
use crate::error::{Coded, FieldError};
use crate::nik::Nik;
use crate::status::Route;
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
        let phone = collect(&mut errors, "phone", PhoneNumber::parse(&self.phone));
        let email = collect(&mut errors, "email", Email::parse(&self.email));
        let satker_code = collect(&mut errors, "satker_code", SatkerCode::parse(&self.satker_code));
        let letter_number = collect(&mut errors, "letter_number", LetterNumber::parse(&self.letter_number));
        let ticket_number = match route {
            Route::Kppn => collect(&mut errors, "ticket_number", TicketNumber::parse_optional(&self.ticket_number)),
            Route::Satker => Some(None),
        };
        match (nik, name, phone, email, satker_code, letter_number, ticket_number) {
            (Some(nik), Some(name), Some(phone), Some(email), Some(satker_code), Some(letter_number), Some(ticket_number))
                if errors.is_empty() =>
            {
                Ok(RegistrationForm {
                    nik,
                    name,
                    nip: Nip::parse_optional(&self.nip),
                    phone,
                    email,
                    satker_code,
                    letter_number,
                    ticket_number,
                })
            }
            _ => Err(errors),
        }
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
