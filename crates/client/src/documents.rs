//! Cached PDFs: files named by their SHA-256 in the cache folder, never in SQLite. A
//! letter chosen for a registration is copied here before the action is queued; letters of
//! pending registrations are fetched ahead so a verifier can review offline.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

#[derive(Debug, Clone)]
pub struct DocumentCache {
    dir: PathBuf,
}

impl DocumentCache {
    pub fn new(dir: PathBuf) -> std::io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        Ok(DocumentCache { dir })
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
        file.write_all(bytes).await?;
        file.sync_all().await?;
        drop(file);
        tokio::fs::rename(&tmp, &path).await?;
        Ok(sha)
    }

    pub async fn read(&self, sha256: &str) -> std::io::Result<Vec<u8>> {
        tokio::fs::read(self.path(sha256)).await
    }

    pub async fn remove(&self, sha256: &str) {
        let _ = tokio::fs::remove_file(self.path(sha256)).await;
    }
}
