//! Electronic signatures on a letter (docs/rules.md, "Signed letters"): PAdES / `adbe.pkcs7.detached`
//! signatures as Indonesian TTE letters carry them (BSrE certificates).
//!
//! Two steps, so the part that parses hostile bytes runs inside the bounded letter check:
//! - [`facts`] (inside [`crate::pdf::check`], in the checker's child process): every signature
//!   dictionary; whether its `/ByteRange` covers the whole revision but its own `/Contents`;
//!   whether a later incremental update changed more than signatures and their validation
//!   data (DSS, document timestamps); the CMS SignedData verified (the message digest of the
//!   signed bytes, the signature over the signed attributes, RSA PKCS#1 v1.5 or ECDSA P-256 /
//!   P-384); the signer's name and organisation, the issuer, the signing time, and the
//!   certificates the signature carries.
//! - [`evaluate`] (wherever a verdict is shown, server or desktop, offline): the chain from
//!   the signer's certificate to a certificate of the trust list (`--trust-dir`, the same
//!   PEM files on every desk), and the verdict — `valid`, `indeterminate` (intact, signer
//!   unknown) or `invalid` — with the sentence a person reads.
//!
//! Nothing here refuses a letter: an unsigned letter, or one whose signature is invalid, is
//! stored; the verifier reads the verdict beside it and decides.

use chrono::{DateTime, Utc};
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use x509_cert::Certificate;

/// Signatures looked at in one file; a letter carries one or two.
pub const MAX_SIGNATURES: usize = 10;
/// Certificates kept per signature (signer, intermediates, root).
pub const MAX_CERTIFICATES: usize = 10;
/// A chain longer than this is not built.
const MAX_CHAIN: usize = 8;

const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const ID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
const ID_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const ID_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const ID_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
const ID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const ID_SHA1_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.5");
const ID_SHA256_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const ID_SHA384_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const ID_SHA512_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const ID_EC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const ID_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ID_ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ID_ECDSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
const ID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const ID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const ID_COMMON_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
const ID_ORGANIZATION: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");

/// What the letter check found about one signature, before any trust list is applied.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SignatureFacts {
    /// The signed bytes are the whole revision except this signature's `/Contents`.
    pub covers_whole_file: bool,
    /// A later revision changed the document beyond signatures and validation data.
    pub modified_after_signing: bool,
    /// The message digest matches the signed bytes and the CMS signature verifies with the
    /// signer's certificate.
    pub intact: bool,
    /// Why it is not intact (for the support log; the person reads the verdict).
    pub problem: Option<String>,
    pub signer_name: Option<String>,
    pub signer_organization: Option<String>,
    pub issuer: Option<String>,
    pub signed_at: Option<DateTime<Utc>>,
    /// The certificates the signature carries, DER in base64, the signer's first.
    pub certificates: Vec<String>,
}

/// A signature's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Intact, whole, unchanged, and the signer's chain ends at a trusted certificate.
    Valid,
    /// Intact, but the signer's certificate does not lead to a trusted one.
    Indeterminate,
    /// The signed bytes, the signature or the coverage do not hold.
    Invalid,
}

/// One signature as a person reads it (`letter_check.signatures[]` of the API).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SignatureCheck {
    pub verdict: Verdict,
    pub signer_name: Option<String>,
    pub signer_organization: Option<String>,
    pub signed_at: Option<DateTime<Utc>>,
    pub issuer: Option<String>,
    pub covers_whole_file: bool,
    pub modified_after_signing: bool,
    /// The sentence shown beside the letter.
    pub reason: String,
}

/// The words around a letter's check beside it (Verifikasi, Tambah Pengguna); each
/// signature's own sentence is [`SignatureCheck::reason`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LetterCheckWords {
    /// The heading over the signatures.
    pub signatures: &'static str,
    /// A letter with no electronic signature (most are signed in ink and scanned).
    pub unsigned: &'static str,
    /// Before the signing time.
    pub signed_at: &'static str,
    /// The heading over the QR codes' links.
    pub qr_links: &'static str,
    /// A link to a government host (`go.id`).
    pub official: &'static str,
    /// A link elsewhere: the verifier should not trust what it shows.
    pub not_official: &'static str,
    /// A QR code that holds no web address.
    pub not_a_link: &'static str,
}

