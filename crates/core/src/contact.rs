//! Contact details: the e-mail address the activation link goes to and the phone number.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Coded, ErrorCode};

/// An e-mail address that can receive mail: RFC 5322 syntax (checked by the
/// `email_address` crate) with a domain that has at least one dot, as every address on the
/// public internet does. The domain is lower-cased; the local part is kept as typed.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "specta", specta(transparent))]
pub struct Email(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("email kosong")]
    Empty,
    #[error("format email tidak valid")]
    Syntax,
    #[error("domain email harus lengkap, misalnya kemenkeu.go.id")]
    DomainWithoutDot,
}

impl Coded for EmailError {
    fn code(&self) -> ErrorCode {
        match self {
            EmailError::Empty => ErrorCode::FieldRequired,
            _ => ErrorCode::EmailInvalid,
        }
    }
}

impl Email {
    pub fn parse(input: &str) -> Result<Email, EmailError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(EmailError::Empty);
        }
        let options = email_address::Options::default().without_display_text().without_domain_literal();
        let parsed = email_address::EmailAddress::parse_with_options(trimmed, options).map_err(|_| EmailError::Syntax)?;
        let domain = parsed.domain().to_ascii_lowercase();
        if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
            return Err(EmailError::DomainWithoutDot);
        }
        Ok(Email(format!("{}@{}", parsed.local_part(), domain)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The address with most of the local part hidden (`bu•••@kemenkeu.go.id`), for logs.
    pub fn masked(&self) -> String {
        let (local, domain) = self.0.split_once('@').expect("parsed address has @");
        let shown: String = local.chars().take(2).collect();
        format!("{shown}•••@{domain}")
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.masked())
    }
}

impl TryFrom<String> for Email {
    type Error = EmailError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Email::parse(&value)
    }
}

impl From<Email> for String {
    fn from(email: Email) -> String {
        email.0
    }
}

/// An Indonesian phone number, mobile or landline, normalised to E.164 (`+6281234567890`).
///
/// Accepts what people write: `0812-3456-7890`, `+62 812 3456 7890`, `6281234567890`,
/// `(021) 555 1234`. Validation and formatting come from the `phonenumber` crate (Google's
/// libphonenumber metadata), so new number ranges arrive with a crate update, not a regex edit.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "specta", specta(transparent))]
pub struct PhoneNumber(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("nomor telepon kosong")]
    Empty,
    #[error("nomor telepon tidak dapat dibaca")]
    Unparsable,
    #[error("nomor telepon bukan nomor Indonesia")]
    NotIndonesian,
    #[error("nomor telepon tidak valid")]
    Invalid,
}

impl Coded for PhoneError {
    fn code(&self) -> ErrorCode {
        match self {
            PhoneError::Empty => ErrorCode::FieldRequired,
            _ => ErrorCode::PhoneInvalid,
        }
    }
}

impl PhoneNumber {
    pub fn parse(input: &str) -> Result<PhoneNumber, PhoneError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(PhoneError::Empty);
        }
        // libphonenumber reads a bare `62…` as the country code too, so `6281234567890`
        // copied from a chat app parses like `+6281234567890`.
        let number = phonenumber::parse(Some(phonenumber::country::Id::ID), trimmed).map_err(|_| PhoneError::Unparsable)?;
        if number.code().value() != 62 {
            return Err(PhoneError::NotIndonesian);
        }
        if !phonenumber::is_valid(&number) {
            return Err(PhoneError::Invalid);
        }
        Ok(PhoneNumber(number.format().mode(phonenumber::Mode::E164).to_string()))
    }

    /// E.164 form, e.g. `+6281234567890`.
    pub fn as_e164(&self) -> &str {
        &self.0
    }

    /// The national form people read on screen, e.g. `0812-3456-7890`.
    pub fn national(&self) -> String {
        match phonenumber::parse(None, &self.0) {
            Ok(n) => n.format().mode(phonenumber::Mode::National).to_string(),
            Err(_) => self.0.clone(),
        }
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(f, "PhoneNumber(…{})", &self.0[n.saturating_sub(3)..])
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = PhoneError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        PhoneNumber::parse(&value)
    }
}

impl From<PhoneNumber> for String {
    fn from(phone: PhoneNumber) -> String {
        phone.0
    }
}
