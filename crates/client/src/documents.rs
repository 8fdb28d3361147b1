//! Cached PDFs: files named by their SHA-256 in the cache folder, never in SQLite. A
//! letter chosen for a registration is copied here before the action is queued; letters of
//! pending registrations are fetched ahead so a verifier can review offline.
//!
//! Each file is encrypted (XChaCha20-Poly1305 under the data folder's key, a random nonce
//! per file, the SHA-256 as associated data so files cannot be swapped): a letter holds a
//! person's NIK and signature, and the folder may be copied off a laptop.

use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

/// The first bytes of an encrypted cached letter (format version 1).
const MAGIC: &[u8; 8] = b"MIDOK\0\0\x01";
const NONCE_LEN: usize = 24;

#[derive(Clone)]
pub struct DocumentCache {
    dir: PathBuf,
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for DocumentCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentCache").field("dir", &self.dir).finish_non_exhaustive()
    }
}

impl DocumentCache {
    /// The cache in `dir`, encrypted with `key`.
    pub fn new(dir: PathBuf, key: &[u8; 32]) -> std::io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        Ok(DocumentCache { dir, cipher: XChaCha20Poly1305::new(key.into()) })
    }

    /// Seals the letters an older version cached in the clear (each checked against its
    /// name first; anything else is left as it is).
    pub fn seal_plaintext_files(&self) -> std::io::Result<()> {
        for entry in std::fs::read_dir(&self.dir)? {
            let path = entry?.path();
            let Some(sha) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".pdf")) else { continue };
            let bytes = std::fs::read(&path)?;
            if !bytes.starts_with(MAGIC) && hex::encode(Sha256::digest(&bytes)) == sha {
                let tmp = self.dir.join(format!(".{sha}.{}.tmp", uuid::Uuid::new_v4()));
                std::fs::write(&tmp, self.seal(sha, &bytes)?)?;
                std::fs::File::open(&tmp)?.sync_all()?;
                std::fs::rename(&tmp, &path)?;
            }
        }
        Ok(())
    }

    fn seal(&self, sha256: &str, bytes: &[u8]) -> std::io::Result<Vec<u8>> {
        let nonce: [u8; NONCE_LEN] = rand::random();
        let sealed = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: bytes, aad: sha256.as_bytes() })
            .map_err(|_| std::io::Error::other("enkripsi dokumen gagal"))?;
        Ok([MAGIC.as_slice(), &nonce, &sealed].concat())
    }

    fn open(&self, sha256: &str, file: &[u8]) -> std::io::Result<Vec<u8>> {
        let unreadable = || std::io::Error::new(std::io::ErrorKind::InvalidData, "dokumen tersimpan tidak dapat dibuka dengan kunci ini");
        let rest = file.strip_prefix(MAGIC.as_slice()).filter(|r| r.len() >= NONCE_LEN).ok_or_else(unreadable)?;
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        self.cipher.decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad: sha256.as_bytes() }).map_err(|_| unreadable())
    }

    pub fn path(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!("{sha256}.pdf"))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes and syncs the bytes under their SHA-256 (temporary name, then rename), so a
    /// crash never leaves a half-written file under the final name.
    pub async fn save(&self, bytes: &[u8]) -> std::io::Result<String> {
        let sha = hex::encode(Sha256::digest(bytes));
        let path = self.path(&sha);
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return Ok(sha);
        }
        let tmp = self.dir.join(format!(".{sha}.{}.tmp", uuid::Uuid::new_v4()));
        let mut file = tokio::fs::File::create(&tmp).await?;
        file.write_all(&self.seal(&sha, bytes)?).await?;
        file.sync_all().await?;
        drop(file);
        tokio::fs::rename(&tmp, &path).await?;
        Ok(sha)
    }

    /// The letter's bytes, decrypted. A file this key does not open (or whose content was
    /// changed) is an `InvalidData` error, never wrong bytes.
    pub async fn read(&self, sha256: &str) -> std::io::Result<Vec<u8>> {
        let file = tokio::fs::read(self.path(sha256)).await?;
        self.open(sha256, &file)
    }

    pub async fn remove(&self, sha256: &str) {
        let _ = tokio::fs::remove_file(self.path(sha256)).await;
    }
}
