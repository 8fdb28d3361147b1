//! The letter check must answer every input with a report or an error, never a panic.
//! Seed corpus: `../tests/pdf/` (see `cargo xtask fuzz`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = myintress_core::pdf::check(data);
});
