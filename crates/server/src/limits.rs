//! Per-address rate limits. Each replica keeps its own, in memory; the lockout, which is
//! what stops password guessing, is counted in the database and shared.

use std::net::IpAddr;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Per-address rate limits for the sign-in endpoints. Each replica keeps its own (in
/// memory); the lockout, which is what stops password guessing, is counted in the
/// database and shared.
pub struct Limits {
    auth: DefaultKeyedRateLimiter<IpAddr>,
}

impl Limits {
    pub fn new() -> Self {
        // 10 requests a second with a burst of 60 per address: a person never notices,
        // a password-guessing script is slowed to a crawl (the lockout stops it).
        let quota =
            Quota::per_second(std::num::NonZeroU32::new(10).expect("nonzero")).allow_burst(std::num::NonZeroU32::new(60).expect("nonzero"));
        Limits { auth: RateLimiter::keyed(quota) }
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
    }

    /// How many addresses the limiter tracks now.
    pub fn tracked(&self) -> usize {
        self.auth.len()
    }
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
