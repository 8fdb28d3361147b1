use myintress_core::error::ErrorCode;
use myintress_core::registration::{DeletionInput, RegistrationInput, USER_TYPE_LABEL};
use myintress_core::scope::Scope;
use myintress_core::status::Route;
use myintress_core::text::{KppnCode, LetterNumber, Nip, SatkerCode, TextError};

fn valid() -> RegistrationInput {
    RegistrationInput {
        nik: "3171011201900001".into(),
        name: "Budi Santoso".into(),
        nip: "198001012005011001".into(),
        phone: "081234567890".into(),
        email: "budi@kemenkeu.go.id".into(),
        satker_code: "019002".into(),
        letter_number: "ST-12/KPPN.0301/2026".into(),
        ticket_number: "HAI-2026-000123".into(),
    }
}

#[test]
fn registration_with_every_field_valid_is_accepted() {
    let form = valid().validate(Route::Kppn).unwrap();
    assert_eq!(form.nik.as_str(), "3171011201900001");
    assert_eq!(form.phone.as_e164(), "+6281234567890");
    assert_eq!(form.ticket_number.unwrap().as_str(), "HAI-2026-000123");
}

#[test]
fn registration_required_fields_are_all_reported_at_once() {
    let errors = RegistrationInput::default().validate(Route::Satker).unwrap_err();
    let fields: Vec<(&str, ErrorCode)> = errors.iter().map(|e| (e.field.as_str(), e.code.clone())).collect();
    assert_eq!(
        fields,
        vec![
            ("nik", ErrorCode::NikInvalid),
            ("name", ErrorCode::FieldRequired),
            ("phone", ErrorCode::FieldRequired),
            ("email", ErrorCode::FieldRequired),
            ("satker_code", ErrorCode::FieldRequired),
            ("letter_number", ErrorCode::FieldRequired),
        ],
        "NIP and ticket number are optional"
    );
    assert!(errors.iter().filter(|e| e.code == ErrorCode::FieldRequired).all(|e| e.detail == "Wajib diisi"));
}

#[test]
fn nip_is_optional_any_characters_at_most_fifty() {
    let mut input = valid();
    input.nip = "   ".into();
    assert_eq!(input.validate(Route::Satker).unwrap().nip, None);
    let nrp = "NRP/ABC-123 Kapten (Inf)";
    assert_eq!(Nip::parse(nrp).unwrap().as_str(), nrp);
    assert_eq!(Nip::MAX_CHARS, Some(50));
    // A too-long one is refused on its field, never silently dropped.
    input.nip = "NRP/ABC-123 ".repeat(100);
    let errors = input.validate(Route::Satker).unwrap_err();
    assert_eq!((errors[0].field.as_str(), errors[0].code.clone()), ("nip", ErrorCode::FieldTooLong));
}

#[test]
fn letter_number_is_required_and_bounded() {
    assert_eq!(LetterNumber::parse("  "), Err(TextError::Empty));
    assert_eq!(LetterNumber::parse(&"9".repeat(101)), Err(TextError::TooLong { max: 100 }));
    assert_eq!(LetterNumber::parse("ND-5/\tWPB.12/2026\n").unwrap().as_str(), "ND-5/ WPB.12/2026", "pasted tabs become spaces");
}

#[test]
fn ticket_number_is_recorded_only_on_the_kppn_route() {
    let form = valid().validate(Route::Satker).unwrap();
    assert_eq!(form.ticket_number, None);
}

#[test]
fn user_type_is_always_satker() {
    assert_eq!(USER_TYPE_LABEL, "Satker");
}

#[test]
fn unit_kerja_satker_operator_only_its_own_satker() {
    let kppn = KppnCode::parse("019").unwrap();
    let own = SatkerCode::parse("019002").unwrap();
    let other = SatkerCode::parse("019003").unwrap();
    let operator = Scope::Satker { active_satkers: vec![own.clone()] };
    assert_eq!(operator.may_register_for(&own, &kppn), Ok(()));
    assert_eq!(operator.may_register_for(&other, &kppn), Err(ErrorCode::SatkerOutOfScope));
    let nobody = Scope::Satker { active_satkers: vec![] };
    assert_eq!(nobody.may_register_for(&own, &kppn), Err(ErrorCode::SatkerHasNoActiveUser));
}

