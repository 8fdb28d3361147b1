//! Uploaded PDFs: checked in a child process with limits, then stored in an object store
//! (a folder, or an S3-compatible bucket shared by every replica) under their SHA-256,
//! never inside the database.
//!
//! Objects are written only by a write transaction that has checked and authorized
//! everything (`registry`), under the document's lock. A transaction that fails after the
//! write leaves an object no row names; [`collect_garbage`] removes those once they are
//! older than a grace period, under the same lock, so it never races a new upload of the
//! same content.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};
use sha2::{Digest, Sha256};

use crate::store::{LockKey, Store};

/// The SHA-256 of some bytes, in lower-case hex: a document's name.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Why the document store did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// The volume of a `file://` store is full (or over quota): nothing was written.
    #[error("ruang penyimpanan dokumen penuh: {0:#}")]
    Full(anyhow::Error),
    /// An `s3://` store did not answer in time (away, restarting, refusing): retry later.
    #[error("penyimpanan dokumen tidak dapat dihubungi: {0:#}")]
    Unavailable(anyhow::Error),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl DocumentError {
    /// Sorts a failure of the object store by what the caller can do about it.
    fn of(e: impl Into<anyhow::Error>, remote: bool) -> DocumentError {
        let e: anyhow::Error = e.into();
        let full = e.chain().any(|cause| {
            cause
                .downcast_ref::<std::io::Error>()
                .is_some_and(|io| matches!(io.kind(), std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded))
        });
        let missing = e.chain().any(|c| matches!(c.downcast_ref::<object_store::Error>(), Some(object_store::Error::NotFound { .. })));
        if full {
            DocumentError::Full(e)
        } else if remote && !missing {
            // Every other failure of a remote store (connection refused or cut, time-outs,
            // 5xx after its retries) is the store being away from here.
            DocumentError::Unavailable(e)
        } else {
            DocumentError::Other(e)
        }
    }
}

/// How long one request to an `s3://` store may take, retries included, before the store
/// counts as away: a request then answers `503` instead of holding its transaction.
const REMOTE_CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);
const REMOTE_REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
const REMOTE_RETRY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(6);

/// Where documents live: `<prefix>/<first two hex>/<sha256>.pdf` in an object store.
#[derive(Clone)]
pub struct DocumentStore {
    objects: Arc<dyn ObjectStore>,
    prefix: ObjectPath,
    /// The folder of a `file://` store: each write is made durable there (file and
    /// folders synced), as an S3 store's answer already is.
    local: Option<PathBuf>,
    url: String,
}

/// One stored object, as the garbage collector sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub sha256: String,
    pub last_modified: DateTime<Utc>,
}

