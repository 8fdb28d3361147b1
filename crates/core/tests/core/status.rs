use chrono::{TimeZone, Utc};
use myintress_core::error::ErrorCode;
use myintress_core::status::{
    Action, Actor, DormancyPeriod, Outcome, Route, Status, TransitionError, available_actions, decide, may_self_register, sign_in_allowed,
};

#[test]
fn statuses_have_the_guides_codes_and_labels() {
    let table: Vec<(u8, &str)> = Status::ALL.iter().map(|s| (s.code(), s.label())).collect();
    assert_eq!(
        table,
        vec![(0, "Tidak Aktif"), (1, "Terdaftar, belum disetujui"), (2, "Aktif"), (3, "Dormant"), (5, "Pendaftaran Ditolak"),]
    );
    assert_eq!(Status::Registered.to_string(), "1 Terdaftar, belum disetujui");
    assert_eq!(Status::from_code(4), None, "there is no status 4");
    assert_eq!(serde_json::to_string(&Status::Rejected).unwrap(), "5");
    assert!(serde_json::from_str::<Status>("4").is_err());
}

#[test]
fn registration_through_kppn_is_active_at_once() {
    assert_eq!(Route::for_actor(Actor::KppnVerifier), Some(Route::Kppn));
    assert_eq!(Route::Kppn.initial_status(), Status::Active);
}

#[test]
fn self_registration_by_satker_waits_for_the_kppn() {
    assert_eq!(Route::for_actor(Actor::SatkerOperator), Some(Route::Satker));
    assert_eq!(Route::Satker.initial_status(), Status::Registered);
    assert_eq!(Route::for_actor(Actor::System), None);
}

#[test]
fn self_registration_needs_an_active_user_of_the_satker() {
    assert_eq!(may_self_register(Some(Status::Active)), Ok(()));
    for status in [None, Some(Status::Registered), Some(Status::Dormant), Some(Status::Inactive), Some(Status::Rejected)] {
        assert_eq!(may_self_register(status), Err(ErrorCode::SatkerHasNoActiveUser), "{status:?}");
    }
}

#[test]
fn kppn_approves_pending_to_active() {
    let t = decide(Actor::KppnVerifier, Action::Approve, Status::Registered, false).unwrap();
    assert_eq!(t.to, Outcome::Status(Status::Active));
}

#[test]
fn kppn_rejects_pending_with_a_reason() {
    let t = decide(Actor::KppnVerifier, Action::Reject, Status::Registered, false).unwrap();
    assert_eq!(t.to, Outcome::Status(Status::Rejected));
    assert!(Action::Reject.requires_reason());
    assert!(!Action::Approve.requires_reason());
}

#[test]
fn only_the_kppn_decides_registrations() {
    for action in [Action::Approve, Action::Reject] {
        assert_eq!(decide(Actor::SatkerOperator, action, Status::Registered, false), Err(TransitionError::WrongRole(action)));
    }
}

#[test]
fn rejected_membership_cannot_be_changed() {
    for action in [Action::Approve, Action::Reject, Action::Deactivate, Action::Reactivate, Action::MarkDormant] {
        for actor in [Actor::KppnVerifier, Actor::SatkerOperator, Actor::System] {
            assert!(decide(actor, action, Status::Rejected, false).is_err(), "{actor:?} {action:?} on 5");
        }
    }
    // Deletion is not a change of the rejected row: it removes it (guide Tip 5).
    assert!(decide(Actor::KppnVerifier, Action::Delete, Status::Rejected, false).is_ok());
}

#[test]
fn deletion_only_by_kppn_only_from_inactive_or_rejected() {
    for status in Status::ALL {
        let result = decide(Actor::KppnVerifier, Action::Delete, status, false);
        let allowed = matches!(status, Status::Inactive | Status::Rejected);
        assert_eq!(result.is_ok(), allowed, "delete from {status:?}");
        if allowed {
            assert_eq!(result.unwrap().to, Outcome::Removed);
        } else {
            assert_eq!(result.unwrap_err().code(), ErrorCode::InvalidTransition);
            assert_eq!(result.unwrap_err().http_status(), 409);
        }
    }
    assert_eq!(decide(Actor::SatkerOperator, Action::Delete, Status::Inactive, false), Err(TransitionError::WrongRole(Action::Delete)));
    assert!(Action::Delete.requires_reason() && Action::Delete.requires_decree());
}

#[test]
fn dormancy_job_moves_active_to_dormant_after_six_months() {
    let t = decide(Actor::System, Action::MarkDormant, Status::Active, false).unwrap();
    assert_eq!(t.to, Outcome::Status(Status::Dormant));
    assert!(decide(Actor::KppnVerifier, Action::MarkDormant, Status::Active, false).is_err());

    let period = DormancyPeriod::default();
    assert_eq!(period.months, 6);
    let last = Utc.with_ymd_and_hms(2026, 3, 31, 10, 0, 0).unwrap();
    // 31 March + 6 months is 30 September (month-end clamps).
    assert!(!period.is_due(last, Utc.with_ymd_and_hms(2026, 9, 30, 9, 59, 59).unwrap()));
    assert!(period.is_due(last, Utc.with_ymd_and_hms(2026, 9, 30, 10, 0, 0).unwrap()));
}