pub const LETTER_CHECK_WORDS: LetterCheckWords = LetterCheckWords {
    signatures: "Tanda tangan elektronik",
    unsigned: "Surat ini tidak memuat tanda tangan elektronik.",
    signed_at: "ditandatangani pada",
    qr_links: "Tautan kode QR",
    official: "situs pemerintah (go.id)",
    not_official: "bukan situs pemerintah (di luar go.id) — jangan percayai isinya",
    not_a_link: "bukan alamat situs",
};

/// The certificates signatures are checked against: roots and intermediates, from PEM.
#[derive(Debug, Clone, Default)]
pub struct TrustList {
    certificates: Vec<Certificate>,
}

impl TrustList {
    /// Every certificate in PEM text (one file may hold several); anything else is skipped.
    pub fn from_pem(texts: &[String]) -> TrustList {
        let mut certificates = Vec::new();
        for text in texts {
            for block in pem_blocks(text) {
                if let Ok(cert) = Certificate::from_der(&block) {
                    certificates.push(cert);
                }
            }
        }
        TrustList { certificates }
    }

    pub fn len(&self) -> usize {
        self.certificates.len()
    }

    pub fn is_empty(&self) -> bool {
        self.certificates.is_empty()
    }
}

/// The DER of each `-----BEGIN CERTIFICATE-----` block.
fn pem_blocks(text: &str) -> Vec<Vec<u8>> {
    use base64::Engine;
    let mut out = Vec::new();
    let mut inside: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if line == "-----BEGIN CERTIFICATE-----" {
            inside = Some(String::new());
        } else if line == "-----END CERTIFICATE-----" {
            if let Some(body) = inside.take()
                && let Ok(der) = base64::engine::general_purpose::STANDARD.decode(body)
            {
                out.push(der);
            }
        } else if let Some(body) = inside.as_mut() {
            body.push_str(line);
        }
    }
    out
}

/// [`facts`] of a file not parsed yet (the fuzz target, tools): nothing for a file lopdf
/// cannot read.
pub fn facts_of(bytes: &[u8]) -> Vec<SignatureFacts> {
    match lopdf::Document::load_mem(bytes) {
        Ok(doc) => facts(bytes, &doc),
        Err(_) => Vec::new(),
    }
}

/// Every signature of the document, in file order (at most [`MAX_SIGNATURES`]).
pub fn facts(bytes: &[u8], doc: &lopdf::Document) -> Vec<SignatureFacts> {
    let mut found: Vec<(usize, SignatureFacts)> = Vec::new();
    for object in doc.objects.values() {
        let Some(dict) = signature_dictionary(object) else { continue };
        if found.len() >= MAX_SIGNATURES {
            break;
        }
        let range = byte_range(dict);
        let contents = match dict.get(b"Contents") {
            Ok(lopdf::Object::String(bytes, _)) => bytes.clone(),
            _ => Vec::new(),
        };
        let mut f = SignatureFacts::default();
        let Some(range) = range.filter(|r| r.valid_in(bytes.len())) else {
            f.problem = Some("ByteRange tidak ada atau di luar dokumen".into());
            found.push((0, f));
            continue;
        };
        f.covers_whole_file = range.covers(bytes);
        let end = range.end();
        f.modified_after_signing = end < bytes.len() && modified_after(bytes, end, doc);
        f.signed_at = signing_time_of_dict(dict);
        let signed = range.signed_bytes(bytes);
        match verify_cms(&contents, &signed) {
            Ok(cms) => {
                f.intact = cms.intact;
                f.problem = cms.problem;
                f.signer_name = cms.signer_name;
                f.signer_organization = cms.signer_organization;
                f.issuer = cms.issuer;
                f.signed_at = cms.signed_at.or(f.signed_at);
                f.certificates = cms.certificates;
            }
            Err(problem) => f.problem = Some(problem),
        }
        found.push((range.start_of_gap, f));
    }
    found.sort_by_key(|(at, _)| *at);
    found.into_iter().map(|(_, f)| f).collect()
}

