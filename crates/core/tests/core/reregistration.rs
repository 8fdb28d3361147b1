use myintress_core::error::ErrorCode;
use myintress_core::reregistration::{Registration, RowFacts, decide_registration, visible_rows};
use myintress_core::status::Status::{self, *};

#[test]
fn reentering_pending_replaces_the_request() {
    assert_eq!(decide_registration(&[(7, Registered)]), Ok(Registration::ReplacePending(7)));
    assert_eq!(
        decide_registration(&[(1, Rejected), (2, Registered)]),
        Ok(Registration::ReplacePending(2)),
        "old rejected rows do not matter, the pending one is replaced"
    );
}

#[test]
fn reentering_active_is_refused() {
    assert_eq!(decide_registration(&[(1, Active)]), Err::<Registration<i32>, _>(ErrorCode::AlreadyActive));
    assert_eq!(decide_registration(&[(1, Inactive), (2, Active)]), Err::<Registration<i32>, _>(ErrorCode::AlreadyActive));
    assert_eq!(ErrorCode::AlreadyActive.http_status(), 409);
}

#[test]
fn reentering_dormant_is_refused_and_says_kppn_can_reactivate() {
    assert_eq!(decide_registration(&[(1, Dormant)]), Err::<Registration<i32>, _>(ErrorCode::DormantExists));
    assert!(ErrorCode::DormantExists.detail().contains("mengaktifkan kembali"));
}

#[test]
fn reentering_after_inactive_or_rejected_adds_a_new_row() {
    assert_eq!(decide_registration(&[(1, Inactive)]), Ok(Registration::New));
    assert_eq!(decide_registration(&[(1, Rejected)]), Ok(Registration::New));
    assert_eq!(decide_registration(&[(1, Inactive), (2, Rejected)]), Ok(Registration::New));
    assert_eq!(decide_registration::<i32>(&[]), Ok(Registration::New), "first registration");
}

struct Row {
    name: &'static str,
    status: Status,
    registered: u32,
    ever_active: bool,
}

fn shown(rows: &[Row]) -> Vec<String> {
    visible_rows(rows, |r| RowFacts { status: r.status, registered: r.registered, ever_active: r.ever_active })
        .into_iter()
        .map(|r| format!("{} {}", r.name, r.status.code()))
        .collect()
}

#[test]
fn ali_0_5_1_becomes_ali_0_2_after_approval() {
    // Guide Tip 4: Ali was deactivated (0), then rejected (5), then registered again (1).
    let mut rows = vec![
        Row { name: "Ali", status: Inactive, registered: 1, ever_active: true },
        Row { name: "Ali", status: Rejected, registered: 2, ever_active: false },
        Row { name: "Ali", status: Registered, registered: 3, ever_active: false },
    ];
    assert_eq!(shown(&rows), vec!["Ali 0", "Ali 5", "Ali 1"], "before approval all three show");

    rows[2].status = Active;
    rows[2].ever_active = true;
    assert_eq!(shown(&rows), vec!["Ali 0", "Ali 2"], "after approval the rejection no longer shows");
}

#[test]
fn rejected_row_stays_hidden_after_the_new_membership_is_deactivated() {
    let rows = vec![
        Row { name: "Ali", status: Rejected, registered: 1, ever_active: false },
        Row { name: "Ali", status: Inactive, registered: 2, ever_active: true },
    ];
    assert_eq!(shown(&rows), vec!["Ali 0"]);
}

#[test]
fn rejected_rows_show_while_nothing_later_was_approved() {
    let rows = vec![
        Row { name: "Ali", status: Rejected, registered: 1, ever_active: false },
        Row { name: "Ali", status: Rejected, registered: 2, ever_active: false },
    ];
    assert_eq!(shown(&rows), vec!["Ali 5", "Ali 5"]);
}

#[test]
fn a_rejection_after_the_active_row_still_shows() {
    // Approved first, deactivated, then a later request rejected: that rejection is news.
    let rows = vec![
        Row { name: "Ali", status: Inactive, registered: 1, ever_active: true },
        Row { name: "Ali", status: Rejected, registered: 2, ever_active: false },
    ];
    assert_eq!(shown(&rows), vec!["Ali 0", "Ali 5"]);
}
