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
mod status;
mod workday;