/// A signature value dictionary: `/Type /Sig` or `/DocTimeStamp`, or anything with both a
/// `/ByteRange` and `/Contents` (some producers leave the type out).
fn signature_dictionary(object: &lopdf::Object) -> Option<&lopdf::Dictionary> {
    let lopdf::Object::Dictionary(dict) = object else { return None };
    let typed = matches!(dict.get(b"Type"), Ok(lopdf::Object::Name(n)) if n == b"Sig");
    let shaped = dict.has(b"ByteRange") && dict.has(b"Contents");
    // A document timestamp signs too, but says nothing about who signed the letter.
    let timestamp = matches!(dict.get(b"Type"), Ok(lopdf::Object::Name(n)) if n == b"DocTimeStamp")
        || matches!(dict.get(b"SubFilter"), Ok(lopdf::Object::Name(n)) if n == b"ETSI.RFC3161");
    ((typed || shaped) && !timestamp && dict.has(b"ByteRange")).then_some(dict)
}

/// `/ByteRange [a b c d]`: bytes a..a+b and c..c+d are signed; the gap between holds the
/// signature.
#[derive(Debug, Clone, Copy)]
struct ByteRange {
    a: usize,
    b: usize,
    c: usize,
    d: usize,
    start_of_gap: usize,
}

impl ByteRange {
    fn valid_in(&self, len: usize) -> bool {
        self.a.checked_add(self.b).is_some_and(|e| e <= self.c) && self.c.checked_add(self.d).is_some_and(|e| e <= len)
    }

    fn end(&self) -> usize {
        self.c + self.d
    }

    /// Starts at 0, leaves out exactly the `<…>` hex string of the signature, and ends at
    /// the end of a revision (`%%EOF`, then at most a line break).
    fn covers(&self, bytes: &[u8]) -> bool {
        let gap = &bytes[self.a + self.b..self.c];
        let hex_string = gap.len() >= 2
            && gap[0] == b'<'
            && gap[gap.len() - 1] == b'>'
            && gap[1..gap.len() - 1].iter().all(|c| c.is_ascii_hexdigit() || c.is_ascii_whitespace());
        let tail = &bytes[..self.end()];
        let trimmed = tail.strip_suffix(b"\r\n").or_else(|| tail.strip_suffix(b"\n")).or_else(|| tail.strip_suffix(b"\r")).unwrap_or(tail);
        self.a == 0 && hex_string && trimmed.ends_with(b"%%EOF")
    }

    fn signed_bytes(&self, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.b + self.d);
        out.extend_from_slice(&bytes[self.a..self.a + self.b]);
        out.extend_from_slice(&bytes[self.c..self.c + self.d]);
        out
    }
}

fn byte_range(dict: &lopdf::Dictionary) -> Option<ByteRange> {
    let lopdf::Object::Array(items) = dict.get(b"ByteRange").ok()? else { return None };
    let numbers: Vec<usize> = items.iter().filter_map(|o| o.as_i64().ok()).filter_map(|n| usize::try_from(n).ok()).collect();
    let [a, b, c, d] = numbers[..] else { return None };
    Some(ByteRange { a, b, c, d, start_of_gap: a + b })
}

/// `/M (D:20260312094500+07'00')`: when the signing software says it signed.
fn signing_time_of_dict(dict: &lopdf::Dictionary) -> Option<DateTime<Utc>> {
    let lopdf::Object::String(text, _) = dict.get(b"M").ok()? else { return None };
    parse_pdf_date(std::str::from_utf8(text).ok()?)
}

