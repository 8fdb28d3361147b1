//! Stable error codes of the API contract: the `code` of every problem document the
//! server answers with (listed in `/openapi.json`).
//!
//! A program branches on [`ErrorCode::as_str`]; a person reads [`ErrorCode::detail`], the
//! Indonesian sentence (the guide's own words where it has them). The HTTP status lives
//! here too so the server and the client agree on it without a second table.

use serde::{Deserialize, Serialize};

/// Every refusal the system can give, as a stable snake_case code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    NikInvalid,
    NikNotFound,
    NameMismatch,
    DukcapilUnavailable,
    FieldRequired,
    FieldTooLong,
    EmailInvalid,
    PhoneInvalid,
    SatkerCodeInvalid,
    KppnCodeInvalid,
    LetterNotPdf,
    LetterTooLarge,
    LetterEncrypted,
    LetterUnreadable,
    LetterActiveContent,
    AlreadyActive,
    DormantExists,
    SatkerOutOfScope,
    SatkerHasNoActiveUser,
    InvalidTransition,
    CannotDeactivateSelf,
    ReasonRequired,
    VersionConflict,
    RequestSuperseded,
    CaptchaInvalid,
    CredentialsInvalid,
    AccountLocked,
    AccountDormant,
    AccountPending,
    AccountRejected,
    AccountInactive,
    DigitAccountNotFound,
    UnknownField,
}

impl ErrorCode {
    /// Every code, for tables and tests.
    pub const ALL: [ErrorCode; 33] = [
        Self::NikInvalid,
        Self::NikNotFound,
        Self::NameMismatch,
        Self::DukcapilUnavailable,
        Self::FieldRequired,
        Self::FieldTooLong,
        Self::EmailInvalid,
        Self::PhoneInvalid,
        Self::SatkerCodeInvalid,
        Self::KppnCodeInvalid,
        Self::LetterNotPdf,
        Self::LetterTooLarge,
        Self::LetterEncrypted,
        Self::LetterUnreadable,
        Self::LetterActiveContent,
        Self::AlreadyActive,
        Self::DormantExists,
        Self::SatkerOutOfScope,
        Self::SatkerHasNoActiveUser,
        Self::InvalidTransition,
        Self::CannotDeactivateSelf,
        Self::ReasonRequired,
        Self::VersionConflict,
        Self::RequestSuperseded,
        Self::CaptchaInvalid,
        Self::CredentialsInvalid,
        Self::AccountLocked,
        Self::AccountDormant,
        Self::AccountPending,
        Self::AccountRejected,
        Self::AccountInactive,
        Self::DigitAccountNotFound,
        Self::UnknownField,
    ];

