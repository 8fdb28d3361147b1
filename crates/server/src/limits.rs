//! Per-address rate limits. Each replica keeps its own, in memory; the lockout, which is
//! what stops password guessing, is counted in the database and shared.

use std::net::IpAddr;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Per-address rate limits for the sign-in endpoints. Each replica keeps its own (in
/// memory); the lockout, which is what stops password guessing, is counted in the
/// database and shared.
pub struct Limits {
    auth: DefaultKeyedRateLimiter<IpAddr>,
    captcha: DefaultKeyedRateLimiter<IpAddr>,
    /// Per account: DIGIT lookups (personal data of others).
    lookups: DefaultKeyedRateLimiter<String>,
    /// Per account: name mismatches that still show their score (the score is an oracle a
    /// script could climb towards the registry's spelling).
    name_scores: DefaultKeyedRateLimiter<String>,
}

impl Limits {
    pub fn new() -> Self {
        // 10 requests a second with a burst of 60 per address: a person never notices,
        // a password-guessing script is slowed to a crawl (the lockout stops it).
        let quota = Quota::per_second(nonzero(10)).allow_burst(nonzero(60));
        // A captcha costs an image's CPU and no write: 2 a second with a burst of 20 per
        // address is more than a person reloading it ever needs.
        let captcha = Quota::per_second(nonzero(2)).allow_burst(nonzero(20));
        // A form's "Cari" now and then: 30 at once, then one every 6 s.
        let lookups = Quota::per_minute(nonzero(10)).allow_burst(nonzero(30));
        // A person fixing a typo (the form checks while the name is typed, so a half-typed
        // name is a miss too) sees the score and the per-word explanation; a script trying
        // names learns nothing after thirty: one more a minute.
        let name_scores = Quota::per_minute(nonzero(1)).allow_burst(nonzero(30));
        Limits {
            auth: RateLimiter::keyed(quota),
            captcha: RateLimiter::keyed(captcha),
            lookups: RateLimiter::keyed(lookups),
            name_scores: RateLimiter::keyed(name_scores),
        }
    }

    /// Whether `account` may look up another DIGIT account now.
    pub fn allow_lookup(&self, account: &str) -> bool {
        self.lookups.check_key(&account.to_owned()).is_ok()
    }

    /// Whether a name mismatch of `account` may still show its score.
    pub fn allow_name_score(&self, account: &str) -> bool {
        self.name_scores.check_key(&account.to_owned()).is_ok()
    }

    /// Whether a captcha request from `client` is within its address's budget.
    pub fn allow_captcha(&self, client: IpAddr) -> bool {
        self.captcha.check_key(&limit_key(client)).is_ok()
    }

    /// Whether a sign-in request from `client` is within its address's budget.
    pub fn allow_auth(&self, client: IpAddr) -> bool {
        self.auth.check_key(&limit_key(client)).is_ok()
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::new()
    }
}

impl Limits {
    /// Forgets addresses whose bucket is full again, so the table does not grow with every
    /// address ever seen.
    pub fn prune(&self) {
        self.auth.retain_recent();
        self.auth.shrink_to_fit();
        self.captcha.retain_recent();
        self.captcha.shrink_to_fit();
        self.lookups.retain_recent();
        self.name_scores.retain_recent();
    }

    /// How many addresses the limiter tracks now.
    pub fn tracked(&self) -> usize {
        self.auth.len() + self.captcha.len()
    }
}

/// A quota's count, written as a number.
fn nonzero(n: u32) -> std::num::NonZeroU32 {
    std::num::NonZeroU32::new(n).expect("a quota counts at least one")
}

/// What the rate limiter counts by: an IPv4 address, or an IPv6 address's /64 (one
/// subscriber's network; a host picks any address in it at will).
pub fn limit_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & (u128::MAX << 64);
            IpAddr::V6(std::net::Ipv6Addr::from(bits))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_share_a_bucket_per_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:ffff:ffff:ffff".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(limit_key(a), limit_key(b));
        assert_ne!(limit_key(a), limit_key(other));
        let v4: IpAddr = "198.51.100.7".parse().unwrap();
        assert_eq!(limit_key(v4), v4);
    }
}
