//! The words a person reads for the domain's values, gathered for the desktop's screens.
//!
//! Each label is defined once, beside its value ([`Status::label`], [`Action::label`],
//! [`Event::label`]); [`vocabulary`] only collects them. The desktop shell exports the
//! result as the `VOCABULARY` constant of the generated TypeScript bindings, so no screen
//! keeps a table of its own.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::status::{Action, Event, Status};

/// The name of adding a user (guide A and B), on its screen and in the outbox.
pub const REGISTER_LABEL: &str = "Tambah Pengguna";
/// A satker operator's deletion request (outbox kind `request_deletion`).
pub const REQUEST_DELETION_LABEL: &str = "Minta penghapusan";
/// A KPPN verifier declining it (outbox kind `decline_deletion`).
pub const DECLINE_DELETION_LABEL: &str = "Tolak permintaan penghapusan";

/// One status as the screens show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusWords {
    pub code: u8,
    /// `Terdaftar, belum disetujui`.
    pub label: &'static str,
    /// `1 Terdaftar, belum disetujui`, as the guide writes statuses.
    pub display: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Vocabulary {
    /// Every status, in the order the guide lists them.
    pub statuses: Vec<StatusWords>,
    /// What each action a person takes is called, keyed by its wire name (`register`
    /// included): button texts and the outbox's list.
    pub actions: BTreeMap<String, &'static str>,
    /// How the history names each step, keyed by its wire name.
    pub events: BTreeMap<String, String>,
    /// The name check's explanation (beside the Nama field and in Sinkronisasi).
    pub name_check: crate::name_match::NameCheckWords,
    /// Before a rejection's reason in Daftar Pengguna's row, as the guide's table writes
    /// it ("5 – ditolak dengan alasan: kurang lengkap").
    pub rejected_with_reason: &'static str,
    /// The Antrean's age and flags.
    pub queue: QueueWords,
    /// Around a letter's signatures and QR links.
    pub letter_check: crate::signature::LetterCheckWords,
}

/// The words of the Antrean's deadlines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueWords {
    /// After the number: "3 hari kerja".
    pub working_days: &'static str,
    /// A request past the reminder deadline.
    pub overdue: &'static str,
    /// A request past the escalation deadline (its KPPN's supervisors are told).
    pub escalated: &'static str,
}

pub fn vocabulary() -> Vocabulary {
    let statuses =
        Status::GUIDE_ORDER.into_iter().map(|s| StatusWords { code: s.code(), label: s.label(), display: s.display_label() }).collect();
    let mut actions: BTreeMap<String, &'static str> =
        Action::ALL.into_iter().filter(|a| *a != Action::MarkDormant).map(|a| (a.as_str().to_owned(), a.label())).collect();
    actions.insert(Event::Register.as_str().to_owned(), REGISTER_LABEL);
    actions.insert("request_deletion".to_owned(), REQUEST_DELETION_LABEL);
    actions.insert("decline_deletion".to_owned(), DECLINE_DELETION_LABEL);
    let events = Event::ALL.iter().map(|e| (e.as_str().to_owned(), e.label().to_owned())).collect();
    Vocabulary {
        statuses,
        actions,
        events,
        name_check: crate::name_match::NAME_CHECK_WORDS,
        rejected_with_reason: "ditolak dengan alasan",
        queue: QueueWords { working_days: "hari kerja", overdue: "Terlambat", escalated: "Eskalasi" },
        letter_check: crate::signature::LETTER_CHECK_WORDS,
    }
}