    /// The wire form, e.g. `nik_invalid`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NikInvalid => "nik_invalid",
            Self::NikNotFound => "nik_not_found",
            Self::NameMismatch => "name_mismatch",
            Self::DukcapilUnavailable => "dukcapil_unavailable",
            Self::FieldRequired => "field_required",
            Self::FieldTooLong => "field_too_long",
            Self::EmailInvalid => "email_invalid",
            Self::PhoneInvalid => "phone_invalid",
            Self::SatkerCodeInvalid => "satker_code_invalid",
            Self::KppnCodeInvalid => "kppn_code_invalid",
            Self::LetterNotPdf => "letter_not_pdf",
            Self::LetterTooLarge => "letter_too_large",
            Self::LetterEncrypted => "letter_encrypted",
            Self::LetterUnreadable => "letter_unreadable",
            Self::LetterActiveContent => "letter_active_content",
            Self::AlreadyActive => "already_active",
            Self::DormantExists => "dormant_exists",
            Self::SatkerOutOfScope => "satker_out_of_scope",
            Self::SatkerHasNoActiveUser => "satker_has_no_active_user",
            Self::InvalidTransition => "invalid_transition",
            Self::CannotDeactivateSelf => "cannot_deactivate_self",
            Self::ReasonRequired => "reason_required",
            Self::VersionConflict => "version_conflict",
            Self::RequestSuperseded => "request_superseded",
            Self::CaptchaInvalid => "captcha_invalid",
            Self::CredentialsInvalid => "credentials_invalid",
            Self::AccountLocked => "account_locked",
            Self::AccountDormant => "account_dormant",
            Self::AccountPending => "account_pending",
            Self::AccountRejected => "account_rejected",
            Self::AccountInactive => "account_inactive",
            Self::DigitAccountNotFound => "digit_account_not_found",
            Self::UnknownField => "unknown_field",
        }
    }

    /// The HTTP status the server answers with.
    /// A sign-in or session refused because the person has no active membership any more
    /// (deactivated, dormant, rejected, or only waiting for the KPPN): a desktop drops
    /// the data it held for them.
    pub fn means_access_lost(self) -> bool {
        matches!(self, Self::AccountDormant | Self::AccountPending | Self::AccountRejected | Self::AccountInactive)
    }

    pub fn http_status(self) -> u16 {
        match self {
            Self::NikInvalid
            | Self::NikNotFound
            | Self::NameMismatch
            | Self::FieldRequired
            | Self::FieldTooLong
            | Self::EmailInvalid
            | Self::PhoneInvalid
            | Self::SatkerCodeInvalid
            | Self::KppnCodeInvalid
            | Self::LetterNotPdf
            | Self::LetterTooLarge
            | Self::LetterEncrypted
            | Self::LetterUnreadable
            | Self::LetterActiveContent
            | Self::ReasonRequired
            | Self::UnknownField => 422,
            Self::DukcapilUnavailable => 503,
            Self::AlreadyActive | Self::DormantExists | Self::InvalidTransition | Self::VersionConflict | Self::RequestSuperseded => 409,
            Self::SatkerOutOfScope | Self::SatkerHasNoActiveUser | Self::CannotDeactivateSelf => 403,
            Self::CaptchaInvalid
            | Self::CredentialsInvalid
            | Self::AccountDormant
            | Self::AccountPending
            | Self::AccountRejected
            | Self::AccountInactive => 401,
            Self::AccountLocked => 423,
            Self::DigitAccountNotFound => 404,
        }
    }

    /// The sentence a person reads, in Bahasa Indonesia. For `name_mismatch` the text
    /// carries the score; use [`crate::NameScore::mismatch_detail`] for the full sentence.
    pub fn detail(self) -> &'static str {
        match self {
            Self::NikInvalid => "NIK harus 16 digit angka dengan tanggal lahir yang valid",
            Self::NikNotFound => "Berdasarkan pengecekan di DUKCAPIL: NIK tidak ditemukan",
            Self::NameMismatch => "Berdasarkan pengecekan di DUKCAPIL: Nama lengkap tidak valid",
            Self::DukcapilUnavailable => "Layanan DUKCAPIL tidak dapat dihubungi. Data belum disimpan, silakan coba lagi.",
            Self::FieldRequired => "Wajib diisi",
            Self::FieldTooLong => "Isian terlalu panjang",
            Self::EmailInvalid => "Format email tidak valid, mohon pastikan email aktif",
            Self::PhoneInvalid => "Nomor telepon tidak valid; gunakan nomor Indonesia, misalnya 0812xxxxxxxx atau (021) xxxxxxx",
            Self::SatkerCodeInvalid => "Kode satker harus 6 digit angka",
            Self::KppnCodeInvalid => "Kode KPPN harus 3 digit angka",
            Self::LetterNotPdf => "Dokumen ST harus berupa file PDF",
            Self::LetterTooLarge => "Ukuran dokumen ST maksimal 5MB",
            Self::LetterEncrypted => "Dokumen PDF dilindungi kata sandi; unggah dokumen yang dapat dibuka tanpa kata sandi",
            Self::LetterUnreadable => "Dokumen PDF rusak atau tidak dapat dibaca",
            Self::LetterActiveContent => "Dokumen PDF berisi konten aktif yang tidak diizinkan",
            Self::AlreadyActive => "Pengguna sudah aktif pada satker ini, pendaftaran ditolak",
            Self::DormantExists => "Pengguna berstatus Dormant pada satker ini; KPPN mitra kerja dapat mengaktifkan kembali",
            Self::SatkerOutOfScope => "Tidak dapat mendaftarkan pengguna untuk satker lain",
            Self::SatkerHasNoActiveUser => {
                "Hanya satker yang telah memiliki minimal 1 pengguna aktif yang dapat menambahkan pengguna lainnya"
            }
            Self::InvalidTransition => "Status pengguna tidak memungkinkan tindakan ini",
            Self::CannotDeactivateSelf => "Anda tidak dapat menonaktifkan akun Anda sendiri",
            Self::ReasonRequired => "Alasan wajib diisi",
            Self::VersionConflict => "Data pengguna telah diubah oleh pihak lain. Periksa data terbaru sebelum melanjutkan.",
            Self::RequestSuperseded => "Permintaan ini telah digantikan oleh pengajuan yang lebih baru dengan surat tugas terbaru",
            Self::CaptchaInvalid => "Kode captcha salah",
            Self::CredentialsInvalid => "NIK atau kata sandi salah",
            Self::AccountLocked => "Akun dikunci sementara karena terlalu banyak percobaan masuk yang gagal. Coba lagi nanti.",
            Self::AccountDormant => {
                "Akun Anda Dormant karena tidak login selama 6 bulan. Hubungi KPPN mitra kerja untuk mengaktifkan kembali."
            }
            Self::AccountPending => "Pendaftaran Anda belum disetujui KPPN mitra kerja. Mohon cek status pada Daftar Pengguna satker Anda.",
            Self::AccountRejected => "Pendaftaran Anda ditolak. Satker dapat mendaftarkan kembali melalui Tambah Pengguna.",
            Self::AccountInactive => "Akun Anda tidak aktif. Hubungi KPPN mitra kerja.",
            Self::DigitAccountNotFound => "Pengguna belum terdaftar di DIGIT; isi form secara manual, email aktivasi akan dikirim",
            Self::UnknownField => "Isian tidak dikenal; periksa nama isian yang dikirim",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refusal of one form field: which field, which code, and the sentence to show
/// beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FieldError {
    pub field: String,
    pub code: ErrorCode,
    pub detail: String,
}

impl FieldError {
    pub fn new(field: &str, code: ErrorCode) -> Self {
        Self { field: field.to_owned(), code, detail: code.detail().to_owned() }
    }

    pub fn with_detail(field: &str, code: ErrorCode, detail: String) -> Self {
        Self { field: field.to_owned(), code, detail }
    }
}

/// Implemented by every parse error of a value type, so callers can turn any of them
/// into a [`FieldError`] the same way.
pub trait Coded {
    fn code(&self) -> ErrorCode;

    fn detail(&self) -> String {
        self.code().detail().to_owned()
    }

    fn for_field(&self, field: &str) -> FieldError {
        FieldError::with_detail(field, self.code(), self.detail())
    }
}
