//! Free-text fields of the forms and the two organisation codes.
//!
//! Single-line fields have tabs and line breaks turned into spaces and other control
//! characters removed, so a value pasted from a word processor is stored as the person
//! sees it rather than refused.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Coded, ErrorCode};

/// Why a free-text field was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("wajib diisi")]
    Empty,
    #[error("maksimal {max} karakter")]
    TooLong { max: usize },
}

impl Coded for TextError {
    fn code(&self) -> ErrorCode {
        match self {
            TextError::Empty => ErrorCode::FieldRequired,
            TextError::TooLong { .. } => ErrorCode::FieldTooLong,
        }
    }

    fn detail(&self) -> String {
        match self {
            TextError::Empty => ErrorCode::FieldRequired.detail().to_owned(),
            TextError::TooLong { max } => format!("Isian terlalu panjang, maksimal {max} karakter"),
        }
    }
}

/// Cleans a field: trims, maps line breaks and tabs to spaces (single-line fields) and
/// drops other control characters.
fn clean(input: &str, multi_line: bool) -> String {
    let mapped: String = input
        .chars()
        .filter_map(|c| match c {
            '\n' if multi_line => Some('\n'),
            '\r' if multi_line => None,
            '\t' | '\n' | '\r' => Some(' '),
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect();
    mapped.trim().to_owned()
}

fn required(input: &str, max: Option<usize>, multi_line: bool) -> Result<String, TextError> {
    let value = clean(input, multi_line);
    if value.is_empty() {
        return Err(TextError::Empty);
    }
    if let Some(max) = max
        && value.chars().count() > max
    {
        return Err(TextError::TooLong { max });
    }
    Ok(value)
}

/// Declares a text newtype with the shared parse, display and serde plumbing.
macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident, max = $max:expr, multi_line = $multi:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        #[cfg_attr(feature = "specta", derive(specta::Type))]
        #[cfg_attr(feature = "specta", specta(transparent))]
        pub struct $name(String);

        impl $name {
            /// The longest accepted value in characters, if there is a limit.
            pub const MAX_CHARS: Option<usize> = $max;

            pub fn parse(input: &str) -> Result<Self, TextError> {
                required(input, Self::MAX_CHARS, $multi).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = TextError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
    };
}

text_type!(
    /// The full name as the person gives it; checked against the civil registry by
    /// [`crate::name_match`].
    PersonName, max = Some(150), multi_line = false
);

text_type!(
    /// NIP or NRP: any characters (guide §3), at most 50 (an 18-digit NIP or an NRP with
    /// its rank fits many times; a megabyte does not). Optional on the form: an empty input
    /// means "no NIP", see [`Nip::parse_optional`].
    Nip, max = Some(50), multi_line = false
);

text_type!(
    /// Number of the ST / SK / ND letter that is uploaded (No. ST).
    LetterNumber, max = Some(100), multi_line = false
);

text_type!(
    /// Ticket number of the HAI CSO request, recorded when a KPPN registers a user.
    TicketNumber, max = Some(100), multi_line = false
);

text_type!(
    /// Reason for a rejection, a deactivation or a deletion. May span lines.
    Reason, max = Some(1000), multi_line = true
);

text_type!(
    /// Number of the deletion decree (nomor SK).
    DecreeNumber, max = Some(100), multi_line = false
);

impl Nip {
    /// An empty or blank NIP is "not given", not an error; a too-long one is.
    pub fn parse_optional(input: &str) -> Result<Option<Nip>, TextError> {
        match Nip::parse(input) {
            Ok(n) => Ok(Some(n)),
            Err(TextError::Empty) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

impl TicketNumber {
    /// The ticket number is optional; blank means none, a too-long one is still an error.
    pub fn parse_optional(input: &str) -> Result<Option<TicketNumber>, TextError> {
        match TicketNumber::parse(input) {
            Ok(t) => Ok(Some(t)),
            Err(TextError::Empty) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Why a code is not a satker or KPPN code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("kode kosong")]
    Empty,
    #[error("kode satker harus 6 digit angka")]
    Satker,
    #[error("kode KPPN harus 3 digit angka")]
    Kppn,
}

impl Coded for CodeError {
    fn code(&self) -> ErrorCode {
        match self {
            CodeError::Empty => ErrorCode::FieldRequired,
            CodeError::Satker => ErrorCode::SatkerCodeInvalid,
            CodeError::Kppn => ErrorCode::KppnCodeInvalid,
        }
    }
}

macro_rules! digit_code {
    ($(#[$doc:meta])* $name:ident, digits = $n:expr, error = $err:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        #[cfg_attr(feature = "specta", derive(specta::Type))]
        #[cfg_attr(feature = "specta", specta(transparent))]
        pub struct $name(String);

        impl $name {
            pub fn parse(input: &str) -> Result<Self, CodeError> {
                let value = input.trim();
                if value.is_empty() {
                    return Err(CodeError::Empty);
                }
                if value.len() != $n || !value.bytes().all(|b| b.is_ascii_digit()) {
                    return Err($err);
                }
                Ok(Self(value.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = CodeError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
    };
}

digit_code!(
    /// Kode satker: the six-digit code of a government work unit, e.g. `019002`.
    SatkerCode, digits = 6, error = CodeError::Satker
);

digit_code!(
    /// Kode KPPN: the three-digit code of a state treasury service office, e.g. `019`.
    KppnCode, digits = 3, error = CodeError::Kppn
);

/// Whether a central server's address may be used: `https://`, or `http://` only to this
/// computer (a loopback address: a demo, a test). People's data never crosses a network
/// in the clear.
pub fn server_address_allowed(url: &str) -> bool {
    let url = url.trim().to_ascii_lowercase();
    if let Some(rest) = url.strip_prefix("https://") {
        return !rest.is_empty() && !rest.starts_with('/');
    }
    let Some(rest) = url.strip_prefix("http://") else { return false };
    let authority = rest.split('/').next().unwrap_or_default();
    let host = if authority.starts_with('[') {
        authority.split(']').next().map(|h| format!("{h}]")).unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default().to_owned()
    };
    host == "localhost" || host == "[::1]" || (host.starts_with("127.") && host.split('.').count() == 4)
}

#[cfg(test)]
mod server_address_tests {
    use super::server_address_allowed;

    #[test]
    fn https_anywhere_and_http_only_to_this_computer() {
        for ok in
            ["https://myintress.kemenkeu.go.id", "HTTPS://10.1.2.3:8443/", "http://127.0.0.1:8080", "http://localhost", "http://[::1]:80"]
        {
            assert!(server_address_allowed(ok), "{ok}");
        }
        for refused in
            ["http://myintress.kemenkeu.go.id", "http://10.1.2.3", "http://127.0.0.1.evil.example", "ftp://x", "https://", "myintress"]
        {
            assert!(!server_address_allowed(refused), "{refused}");
        }
    }
}
