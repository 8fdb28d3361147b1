use std::collections::BTreeSet;

use chrono::{NaiveDate, TimeZone, Utc};
use myintress_core::workday::{Deadlines, QueueFlags, office_date, working_days_between};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn working_days_leave_out_weekends_and_the_holidays_of_libur_csv() {
    let none = BTreeSet::new();
    // Monday 7 December 2026.
    assert_eq!(working_days_between(day(2026, 12, 7), day(2026, 12, 7), &none), 0);
    assert_eq!(working_days_between(day(2026, 12, 7), day(2026, 12, 9), &none), 2);
    // Friday to Monday is one working day.
    assert_eq!(working_days_between(day(2026, 12, 11), day(2026, 12, 14), &none), 1);
    // Christmas (Friday 25th) and the joint leave day (Thursday 24th) are not counted.
    let holidays: BTreeSet<NaiveDate> = [day(2026, 12, 24), day(2026, 12, 25)].into();
    assert_eq!(working_days_between(day(2026, 12, 23), day(2026, 12, 28), &holidays), 1);
    assert_eq!(working_days_between(day(2026, 12, 28), day(2026, 12, 23), &holidays), 0, "never negative");
}

#[test]
fn a_request_is_overdue_after_two_working_days_and_escalated_after_five() {
    let none = BTreeSet::new();
    let deadlines = Deadlines::default();
    // Made on Monday at 16:00 WIB (09:00 UTC).
    let made = Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap();
    let on = |d: u32| Utc.with_ymd_and_hms(2026, 12, d, 3, 0, 0).unwrap();
    assert_eq!(deadlines.flags(made, on(8), &none), QueueFlags { working_days_pending: 1, overdue: false, escalated: false });
    assert_eq!(deadlines.flags(made, on(9), &none), QueueFlags { working_days_pending: 2, overdue: true, escalated: false });
    assert_eq!(deadlines.flags(made, on(14), &none), QueueFlags { working_days_pending: 5, overdue: true, escalated: true });
    let strict = Deadlines { reminder_days: 3, escalation_days: 8 };
    assert!(!strict.flags(made, on(9), &none).overdue, "the days are settings");
}

#[test]
fn days_turn_on_the_office_calendar_of_jakarta() {
    // 18:00 UTC on Monday is already Tuesday 01:00 in WIB.
    assert_eq!(office_date(Utc.with_ymd_and_hms(2026, 12, 7, 18, 0, 0).unwrap()), day(2026, 12, 8));
    assert_eq!(office_date(Utc.with_ymd_and_hms(2026, 12, 7, 16, 59, 0).unwrap()), day(2026, 12, 7));
}
