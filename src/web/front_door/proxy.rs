//! `REVERSE_PROXY_COUNT`: trust exactly n hops of `X-Forwarded-For/-Proto/-Host/-Port/-Prefix`,
//! as werkzeug's ProxyFix does: of each header's comma-separated values the n-th from the
//! right is the one the nearest trusted proxy saw; with fewer values the header is ignored,
//! so values a client adds in front are never believed. With `TRUSTED_PROXIES` set, only a
//! connection from one of those proxies has its headers read at all.

use std::net::IpAddr;

use poem::http::HeaderMap;

use crate::domain::IpRange;
use crate::web::paths::Links;

/// Whose forwarded headers count, and how many hops of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyTrust {
    /// `REVERSE_PROXY_COUNT`.
    hops: usize,
    /// `TRUSTED_PROXIES`; empty believes every peer.
    proxies: Vec<IpRange>,
}

impl ProxyTrust {
    pub fn new(hops: usize, proxies: Vec<IpRange>) -> Self {
        ProxyTrust { hops, proxies }
    }

    /// The hops to believe on a connection from `peer`: none unless it is a trusted proxy.
    pub fn hops_from(&self, peer: Option<IpAddr>) -> usize {
        let trusted = self.proxies.is_empty()
            || peer.is_some_and(|peer| self.proxies.iter().any(|range| range.contains(peer)));
        if trusted { self.hops } else { 0 }
    }

    /// Headers are believed from anyone who reaches the port: worth a warning at start-up.
    pub fn trusts_anyone(&self) -> bool {
        self.hops > 0 && self.proxies.is_empty()
    }
}

/// What the request looks like from outside the proxies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInfo {
    /// The client's address (the socket's peer when no proxy is trusted).
    pub ip: Option<IpAddr>,
    pub scheme: Option<String>,
    pub host: Option<String>,
    pub port: Option<String>,
    /// The path prefix the service is reached at; links are built under it.
    pub links: Links,
}

/// The value the n-th trusted proxy set, if the header has at least `trusted` values.
fn trusted_value(headers: &HeaderMap, name: &str, trusted: usize) -> Option<String> {
    if trusted == 0 {
        return None;
    }
    // Several header lines count as one comma-separated list, in order.
    let values: Vec<String> = headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().to_owned())
        .collect();
    (values.len() >= trusted)
        .then(|| values[values.len() - trusted].clone())
        .filter(|v| !v.is_empty())
}

/// Resolves the client's view from the peer address and the trusted headers.
pub fn resolve(
    headers: &HeaderMap,
    peer: Option<IpAddr>,
    trust: &ProxyTrust,
    default_prefix: &str,
) -> ClientInfo {
    let trusted = trust.hops_from(peer);
    let forwarded_ip =
        trusted_value(headers, "x-forwarded-for", trusted).and_then(|v| v.parse::<IpAddr>().ok());
    let prefix = trusted_value(headers, "x-forwarded-prefix", trusted)
        .unwrap_or_else(|| default_prefix.to_owned());
    ClientInfo {
        ip: forwarded_ip.or(peer),
        scheme: trusted_value(headers, "x-forwarded-proto", trusted),
        host: trusted_value(headers, "x-forwarded-host", trusted),
        port: trusted_value(headers, "x-forwarded-port", trusted),
        links: Links::new(&prefix),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    const PEER: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1)));

    fn hops(n: usize) -> ProxyTrust {
        ProxyTrust::new(n, Vec::new())
    }

    #[test]
    fn only_a_trusted_peer_has_its_headers_believed() {
        let h = headers(&[("x-forwarded-for", "1.2.3.4"), ("x-forwarded-prefix", "/x")]);
        let ranges = |list: &[&str]| list.iter().map(|r| IpRange::parse(r).unwrap()).collect();
        let elsewhere = ProxyTrust::new(1, ranges(&["10.0.0.2", "192.0.2.0/24"]));
        let info = resolve(&h, PEER, &elsewhere, "");
        assert_eq!(info.ip, PEER);
        assert_eq!(info.links, Links::new(""));
        assert_eq!(resolve(&h, None, &elsewhere, "").ip, None);
        let ours = ProxyTrust::new(1, ranges(&["10.0.0.0/8"]));
        assert_eq!(
            resolve(&h, PEER, &ours, "").ip,
            Some("1.2.3.4".parse().unwrap())
        );
    }

    #[test]
    fn zero_trusts_nothing() {
        let info = resolve(
            &headers(&[("x-forwarded-for", "1.2.3.4"), ("x-forwarded-prefix", "/x")]),
            PEER,
            &ProxyTrust::new(0, Vec::new()),
            "",
        );
        assert_eq!(info.ip, PEER);
        assert_eq!(info.links, Links::new(""));
    }

    #[test]
    fn one_hop_takes_the_last_value_and_ignores_spoofed_ones_in_front() {
        let h = headers(&[
            ("x-forwarded-for", "6.6.6.6, 1.2.3.4"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "evil, signup.uni.example"),
            ("x-forwarded-port", "443"),
        ]);
        let info = resolve(&h, PEER, &hops(1), "");
        assert_eq!(info.ip, Some("1.2.3.4".parse().unwrap()));
        assert_eq!(info.scheme.as_deref(), Some("https"));
        assert_eq!(info.host.as_deref(), Some("signup.uni.example"));
        assert_eq!(info.port.as_deref(), Some("443"));
    }

    #[test]
    fn two_hops_take_the_second_from_the_right() {
        let h = headers(&[
            ("x-forwarded-for", "6.6.6.6, 1.2.3.4, 10.0.0.2"),
            ("x-forwarded-prefix", "/spoof, /accounts, /inner"),
        ]);
        let info = resolve(&h, PEER, &hops(2), "");
        assert_eq!(info.ip, Some("1.2.3.4".parse().unwrap()));
        assert_eq!(info.links.signup(), "/accounts/signup");
    }

    #[test]
    fn too_few_values_are_ignored() {
        let h = headers(&[
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-proto", "https"),
        ]);
        let info = resolve(&h, PEER, &hops(2), "/base");
        assert_eq!(info.ip, PEER);
        assert_eq!(info.scheme, None);
        assert_eq!(info.links.signup(), "/base/signup");
    }

    #[test]
    fn repeated_header_lines_form_one_list() {
        let h = headers(&[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "1.2.3.4"),
        ]);
        assert_eq!(
            resolve(&h, PEER, &hops(1), "").ip,
            Some("1.2.3.4".parse().unwrap())
        );
    }

    #[test]
    fn a_garbage_address_falls_back_to_the_peer() {
        let h = headers(&[("x-forwarded-for", "not-an-ip")]);
        assert_eq!(resolve(&h, PEER, &hops(1), "").ip, PEER);
    }
}
