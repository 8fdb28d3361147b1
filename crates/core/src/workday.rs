//! The verifier's deadlines (docs/rules.md, "Deadlines"): how many working days a request has
//! waited, and whether it is overdue (the KPPN's verifiers are reminded) or escalated (its
//! supervisors are told). Working days are Monday to Friday less the public holidays of
//! the reference list (`libur.csv`). Nothing here decides a request.
//!
//! Days are counted on the office calendar of Jakarta (WIB, UTC+7): a request made on a
//! Monday has waited 1 working day on Tuesday and 2 on Wednesday, so with the default of
//! 2 it is overdue from Wednesday.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Utc, Weekday};
use serde::{Deserialize, Serialize};

/// The offset of the office calendar (WIB).
const WIB_SECONDS: i32 = 7 * 3600;

/// The office date of an instant (WIB).
pub fn office_date(at: DateTime<Utc>) -> NaiveDate {
    let wib = FixedOffset::east_opt(WIB_SECONDS).expect("a valid offset");
    at.with_timezone(&wib).date_naive()
}

/// Working days after `since` up to and including `today` (0 on the day itself, and when
/// `today` is earlier).
pub fn working_days_between(since: NaiveDate, today: NaiveDate, holidays: &BTreeSet<NaiveDate>) -> u32 {
    let mut days = 0;
    let mut day = since;
    while day < today {
        day = day.succ_opt().expect("a date before the end of time");
        if is_working_day(day, holidays) {
            days += 1;
        }
    }
    days
}

pub fn is_working_day(day: NaiveDate, holidays: &BTreeSet<NaiveDate>) -> bool {
    !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && !holidays.contains(&day)
}

/// After how many working days a pending request is overdue and escalated (settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    pub reminder_days: u32,
    pub escalation_days: u32,
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines { reminder_days: 2, escalation_days: 5 }
    }
}

/// A pending request's age and flags, as the Antrean shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct QueueFlags {
    pub working_days_pending: u32,
    /// Waited `reminder_days` working days or more: the KPPN's verifiers are reminded.
    pub overdue: bool,
    /// Waited `escalation_days` working days or more: the KPPN's supervisors are told.
    pub escalated: bool,
}

impl Deadlines {
    /// The flags of a request made at `since`, on `now`.
    pub fn flags(self, since: DateTime<Utc>, now: DateTime<Utc>, holidays: &BTreeSet<NaiveDate>) -> QueueFlags {
        let days = working_days_between(office_date(since), office_date(now), holidays);
        QueueFlags { working_days_pending: days, overdue: days >= self.reminder_days, escalated: days >= self.escalation_days }
    }
}
