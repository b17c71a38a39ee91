//! The same-origin check on every POST (PRODUCT.md §8): `Sec-Fetch-Site` decides when present;
//! otherwise `Origin` must be `PUBLIC_URL`'s origin; a request with neither (curl) passes.

use poem::Request;
use poem::http::Method;

pub fn allowed(
    method: &Method,
    sec_fetch_site: Option<&str>,
    origin: Option<&str>,
    public_origin: &str,
) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    // Chromium sends `Origin: null` on same-origin form posts under `no-referrer`, so
    // Sec-Fetch-Site, when sent, is the better witness.
    match (sec_fetch_site, origin) {
        (Some(site), _) => matches!(site, "same-origin" | "none"),
        (None, Some(origin)) => origin.trim_end_matches('/') == public_origin,
        (None, None) => true,
    }
}

/// Whether to refuse the request as cross-site.
pub fn refuses(req: &Request, public_origin: &str) -> bool {
    let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    !allowed(
        req.method(),
        header("sec-fetch-site"),
        header("origin"),
        public_origin,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: &str = "https://signup.example.edu";

    #[test]
    fn the_rules_of_the_specification_hold() {
        let post = Method::POST;
        let cases = [
            (Some("same-origin"), None, true),
            (Some("same-origin"), Some("null"), true),
            (Some("none"), None, true),
            (Some("cross-site"), Some(ORIGIN), false),
            (Some("same-site"), None, false),
            (None, Some(ORIGIN), true),
            (None, Some("https://signup.example.edu/"), true),
            (None, Some("null"), false),
            (None, Some("https://evil.example"), false),
            (None, None, true),
        ];
        for (site, origin, expected) in cases {
            assert_eq!(
                allowed(&post, site, origin, ORIGIN),
                expected,
                "{site:?} {origin:?}"
            );
        }
        assert!(allowed(&Method::GET, Some("cross-site"), None, ORIGIN));
    }
}
