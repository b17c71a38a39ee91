//! Every path the server answers, and every link to one, in one place: the route patterns
//! the route table (`web::routes`) is built from, and the links in pages and mails.
//! A pattern names its parameter in braces (`/verify/{token}`), as the route's name in logs
//! and metrics does.

pub const HOME: &str = "/";
/// The sign-up page in a language (`/de`).
pub const HOME_IN: &str = "/{lang}";
pub const SIGNUP: &str = "/signup";
pub const CHECK_EMAIL: &str = "/signup/check-email";
pub const CHECK_VOUCHER: &str = "/signup/check-voucher";
/// Where a verification link's token follows.
pub const VERIFY_PREFIX: &str = "/verify/";
pub const VERIFY: &str = "/verify/{token}";
/// Asking for a password reset link (`PASSWORD_RESET_ENABLED`).
pub const PASSWORD: &str = "/password";
/// The reset page in a language (`/de/password`).
pub const PASSWORD_IN: &str = "/{lang}/password";
/// Where a password reset link's token follows.
pub const PASSWORD_PREFIX: &str = "/password/";
pub const PASSWORD_LINK: &str = "/password/{token}";
/// Re-verification links: the page that keeps an account (its token after the prefix).
pub const KEEP_PREFIX: &str = "/keep/";
pub const KEEP: &str = "/keep/{token}";
/// The query parameter a voucher link carries its code in: `/?voucher=CODE`.
pub const VOUCHER_QUERY: &str = "voucher";
/// The query that asks a verification link for its status view.
pub const STATUS_QUERY: &str = "view=status";
pub const DEBUG_MAILS: &str = "/debug/mails";
pub const HEALTHZ: &str = "/healthz";
pub const READYZ: &str = "/readyz";
pub const ASSET: &str = "/assets/{name}";
pub const FAVICON: &str = "/favicon.ico";
pub const METRICS: &str = "/metrics";

/// The operator console (`ADMIN_ENABLED`): its overview, and where its pages start.
pub const ADMIN: &str = "/admin";
/// Starts a sign-in with Microsoft (DEBUG without Graph: the debug sign-in).
pub const ADMIN_SIGN_IN: &str = "/admin/sign-in";
/// Where Microsoft sends the browser back: the redirect URI of the app registration.
pub const ADMIN_CALLBACK: &str = "/admin/callback";
pub const ADMIN_SIGN_OUT: &str = "/admin/sign-out";
pub const ADMIN_SIGNUPS: &str = "/admin/signups";
pub const ADMIN_RETRY: &str = "/admin/signups/retry";
pub const ADMIN_ACCOUNTS: &str = "/admin/accounts";
pub const ADMIN_FORGET: &str = "/admin/accounts/forget";
pub const ADMIN_EXTEND: &str = "/admin/accounts/extend";
pub const ADMIN_AUDIT: &str = "/admin/audit";
/// The vouchers: listed on GET, made by a POST.
pub const ADMIN_VOUCHERS: &str = "/admin/vouchers";
pub const ADMIN_VOUCHER_REVOKE: &str = "/admin/vouchers/revoke";
/// A voucher's printable sheet (a POST: the code stays out of the URL).
pub const ADMIN_VOUCHER_SHEET: &str = "/admin/vouchers/sheet";
pub const ADMIN_AUDIT_EXPORT: &str = "/admin/audit/export";
/// The console's pages that the language switcher keeps the operator on.
const ADMIN_PAGES: [&str; 6] = [
    ADMIN,
    ADMIN_SIGNUPS,
    ADMIN_ACCOUNTS,
    ADMIN_VOUCHERS,
    ADMIN_AUDIT,
    ADMIN_SIGN_IN,
];

/// Whether `path` is one of the console's (`/admin` or below it).
pub fn is_console(path: &str) -> bool {
    path == ADMIN || path.starts_with("/admin/")
}