fn parse_pdf_date(text: &str) -> Option<DateTime<Utc>> {
    let digits = text.strip_prefix("D:").unwrap_or(text);
    let core: String = digits.chars().take(14).collect();
    if core.len() < 14 || !core.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let naive = chrono::NaiveDateTime::parse_from_str(&core, "%Y%m%d%H%M%S").ok()?;
    let rest = &digits[14..];
    let offset_minutes = match rest.chars().next() {
        Some(sign @ ('+' | '-')) => {
            let nums: String = rest[1..].chars().filter(|c| c.is_ascii_digit()).collect();
            let h: i64 = nums.get(0..2)?.parse().ok()?;
            let m: i64 = nums.get(2..4).and_then(|m| m.parse().ok()).unwrap_or(0);
            if sign == '+' { h * 60 + m } else { -(h * 60 + m) }
        }
        _ => 0,
    };
    Some(DateTime::from_naive_utc_and_offset(naive, Utc) - chrono::Duration::minutes(offset_minutes))
}

// ---------------------------------------------------------------------------------------
// Changes after signing.

/// Whether the revisions after byte `end` (where the signed revision ends) change the
/// document beyond what later signatures and long-term validation add. New objects alone
/// change nothing a reader sees: they count only through an object that refers to them,
/// and every object that differs from the signed revision must be one signing rewrites —
/// the catalog gaining `/AcroForm` or `/DSS`, the AcroForm's field list, a page's
/// `/Annots` gaining signature widgets, a signature field receiving its value, the
/// document information, cross-reference and object streams.
fn modified_after(bytes: &[u8], end: usize, full: &lopdf::Document) -> bool {
    let Ok(before) = lopdf::Document::load_mem(&bytes[..end]) else { return true };
    let widgets_added: std::collections::HashSet<lopdf::ObjectId> =
        full.objects.iter().filter(|(id, o)| !before.objects.contains_key(id) && is_signature_field(o)).map(|(id, _)| *id).collect();
    full.objects
        .iter()
        .any(|(id, object)| before.objects.get(id).is_some_and(|old| old != object && !allowed_change(old, object, &widgets_added)))
}

fn type_of(dict: &lopdf::Dictionary) -> Option<&[u8]> {
    match dict.get(b"Type") {
        Ok(lopdf::Object::Name(n)) => Some(n.as_slice()),
        _ => None,
    }
}

fn dict_of(object: &lopdf::Object) -> Option<&lopdf::Dictionary> {
    match object {
        lopdf::Object::Dictionary(d) => Some(d),
        lopdf::Object::Stream(s) => Some(&s.dict),
        _ => None,
    }
}

fn is_signature_field(object: &lopdf::Object) -> bool {
    let Some(dict) = dict_of(object) else { return false };
    matches!(dict.get(b"FT"), Ok(lopdf::Object::Name(n)) if n == b"Sig")
}

/// A changed object may only gain what signing adds: keys of the catalog (`/AcroForm`,
/// `/DSS`, `/Extensions`), of the AcroForm (`/Fields`, `/SigFlags`, `/DR`), a page's
/// `/Annots` with new signature widgets, a signature field's value, the document
/// information.
fn allowed_change(old: &lopdf::Object, new: &lopdf::Object, widgets: &std::collections::HashSet<lopdf::ObjectId>) -> bool {
    let (Some(old_dict), Some(new_dict)) = (dict_of(old), dict_of(new)) else { return false };
    if matches!(old, lopdf::Object::Stream(_)) || matches!(new, lopdf::Object::Stream(_)) {
        // Streams: cross-reference and object streams, and the XMP metadata (a new
        // modification date), are what an update rewrites; a page's content is not.
        return matches!(type_of(new_dict), Some(b"XRef" | b"ObjStm" | b"Metadata"));
    }
    let changed: Vec<&[u8]> = keys_changed(old_dict, new_dict);
    let allowed: &[&[u8]] = match type_of(new_dict) {
        Some(b"Catalog") => &[b"AcroForm", b"DSS", b"Extensions", b"Perms", b"Metadata", b"Version"],
        Some(b"Page") => {
            let only_annots = changed.iter().all(|k| *k == b"Annots");
            return only_annots && annots_added_are(old_dict, new_dict, widgets);
        }
        Some(b"Sig") => &[b"Contents", b"ByteRange", b"M"],
        _ if is_signature_field(new) => &[b"V", b"AP", b"F", b"P", b"Lock", b"SV"],
        _ if new_dict.has(b"Fields") || new_dict.has(b"SigFlags") => &[b"Fields", b"SigFlags", b"DR", b"DA", b"NeedAppearances"],
        _ if new_dict.has(b"Producer") || new_dict.has(b"ModDate") => {
            &[b"Producer", b"ModDate", b"Creator", b"CreationDate", b"Title", b"Author", b"Subject", b"Keywords"]
        }
        _ => &[],
    };
    changed.iter().all(|k| allowed.contains(k))
}

