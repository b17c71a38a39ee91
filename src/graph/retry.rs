//! When and how long to wait before trying Graph again: `Retry-After` when Graph says,
//! capped exponential backoff with jitter when it does not, and never past a step's deadline.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use ring::rand::SecureRandom;
use tokio::time::Instant;

/// Retry limits of the Graph client. The defaults suit production; tests shorten them.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// The longest one directory step (one name query, one create, one grant) may take,
    /// waits and retries included. Past it, the person sees "try again later".
    pub deadline: Duration,
    /// The first wait when Graph gives no `Retry-After`; doubled on every retry.
    pub base_delay: Duration,
    /// The longest wait without `Retry-After`.
    pub max_delay: Duration,
    /// How often a request about a user just created is repeated while Graph answers 404
    /// (replication between directory replicas takes seconds).
    pub max_lag_retries: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            deadline: Duration::from_secs(30),
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(16),
            max_lag_retries: 6,
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `attempt` (1 for the first retry): Graph's `Retry-After`
    /// if given, else `base_delay · 2^(attempt-1)` capped at `max_delay`, each with up to
    /// a fifth of jitter so that parallel sign-ups do not retry in lockstep.
    pub fn wait(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        match retry_after {
            Some(wait) => wait + jitter(wait / 10),
            None => {
                let exponent = attempt.saturating_sub(1).min(16);
                let backoff = self
                    .base_delay
                    .saturating_mul(1 << exponent)
                    .min(self.max_delay);
                backoff - jitter(backoff / 5)
            }
        }
    }

    /// The deadline of a step starting now.
    pub fn start(&self) -> Deadline {
        Deadline(Instant::now() + self.deadline)
    }
}

/// The moment a step gives up.
#[derive(Debug, Clone, Copy)]
pub struct Deadline(Instant);

impl Deadline {
    pub fn remaining(&self) -> Duration {
        self.0.saturating_duration_since(Instant::now())
    }

    /// Whether waiting `wait` still leaves time for another attempt.
    pub fn allows(&self, wait: Duration) -> bool {
        wait < self.remaining()
    }
}

/// `Retry-After` in seconds (what Graph sends) or as an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after(value)
}

/// Parses a `Retry-After` value, also from a `$batch` sub-response's header map.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// A random duration up to `max`. Without randomness (never seen) there is no jitter,
/// which only makes retries less spread out.
fn jitter(max: Duration) -> Duration {
    let mut bytes = [0u8; 4];
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        return Duration::ZERO;
    }
    let fraction = f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX);
    max.mul_f64(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_some_jitter() {
        let policy = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            ..RetryPolicy::default()
        };
        for (attempt, full) in [
            (1, 100),
            (2, 200),
            (3, 400),
            (4, 800),
            (5, 1000),
            (40, 1000),
        ] {
            let wait = policy.wait(attempt, None);
            let full = Duration::from_millis(full);
            assert!(wait <= full && wait >= full * 4 / 5, "{attempt}: {wait:?}");
        }
    }

    #[test]
    fn retry_after_is_honoured_and_never_shortened() {
        let policy = RetryPolicy::default();
        let wait = policy.wait(1, Some(Duration::from_secs(7)));
        assert!(wait >= Duration::from_secs(7) && wait <= Duration::from_millis(7700));
        assert_eq!(parse_retry_after(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}
