//! The one code type of the system: every `code` that crosses a wire or IPC boundary —
//! the server's problem documents (listed in `/openapi.json`), the desktop client's own
//! refusals and the shell's command errors — is an [`ErrorCode`], from the row the server
//! refuses to the screen that shows it (the UI gets it as a TypeScript union through the
//! generated bindings).
//!
//! A program branches on the variant; a person reads [`ErrorCode::detail`], the
//! Indonesian sentence (the guide's own words where it has them). The HTTP status lives
//! here too so the server and the client agree on it without a second table. This module
//! is the only place where a code is spelled as text.

use serde::{Deserialize, Serialize};

/// Every refusal the system can give, as a stable snake_case code.
///
/// `#[non_exhaustive]` with an [`ErrorCode::Unknown`] fallback: a desktop built before a
/// server learnt a new code still reads the problem (and shows its `detail`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
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
    /// 422: a stream inflates beyond the limit, or the file holds too many objects.
    LetterBomb,
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
    /// 422: a new password breaks a rule (too short, too long, too common, not confirmed).
    PasswordTooWeak,
    /// 410: a password-reset (or activation) link that was used, expired or replaced.
    PasswordResetInvalid,
    /// 409: the account already has a password; no activation link is sent.
    AlreadyActivated,
    /// 401: the account is disabled (a verifier who left): no sign-in, every session ended.
    AccountDisabled,
    /// 409: an account with this NIK exists already (an administrator creating a verifier).
    AccountExists,
    /// 422: a KPPN code that is not in the reference list.
    KppnUnknown,
    /// 422: an uploaded reference list (`kppn.csv`, `satker.csv`) cannot be used; the field
    /// error says which file and line.
    ReferenceInvalid,
    // The request itself, answered by the server before any business rule.
    /// 401: no valid session (missing, expired or revoked).
    Unauthorized,
    /// 401: a refresh token was used twice; its whole family is revoked.
    RefreshTokenReused,
    /// 403: this role never does this.
    Forbidden,
    /// 404: not there, or not in the caller's scope (indistinguishable on purpose).
    NotFound,
    /// 400: not JSON, a wrong query parameter, a broken multipart body.
    BadRequest,
    PayloadTooLarge,
    /// 428: an action on an existing membership without `If-Match` (the version the
    /// person saw).
    PreconditionRequired,
    UnsupportedMediaType,
    IdempotencyKeyReused,
    RateLimited,
    /// 503: the server sheds load for a moment (`Retry-After` says when to try again);
    /// nothing was stored.
    ServiceOverloaded,
    /// The server's database or document store cannot be reached (restarting, away):
    /// nothing was stored.
    StorageUnavailable,
    /// The server's document volume is full: nothing was stored.
    StorageFull,
    /// A bulk decision with more than [`crate::api::BULK_MAX_ITEMS`] requests.
    BulkTooLarge,
    /// A deletion of this membership has already been asked for and is still open.
    DeletionRequestExists,
    InternalError,
    // The desktop's own refusals, never sent by the server.
    /// The server could not be reached (or answered 5xx/429): the action waits.
    Offline,
    /// The server answered something the contract does not describe.
    BadAnswer,
    NotSignedIn,
    KeychainUnavailable,
    /// The desktop's local database could not be opened, read or written.
    LocalStore,
    ServerNotSet,
    ServerUrlInvalid,
    FileUnreadable,
    /// The file dialog of the operating system failed.
    DialogFailed,
    ExportFailed,
    SettingsNotSaved,
    /// Actions still wait in the outbox, so the session cannot end or change hands yet.
    PendingActions,
    /// A bulk decision includes a request whose letter was not opened in this app.
    LetterNotSeen,
    /// This build has no updater key (a development or benchmark build).
    UpdateNotConfigured,
    /// The update address could not be reached or answered something unreadable.
    UpdateCheckFailed,
    /// A downloaded update whose signature is not the publisher's: it is thrown away.
    UpdateSignatureInvalid,
    /// A verified update could not be downloaded in full or installed.
    UpdateFailed,
    /// A code this build does not know (sent by a newer server).
    #[serde(untagged)]
    #[cfg_attr(feature = "specta", specta(skip))]
    Unknown(String),
}

