use myintress_core::contact::{Email, EmailError, PhoneError, PhoneNumber};
use myintress_core::error::{Coded, ErrorCode};

#[test]
fn phone_indonesian_mobile_in_every_common_form_normalises_to_e164() {
    for typed in ["081234567890", "0812-3456-7890", "+62 812 3456 7890", "6281234567890", "+6281234567890", " 0812 3456 7890 "] {
        let phone = PhoneNumber::parse(typed).unwrap_or_else(|e| panic!("{typed}: {e}"));
        assert_eq!(phone.as_e164(), "+6281234567890", "{typed}");
    }
}

#[test]
fn phone_landline_with_area_code_is_accepted() {
    assert_eq!(PhoneNumber::parse("(021) 555 1234").unwrap().as_e164(), "+62215551234");
    assert_eq!(PhoneNumber::parse("021-5551234").unwrap().as_e164(), "+62215551234");
    assert_eq!(PhoneNumber::parse("0274 512345").unwrap().as_e164(), "+62274512345", "Yogyakarta");
}

#[test]
fn phone_is_required_and_must_be_a_valid_indonesian_number() {
    assert_eq!(PhoneNumber::parse("").unwrap_err().code(), ErrorCode::FieldRequired);
    assert_eq!(PhoneNumber::parse("08123").unwrap_err(), PhoneError::Invalid);
    assert_eq!(PhoneNumber::parse("+1 202 555 0123").unwrap_err(), PhoneError::NotIndonesian);
    assert_eq!(PhoneNumber::parse("nomor saya").unwrap_err().code(), ErrorCode::PhoneInvalid);
}

#[test]
fn phone_national_form_for_display() {
    let phone = PhoneNumber::parse("081234567890").unwrap();
    assert!(phone.national().starts_with("0812"), "{}", phone.national());
}

#[test]
fn email_is_required_and_must_be_deliverable_syntax() {
    assert_eq!(Email::parse("").unwrap_err(), EmailError::Empty);
    assert_eq!(Email::parse("").unwrap_err().code(), ErrorCode::FieldRequired);
    assert_eq!(Email::parse("budi@").unwrap_err(), EmailError::Syntax);
    assert_eq!(Email::parse("budi santoso@kemenkeu.go.id").unwrap_err(), EmailError::Syntax);
    assert_eq!(Email::parse("budi@localhost").unwrap_err(), EmailError::DomainWithoutDot);
    assert_eq!(Email::parse("Budi <budi@kemenkeu.go.id>").unwrap_err(), EmailError::Syntax, "display names are not addresses");
    assert_eq!(Email::parse("budi@localhost").unwrap_err().code(), ErrorCode::EmailInvalid);
}

#[test]
fn email_domain_is_lower_cased_and_trimmed() {
    let email = Email::parse("  Budi.Santoso@KEMENKEU.go.id ").unwrap();
    assert_eq!(email.as_str(), "Budi.Santoso@kemenkeu.go.id");
    assert_eq!(email.masked(), "Bu•••@kemenkeu.go.id");
}
