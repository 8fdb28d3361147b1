//! Outgoing mail: the activation e-mail, over SMTP (`--smtp-url`) or written as `.eml`
//! files (`--mail-dir`) for development and tests. With neither set, mail is logged only.

use std::path::PathBuf;

use anyhow::{Context, Result};
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

    /// Sends the activation link for a newly created DIGIT account.
    pub async fn send_activation(&self, to_name: &str, to_email: &str, link: &str, hours: i64) -> Result<()> {
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
        self.send(to_name, to_email, "Aktivasi akun MyIntress", body).await
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
                tracing::warn!(subject, "no mail transport configured; e-mail not sent");
            }
        }
        Ok(())
    }
}
