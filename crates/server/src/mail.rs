//! Outgoing mail through a durable outbox. Every e-mail (activation, password reset, the
//! notice of a corrected address, the KPPN's decision) is a
//! row of `mail_outbox` written in the transaction that caused it (the words are composed
//! here, [`activation`], [`password_reset`]); the sender job ([`spawn`]) delivers due rows
//! over SMTP (`--smtp-url`) or as `.eml` files (`--mail-dir`, development and tests),
//! retrying with backoff until it gets through, and marks each sent. A mail server that is
//! down delays mail; it never loses it, also across a restart of the API server. With no
//! transport configured, mail waits in the outbox (and a warning is logged).
//!
//! Several replicas may send: each claims a row with a conditional update before sending
//! it, so one row goes once (a sender that dies between the SMTP answer and marking the
//! row sent makes the row go again after its lease: at least once).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use tokio::sync::watch;
use uuid::Uuid;

use myintress_core::workday::{Deadlines, QueueFlags};

use crate::state::AppState;
use crate::store::{MailKind, MailRow, MembershipRow};

/// How long a claimed row is held by its sender before another may try it.
const LEASE_SECONDS: i64 = 60;
/// Rows sent per pass.
const BATCH: i64 = 50;
/// How often the sender looks for due mail when nothing woke it.
const POLL: Duration = Duration::from_secs(5);

/// The wait before attempt `attempts + 1`: 2 s, doubling, at most 10 minutes.
pub fn backoff(attempts: i64) -> chrono::Duration {
    let exponent = attempts.clamp(1, 16) - 1;
    chrono::Duration::seconds((2_i64 << exponent).min(600))
}

fn mail(kind: MailKind, to_name: &str, to_email: &str, subject: &str, body: String, now: DateTime<Utc>) -> MailRow {
    MailRow {
        id: Uuid::new_v4(),
        kind,
        to_name: to_name.to_owned(),
        to_email: to_email.to_owned(),
        subject: subject.to_owned(),
        body,
        created_at: now,
        attempts: 0,
    }
}

/// The activation link of an account a registration created.
pub fn activation(to_name: &str, to_email: &str, link: &str, hours: i64, now: DateTime<Utc>) -> MailRow {
    let body = format!(
        "Yth. {to_name},\n\n\
         Anda telah didaftarkan sebagai pengguna MyIntress tipe Satker. Anda belum memiliki akun DIGIT, \
         sehingga akun telah dibuatkan untuk Anda.\n\n\
         Buka tautan berikut untuk membuat kata sandi:\n{link}\n\n\
         Tautan ini hanya dapat digunakan satu kali dan berlaku {hours} jam. Setelah kata sandi dibuat, \
         Anda dapat masuk ke MyIntress dengan NIK dan kata sandi tersebut setelah pendaftaran disetujui \
         KPPN mitra kerja.\n\n\
         Jika Anda tidak merasa didaftarkan, abaikan email ini.\n\n\
         Salam,\nMyIntress — Kementerian Keuangan Republik Indonesia\n"
    );
    mail(MailKind::Activation, to_name, to_email, "Aktivasi akun MyIntress", body, now)
}

/// The link of a password reset asked for by NIK.
pub fn password_reset(to_name: &str, to_email: &str, link: &str, minutes: i64, now: DateTime<Utc>) -> MailRow {
    let body = format!(
        "Yth. {to_name},\n\n\
         Kami menerima permintaan untuk mengatur ulang kata sandi akun MyIntress Anda.\n\n\
         Buka tautan berikut untuk membuat kata sandi baru:\n{link}\n\n\
         Tautan ini hanya dapat digunakan satu kali dan berlaku {minutes} menit. Setelah kata sandi baru \
         dibuat, Anda keluar dari MyIntress di semua perangkat; masuklah kembali dengan kata sandi baru.\n\n\
         Jika Anda tidak meminta pengaturan ulang kata sandi, abaikan email ini: kata sandi Anda tidak berubah.\n\n\
         Salam,\nMyIntress — Kementerian Keuangan Republik Indonesia\n"
    );
    mail(MailKind::PasswordReset, to_name, to_email, "Atur ulang kata sandi MyIntress", body, now)
}
use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