impl ErrorCode {
    /// Every code, for tables and tests.
    pub const ALL: [ErrorCode; 74] = [
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
        Self::LetterBomb,
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
        Self::PasswordTooWeak,
        Self::PasswordResetInvalid,
        Self::AlreadyActivated,
        Self::AccountDisabled,
        Self::AccountExists,
        Self::KppnUnknown,
        Self::ReferenceInvalid,
        Self::Unauthorized,
        Self::RefreshTokenReused,
        Self::Forbidden,
        Self::NotFound,
        Self::BadRequest,
        Self::PayloadTooLarge,
        Self::PreconditionRequired,
        Self::UnsupportedMediaType,
        Self::IdempotencyKeyReused,
        Self::RateLimited,
        Self::ServiceOverloaded,
        Self::StorageUnavailable,
        Self::StorageFull,
        Self::BulkTooLarge,
        Self::DeletionRequestExists,
        Self::InternalError,
        Self::Offline,
        Self::BadAnswer,
        Self::NotSignedIn,
        Self::KeychainUnavailable,
        Self::LocalStore,
        Self::ServerNotSet,
        Self::ServerUrlInvalid,
        Self::FileUnreadable,
        Self::DialogFailed,
        Self::ExportFailed,
        Self::SettingsNotSaved,
        Self::PendingActions,
        Self::LetterNotSeen,
        Self::UpdateNotConfigured,
        Self::UpdateCheckFailed,
        Self::UpdateSignatureInvalid,
        Self::UpdateFailed,
    ];

    /// The code spelled `text` on the wire; a code this build does not know is kept as
    /// [`ErrorCode::Unknown`].
    pub fn parse(text: &str) -> ErrorCode {
        Self::ALL.into_iter().find(|c| c.as_str() == text).unwrap_or_else(|| ErrorCode::Unknown(text.to_owned()))
    }

