//! Who an access token belongs to, remembered for a few seconds (`--session-cache-seconds`,
//! 5 by default; 0 turns it off), so a signed-in request reads the database once, for
//! what it asked, instead of three times (session, account, memberships) before it.
//!
//! What the cache may delay, and by how much:
//! - On the replica that made a change, nothing: every change that ends sessions or
//!   changes a caller's scope (sign-out, a password set or changed, an account disabled
//!   or moved to another KPPN, a membership decided, marked dormant or deleted) forgets
//!   the person's (or the session family's) entries when it commits.
//! - On the other replicas, at most the cache's lifetime: they cannot hear the change, so
//!   an entry they hold stays until it is that old. A disabled account or a sign-out
//!   therefore takes effect everywhere within `--session-cache-seconds`.
//! - Refusals are never remembered: a request that fails is asked again next time.
//!
//! An entry's age counts from before the read that filled it, and it never outlives its
//! access token.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::registry::Caller;
use crate::session::SignedIn;

/// How many signed-in sessions one replica remembers at most (the least used go first).
const CAPACITY: usize = 20_000;

/// The remembered answer for one access token.
#[derive(Debug)]
pub struct Entry {
    pub signed_in: SignedIn,
    /// The caller and its scope, once a membership endpoint resolved it (`None` for an
    /// administrator, or before).
    pub caller: Option<Caller>,
    session_expires_at: DateTime<Utc>,
    cached_at: Instant,
}

/// Taken before a database read: an answer read across a forget is not remembered (see
/// [`SessionCache::put`]), and an entry's age counts from before its read, so a change
/// committed while it was read is seen within the lifetime of the commit.
#[derive(Debug, Clone, Copy)]
pub struct Ticket {
    forgets: u64,
    at: Instant,
}

/// The cache, keyed by the access token's SHA-256 (as the sessions table is).
pub struct SessionCache {
    entries: Option<quick_cache::sync::Cache<String, Arc<Entry>>>,
    lifetime: Duration,
    /// Counts forgets, so a read that raced one does not put back what it forgot.
    forgets: AtomicU64,
}

impl SessionCache {
    /// A cache whose entries live `lifetime`; a zero lifetime remembers nothing.
    pub fn new(lifetime: Duration) -> SessionCache {
        let entries = (!lifetime.is_zero()).then(|| quick_cache::sync::Cache::new(CAPACITY));
        SessionCache { entries, lifetime, forgets: AtomicU64::new(0) }
    }

    /// The remembered answer for a token hash, if it is younger than the lifetime and its
    /// token has not expired.
    pub fn get(&self, token_hash: &str) -> Option<Arc<Entry>> {
        let entries = self.entries.as_ref()?;
        let entry = entries.get(token_hash)?;
        if entry.cached_at.elapsed() >= self.lifetime || entry.session_expires_at <= Utc::now() {
            entries.remove(token_hash);
            return None;
        }
        Some(entry)
    }

    /// Taken before reading the session from the database.
    pub fn ticket(&self) -> Ticket {
        Ticket { forgets: self.forgets.load(Ordering::SeqCst), at: Instant::now() }
    }

    /// Remembers what was read since `ticket`, unless something was forgotten meanwhile
    /// (the read may predate that change).
    pub fn put(&self, ticket: Ticket, token_hash: String, signed_in: SignedIn, caller: Option<Caller>, session_expires_at: DateTime<Utc>) {
        let Some(entries) = &self.entries else { return };
        let entry = Entry { signed_in, caller, session_expires_at, cached_at: ticket.at };
        entries.insert(token_hash.clone(), Arc::new(entry));
        // Inserted first, checked after: a forget that counted before this check makes us
        // take it out again; one that counts after it runs its own sweep after our insert.
        if self.forgets.load(Ordering::SeqCst) != ticket.forgets {
            entries.remove(&token_hash);
        }
    }

    /// Forgets every session of a person (on this replica).
    pub fn forget_person(&self, nik: &str) {
        self.forget(|entry| entry.signed_in.account.nik == nik);
    }

    /// Forgets every access token of a session family (on this replica).
    pub fn forget_family(&self, family_id: &str) {
        self.forget(|entry| entry.signed_in.family_id == family_id);
    }

    /// Forgets every session (on this replica): for a change made to the database
    /// beside the server, such as a test's.
    pub fn forget_all(&self) {
        self.forget(|_| true);
    }

    fn forget(&self, matches: impl Fn(&Entry) -> bool) {
        self.forgets.fetch_add(1, Ordering::SeqCst);
        if let Some(entries) = &self.entries {
            entries.retain(|_, entry| !matches(entry));
        }
    }

    /// How many entries are held now (for tests and metrics).
    pub fn len(&self) -> usize {
        self.entries.as_ref().map_or(0, |e| e.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration as Span;
    use myintress_core::api::Role;

    use super::*;
    use crate::store::AccountRow;

    fn signed_in(nik: &str, family: &str) -> SignedIn {
        let account = AccountRow {
            nik: nik.into(),
            name: "Uji".into(),
            email: String::new(),
            nip: None,
            password_hash: None,
            role: Role::Kppn,
            kppn_code: Some("019".into()),
            created_at: Utc::now(),
            last_sign_in_at: None,
            disabled_at: None,
            supervisor: false,
        };
        SignedIn { account, family_id: family.into() }
    }

    #[test]
    fn entries_live_no_longer_than_the_lifetime_or_the_token() {
        let later = Utc::now() + Span::minutes(15);
        let cache = SessionCache::new(Duration::from_secs(60));
        cache.put(cache.ticket(), "a".into(), signed_in("1", "f1"), None, later);
        cache.put(cache.ticket(), "b".into(), signed_in("2", "f2"), None, Utc::now() - Span::seconds(1));
        assert!(cache.get("a").is_some());
        assert!(cache.get("b").is_none(), "an expired token is never served from the cache");
        let short = SessionCache::new(Duration::from_millis(50));
        short.put(short.ticket(), "a".into(), signed_in("1", "f1"), None, later);
        std::thread::sleep(Duration::from_millis(100));
        assert!(short.get("a").is_none(), "older than the lifetime: read again");
        let off = SessionCache::new(Duration::ZERO);
        off.put(off.ticket(), "a".into(), signed_in("1", "f1"), None, later);
        assert!(off.get("a").is_none(), "a zero lifetime remembers nothing");
    }

    #[test]
    fn forgetting_a_person_or_a_family_takes_their_entries_only() {
        let cache = SessionCache::new(Duration::from_secs(60));
        let later = Utc::now() + Span::minutes(15);
        cache.put(cache.ticket(), "a".into(), signed_in("1", "f1"), None, later);
        cache.put(cache.ticket(), "b".into(), signed_in("1", "f2"), None, later);
        cache.put(cache.ticket(), "c".into(), signed_in("2", "f3"), None, later);
        cache.forget_family("f1");
        assert!(cache.get("a").is_none());
        assert!(cache.get("b").is_some());
        cache.forget_person("1");
        assert!(cache.get("b").is_none());
        assert!(cache.get("c").is_some());
    }

    #[test]
    fn a_read_that_raced_a_forget_is_not_remembered() {
        let cache = SessionCache::new(Duration::from_secs(60));
        let ticket = cache.ticket();
        // The database was read here, then someone signed out...
        cache.forget_family("f1");
        // ...and the stale answer arrives.
        cache.put(ticket, "a".into(), signed_in("1", "f1"), None, Utc::now() + Span::minutes(15));
        assert!(cache.get("a").is_none());
        assert!(cache.is_empty());
    }
}