#[derive(Clone)]
pub enum Mailer {
    Smtp { transport: AsyncSmtpTransport<Tokio1Executor>, from: Mailbox },
    Files { transport: AsyncFileTransport<Tokio1Executor>, from: Mailbox, dir: PathBuf },
    LogOnly,
}

impl Mailer {
    pub fn new(smtp_url: Option<&str>, mail_dir: Option<&PathBuf>, from: &str) -> Result<Mailer> {
        let from: Mailbox = from.parse().with_context(|| format!("alamat pengirim tidak valid: {from}"))?;
        if let Some(url) = smtp_url {
            let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url).context("--smtp-url tidak valid")?.build();
            return Ok(Mailer::Smtp { transport, from });
        }
        if let Some(dir) = mail_dir {
            std::fs::create_dir_all(dir).with_context(|| format!("membuat {}", dir.display()))?;
            return Ok(Mailer::Files { transport: AsyncFileTransport::new(dir), from, dir: dir.clone() });
        }
        Ok(Mailer::LogOnly)
    }

    /// Delivers one e-mail of the outbox.
    pub async fn deliver(&self, mail: &MailRow) -> Result<()> {
        self.send(&mail.to_name, &mail.to_email, &mail.subject, mail.body.clone()).await
    }

    async fn send(&self, to_name: &str, to_email: &str, subject: &str, body: String) -> Result<()> {
        let to: Mailbox = format!("{to_name} <{to_email}>")
            .parse()
            .or_else(|_| to_email.parse())
            .with_context(|| "alamat penerima tidak valid".to_string())?;
        let build = |from: &Mailbox| {
            Message::builder()
                .from(from.clone())
                .to(to.clone())
                .subject(subject)
                .header(ContentType::TEXT_PLAIN)
                .body(body.clone())
                .context("menyusun email")
        };
        match self {
            Mailer::Smtp { transport, from } => {
                transport.send(build(from)?).await.context("mengirim email")?;
            }
            Mailer::Files { transport, from, .. } => {
                transport.send(build(from)?).await.context("menulis email")?;
            }
            Mailer::LogOnly => {
                anyhow::bail!("no mail transport configured (--smtp-url or --mail-dir); the e-mail waits in the outbox");
            }
        }
        Ok(())
    }
}

/// A notice that the account's e-mail was corrected by the KPPN (sent to the old and the
/// new address, so a person whose address was changed behind their back learns of it).
pub fn contact_notice(to_name: &str, to_email: &str, old_email: &str, new_email: &str, now: DateTime<Utc>) -> MailRow {
    let body = format!(
        "Yth. {to_name},\n\n\
         Alamat email akun MyIntress Anda telah diperbaiki oleh KPPN mitra kerja:\n\
         dari {old_email}\nmenjadi {new_email}.\n\n\
         Mulai sekarang email dari MyIntress (termasuk tautan atur ulang kata sandi) dikirim ke alamat yang baru. \
         Jika Anda tidak meminta perubahan ini, segera hubungi KPPN mitra kerja Anda.\n\n\
         Salam,\nMyIntress — Kementerian Keuangan Republik Indonesia\n"
    );
    mail(MailKind::ContactNotice, to_name, to_email, "Email akun MyIntress diperbaiki", body, now)
}

/// The KPPN's decision on a registration: approved, or rejected with its reason.
pub fn decision(to_name: &str, to_email: &str, satker: &str, rejection: Option<&str>, now: DateTime<Utc>) -> MailRow {
    let (subject, body) = match rejection {
        None => (
            "Pendaftaran MyIntress disetujui",
            format!(
                "Yth. {to_name},\n\n\
                 Pendaftaran Anda sebagai pengguna MyIntress tipe Satker pada satker {satker} telah disetujui \
                 KPPN mitra kerja. Anda dapat masuk ke MyIntress dengan NIK dan kata sandi akun Anda.\n\n\
                 Salam,\nMyIntress — Kementerian Keuangan Republik Indonesia\n"
            ),
        ),
        Some(reason) => (
            "Pendaftaran MyIntress ditolak",
            format!(
                "Yth. {to_name},\n\n\
                 Pendaftaran Anda sebagai pengguna MyIntress tipe Satker pada satker {satker} ditolak oleh KPPN \
                 mitra kerja dengan alasan:\n\n{reason}\n\n\
                 Operator satker Anda dapat mendaftarkan Anda kembali setelah kekurangannya diperbaiki.\n\n\
                 Salam,\nMyIntress — Kementerian Keuangan Republik Indonesia\n"
            ),
        ),
    };
    mail(MailKind::Decision, to_name, to_email, subject, body, now)
}