fn keys_changed<'a>(old: &'a lopdf::Dictionary, new: &'a lopdf::Dictionary) -> Vec<&'a [u8]> {
    let mut keys: Vec<&[u8]> = Vec::new();
    for (k, v) in new.iter() {
        if old.get(k).ok() != Some(v) {
            keys.push(k.as_slice());
        }
    }
    for (k, _) in old.iter() {
        if !new.has(k) {
            keys.push(k.as_slice());
        }
    }
    keys
}

fn annots_added_are(old: &lopdf::Dictionary, new: &lopdf::Dictionary, widgets: &std::collections::HashSet<lopdf::ObjectId>) -> bool {
    let refs = |d: &lopdf::Dictionary| -> Vec<lopdf::ObjectId> {
        match d.get(b"Annots") {
            Ok(lopdf::Object::Array(items)) => items.iter().filter_map(|o| o.as_reference().ok()).collect(),
            _ => Vec::new(),
        }
    };
    let before = refs(old);
    let after = refs(new);
    before.iter().all(|r| after.contains(r)) && after.iter().filter(|r| !before.contains(r)).all(|r| widgets.contains(r))
}

// ---------------------------------------------------------------------------------------
// CMS.

struct CmsOutcome {
    intact: bool,
    problem: Option<String>,
    signer_name: Option<String>,
    signer_organization: Option<String>,
    issuer: Option<String>,
    signed_at: Option<DateTime<Utc>>,
    certificates: Vec<String>,
}

