//! The signature check (signature dictionaries, `/ByteRange`, incremental updates, CMS,
//! certificates, chains) and the QR search must answer every input with findings, never a
//! panic. Seed corpus: the signed letters `cargo xtask test` makes (see `cargo xtask fuzz`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let facts = myintress_core::signature::facts_of(data);
    let _ = myintress_core::signature::evaluate_all(&facts, &myintress_core::signature::TrustList::default());
    let _ = myintress_core::qr::links_of(data);
});