/// Everything under it is the JSON API: errors there are JSON too.
pub const API_PREFIX: &str = "/api/";
pub const API_SPEC: &str = "/api/api-spec.json";
/// Where the API's operations are nested. Their own paths are spelled again in the
/// `#[oai(path = …)]` attributes of `web::api` (attributes take literals only); a test
/// there checks that the spec lists exactly these.
pub const API_V1: &str = "/api/v1";
pub const API_ROOT: &str = "/api/v1/";
pub const API_EMAIL_VERIFICATION: &str = "/api/v1/email-verification";
pub const API_ACCOUNT_CREATION: &str = "/api/v1/account_creation";
pub const API_PASSWORD_RESET: &str = "/api/v1/password_reset";

/// `pattern` with `value` for its parameter: `fill("/verify/{token}", "t")` is `/verify/t`.
/// A pattern without a parameter is returned as it is.
pub fn fill(pattern: &str, value: &str) -> String {
    match parameter(pattern) {
        Some((before, after)) => format!("{before}{value}{after}"),
        None => pattern.to_owned(),
    }
}

/// The text before and after a pattern's `{parameter}`.
fn parameter(pattern: &str) -> Option<(&str, &str)> {
    let (before, rest) = pattern.split_once('{')?;
    let (_, after) = rest.split_once('}')?;
    Some((before, after))
}

/// What a path has for `pattern`'s parameter, when it fits the pattern around it.
fn value_in<'a>(pattern: &str, path: &'a str) -> Option<&'a str> {
    let (before, after) = parameter(pattern)?;
    path.strip_prefix(before)?.strip_suffix(after)
}

/// Whether a link's token could be one of ours, checked before any work: a JWT is three
/// base64url parts joined by dots, and never this long.
pub fn plausible_token(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= 2048
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// `path` under `public_url` (`PUBLIC_URL` may have a path of its own), for links in mails.
pub fn absolute(public_url: &url::Url, path: &str) -> url::Url {
    let mut url = public_url.clone();
    let base = public_url.path().trim_end_matches('/');
    url.set_path(&format!("{base}{path}"));
    url.set_query(None);
    url
}

/// `{PUBLIC_URL}/?voucher=CODE`: the link a voucher is handed out as (and its QR code
/// holds). The sign-up page opens with the code filled in.
pub fn voucher_link(public_url: &url::Url, code: &str) -> url::Url {
    let mut url = absolute(public_url, HOME);
    url.query_pairs_mut().append_pair(VOUCHER_QUERY, code);
    url
}

/// The language a path names: `/de` and `/de/password` name `de` (if it is a language).
pub fn lang_in_path(path: &str) -> Option<&str> {
    let code = value_in(PASSWORD_IN, path).or_else(|| value_in(HOME_IN, path))?;
    (!code.is_empty() && !code.contains('/')).then_some(code)
}

/// Where the language switcher's links lead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SwitchTo {
    /// The sign-up page in the other language (`/de`).
    Home,
    /// This page with `?lang=` (a path without the prefix); only ever one of our routes'.
    SamePage(String),
}

impl SwitchTo {
    /// For a request to `path`: the same page when `path` is one of the routes that stay
    /// on their page (a verification link), the home page for everything else. Never the
    /// raw path of an unknown page: `//evil.example/x?lang=de` would lead off-site.
    pub fn for_path(path: &str) -> Self {
        let link = [VERIFY, PASSWORD_LINK]
            .into_iter()
            .find_map(|pattern| value_in(pattern, path));
        let lang_like = |code: &str| {
            (1..=5).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphabetic())
        };
        match link {
            Some(token) if plausible_token(token) => SwitchTo::SamePage(path.to_owned()),
            _ if path == DEBUG_MAILS || path == PASSWORD || ADMIN_PAGES.contains(&path) => {
                SwitchTo::SamePage(path.to_owned())
            }
            _ if value_in(PASSWORD_IN, path).is_some_and(lang_like) => {
                SwitchTo::SamePage(PASSWORD.to_owned())
            }
            _ => SwitchTo::Home,
        }
    }
}

