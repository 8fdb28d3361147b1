//! The MyIntress domain: every business rule of the registration and deletion guide for
//! users of type *Satker*, written once and used by both the central server (which
//! enforces them) and the desktop client (which checks them early, offline).
//!
//! This crate does no IO: no files, no network, no clock, no database. Anything that
//! needs the current time takes it as an argument.
//!
//! - [`api`]: the wire types of the central API, shared by server and client.
//! - [`error`]: the stable error codes of the API contract with their Indonesian texts.
//! - [`nik`], [`contact`], [`text`]: value types that can only hold valid data.
//! - [`status`]: the five statuses and the membership state machine.
//! - [`reregistration`]: entering the same NIK again, and which rows *Daftar Pengguna* shows.
//! - [`name_match`]: scoring an entered name against the civil registry's name.
//! - [`scope`]: which satkers an account sees and acts for.
//! - [`registration`]: the whole registration form, validated at once.
//! - [`pdf`]: checks on an uploaded letter (size, type, encryption, pages, active content).
//! - [`signature`], [`qr`]: a letter's electronic signatures and their verdicts, its QR links.
//! - [`scan`]: a scanned letter's first page as the JPEG it is, for a quick preview.
//! - [`vocabulary`]: the labels of statuses, actions and history steps, collected for the UI.
//! - [`workday`]: working days (holidays given) and the Antrean's overdue / escalated flags.

pub mod account;
pub mod api;
pub mod contact;
pub mod error;
pub mod name_match;
pub mod nik;
pub mod pdf;
pub mod qr;
pub mod registration;
pub mod reregistration;
pub mod scan;
pub mod scope;
pub mod signature;
pub mod status;
pub mod text;
pub mod vocabulary;
pub mod workday;

pub use contact::{Email, PhoneNumber};
pub use error::{ErrorCode, FieldError};
pub use name_match::{NameScore, NameThreshold};
pub use nik::{Nik, Sex};
pub use status::{Action, Actor, Event, Status, Transition};
pub use text::{KppnCode, LetterNumber, Nip, Reason, SatkerCode};
