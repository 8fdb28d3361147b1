//! Property tests: parsers never panic and accept exactly the valid shapes; the state
//! machine never leaves the five statuses and never revives what was removed.

use chrono::NaiveDate;
use myintress_core::contact::{Email, PhoneNumber};
use myintress_core::name_match::score;
use myintress_core::nik::{Nik, Sex, encode_birth_date};
use myintress_core::pdf;
use myintress_core::status::{Action, Actor, Outcome, Status, decide};
use proptest::prelude::*;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
}

prop_compose! {
    fn valid_nik_parts()(
        province in 11u32..=99, regency in 1u32..=99, district in 1u32..=99,
        days in 0i64..(365 * 90), female in any::<bool>(), serial in 1u32..=9999,
    ) -> (String, NaiveDate, Sex) {
        let born = NaiveDate::from_ymd_opt(1937, 1, 1).unwrap() + chrono::Duration::days(days);
        let sex = if female { Sex::Female } else { Sex::Male };
        let nik = format!("{province:02}{regency:02}{district:02}{}{serial:04}", encode_birth_date(born, sex));
        (nik, born, sex)
    }
}

proptest! {
    #[test]
    fn nik_parse_never_panics(s in ".{0,40}") {
        let _ = Nik::parse(&s);
    }

    #[test]
    fn nik_valid_structure_parses_and_exposes_birth_date_and_sex((text, born, sex) in valid_nik_parts()) {
        let nik = Nik::parse(&text).unwrap();
        prop_assert_eq!(nik.sex(), sex);
        // Two-digit years: a birth 100 years ago reads as this century only if that is
        // not in the future, so compare within the century window the NIK can express.
        prop_assume!(born > NaiveDate::from_ymd_opt(1926, 11, 25).unwrap() && born <= today());
        prop_assert_eq!(nik.birth_date(today()), born);
    }

    #[test]
    fn nik_wrong_length_is_refused(digits in "[0-9]{0,15}|[0-9]{17,24}") {
        prop_assert!(Nik::parse(&digits).is_err());
    }

    #[test]
    fn nik_with_a_non_digit_is_refused(prefix in "[0-9]{0,15}", bad in "[a-zA-Z\\-_/.]", suffix in "[0-9]{0,15}") {
        let text = format!("{prefix}{bad}{suffix}");
        prop_assert!(Nik::parse(&text).is_err());
    }

    #[test]
    fn phone_parse_never_panics_and_output_is_e164(s in "[+0-9 ()\\-]{0,24}") {
        if let Ok(p) = PhoneNumber::parse(&s) {
            prop_assert!(p.as_e164().starts_with("+62"));
            prop_assert!(p.as_e164()[1..].bytes().all(|b| b.is_ascii_digit()));
            // Normalising twice changes nothing.
            prop_assert_eq!(PhoneNumber::parse(p.as_e164()).unwrap(), p);
        }
    }

    #[test]
    fn phone_indonesian_mobiles_are_accepted(operator in "81[1-3]|812|813|821|822|852|853|811|851|855|856|857|858|814|815|816|817|818|819|859|877|878|895|896|897|898|899|881|882|883|884|885|886|887|888|889", rest in "[0-9]{7,8}") {
        let national = format!("0{operator}{rest}");
        let p = PhoneNumber::parse(&national).unwrap();
        prop_assert_eq!(p.as_e164(), format!("+62{operator}{rest}"));
    }

    #[test]
    fn email_parse_never_panics_and_is_idempotent(s in ".{0,60}") {
        if let Ok(e) = Email::parse(&s) {
            prop_assert_eq!(Email::parse(e.as_str()).unwrap(), e);
        }
    }

    #[test]
    fn name_score_is_bounded_symmetric_and_100_on_itself(a in "[A-Za-z .,']{0,40}", b in "[A-Za-z .,']{0,40}") {
        let s = score(&a, &b);
        prop_assert!(s <= 100);
        prop_assert_eq!(s, score(&b, &a));
        if !myintress_core::name_match::normalize(&a).is_empty() {
            prop_assert_eq!(score(&a, &a), 100);
        }
    }

    #[test]
    fn pdf_check_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let mut with_header = b"%PDF-1.7\n".to_vec();
        with_header.extend(&bytes);
        let _ = pdf::check(&bytes);
        let _ = pdf::check(&with_header);
    }

    #[test]
    fn state_machine_stays_within_the_statuses_and_removal_is_final(
        steps in proptest::collection::vec((0usize..3, 0usize..6, any::<bool>()), 0..40),
        start in 0usize..2,
    ) {
        let actors = [Actor::KppnVerifier, Actor::SatkerOperator, Actor::System];
        // Every membership starts as 1 (satker route) or 2 (KPPN route).
        let mut state = Outcome::Status([Status::Registered, Status::Active][start]);
        let mut was_rejected = false;
        for (a, act, own) in steps {
            let (actor, action) = (actors[a], Action::ALL[act]);
            match state {
                Outcome::Removed => {
                    // Nothing acts on a removed membership: there is no status to start from.
                    continue;
                }
                Outcome::Status(from) => {
                    if let Ok(t) = decide(actor, action, from, own) {
                        prop_assert_eq!(t.from, from);
                        prop_assert!(action.allowed_for(actor));
                        if from == Status::Rejected {
                            prop_assert_eq!(t.to, Outcome::Removed, "a rejection is final except deletion");
                        }
                        if t.to == Outcome::Removed {
                            prop_assert!(matches!(from, Status::Inactive | Status::Rejected));
                            prop_assert_eq!(actor, Actor::KppnVerifier);
                        }
                        if let Outcome::Status(Status::Registered) = t.to {
                            prop_assert!(false, "nothing moves back to 1; only a new registration is 1");
                        }
                        state = t.to;
                        was_rejected |= t.to == Outcome::Status(Status::Rejected);
                    }
                }
            }
        }
        if was_rejected {
            prop_assert!(matches!(state, Outcome::Status(Status::Rejected) | Outcome::Removed));
        }
    }
}
