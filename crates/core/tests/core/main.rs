//! Tests of the domain core, one binary. Each test is named after the rule of SPEC.md
//! (§3 data, §4 statuses, §5 rules) or the guide's passage it checks.

mod contact;
mod name_match;
mod nik;
mod pdf_corpus;
mod pdf_producers;
mod properties;
mod registration;
mod reregistration;
mod status;