fn verify_cms(contents: &[u8], signed: &[u8]) -> Result<CmsOutcome, String> {
    use base64::Engine;
    use cms::cert::CertificateChoices;
    use cms::content_info::ContentInfo;
    use cms::signed_data::{SignedData, SignerIdentifier};

    // The hex string is padded with zeros after the DER value: read one value only.
    let mut reader = der::SliceReader::new(contents).map_err(|e| format!("CMS: {e}"))?;
    let info = <ContentInfo as der::Decode>::decode(&mut reader).map_err(|e| format!("CMS tidak terbaca: {e}"))?;
    if info.content_type != ID_SIGNED_DATA {
        return Err(format!("CMS bukan SignedData ({})", info.content_type));
    }
    let data: SignedData = info.content.decode_as().map_err(|e| format!("SignedData tidak terbaca: {e}"))?;
    let certificates: Vec<Certificate> = data
        .certificates
        .as_ref()
        .map(|set| {
            set.0
                .iter()
                .filter_map(|c| match c {
                    CertificateChoices::Certificate(cert) => Some(cert.clone()),
                    CertificateChoices::Other(_) => None,
                })
                .take(MAX_CERTIFICATES)
                .collect()
        })
        .unwrap_or_default();
    let signer_info = data.signer_infos.0.iter().next().ok_or("tidak ada SignerInfo")?;
    let signer = match &signer_info.sid {
        SignerIdentifier::IssuerAndSerialNumber(id) => {
            certificates.iter().find(|c| c.tbs_certificate.issuer == id.issuer && c.tbs_certificate.serial_number == id.serial_number)
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => certificates.iter().find(|c| subject_key_id(c).as_deref() == Some(ski.0.as_bytes())),
    };
    let Some(signer) = signer else { return Err("sertifikat penanda tangan tidak ada di dalam tanda tangan".into()) };

    let mut out = CmsOutcome {
        intact: false,
        problem: None,
        signer_name: name_part(&signer.tbs_certificate.subject, ID_COMMON_NAME),
        signer_organization: name_part(&signer.tbs_certificate.subject, ID_ORGANIZATION),
        issuer: name_part(&signer.tbs_certificate.issuer, ID_COMMON_NAME)
            .or_else(|| name_part(&signer.tbs_certificate.issuer, ID_ORGANIZATION)),
        signed_at: None,
        certificates: Vec::new(),
    };
    // The signer's certificate first, then the others, for the chain.
    let mut ordered = vec![signer.clone()];
    ordered.extend(certificates.iter().filter(|c| *c != signer).cloned());
    out.certificates =
        ordered.iter().filter_map(|c| c.to_der().ok()).map(|d| base64::engine::general_purpose::STANDARD.encode(d)).collect();

    let digest_alg = signer_info.digest_alg.oid;
    let Some(content_digest) = digest(digest_alg, signed) else {
        out.problem = Some(format!("algoritma ringkasan {digest_alg} tidak didukung"));
        return Ok(out);
    };
    let (message, expected) = match &signer_info.signed_attrs {
        Some(attrs) => {
            let mut message_digest = None;
            for attr in attrs.iter() {
                if attr.oid == ID_MESSAGE_DIGEST {
                    message_digest =
                        attr.values.iter().next().and_then(|v| v.decode_as::<OctetString>().ok()).map(|o| o.as_bytes().to_vec());
                } else if attr.oid == ID_SIGNING_TIME {
                    let value = attr.values.iter().next();
                    let unix = value.and_then(|v| {
                        v.decode_as::<der::asn1::UtcTime>()
                            .map(|t| t.to_unix_duration())
                            .or_else(|_| v.decode_as::<der::asn1::GeneralizedTime>().map(|t| t.to_unix_duration()))
                            .ok()
                    });
                    out.signed_at = unix.and_then(|d| DateTime::<Utc>::from_timestamp(d.as_secs() as i64, 0));
                }
            }
            let encoded = attrs.to_der().map_err(|e| format!("atribut bertanda tangan: {e}"))?;
            (encoded, message_digest)
        }
        None => (signed.to_vec(), Some(content_digest.clone())),
    };
    if expected.as_deref() != Some(content_digest.as_slice()) {
        out.problem = Some("ringkasan dokumen tidak cocok dengan yang ditandatangani".into());
        return Ok(out);
    }
    let signature = signer_info.signature.as_bytes();
    match verify(&signer.tbs_certificate.subject_public_key_info, signer_info.signature_algorithm.oid, digest_alg, &message, signature) {
        Ok(true) => out.intact = true,
        Ok(false) => out.problem = Some("tanda tangan CMS tidak cocok dengan sertifikat penanda tangan".into()),
        Err(e) => out.problem = Some(e),
    }
    Ok(out)
}

fn subject_key_id(cert: &Certificate) -> Option<Vec<u8>> {
    use x509_cert::ext::pkix::SubjectKeyIdentifier;
    let extensions = cert.tbs_certificate.extensions.as_ref()?;
    let ext = extensions.iter().find(|e| e.extn_id == const_oid::db::rfc5280::ID_CE_SUBJECT_KEY_IDENTIFIER)?;
    SubjectKeyIdentifier::from_der(ext.extn_value.as_bytes()).ok().map(|s| s.0.as_bytes().to_vec())
}

/// The first value of `part` (CN, O) in a distinguished name.
fn name_part(name: &x509_cert::name::Name, part: ObjectIdentifier) -> Option<String> {
    for rdn in name.0.iter() {
        for atv in rdn.0.iter() {
            if atv.oid == part {
                if let Ok(s) = atv.value.decode_as::<der::asn1::Utf8StringRef<'_>>() {
                    return Some(s.as_str().to_owned());
                }
                if let Ok(s) = atv.value.decode_as::<der::asn1::PrintableStringRef<'_>>() {
                    return Some(s.as_str().to_owned());
                }
                if let Ok(s) = atv.value.decode_as::<der::asn1::Ia5StringRef<'_>>() {
                    return Some(s.as_str().to_owned());
                }
            }
        }
    }
    None
}