/// One pass of the sender: resolves password-reset requests into links, then sends every
/// due e-mail it can claim. Returns how many went.
pub async fn send_due(state: &AppState) -> Result<usize> {
    crate::session::resolve_reset_requests(state).await?;
    let now = Utc::now();
    let due = state.store.read().await?.due_mail(now, BATCH).await?;
    let mut sent = 0;
    for row in due {
        let mut tx = state.store.write().await?;
        let claimed = tx.claim_mail(row.id, now, now + chrono::Duration::seconds(LEASE_SECONDS)).await?;
        tx.commit().await?;
        if !claimed {
            continue;
        }
        let outcome = state.mailer.deliver(&row).await;
        let mut tx = state.store.write().await?;
        match &outcome {
            Ok(()) => tx.mail_sent(row.id, Utc::now()).await?,
            Err(e) => {
                let retry_at = Utc::now() + backoff(row.attempts + 1);
                tracing::warn!(error = %format!("{e:#}"), kind = row.kind.as_str(), attempts = row.attempts + 1, %retry_at, "e-mail not sent yet");
                tx.mail_failed(row.id, &format!("{e:#}"), retry_at).await?;
            }
        }
        tx.commit().await?;
        sent += usize::from(outcome.is_ok());
    }
    Ok(sent)
}

/// The replica's sender: a pass when woken (right after a transaction queued mail) and
/// every few seconds (for rows queued by other replicas and retries that fell due).
pub fn spawn(state: Arc<AppState>, mut stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = send_due(&state).await {
                tracing::error!(error = %format!("{e:#}"), "mail pass failed");
            }
            tokio::select! {
                _ = state.mail_wake.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    })
}

/// The daily list of a KPPN's requests past a deadline: to its verifiers (overdue) or its
/// supervisors (escalated). Names, satkers and letter numbers only, never a whole NIK.
pub fn queue_reminder(
    kind: crate::queue::ReminderKind,
    to_name: &str,
    to_email: &str,
    kppn: &str,
    requests: &[(MembershipRow, QueueFlags, String)],
    deadlines: Deadlines,
    now: DateTime<Utc>,
) -> MailRow {
    use crate::queue::ReminderKind;
    let lines: Vec<String> = requests
        .iter()
        .map(|(m, f, satker)| {
            format!(
                "- {} — satker {} {}, No. ST {}, menunggu {} hari kerja sejak {}",
                m.name,
                m.satker_code,
                satker,
                m.letter_number,
                f.working_days_pending,
                myintress_core::workday::office_date(m.created_at).format("%d-%m-%Y")
            )
        })
        .collect();
    let (subject, intro, mail_kind) = match kind {
        ReminderKind::Overdue => (
            format!("Pengingat: {} permintaan menunggu verifikasi KPPN {kppn}", requests.len()),
            format!(
                "Permintaan berikut di Antrean KPPN {kppn} telah menunggu {} hari kerja atau lebih dan belum diputuskan:",
                deadlines.reminder_days
            ),
            MailKind::QueueReminder,
        ),
        ReminderKind::Escalated => (
            format!("Eskalasi: {} permintaan KPPN {kppn} belum diputuskan", requests.len()),
            format!(
                "Sebagai supervisor KPPN {kppn}, Anda menerima eskalasi permintaan yang telah menunggu {} hari kerja atau lebih:",
                deadlines.escalation_days
            ),
            MailKind::QueueEscalation,
        ),
    };
    let body = format!(
        "Yth. {to_name},\n\n{intro}\n\n{}\n\n\
         Buka aplikasi MyIntress Satker, menu Verifikasi, untuk memeriksa dan memutuskannya. \
         Tidak ada permintaan yang diputuskan secara otomatis.\n\n\
         Salam,\nMyIntress — Kementerian Keuangan Republik Indonesia\n",
        lines.join("\n")
    );
    mail(mail_kind, to_name, to_email, &subject, body, now)
}
