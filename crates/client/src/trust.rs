//! The trust list for signed letters on the desktop: the server's certificates
//! (`GET /trust`), kept in the local store so a letter chosen offline gets the same verdict
//! the server gives it (docs/rules.md, "Signed letters"). Asked again at most once an hour.

use chrono::{DateTime, Duration, Utc};
use myintress_core::signature::TrustList;
use serde::{Deserialize, Serialize};

use crate::{Client, ClientResult, store};

const KEY_TRUST: &str = "trust";
/// How long a fetched trust list is used before the server is asked again.
const REFRESH_AFTER: Duration = Duration::hours(1);

#[derive(Serialize, Deserialize)]
struct Stored {
    fetched_at: DateTime<Utc>,
    certificates: Vec<String>,
}

impl Client {
    /// The trust list this desktop last got from the server (empty before the first sync).
    pub async fn trust_list(&self) -> ClientResult<TrustList> {
        let stored = self.stored_trust().await?;
        Ok(TrustList::from_pem(&stored.map(|s| s.certificates).unwrap_or_default()))
    }

    async fn stored_trust(&self) -> ClientResult<Option<Stored>> {
        let json = store::meta(&mut *self.pool.acquire().await?, KEY_TRUST).await?;
        Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
    }

    /// Fetches the server's trust list when the stored one is missing or older than an
    /// hour (part of a sync round).
    pub(crate) async fn refresh_trust(&self) -> ClientResult<()> {
        if self.stored_trust().await?.is_some_and(|s| Utc::now() - s.fetched_at < REFRESH_AFTER) {
            return Ok(());
        }
        let answer = self.online(|token| async move { self.api.trust(&token).await }).await?;
        let stored = Stored { fetched_at: Utc::now(), certificates: answer.certificates };
        store::set_meta(&mut *self.pool.acquire().await?, KEY_TRUST, &serde_json::to_string(&stored).expect("serialises")).await?;
        Ok(())
    }
}