fn digest(alg: ObjectIdentifier, data: &[u8]) -> Option<Vec<u8>> {
    Some(match alg {
        a if a == ID_SHA256 => sha2::Sha256::digest(data).to_vec(),
        a if a == ID_SHA384 => sha2::Sha384::digest(data).to_vec(),
        a if a == ID_SHA512 => sha2::Sha512::digest(data).to_vec(),
        a if a == ID_SHA1 => sha1::Sha1::digest(data).to_vec(),
        _ => return None,
    })
}

/// The hash a signature algorithm names (`sha256WithRSAEncryption`, `ecdsa-with-SHA384`);
/// a bare key algorithm (`rsaEncryption`, `id-ecPublicKey`) uses the digest algorithm.
fn hash_of(signature_alg: ObjectIdentifier, digest_alg: ObjectIdentifier) -> ObjectIdentifier {
    match signature_alg {
        a if a == ID_SHA256_RSA || a == ID_ECDSA_SHA256 => ID_SHA256,
        a if a == ID_SHA384_RSA || a == ID_ECDSA_SHA384 => ID_SHA384,
        a if a == ID_SHA512_RSA || a == ID_ECDSA_SHA512 => ID_SHA512,
        a if a == ID_SHA1_RSA => ID_SHA1,
        _ => digest_alg,
    }
}

/// Verifies `signature` over `message` with the key in `spki`, RSA PKCS#1 v1.5 or ECDSA
/// (P-256, P-384). `Err` for an algorithm this build does not handle.
fn verify(
    spki: &spki::SubjectPublicKeyInfoOwned,
    signature_alg: ObjectIdentifier,
    digest_alg: ObjectIdentifier,
    message: &[u8],
    signature: &[u8],
) -> Result<bool, String> {
    use signature::hazmat::PrehashVerifier;
    let hash_alg = hash_of(signature_alg, digest_alg);
    let hashed = digest(hash_alg, message).ok_or_else(|| format!("algoritma ringkasan {hash_alg} tidak didukung"))?;
    let key_der = spki.to_der().map_err(|e| format!("kunci publik: {e}"))?;
    if spki.algorithm.oid == ID_RSA {
        use rsa::pkcs8::DecodePublicKey;
        let key = rsa::RsaPublicKey::from_public_key_der(&key_der).map_err(|e| format!("kunci RSA: {e}"))?;
        let scheme = match hash_alg {
            a if a == ID_SHA256 => rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
            a if a == ID_SHA384 => rsa::Pkcs1v15Sign::new::<sha2::Sha384>(),
            a if a == ID_SHA512 => rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
            _ => rsa::Pkcs1v15Sign::new::<sha1::Sha1>(),
        };
        return Ok(key.verify(scheme, &hashed, signature).is_ok());
    }
    if spki.algorithm.oid == ID_EC_KEY {
        let curve = spki.algorithm.parameters.as_ref().and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
        return match curve {
            Some(c) if c == ID_P256 => {
                use p256::pkcs8::DecodePublicKey;
                let key = p256::ecdsa::VerifyingKey::from_public_key_der(&key_der).map_err(|e| format!("kunci P-256: {e}"))?;
                let Ok(sig) = p256::ecdsa::Signature::from_der(signature) else { return Ok(false) };
                Ok(key.verify_prehash(&hashed, &sig).is_ok())
            }
            Some(c) if c == ID_P384 => {
                use p384::pkcs8::DecodePublicKey;
                let key = p384::ecdsa::VerifyingKey::from_public_key_der(&key_der).map_err(|e| format!("kunci P-384: {e}"))?;
                let Ok(sig) = p384::ecdsa::Signature::from_der(signature) else { return Ok(false) };
                Ok(key.verify_prehash(&hashed, &sig).is_ok())
            }
            other => Err(format!("kurva {other:?} tidak didukung")),
        };
    }
    Err(format!("algoritma kunci {} tidak didukung", spki.algorithm.oid))
}

