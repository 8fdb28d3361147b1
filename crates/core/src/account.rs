//! Verifier accounts as central operators (`admin`) manage them: the rules of the
//! *Administrasi* form, checked the same way by the desktop (early) and the server.

use crate::api::{NewVerifier, VerifierMove};
use crate::contact::Email;
use crate::error::{Coded, FieldError};
use crate::nik::Nik;
use crate::text::{KppnCode, PersonName};

/// A checked [`NewVerifier`]: every field parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierForm {
    pub nik: Nik,
    pub name: PersonName,
    pub email: Email,
    pub kppn_code: KppnCode,
    pub supervisor: bool,
}

impl NewVerifier {
    /// Checks every field; all wrong fields are reported at once, in form order.
    pub fn validate(&self) -> Result<VerifierForm, Vec<FieldError>> {
        let mut errors = Vec::new();
        let nik = Nik::parse(&self.nik).map_err(|e| errors.push(e.for_field("nik"))).ok();
        let name = PersonName::parse(&self.name).map_err(|e| errors.push(e.for_field("name"))).ok();
        let email = Email::parse(&self.email).map_err(|e| errors.push(e.for_field("email"))).ok();
        let kppn_code = KppnCode::parse(&self.kppn_code).map_err(|e| errors.push(e.for_field("kppn_code"))).ok();
        match (nik, name, email, kppn_code) {
            (Some(nik), Some(name), Some(email), Some(kppn_code)) if errors.is_empty() => {
                Ok(VerifierForm { nik, name, email, kppn_code, supervisor: self.supervisor })
            }
            _ => Err(errors),
        }
    }
}

impl VerifierMove {
    /// The KPPN moved to.
    pub fn validate(&self) -> Result<KppnCode, Vec<FieldError>> {
        KppnCode::parse(&self.kppn_code).map_err(|e| vec![e.for_field("kppn_code")])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    fn form() -> NewVerifier {
        NewVerifier {
            nik: "3171014101900004".into(),
            name: "Dewi Lestari".into(),
            email: "dewi.lestari@kemenkeu.go.id".into(),
            kppn_code: "019".into(),
            supervisor: true,
        }
    }

    #[test]
    fn a_complete_form_is_accepted() {
        let checked = form().validate().unwrap();
        assert_eq!(checked.kppn_code.as_str(), "019");
        assert!(checked.supervisor);
    }

    #[test]
    fn every_wrong_field_is_named_in_form_order() {
        let wrong =
            NewVerifier { nik: "123".into(), name: " ".into(), email: "bukan-email".into(), kppn_code: "19".into(), supervisor: false };
        let errors = wrong.validate().unwrap_err();
        let named: Vec<_> = errors.iter().map(|e| (e.field.as_str(), e.code.clone())).collect();
        assert_eq!(
            named,
            [
                ("nik", ErrorCode::NikInvalid),
                ("name", ErrorCode::FieldRequired),
                ("email", ErrorCode::EmailInvalid),
                ("kppn_code", ErrorCode::KppnCodeInvalid)
            ]
        );
    }

    #[test]
    fn a_move_needs_a_kppn_code() {
        assert!(VerifierMove { kppn_code: "020".into(), supervisor: None }.validate().is_ok());
        assert_eq!(VerifierMove::default().validate().unwrap_err()[0].code, ErrorCode::FieldRequired);
    }
}
