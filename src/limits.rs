//! Hourly rate limits keyed by client address or e-mail address (`governor`).

use std::hash::Hash;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// At most `per_hour` events per key in any hour, refilled evenly.
pub struct HourlyLimit<K: Hash + Eq + Clone> {
    limiter: DefaultKeyedRateLimiter<K>,
    clock: DefaultClock,
}

impl<K: Hash + Eq + Clone> std::fmt::Debug for HourlyLimit<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HourlyLimit")
            .field("keys", &self.limiter.len())
            .finish()
    }
}

impl<K: Hash + Eq + Clone> HourlyLimit<K> {
    pub fn new(per_hour: u32) -> Self {
        let burst = NonZeroU32::new(per_hour.max(1)).expect("max(1) is never zero");
        HourlyLimit {
            limiter: RateLimiter::keyed(Quota::per_hour(burst)),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one event for `key`; `Err` holds how long to wait before the next is allowed.
    pub fn check(&self, key: &K) -> Result<(), Duration> {
        self.limiter
            .check_key(key)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Forgets keys whose limit has fully recovered, so memory stays bounded.
    pub fn prune(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// `Retry-After` in whole seconds, at least one.
pub fn retry_after_secs(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quota_is_per_key() {
        let limit = HourlyLimit::new(2);
        assert!(limit.check(&"a").is_ok());
        assert!(limit.check(&"a").is_ok());
        let wait = limit.check(&"a").unwrap_err();
        assert!(
            wait > Duration::from_secs(1700) && wait <= Duration::from_secs(1800),
            "{wait:?}"
        );
        assert!(limit.check(&"b").is_ok(), "another key has its own quota");
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(3)), 3);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }
}