/// The links a page contains, under the path prefix the service is reached at (from
/// `PUBLIC_URL`'s path or a trusted `X-Forwarded-Prefix`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Links {
    prefix: String,
}

impl Links {
    /// `prefix` like `/accounts` (a trailing slash is dropped; empty for the root). It is
    /// always a path on this site: empty segments go, so `//evil.example` cannot become a
    /// protocol-relative link, and a prefix with anything but plain path characters (a
    /// backslash, which browsers read as `/`, a space, `?`, `#`) is ignored.
    pub fn new(prefix: &str) -> Self {
        let plain = |segment: &str| {
            segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@%".contains(&b))
        };
        let segments: Vec<&str> = prefix.trim().split('/').filter(|s| !s.is_empty()).collect();
        let prefix = if segments.iter().all(|segment| plain(segment)) {
            segments
                .iter()
                .map(|segment| format!("/{segment}"))
                .collect()
        } else {
            String::new()
        };
        Links { prefix }
    }

    /// Any of this service's paths under the prefix.
    pub fn path(&self, path: &str) -> String {
        format!("{}{path}", self.prefix)
    }

    pub fn home_in(&self, lang: &str) -> String {
        self.path(&fill(HOME_IN, lang))
    }

    pub fn signup(&self) -> String {
        self.path(SIGNUP)
    }

    pub fn check_email(&self) -> String {
        self.path(CHECK_EMAIL)
    }

    pub fn check_voucher(&self) -> String {
        self.path(CHECK_VOUCHER)
    }

    pub fn verify(&self, token: &str) -> String {
        self.path(&fill(VERIFY, token))
    }

    /// The page to ask for a password reset link.
    pub fn password(&self) -> String {
        self.path(PASSWORD)
    }

    /// The page to ask for a password reset link in a language: `/de/password`.
    pub fn password_in(&self, lang: &str) -> String {
        self.path(&fill(PASSWORD_IN, lang))
    }

    /// A password reset link's page.
    pub fn password_link(&self, token: &str) -> String {
        self.path(&fill(PASSWORD_LINK, token))
    }

    /// A re-verification link's page (and its button's action).
    pub fn keep(&self, token: &str) -> String {
        self.path(&fill(KEEP, token))
    }

    /// The status of a confirmed link: always answered 200, so HTMX swaps it in while it
    /// polls, and the "Check again" link of the waiting page.
    pub fn verify_status(&self, token: &str) -> String {
        format!("{}?{STATUS_QUERY}", self.verify(token))
    }

    /// Console pages and actions (`paths::ADMIN…`).
    pub fn admin(&self, path: &str) -> String {
        debug_assert!(is_console(path), "{path} is no console path");
        self.path(path)
    }

    pub fn favicon(&self) -> String {
        self.path(FAVICON)
    }

    /// An embedded asset with its version, for caching.
    pub fn asset(&self, name: &str) -> String {
        let version = super::assets::version(name);
        self.path(&format!("{}?v={version}", fill(ASSET, name)))
    }