#[test]
fn kppn_reactivates_dormant() {
    let t = decide(Actor::KppnVerifier, Action::Reactivate, Status::Dormant, false).unwrap();
    assert_eq!(t.to, Outcome::Status(Status::Active));
    assert!(decide(Actor::KppnVerifier, Action::Reactivate, Status::Inactive, false).is_err(), "0 re-registers instead");
    assert!(decide(Actor::SatkerOperator, Action::Reactivate, Status::Dormant, false).is_err());
}

#[test]
fn kppn_deactivates_active_or_dormant() {
    for from in [Status::Active, Status::Dormant] {
        let t = decide(Actor::KppnVerifier, Action::Deactivate, from, false).unwrap();
        assert_eq!(t.to, Outcome::Status(Status::Inactive));
    }
    assert!(decide(Actor::KppnVerifier, Action::Deactivate, Status::Registered, false).is_err());
    assert!(Action::Deactivate.requires_reason());
}

#[test]
fn satker_operator_deactivates_others_of_its_satker_never_itself() {
    assert!(decide(Actor::SatkerOperator, Action::Deactivate, Status::Active, false).is_ok());
    let own = decide(Actor::SatkerOperator, Action::Deactivate, Status::Active, true).unwrap_err();
    assert_eq!(own, TransitionError::SelfDeactivation);
    assert_eq!(own.code(), ErrorCode::CannotDeactivateSelf);
}

#[test]
fn available_actions_follow_status_and_role() {
    use Action::*;
    assert_eq!(available_actions(Actor::KppnVerifier, Status::Registered, false), vec![Approve, Reject]);
    assert_eq!(available_actions(Actor::KppnVerifier, Status::Active, false), vec![Deactivate]);
    assert_eq!(available_actions(Actor::KppnVerifier, Status::Dormant, false), vec![Deactivate, Reactivate]);
    assert_eq!(available_actions(Actor::KppnVerifier, Status::Inactive, false), vec![Delete]);
    assert_eq!(available_actions(Actor::KppnVerifier, Status::Rejected, false), vec![Delete]);
    assert_eq!(available_actions(Actor::SatkerOperator, Status::Active, false), vec![Deactivate]);
    assert_eq!(available_actions(Actor::SatkerOperator, Status::Active, true), Vec::<Action>::new());
    assert_eq!(available_actions(Actor::SatkerOperator, Status::Registered, false), Vec::<Action>::new());
    assert_eq!(Action::Reactivate.label(), "Aktifkan kembali");
}

#[test]
fn sign_in_needs_an_active_membership() {
    use Status::*;
    assert_eq!(sign_in_allowed(&[Active]), Ok(()));
    assert_eq!(sign_in_allowed(&[Rejected, Active, Inactive]), Ok(()), "one active membership is enough");
    assert_eq!(sign_in_allowed(&[Dormant]), Err(ErrorCode::AccountDormant));
    assert_eq!(sign_in_allowed(&[Registered]), Err(ErrorCode::AccountPending), "activated early, still waiting for the KPPN");
    assert_eq!(sign_in_allowed(&[Rejected]), Err(ErrorCode::AccountRejected));
    assert_eq!(sign_in_allowed(&[Inactive]), Err(ErrorCode::AccountInactive));
    assert_eq!(sign_in_allowed(&[Inactive, Dormant, Registered]), Err(ErrorCode::AccountDormant), "dormant says the most");
}

#[test]
fn deleted_membership_gives_no_access() {
    // Deleted memberships are not passed in: a person with only deleted memberships has
    // none, and reads the same refusal as a wrong password.
    assert_eq!(sign_in_allowed(&[]), Err(ErrorCode::CredentialsInvalid));
}

#[test]
fn dormant_refusal_says_to_contact_the_kppn() {
    assert!(ErrorCode::AccountDormant.detail().contains("KPPN"));
    assert_eq!(ErrorCode::AccountLocked.http_status(), 423);
    assert_eq!(ErrorCode::CredentialsInvalid.http_status(), 401);
}

/// A deletion request (docs/rules.md, "Deleting"): only a satker operator asks, and only for the statuses a
/// KPPN may delete.
#[test]
fn only_a_satker_operator_asks_for_a_deletion_of_0_or_5() {
    use myintress_core::status::may_request_deletion;
    for from in Status::ALL {
        let asked = may_request_deletion(Actor::SatkerOperator, from);
        assert_eq!(asked.is_ok(), matches!(from, Status::Inactive | Status::Rejected), "{from:?}");
        assert!(matches!(may_request_deletion(Actor::KppnVerifier, from), Err(TransitionError::WrongRole(Action::Delete))));
    }
    let refused = may_request_deletion(Actor::SatkerOperator, Status::Active).unwrap_err();
    assert_eq!((refused.code(), refused.http_status()), (ErrorCode::InvalidTransition, 409));
}
