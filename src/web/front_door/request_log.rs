//! Request ids: each request gets one, in its log line, in every line logged on its way (a
//! span), and in the `X-Request-Id` header, so a person's error can be found in the log.

use std::sync::atomic::{AtomicU64, Ordering};

use ring::rand::{SecureRandom, SystemRandom};

/// Hands out distinct request ids without a system call per request: a random start, then
/// steps of an odd constant, which visit every 64-bit value once before repeating.
pub struct RequestIds {
    start: u64,
    issued: AtomicU64,
}

impl Default for RequestIds {
    fn default() -> Self {
        Self::new()
    }
}

impl RequestIds {
    /// Ids starting at a random point.
    pub fn new() -> Self {
        let mut seed = [0u8; 8];
        // Without randomness, ids still differ within a run; only runs may repeat them.
        let _ = SystemRandom::new().fill(&mut seed);
        RequestIds {
            start: u64::from_le_bytes(seed),
            issued: AtomicU64::new(0),
        }
    }

    /// The next id, 16 hex digits.
    pub fn next(&self) -> String {
        const STEP: u64 = 0x9E37_79B9_7F4A_7C15;
        let n = self.issued.fetch_add(1, Ordering::Relaxed);
        format!("{:016x}", self.start.wrapping_add(n.wrapping_mul(STEP)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_distinct_and_sixteen_hex_digits() {
        let ids = RequestIds::new();
        let issued: std::collections::HashSet<String> = (0..10_000).map(|_| ids.next()).collect();
        assert_eq!(issued.len(), 10_000);
        assert!(
            issued
                .iter()
                .all(|id| id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()))
        );
    }
}