    /// Where the language switcher leads for `lang`.
    pub fn switch(&self, switch_to: &SwitchTo, lang: &str) -> String {
        match switch_to {
            SwitchTo::Home => self.home_in(lang),
            SwitchTo::SamePage(path) => format!("{}?lang={lang}", self.path(path)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_voucher_link_is_the_home_page_with_the_code_under_public_urls_path() {
        let base = url::Url::parse("https://signup.example.edu/accounts/").unwrap();
        assert_eq!(
            voucher_link(&base, "7KQ4-MX2C-9HPR-TWZE").as_str(),
            "https://signup.example.edu/accounts/?voucher=7KQ4-MX2C-9HPR-TWZE"
        );
    }

    #[test]
    fn links_carry_the_prefix() {
        assert_eq!(Links::new("").signup(), "/signup");
        assert_eq!(Links::new("/").home_in("de"), "/de");
        assert_eq!(Links::new("/accounts/").verify("t"), "/accounts/verify/t");
        assert_eq!(Links::new("accounts").favicon(), "/accounts/favicon.ico");
    }

    #[test]
    fn a_prefix_is_a_path_on_this_site_or_nothing() {
        assert_eq!(
            Links::new("//evil.example").signup(),
            "/evil.example/signup"
        );
        assert_eq!(Links::new("///a//b/").signup(), "/a/b/signup");
        for odd in ["/\\evil.example", "/a b", "/a?b", "/a#b", "/a\"x"] {
            assert_eq!(Links::new(odd).signup(), "/signup", "{odd:?}");
        }
    }

    #[test]
    fn patterns_are_filled_and_read_back() {
        assert_eq!(fill(VERIFY, "a.b.c"), "/verify/a.b.c");
        assert_eq!(fill(PASSWORD_IN, "de"), "/de/password");
        assert_eq!(fill(SIGNUP, "x"), "/signup");
        assert_eq!(value_in(PASSWORD_LINK, "/password/t"), Some("t"));
        assert_eq!(value_in(HOME_IN, "/de"), Some("de"));
        assert_eq!(value_in(VERIFY, "/signup"), None);
        // The mails' links put the token after the prefix; the routes read it from there.
        assert_eq!(fill(VERIFY, "t"), format!("{VERIFY_PREFIX}t"));
        assert_eq!(fill(PASSWORD_LINK, "t"), format!("{PASSWORD_PREFIX}t"));
    }

    #[test]
    fn a_token_is_plausible_only_in_the_shape_of_ours() {
        assert!(plausible_token("eyJ0eXAi.eyJzdWIi.c2ln-_"));
        for odd in ["", "a/b", "a b", "a%2Fb", "ä", &"a".repeat(2049)] {
            assert!(!plausible_token(odd), "{odd:?}");
        }
    }

    #[test]
    fn the_reset_pages_name_their_language_and_switch_in_place() {
        assert_eq!(lang_in_path("/de"), Some("de"));
        assert_eq!(lang_in_path("/de/password"), Some("de"));
        assert_eq!(lang_in_path("/password"), Some("password"));
        assert_eq!(lang_in_path("/a/b"), None);
        assert_eq!(lang_in_path("/"), None);
        for (path, stays_on) in [
            ("/password", "/password"),
            ("/de/password", "/password"),
            ("/password/eyJ.a.b", "/password/eyJ.a.b"),
        ] {
            assert_eq!(
                SwitchTo::for_path(path),
                SwitchTo::SamePage(stays_on.into()),
                "{path}"
            );
        }
        assert_eq!(
            SwitchTo::for_path("/password//evil.example"),
            SwitchTo::Home
        );
    }

    #[test]
    fn the_switcher_stays_on_console_pages_but_not_on_actions() {
        for page in ADMIN_PAGES {
            assert_eq!(SwitchTo::for_path(page), SwitchTo::SamePage(page.into()));
            assert!(is_console(page));
        }
        assert_eq!(SwitchTo::for_path(ADMIN_CALLBACK), SwitchTo::Home);
        assert!(!is_console("/administrator") && !is_console("/"));
    }

    #[test]
    fn the_switcher_stays_on_known_pages_and_goes_home_from_others() {
        let token = "/verify/eyJ.a.b";
        assert_eq!(SwitchTo::for_path(token), SwitchTo::SamePage(token.into()));
        for path in [
            "//evil.example/x",
            "/nothing",
            "",
            "*",
            "/verify//evil.example",
            "/de",
        ] {
            assert_eq!(SwitchTo::for_path(path), SwitchTo::Home, "{path:?}");
        }
    }
}
