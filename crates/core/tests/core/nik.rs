use chrono::NaiveDate;
use myintress_core::error::{Coded, ErrorCode};
use myintress_core::nik::{Nik, NikError, Sex};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
}

#[test]
fn nik_is_16_digits() {
    assert!(Nik::parse("3171011201900001").is_ok());
    assert_eq!(Nik::parse("317101120190001"), Err(NikError::WrongLength(15)));
    assert_eq!(Nik::parse("31710112019000011"), Err(NikError::WrongLength(17)));
    assert_eq!(Nik::parse("31710112019000O1"), Err(NikError::NotDigits), "a letter O is not a zero");
    assert_eq!(Nik::parse(""), Err(NikError::Empty));
    assert_eq!(Nik::parse("   "), Err(NikError::Empty));
    // Arabic-Indic or full-width digits are digits to Unicode but not to Dukcapil.
    assert_eq!(Nik::parse("３１７１０１１２０１９００００１"), Err(NikError::NotDigits));
}

#[test]
fn nik_as_typed_with_spaces_between_groups_is_accepted() {
    let nik = Nik::parse(" 3171 0112 0190 0001 ").unwrap();
    assert_eq!(nik.as_str(), "3171011201900001");
}

#[test]
fn nik_region_codes_are_not_zero() {
    assert_eq!(Nik::parse("0071011201900001"), Err(NikError::ZeroRegionCode("provinsi")));
    assert_eq!(Nik::parse("3100011201900001"), Err(NikError::ZeroRegionCode("kabupaten/kota")));
    assert_eq!(Nik::parse("3171001201900001"), Err(NikError::ZeroRegionCode("kecamatan")));
    let nik = Nik::parse("3171011201900001").unwrap();
    assert_eq!((nik.province_code(), nik.regency_code(), nik.district_code()), ("31", "71", "01"));
}

#[test]
fn nik_birth_date_must_exist() {
    assert_eq!(Nik::parse("3171013201900001"), Err(NikError::ImpossibleBirthDate), "day 32");
    assert_eq!(Nik::parse("3171010001900001"), Err(NikError::ImpossibleBirthDate), "day 00");
    assert_eq!(Nik::parse("3171011213900001"), Err(NikError::ImpossibleBirthDate), "month 13");
    assert_eq!(Nik::parse("3171013002900001"), Err(NikError::ImpossibleBirthDate), "30 February");
    assert_eq!(Nik::parse("3171012902010001"), Err(NikError::ImpossibleBirthDate), "29 Feb 1901 nor 2001");
    assert!(Nik::parse("3171012902960001").is_ok(), "29 Feb 1996 exists");
    assert!(Nik::parse("3171012902000001").is_ok(), "29 Feb 2000 exists");
}

#[test]
fn nik_day_plus_40_means_woman() {
    let man = Nik::parse("3171011201900001").unwrap();
    assert_eq!(man.sex(), Sex::Male);
    assert_eq!(man.birth_date(today()), NaiveDate::from_ymd_opt(1990, 1, 12).unwrap());

    let woman = Nik::parse("3171015201900002").unwrap();
    assert_eq!(woman.sex(), Sex::Female);
    assert_eq!(woman.birth_date(today()), NaiveDate::from_ymd_opt(1990, 1, 12).unwrap());
    assert_eq!(Sex::Female.label(), "Perempuan");

    // Day 41–71 are women born on the 1st–31st; 72 is nobody.
    assert!(Nik::parse("3171017101900001").is_ok(), "31 January, woman");
    assert_eq!(Nik::parse("3171017201900001"), Err(NikError::ImpossibleBirthDate));
    // 33–40 is neither a man's day nor a woman's.
    assert_eq!(Nik::parse("3171014001900001"), Err(NikError::ImpossibleBirthDate));
}

#[test]
fn nik_century_is_the_latest_not_in_the_future() {
    let young = Nik::parse("3171011201050001").unwrap();
    assert_eq!(young.birth_date(today()).to_string(), "2005-01-12");
    let old = Nik::parse("3171011201650001").unwrap();
    assert_eq!(old.birth_date(today()).to_string(), "1965-01-12");
    assert_eq!(old.age_on(today()), 61);
}

#[test]
fn nik_serial_is_not_zero() {
    assert_eq!(Nik::parse("3171011201900000"), Err(NikError::ZeroSerial));
}

#[test]
fn nik_errors_carry_the_contract_code_and_text() {
    let err = Nik::parse("123").unwrap_err();
    assert_eq!(err.code(), ErrorCode::NikInvalid);
    assert_eq!(err.code().as_str(), "nik_invalid");
    assert_eq!(err.code().http_status(), 422);
    assert_eq!(err.detail(), "NIK harus 16 digit angka dengan tanggal lahir yang valid");
}

#[test]
fn nik_is_masked_in_debug_output() {
    let nik = Nik::parse("3171011201900001").unwrap();
    assert_eq!(nik.masked(), "••••••••••••0001");
    let debug = format!("{nik:?}");
    assert!(!debug.contains("317101120190"), "the NIK must not reach logs whole: {debug}");
}

#[test]
fn nik_round_trips_through_json_and_refuses_invalid_json() {
    let nik = Nik::parse("3171011201900001").unwrap();
    let json = serde_json::to_string(&nik).unwrap();
    assert_eq!(json, "\"3171011201900001\"");
    assert_eq!(serde_json::from_str::<Nik>(&json).unwrap(), nik);
    assert!(serde_json::from_str::<Nik>("\"3171011201900000\"").is_err());
}
