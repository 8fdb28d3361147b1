//! The NIK (Nomor Induk Kependudukan), the 16-digit national ID number.
//!
//! Structure `PP RR DD ddmmyy SSSS`: province, regency and district codes, the birth date
//! (day + 40 for women) and a serial number. A NIK that breaks this structure is refused
//! before the civil registry is asked, so a typo costs no round trip.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::error::{Coded, ErrorCode};

/// A structurally valid NIK. Whether it exists is the civil registry's business.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "specta", specta(transparent))]
pub struct Nik(String);

/// Sex as encoded in the NIK's birth day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    /// The label the civil registry uses.
    pub fn label(self) -> &'static str {
        match self {
            Sex::Male => "Laki-laki",
            Sex::Female => "Perempuan",
        }
    }
}

/// Why a text is not a NIK. Every variant maps to the contract's `nik_invalid`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NikError {
    #[error("NIK kosong")]
    Empty,
    #[error("NIK harus 16 digit, bukan {0}")]
    WrongLength(usize),
    #[error("NIK hanya boleh berisi angka")]
    NotDigits,
    #[error("kode {0} pada NIK tidak boleh 00")]
    ZeroRegionCode(&'static str),
    #[error("tanggal lahir pada NIK tidak valid")]
    ImpossibleBirthDate,
    #[error("nomor urut pada NIK tidak boleh 0000")]
    ZeroSerial,
}

impl Coded for NikError {
    fn code(&self) -> ErrorCode {
        ErrorCode::NikInvalid
    }
}

impl Nik {
    /// Parses a NIK as a person types it: surrounding whitespace and spaces between digit
    /// groups (`3171 0112 0190 0001`) are allowed and dropped.
    pub fn parse(input: &str) -> Result<Nik, NikError> {
        let digits: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.is_empty() {
            return Err(NikError::Empty);
        }
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(NikError::NotDigits);
        }
        if digits.len() != 16 {
            return Err(NikError::WrongLength(digits.chars().count()));
        }
        for (range, part) in [(0..2, "provinsi"), (2..4, "kabupaten/kota"), (4..6, "kecamatan")] {
            if &digits[range] == "00" {
                return Err(NikError::ZeroRegionCode(part));
            }
        }
        let nik = Nik(digits);
        let (day, month, yy) = nik.birth_parts();
        let valid_in = |century: i32| NaiveDate::from_ymd_opt(century + yy as i32, month, day).is_some();
        if !(valid_in(1900) || valid_in(2000)) {
            return Err(NikError::ImpossibleBirthDate);
        }
        if &nik.0[12..16] == "0000" {
            return Err(NikError::ZeroSerial);
        }
        Ok(nik)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Two-digit province code (`PP`).
    pub fn province_code(&self) -> &str {
        &self.0[0..2]
    }

    /// Regency or city code within the province (`RR`).
    pub fn regency_code(&self) -> &str {
        &self.0[2..4]
    }

    /// District code within the regency (`DD`).
    pub fn district_code(&self) -> &str {
        &self.0[4..6]
    }

    pub fn sex(&self) -> Sex {
        if self.raw_day() > 40 { Sex::Female } else { Sex::Male }
    }

    /// The birth date. The NIK holds only two digits of the year, so the century is the
    /// latest one that does not put the birth after `today`.
    pub fn birth_date(&self, today: NaiveDate) -> NaiveDate {
        let (day, month, yy) = self.birth_parts();
        let in_2000s = NaiveDate::from_ymd_opt(2000 + yy as i32, month, day);
        match in_2000s {
            Some(date) if date <= today => date,
            // Parsing guaranteed the date exists in at least one of the two centuries; the
            // only date valid in the 2000s but not the 1900s is 29 February 2000, which is
            // never after any `today` this software sees.
            _ => NaiveDate::from_ymd_opt(1900 + yy as i32, month, day).or(in_2000s).expect("parse checked the birth date"),
        }
    }

    /// The age in whole years on `today`.
    pub fn age_on(&self, today: NaiveDate) -> u32 {
        let born = self.birth_date(today);
        today.years_since(born).unwrap_or(0)
    }

    /// The NIK with all but the last four digits hidden, for lists and logs.
    pub fn masked(&self) -> String {
        mask_nik(&self.0)
    }

    fn raw_day(&self) -> u32 {
        self.0[6..8].parse().expect("digits")
    }

    fn birth_parts(&self) -> (u32, u32, u32) {
        let raw_day = self.raw_day();
        let day = if raw_day > 40 { raw_day - 40 } else { raw_day };
        let month = self.0[8..10].parse().expect("digits");
        let yy = self.0[10..12].parse().expect("digits");
        (day, month, yy)
    }
}

/// Masks any NIK-like text so that only the last four characters show. Used for logs,
/// where the text may not even be a valid NIK.
pub fn mask_nik(text: &str) -> String {
    let n = text.chars().count();
    text.chars().enumerate().map(|(i, c)| if i + 4 < n { '•' } else { c }).collect()
}

/// `text` with every run of exactly 16 digits masked as [`mask_nik`] does: for messages
/// that may carry a NIK somewhere inside (an address of a request, an error's text).
pub fn mask_niks_in(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        if digits.len() == 16 {
            out.push_str(&mask_nik(digits));
        } else {
            out.push_str(digits);
        }
        digits.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            flush(&mut digits, &mut out);
            out.push(c);
        }
    }
    flush(&mut digits, &mut out);
    out
}

impl fmt::Display for Nik {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Debug output is masked so a NIK never lands whole in a log by accident.
impl fmt::Debug for Nik {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Nik({})", self.masked())
    }
}

impl TryFrom<String> for Nik {
    type Error = NikError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Nik::parse(&value)
    }
}

impl From<Nik> for String {
    fn from(nik: Nik) -> String {
        nik.0
    }
}

impl std::str::FromStr for Nik {
    type Err = NikError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Nik::parse(s)
    }
}

/// The birth date as it is written in a NIK (`ddmmyy`, day + 40 for women), used by
/// tools that generate demo residents.
pub fn encode_birth_date(date: NaiveDate, sex: Sex) -> String {
    let day = date.day() + if sex == Sex::Female { 40 } else { 0 };
    format!("{:02}{:02}{:02}", day, date.month(), date.year().rem_euclid(100))
}

#[cfg(test)]
mod masking_tests {
    #[test]
    fn every_nik_in_a_message_is_masked_and_nothing_else() {
        let text = "error sending request for url (http://127.0.0.1:8080/api/v1/digit/3171011201900001?x=12345)";
        assert_eq!(
            super::mask_niks_in(text),
            "error sending request for url (http://127.0.0.1:8080/api/v1/digit/••••••••••••0001?x=12345)"
        );
        assert_eq!(super::mask_niks_in("31710112019000011"), "31710112019000011", "17 digits are no NIK");
    }
}
