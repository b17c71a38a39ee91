//! An IP address range in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`, or one address):
//! the proxies whose forwarded headers are believed, and the prefix an IPv6 client is
//! rate-limited by.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why a text is not an address range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IpRangeError {
    #[error("`{0}` is not an IP address (write `192.0.2.1`, `10.0.0.0/8` or `2001:db8::/32`)")]
    Address(String),
    #[error("`{0}` has a prefix length that is not a number up to 32 (IPv4) or 128 (IPv6)")]
    PrefixLength(String),
    #[error("`{0}` has bits set after its prefix; did you mean `{1}`?")]
    HostBits(String, String),
}

/// A network: an address with every bit after the prefix cleared, and the prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpRange {
    network: IpAddr,
    prefix_len: u8,
}

impl IpRange {
    /// `address` or `address/prefix`. Host bits after the prefix are refused: `10.0.0.1/8`
    /// is more likely a typo than a wish for `10.0.0.0/8`.
    pub fn parse(text: &str) -> Result<Self, IpRangeError> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr = address
            .parse()
            .map_err(|_| IpRangeError::Address(text.to_owned()))?;
        let max = max_prefix(address);
        let prefix_len = match prefix {
            None => max,
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|len| *len <= max)
                .ok_or_else(|| IpRangeError::PrefixLength(text.to_owned()))?,
        };
        let range = IpRange::around(address, prefix_len);
        if range.network != address {
            return Err(IpRangeError::HostBits(text.to_owned(), range.to_string()));
        }
        Ok(range)
    }

    /// The network of `prefix_len` bits that holds `address` (capped at the address's
    /// length). An IPv4 address written as IPv6 (`::ffff:192.0.2.1`) counts as IPv4.
    pub fn around(address: IpAddr, prefix_len: u8) -> Self {
        let address = address.to_canonical();
        let prefix_len = prefix_len.min(max_prefix(address));
        let network = match address {
            IpAddr::V4(v4) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(prefix_len))
                    .unwrap_or(0);
                IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask))
            }
            IpAddr::V6(v6) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(prefix_len))
                    .unwrap_or(0);
                IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
            }
        };
        IpRange {
            network,
            prefix_len,
        }
    }

    /// Whether `address` lies in this range.
    pub fn contains(&self, address: IpAddr) -> bool {
        let canonical = address.to_canonical();
        max_prefix(canonical) == max_prefix(self.network)
            && IpRange::around(canonical, self.prefix_len) == *self
    }
}

fn max_prefix(address: IpAddr) -> u8 {
    match address {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

impl std::fmt::Display for IpRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_single_address_is_a_full_length_range() {
        let range = IpRange::parse(" 192.0.2.1 ").unwrap();
        assert_eq!(range.to_string(), "192.0.2.1/32");
        assert!(range.contains(ip("192.0.2.1")));
        assert!(!range.contains(ip("192.0.2.2")));
        assert!(IpRange::parse("::1").unwrap().contains(ip("::1")));
    }

    #[test]
    fn networks_contain_their_addresses_and_no_others() {
        let v4 = IpRange::parse("10.0.0.0/8").unwrap();
        assert!(v4.contains(ip("10.255.1.2")));
        assert!(v4.contains(ip("::ffff:10.1.2.3")), "IPv4-mapped IPv6");
        assert!(!v4.contains(ip("11.0.0.1")));
        assert!(!v4.contains(ip("::a00:1")), "IPv6 is not IPv4");
        let v6 = IpRange::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8:ffff::1")));
        assert!(!v6.contains(ip("2001:db9::1")));
        assert!(
            IpRange::parse("0.0.0.0/0")
                .unwrap()
                .contains(ip("203.0.113.9"))
        );
    }

    #[test]
    fn invalid_ranges_are_refused_with_the_reason() {
        let cases = [
            ("", "empty"),
            ("proxy.example", "a host name"),
            ("10.0.0.0/33", "prefix too long"),
            ("2001:db8::/129", "prefix too long"),
            ("10.0.0.0/x", "prefix not a number"),
            ("10.0.0.0/", "prefix missing"),
            ("10.0.0.1/8", "host bits set"),
        ];
        for (text, why) in cases {
            assert!(IpRange::parse(text).is_err(), "{text:?} ({why})");
        }
        assert_eq!(
            IpRange::parse("10.0.0.1/8"),
            Err(IpRangeError::HostBits(
                "10.0.0.1/8".into(),
                "10.0.0.0/8".into()
            ))
        );
    }

    #[test]
    fn around_masks_to_the_prefix() {
        let a = IpRange::around(ip("2001:db8:1:2:aaaa::1"), 64);
        let b = IpRange::around(ip("2001:db8:1:2::ffff"), 64);
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "2001:db8:1:2::/64");
        assert_ne!(a, IpRange::around(ip("2001:db8:1:3::1"), 64));
        let v4 = IpRange::around(ip("192.0.2.7"), 64);
        assert_eq!(
            v4.to_string(),
            "192.0.2.7/32",
            "IPv4 keeps its full address"
        );
        assert_eq!(IpRange::around(ip("::ffff:192.0.2.7"), 64), v4);
    }
}