    /// The wire form, e.g. `nik_invalid`.
    pub fn as_str(&self) -> &str {
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
            Self::LetterBomb => "letter_bomb",
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
            Self::PasswordTooWeak => "password_too_weak",
            Self::PasswordResetInvalid => "password_reset_invalid",
            Self::AlreadyActivated => "already_activated",
            Self::AccountDisabled => "account_disabled",
            Self::AccountExists => "account_exists",
            Self::KppnUnknown => "kppn_unknown",
            Self::ReferenceInvalid => "reference_invalid",
            Self::Unauthorized => "unauthorized",
            Self::RefreshTokenReused => "refresh_token_reused",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::BadRequest => "bad_request",
            Self::PayloadTooLarge => "payload_too_large",
            Self::PreconditionRequired => "precondition_required",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::RateLimited => "rate_limited",
            Self::ServiceOverloaded => "service_overloaded",
            Self::StorageUnavailable => "storage_unavailable",
            Self::StorageFull => "storage_full",
            Self::BulkTooLarge => "bulk_too_large",
            Self::DeletionRequestExists => "deletion_request_exists",
            Self::InternalError => "internal_error",
            Self::Offline => "offline",
            Self::BadAnswer => "bad_answer",
            Self::NotSignedIn => "not_signed_in",
            Self::KeychainUnavailable => "keychain_unavailable",
            Self::LocalStore => "local_store",
            Self::ServerNotSet => "server_not_set",
            Self::ServerUrlInvalid => "server_url_invalid",
            Self::FileUnreadable => "file_unreadable",
            Self::DialogFailed => "dialog_failed",
            Self::ExportFailed => "export_failed",
            Self::SettingsNotSaved => "settings_not_saved",
            Self::PendingActions => "pending_actions",
            Self::LetterNotSeen => "letter_not_seen",
            Self::UpdateNotConfigured => "update_not_configured",
            Self::UpdateCheckFailed => "update_check_failed",
            Self::UpdateSignatureInvalid => "update_signature_invalid",
            Self::UpdateFailed => "update_failed",
            Self::Unknown(text) => text,
        }
    }

    /// A sign-in or session refused because the person has no active membership any more
    /// (deactivated, dormant, rejected, or only waiting for the KPPN): a desktop drops
    /// the data it held for them.
    pub fn means_access_lost(&self) -> bool {
        matches!(self, Self::AccountDormant | Self::AccountPending | Self::AccountRejected | Self::AccountInactive)
    }

    /// The HTTP status the server answers with (the desktop's own codes never reach the
    /// wire; they carry the status their server-side cousin would).
    pub fn http_status(&self) -> u16 {
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
            | Self::LetterBomb
            | Self::ReasonRequired
            | Self::UnknownField
            | Self::PasswordTooWeak
            | Self::KppnUnknown
            | Self::ReferenceInvalid
            | Self::IdempotencyKeyReused
            | Self::FileUnreadable => 422,
            Self::PendingActions | Self::AlreadyActivated | Self::AccountExists => 409,
            Self::PasswordResetInvalid => 410,
            Self::DukcapilUnavailable | Self::Offline => 503,
            Self::Unauthorized | Self::RefreshTokenReused | Self::NotSignedIn => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::BadRequest | Self::ServerUrlInvalid | Self::ServerNotSet => 400,
            Self::PayloadTooLarge => 413,
            Self::PreconditionRequired => 428,
            Self::UnsupportedMediaType => 415,
            Self::RateLimited => 429,
            Self::ServiceOverloaded | Self::StorageUnavailable => 503,
            Self::StorageFull => 507,
            Self::BulkTooLarge | Self::LetterNotSeen => 422,
            Self::DeletionRequestExists => 409,
            Self::InternalError
            | Self::BadAnswer
            | Self::KeychainUnavailable
            | Self::LocalStore
            | Self::DialogFailed
            | Self::ExportFailed
            | Self::SettingsNotSaved
            | Self::UpdateNotConfigured
            | Self::UpdateCheckFailed
            | Self::UpdateSignatureInvalid
            | Self::UpdateFailed
            | Self::Unknown(_) => 500,
            Self::AlreadyActive | Self::DormantExists | Self::InvalidTransition | Self::VersionConflict | Self::RequestSuperseded => 409,
            Self::SatkerOutOfScope | Self::SatkerHasNoActiveUser | Self::CannotDeactivateSelf => 403,
            Self::CaptchaInvalid
            | Self::CredentialsInvalid
            | Self::AccountDormant
            | Self::AccountPending
            | Self::AccountRejected
            | Self::AccountInactive
            | Self::AccountDisabled => 401,
            Self::AccountLocked => 423,
            Self::DigitAccountNotFound => 404,
        }
    }

    /// The sentence a person reads, in Bahasa Indonesia. For `name_mismatch` the text
    /// carries the score; use [`crate::NameScore::mismatch_detail`] for the full sentence.
    pub fn detail(&self) -> &'static str {
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
            Self::LetterBomb => {
                "Dokumen PDF tidak wajar: isinya mengembang jauh melebihi ukuran file. Pindai atau cetak ulang dokumen ke PDF lalu unggah kembali"
            }
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
            Self::AccountDisabled => {
                "Akun Anda dinonaktifkan oleh pengelola MyIntress. Hubungi pengelola MyIntress di kantor pusat bila akun ini masih Anda perlukan."
            }
            Self::AccountExists => "NIK ini sudah memiliki akun MyIntress; gunakan Pindahkan atau Aktifkan pada akun tersebut",
            Self::KppnUnknown => "Kode KPPN tidak ada dalam daftar KPPN",
            Self::ReferenceInvalid => "Berkas referensi tidak dapat dipakai; tidak ada data yang diubah",
            Self::DigitAccountNotFound => "Pengguna belum terdaftar di DIGIT; isi form secara manual, email aktivasi akan dikirim",
            Self::UnknownField => "Isian tidak dikenal; periksa nama isian yang dikirim",
            Self::PasswordTooWeak => "Kata sandi baru belum memenuhi syarat: minimal 8 karakter dan tidak mudah ditebak",
            Self::AlreadyActivated => {
                "Akun ini sudah memiliki kata sandi; tautan aktivasi tidak dikirim. Bila lupa kata sandi, pengguna dapat memilih \"Lupa kata sandi?\" di layar masuk"
            }
            Self::PasswordResetInvalid => "Tautan ini sudah pernah digunakan, sudah kedaluwarsa, atau sudah diganti tautan yang lebih baru",
            Self::Unauthorized => "Sesi Anda telah berakhir atau tidak valid. Silakan masuk kembali.",
            Self::RefreshTokenReused => "Sesi ini dipakai di tempat lain dan telah diakhiri demi keamanan. Silakan masuk kembali.",
            Self::Forbidden => "Peran Anda tidak dapat melakukan tindakan ini.",
            Self::NotFound => "Data tidak ditemukan.",
            Self::BadRequest => "Permintaan tidak valid",
            Self::PayloadTooLarge => "Ukuran kiriman melebihi batas; dokumen maksimal 5MB.",
            Self::PreconditionRequired => "Versi data yang dilihat (If-Match) wajib disertakan; muat ulang data pengguna lalu ulangi.",
            Self::UnsupportedMediaType => "Format kiriman tidak didukung untuk alamat ini.",
            Self::IdempotencyKeyReused => "Idempotency-Key ini sudah dipakai untuk permintaan yang berbeda.",
            Self::RateLimited => "Terlalu banyak permintaan. Tunggu sebentar lalu coba lagi.",
            Self::ServiceOverloaded => "Server pusat sedang sibuk. Data belum disimpan; coba lagi sebentar lagi.",
            Self::StorageUnavailable => {
                "Penyimpanan server pusat sedang tidak dapat dihubungi. Data belum disimpan; aplikasi mencoba lagi sebentar lagi."
            }
            Self::StorageFull => "Ruang penyimpanan dokumen di server pusat penuh. Data belum disimpan; hubungi pengelola server pusat.",
            Self::BulkTooLarge => "Paling banyak 500 permintaan dapat diputuskan sekaligus.",
            Self::DeletionRequestExists => "Permintaan penghapusan pengguna ini sudah diajukan dan masih menunggu KPPN.",
            Self::InternalError => "Terjadi kesalahan pada server. Silakan coba lagi; bila berulang, hubungi petugas.",
            Self::Offline => "Server pusat tidak dapat dihubungi. Periksa jaringan, lalu coba lagi.",
            Self::BadAnswer => "Jawaban server pusat tidak dikenali. Perbarui aplikasi atau hubungi petugas.",
            Self::NotSignedIn => "Silakan masuk terlebih dahulu.",
            Self::KeychainUnavailable => "Penyimpanan kunci sistem operasi tidak dapat dipakai; sesi tidak dapat disimpan.",
            Self::LocalStore => "Penyimpanan lokal aplikasi tidak dapat dibuka atau ditulis.",
            Self::ServerNotSet => "Alamat server pusat belum diatur. Buka Pengaturan untuk mengisinya.",
            Self::ServerUrlInvalid => "Alamat server tidak valid, contoh: https://myintress.kemenkeu.go.id",
            Self::FileUnreadable => "File tidak dapat dibaca.",
            Self::DialogFailed => "Jendela pemilihan file tidak dapat dibuka.",
            Self::ExportFailed => "File tidak dapat disimpan.",
            Self::SettingsNotSaved => "Pengaturan tidak dapat disimpan.",
            Self::PendingActions => "Masih ada tindakan yang menunggu sinkronisasi. Sinkronkan dahulu.",
            Self::LetterNotSeen => "Buka dan periksa suratnya di aplikasi ini dahulu sebelum memutuskan beberapa permintaan sekaligus.",
            Self::UpdateNotConfigured => {
                "Pembaruan otomatis tidak diatur pada salinan aplikasi ini. Minta penginstal terbaru kepada petugas."
            }
            Self::UpdateCheckFailed => {
                "Pembaruan tidak dapat diperiksa: alamat pembaruan tidak dapat dihubungi. Periksa jaringan, lalu coba lagi."
            }
            Self::UpdateSignatureInvalid => {
                "Pembaruan ditolak karena tanda tangannya tidak sah: file ini bukan dari penerbit MyIntress Satker. Aplikasi tidak diubah; laporkan kepada petugas."
            }
            Self::UpdateFailed => "Pembaruan tidak dapat diunduh atau dipasang. Aplikasi tidak diubah; coba lagi nanti.",
            Self::Unknown(_) => "Permintaan ditolak server pusat.",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for ErrorCode {
    fn from(text: &str) -> Self {
        ErrorCode::parse(text)
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
        Self { field: field.to_owned(), detail: code.detail().to_owned(), code }
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