impl DocumentStore {
    /// Opens `file:///folder` (created if missing) or `s3://bucket/prefix` (endpoint,
    /// region and credentials from the standard `AWS_*` variables).
    pub fn open(url: &url::Url) -> Result<DocumentStore> {
        match url.scheme() {
            "file" => {
                let dir = url.to_file_path().map_err(|_| anyhow::anyhow!("{url}: bukan jalur berkas absolut"))?;
                std::fs::create_dir_all(&dir).with_context(|| format!("membuat {}", dir.display()))?;
                let objects = object_store::local::LocalFileSystem::new_with_prefix(&dir)?;
                Ok(DocumentStore { objects: Arc::new(objects), prefix: ObjectPath::default(), local: Some(dir), url: url.to_string() })
            }
            "s3" => {
                let bucket = url.host_str().filter(|b| !b.is_empty()).with_context(|| format!("{url}: nama bucket kosong"))?;
                use object_store::ClientConfigKey;
                use object_store::aws::AmazonS3ConfigKey;
                let mut builder = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket);
                // Our time-outs, unless the environment (`AWS_CONNECT_TIMEOUT`, `AWS_TIMEOUT`) sets its own.
                for (key, value) in
                    [(ClientConfigKey::ConnectTimeout, REMOTE_CONNECT_TIMEOUT), (ClientConfigKey::Timeout, REMOTE_REQUEST_TIMEOUT)]
                {
                    let key = AmazonS3ConfigKey::Client(key);
                    if builder.get_config_value(&key).is_none() {
                        builder = builder.with_config(key, format!("{}s", value.as_secs()));
                    }
                }
                let objects = builder
                    .with_retry(object_store::RetryConfig { max_retries: 3, retry_timeout: REMOTE_RETRY_TIMEOUT, ..Default::default() })
                    .build()?;
                let prefix = ObjectPath::from(url.path().trim_matches('/'));
                Ok(DocumentStore { objects: Arc::new(objects), prefix, local: None, url: url.to_string() })
            }
            other => bail!("--documents-url: skema {other} tidak didukung (file:// atau s3://)"),
        }
    }

    /// The store's address, for logs.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn key(&self, sha256: &str) -> ObjectPath {
        self.prefix.clone().join(&sha256[..2]).join(format!("{sha256}.pdf"))
    }

    /// Writes the bytes under their SHA-256. Always written (also when the same content is
    /// there), which renews the object's time so the garbage collector's grace period
    /// starts again.
    fn fault(&self, e: impl Into<anyhow::Error>) -> DocumentError {
        DocumentError::of(e, self.local.is_none())
    }

    /// Writes the bytes under their SHA-256. Always written (also when the same content is
    /// there), which renews the object's time so the garbage collector's grace period
    /// starts again. A full volume leaves no partial object under the name (the local
    /// store writes a staging file and renames it; a failed write removes the staging file).
    pub async fn put(&self, sha256: &str, bytes: &[u8]) -> Result<(), DocumentError> {
        let key = self.key(sha256);
        self.objects
            .put(&key, bytes.to_vec().into())
            .await
            .map_err(|e| self.fault(anyhow::Error::new(e).context(format!("menyimpan dokumen {key}"))))?;
        if let Some(dir) = &self.local {
            let path = dir.join(&sha256[..2]).join(format!("{sha256}.pdf"));
            tokio::task::spawn_blocking(move || sync_durably(&path))
                .await
                .map_err(anyhow::Error::from)?
                .map_err(|e| self.fault(anyhow::Error::new(e).context(format!("menyinkronkan dokumen {key}"))))?;
        }
        Ok(())
    }

    pub async fn get(&self, sha256: &str) -> Result<Vec<u8>, DocumentError> {
        let key = self.key(sha256);
        let read = async {
            let found = self.objects.get(&key).await?;
            Ok::<_, object_store::Error>(found.bytes().await?.to_vec())
        };
        read.await.map_err(|e| self.fault(anyhow::Error::new(e).context(format!("membaca dokumen {key}"))))
    }

    pub async fn delete(&self, sha256: &str) -> Result<(), DocumentError> {
        let key = self.key(sha256);
        self.objects.delete(&key).await.map_err(|e| self.fault(anyhow::Error::new(e).context(format!("menghapus dokumen {key}"))))?;
        Ok(())
    }

    /// One round trip to the store (for `/readyz`): a name no document has is looked up;
    /// "not found" is the healthy answer.
    pub async fn probe(&self) -> Result<(), DocumentError> {
        let key = self.prefix.clone().join("readyz-probe");
        match self.objects.head(&key).await {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.fault(e)),
        }
    }

    /// Every document object under the prefix (other names are not ours and are left).
    pub async fn list(&self) -> Result<Vec<StoredObject>, DocumentError> {
        let prefix = (!self.prefix.as_ref().is_empty()).then_some(&self.prefix);
        let metas: Vec<object_store::ObjectMeta> = self.objects.list(prefix).try_collect().await.map_err(|e| self.fault(e))?;
        Ok(metas
            .into_iter()
            .filter_map(|m| {
                let name = m.location.filename()?.strip_suffix(".pdf")?.to_owned();
                let is_sha = name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
                is_sha.then_some(StoredObject { sha256: name, last_modified: m.last_modified })
            })
            .collect())
    }
}

/// Syncs a file just renamed into place, its folder and the folder above (which may have
/// just gained that folder), so the name survives a power cut, not only its bytes.
fn sync_durably(path: &Path) -> std::io::Result<()> {
    std::fs::File::open(path)?.sync_all()?;
    #[cfg(unix)]
    {
        let mut dir = path.parent();
        for _ in 0..2 {
            let Some(d) = dir else { break };
            std::fs::File::open(d)?.sync_all()?;
            dir = d.parent();
        }
    }
    Ok(())
}

/// What a garbage-collection round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Collected {
    pub examined: usize,
    pub removed: usize,
}

/// Removes document objects that no row names and that are older than `grace` (an
/// upload whose transaction failed, or a crash between upload and commit). Each removal
/// re-checks under the document's lock inside a write transaction, so an upload of the
/// same content that is committing now keeps its object.
pub async fn collect_garbage(
    store: &dyn Store,
    documents: &DocumentStore,
    grace: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<Collected> {
    let objects = documents.list().await?;
    let referenced = store.read().await?.referenced_documents().await?;
    let mut collected = Collected { examined: objects.len(), removed: 0 };
    for object in objects {
        if referenced.contains(&object.sha256) || object.last_modified > now - grace {
            continue;
        }
        let mut tx = store.write().await?;
        tx.lock(LockKey::Document(&object.sha256)).await?;
        if tx.document_referenced(&object.sha256).await? {
            continue;
        }
        documents.delete(&object.sha256).await?;
        tx.commit().await?;
        tracing::info!(sha256 = %object.sha256, "unreferenced document removed");
        collected.removed += 1;
    }
    Ok(collected)
}

/// The letter check in a child process (`<program> check-pdf`) with limits.
pub use myintress_pdfcheck::PdfChecker;