#[test]
fn unit_kerja_kppn_verifier_only_its_mitra_satkers() {
    let verifier = Scope::Kppn { kppn_code: KppnCode::parse("019").unwrap() };
    let mitra = SatkerCode::parse("019002").unwrap();
    assert_eq!(verifier.may_register_for(&mitra, &KppnCode::parse("019").unwrap()), Ok(()));
    assert_eq!(
        verifier.may_register_for(&mitra, &KppnCode::parse("020").unwrap()),
        Err(ErrorCode::SatkerOutOfScope),
        "a satker served by another KPPN"
    );
}

#[test]
fn satker_and_kppn_codes_have_their_digit_counts() {
    assert!(SatkerCode::parse("019002").is_ok());
    assert!(SatkerCode::parse("19002").is_err());
    assert!(SatkerCode::parse("01900A").is_err());
    assert!(KppnCode::parse("019").is_ok());
    assert!(KppnCode::parse("0190").is_err());
}

#[test]
fn deletion_needs_reason_and_decree_number() {
    let errors = DeletionInput::default().validate().unwrap_err();
    let codes: Vec<(&str, ErrorCode)> = errors.iter().map(|e| (e.field.as_str(), e.code.clone())).collect();
    assert_eq!(codes, vec![("reason", ErrorCode::ReasonRequired), ("decree_number", ErrorCode::FieldRequired)]);
    let ok = DeletionInput { reason: "Pegawai pindah tugas\nke satker lain".into(), decree_number: "SK-7/2026".into() }.validate().unwrap();
    assert_eq!(ok.reason.as_str(), "Pegawai pindah tugas\nke satker lain", "reasons keep their lines");
}

#[test]
fn every_error_code_has_a_stable_name_status_and_indonesian_text() {
    // A code a newer server invented survives the round trip as itself.
    let newer: ErrorCode = serde_json::from_str("\"letter_signature_invalid\"").unwrap();
    assert_eq!(newer, ErrorCode::Unknown("letter_signature_invalid".into()));
    assert_eq!(serde_json::to_string(&newer).unwrap(), "\"letter_signature_invalid\"");

    let mut names = std::collections::HashSet::new();
    for code in &ErrorCode::ALL {
        assert!(names.insert(code.as_str()), "duplicate {}", code.as_str());
        assert_eq!(serde_json::to_string(code).unwrap(), format!("\"{}\"", code.as_str()));
        assert_eq!(&serde_json::from_str::<ErrorCode>(&format!("\"{}\"", code.as_str())).unwrap(), code);
        assert_eq!(&ErrorCode::parse(code.as_str()), code);
        assert!(matches!(code.http_status(), 400 | 401 | 403 | 404 | 409 | 410 | 413 | 415 | 428 | 422 | 423 | 429 | 500 | 503 | 507));
        assert!(!code.detail().is_empty());
    }
}

#[test]
fn a_change_of_a_kind_this_build_does_not_know_is_read_as_unknown() {
    use myintress_core::api::{ChangeKind, RawChangesPage};
    let page: RawChangesPage =
        serde_json::from_str(r#"{"changes":[{"seq":7,"kind":"letter_verdict","entity":{"id":"x"}}],"last_seq":7,"has_more":false}"#)
            .expect("a newer server's page still reads");
    assert_eq!(page.changes[0].kind, ChangeKind::Unknown);
    assert_eq!(serde_json::from_str::<ChangeKind>(r#""queue_flags""#).unwrap(), ChangeKind::QueueFlags);
    assert_eq!(serde_json::from_str::<ChangeKind>(r#""deletion_request""#).unwrap(), ChangeKind::DeletionRequest);
    assert_eq!(ChangeKind::parse("unknown"), None, "never stored or sent");
}