// ---------------------------------------------------------------------------------------
// Trust and verdicts.

/// The verdict on one signature with the trust list in force.
pub fn evaluate(f: &SignatureFacts, trust: &TrustList) -> SignatureCheck {
    let signer = f.signer_name.clone().unwrap_or_else(|| "penanda tangan tanpa nama".into());
    let (verdict, reason) = if !f.intact {
        (Verdict::Invalid, "tanda tangan tidak sah: dokumen diubah setelah ditandatangani".to_owned())
    } else if !f.covers_whole_file {
        (Verdict::Invalid, "tanda tangan tidak sah: tanda tangan tidak mencakup seluruh dokumen".to_owned())
    } else if f.modified_after_signing {
        (Verdict::Invalid, "tanda tangan tidak sah: dokumen diubah setelah ditandatangani".to_owned())
    } else if chain_trusted(&f.certificates, trust) {
        let org = f.signer_organization.as_ref().map(|o| format!(" ({o})")).unwrap_or_default();
        (Verdict::Valid, format!("Ditandatangani secara elektronik oleh {signer}{org} — dokumen utuh"))
    } else {
        (Verdict::Indeterminate, format!("Dokumen utuh, tetapi penanda tangan tidak dikenal: {signer}"))
    };
    SignatureCheck {
        verdict,
        signer_name: f.signer_name.clone(),
        signer_organization: f.signer_organization.clone(),
        signed_at: f.signed_at,
        issuer: f.issuer.clone(),
        covers_whole_file: f.covers_whole_file,
        modified_after_signing: f.modified_after_signing,
        reason,
    }
}

/// Whether the signer's certificate (first of `certificates`) leads, by issuer names and
/// verified certificate signatures, to a certificate of the trust list.
fn chain_trusted(certificates: &[String], trust: &TrustList) -> bool {
    use base64::Engine;
    let chain: Vec<Certificate> = certificates
        .iter()
        .take(MAX_CERTIFICATES)
        .filter_map(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .filter_map(|d| Certificate::from_der(&d).ok())
        .collect();
    let Some(mut current) = chain.first().cloned() else { return false };
    for _ in 0..MAX_CHAIN {
        if trust.certificates.contains(&current) {
            return true;
        }
        if trust.certificates.iter().any(|anchor| issued_by(&current, anchor)) {
            return true;
        }
        let Some(next) = chain.iter().find(|c| **c != current && issued_by(&current, c)) else { return false };
        current = next.clone();
    }
    false
}

/// `cert` names `issuer` as its issuer and carries a signature `issuer`'s key verifies.
fn issued_by(cert: &Certificate, issuer: &Certificate) -> bool {
    if cert.tbs_certificate.issuer != issuer.tbs_certificate.subject {
        return false;
    }
    let Ok(tbs) = cert.tbs_certificate.to_der() else { return false };
    let Some(signature) = cert.signature.as_bytes() else { return false };
    let alg = cert.signature_algorithm.oid;
    verify(&issuer.tbs_certificate.subject_public_key_info, alg, alg, &tbs, signature).unwrap_or(false)
}

/// Verdicts on every signature, in file order.
pub fn evaluate_all(facts: &[SignatureFacts], trust: &TrustList) -> Vec<SignatureCheck> {
    facts.iter().map(|f| evaluate(f, trust)).collect()
}
