//! Request ids: each request gets one, in its log line, in every line logged on its way (a
//! span), and in the `X-Request-Id` header, so a person's error can be found in the log.

use std::sync::atomic::{AtomicU64, Ordering};

use poem::http::HeaderValue;
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

    /// The next id.
    pub fn next(&self) -> RequestId {
        const STEP: u64 = 0x9E37_79B9_7F4A_7C15;
        let n = self.issued.fetch_add(1, Ordering::Relaxed);
        RequestId::new(self.start.wrapping_add(n.wrapping_mul(STEP)))
    }
}

/// One request's id: 16 lower-case hex digits, kept on the stack (formatting it into a
/// `String` showed up in the per-request profile).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestId([u8; 16]);

impl RequestId {
    fn new(value: u64) -> Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut digits = [0u8; 16];
        for (i, digit) in digits.iter_mut().enumerate() {
            *digit = HEX[((value >> (60 - 4 * i)) & 0xf) as usize];
        }
        RequestId(digits)
    }

    /// The 16 hex digits.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("hex digits are ASCII")
    }

    /// The `X-Request-Id` header value.
    pub fn header_value(&self) -> HeaderValue {
        HeaderValue::from_bytes(&self.0).expect("hex digits are a valid header value")
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Debug for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_distinct_and_sixteen_hex_digits() {
        let ids = RequestIds::new();
        let issued: std::collections::HashSet<String> =
            (0..10_000).map(|_| ids.next().to_string()).collect();
        assert_eq!(issued.len(), 10_000);
        assert!(
            issued
                .iter()
                .all(|id| id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()))
        );
    }

    #[test]
    fn an_id_is_its_value_in_hex_with_leading_zeros() {
        assert_eq!(RequestId::new(0xab).as_str(), "00000000000000ab");
        assert_eq!(RequestId::new(u64::MAX).to_string(), "ffffffffffffffff");
        let id = RequestId::new(0x0123_4567_89ab_cdef);
        assert_eq!(id.header_value(), "0123456789abcdef");
    }
}
