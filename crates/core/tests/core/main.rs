//! Tests of the domain core, one binary. Each test is named after the business rule
//! (data, statuses, actions) or the guide's passage it checks.

mod contact;
mod name_match;
mod nik;
mod pdf_corpus;
mod pdf_producers;
mod properties;
mod registration;
mod reregistration;
mod signed_letters;
// The test kit's signed-letter corpus (std only, so included by path rather than depended
// on); only some of its helpers are used here, the others serve the server and app tests.
#[path = "../../../testkit/src/producers.rs"]
mod producers;
#[allow(dead_code)]
#[path = "../../../testkit/src/signed.rs"]
mod signed;
mod status;
mod workday;
