//! The form parsers must answer every text with a value or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use myintress_core::{Email, Nik, PhoneNumber, name_match};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Nik::parse(text);
        let _ = Email::parse(text);
        let _ = PhoneNumber::parse(text);
        let mut mid = text.len() / 2;
        while !text.is_char_boundary(mid) {
            mid -= 1;
        }
        let (a, b) = text.split_at(mid);
        let _ = name_match::score(a, b);
    }
});
