//! Every path the server answers, and every link to one, in one place: the routes, the
//! links in pages and mails, and the route names in logs and metrics.

pub const HOME: &str = "/";
/// The sign-up page in a language (`/de`); the route's pattern.
pub const HOME_IN: &str = "/:lang";
pub const SIGNUP: &str = "/signup";
pub const CHECK_EMAIL: &str = "/signup/check-email";
pub const VERIFY_PREFIX: &str = "/verify/";
/// The verification link's route pattern.
pub const VERIFY: &str = "/verify/:token";
/// Asking for a password reset link (`PASSWORD_RESET_ENABLED`).
pub const PASSWORD: &str = "/password";
/// The reset page in a language (`/de/password`); the route's pattern.
pub const PASSWORD_IN: &str = "/:lang/password";
pub const PASSWORD_PREFIX: &str = "/password/";
/// The password reset link's route pattern.
pub const PASSWORD_LINK: &str = "/password/:token";
/// The query that asks a verification link for its status view.
pub const STATUS_QUERY: &str = "view=status";
pub const DEBUG_MAILS: &str = "/debug/mails";
pub const HEALTHZ: &str = "/healthz";
pub const READYZ: &str = "/readyz";
pub const ASSETS_PREFIX: &str = "/assets/";
/// An embedded file's route pattern.
pub const ASSET: &str = "/assets/:name";
pub const FAVICON: &str = "/favicon.ico";
pub const METRICS: &str = "/metrics";

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

/// `path` under `public_url` (`PUBLIC_URL` may have a path of its own), for links in mails.
pub fn absolute(public_url: &url::Url, path: &str) -> url::Url {
    let mut url = public_url.clone();
    let base = public_url.path().trim_end_matches('/');
    url.set_path(&format!("{base}{path}"));
    url.set_query(None);
    url
}

/// The sign-up page in a language: `/de`.
pub fn home_in(lang: &str) -> String {
    format!("/{lang}")
}

/// The language a path names: `/de` and `/de/password` name `de` (if it is a language).
pub fn lang_in_path(path: &str) -> Option<&str> {
    let rest = path.strip_prefix('/')?;
    let code = rest.strip_suffix(PASSWORD).unwrap_or(rest);
    (!code.is_empty() && !code.contains('/')).then_some(code)
}

/// The verification link's path for a token.
pub fn verify(token: &str) -> String {
    format!("{VERIFY_PREFIX}{token}")
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
        // A token is base64url and dots; anything else in the path is not a link we made.
        let token_like = |token: &str| {
            !token.is_empty()
                && token
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        };
        let link = path
            .strip_prefix(VERIFY_PREFIX)
            .or_else(|| path.strip_prefix(PASSWORD_PREFIX));
        match link {
            Some(token) if token_like(token) => SwitchTo::SamePage(path.to_owned()),
            _ if path == DEBUG_MAILS || path == PASSWORD => SwitchTo::SamePage(path.to_owned()),
            _ if route_of(path) == PASSWORD_IN_ROUTE => SwitchTo::SamePage(PASSWORD.to_owned()),
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
        self.path(&home_in(lang))
    }

    pub fn signup(&self) -> String {
        self.path(SIGNUP)
    }

    pub fn check_email(&self) -> String {
        self.path(CHECK_EMAIL)
    }

    pub fn verify(&self, token: &str) -> String {
        self.path(&verify(token))
    }

    /// The page to ask for a password reset link.
    pub fn password(&self) -> String {
        self.path(PASSWORD)
    }

    /// The page to ask for a password reset link in a language: `/de/password`.
    pub fn password_in(&self, lang: &str) -> String {
        self.path(&format!("/{lang}{PASSWORD}"))
    }

    /// A password reset link's page.
    pub fn password_link(&self, token: &str) -> String {
        self.path(&format!("{PASSWORD_PREFIX}{token}"))
    }

    /// The status of a confirmed link: always answered 200, so HTMX swaps it in while it
    /// polls, and the "Check again" link of the waiting page.
    pub fn verify_status(&self, token: &str) -> String {
        format!("{}?{STATUS_QUERY}", self.verify(token))
    }

    pub fn favicon(&self) -> String {
        self.path(FAVICON)
    }

    /// An embedded asset with its version, for caching.
    pub fn asset(&self, name: &str) -> String {
        self.path(&format!(
            "{ASSETS_PREFIX}{name}?v={}",
            super::assets::version(name)
        ))
    }

    /// Where the language switcher leads for `lang`.
    pub fn switch(&self, switch_to: &SwitchTo, lang: &str) -> String {
        match switch_to {
            SwitchTo::Home => self.home_in(lang),
            SwitchTo::SamePage(path) => format!("{}?lang={lang}", self.path(path)),
        }
    }
}

/// The route name of every verification link.
pub const VERIFY_ROUTE: &str = "/verify/{token}";
/// The route name of every embedded asset.
pub const ASSET_ROUTE: &str = "/assets/{name}";
/// The route name of the sign-up page in a language.
pub const HOME_IN_ROUTE: &str = "/{lang}";
/// The route name of every password reset link.
pub const PASSWORD_LINK_ROUTE: &str = "/password/{token}";
/// The route name of the reset page in a language.
pub const PASSWORD_IN_ROUTE: &str = "/{lang}/password";
/// The route name of paths no route answers.
pub const NO_ROUTE: &str = "(other)";

/// The methods a route answers, for the `Allow` header of a 405; `None` where no route is.
/// `HEAD` goes wherever `GET` does (the front door answers it). Kept beside [`route_of`], and
/// checked against the routes by the `http` integration tests.
pub fn allowed_methods(route: &str) -> Option<&'static str> {
    match route {
        NO_ROUTE => None,
        SIGNUP | VERIFY_ROUTE | PASSWORD | PASSWORD_LINK_ROUTE => Some("GET, HEAD, POST"),
        CHECK_EMAIL | API_EMAIL_VERIFICATION | API_ACCOUNT_CREATION | API_PASSWORD_RESET => {
            Some("POST")
        }
        _ => Some("GET, HEAD"),
    }
}

/// The route a path belongs to, for logs and metrics: never the token in a link, nor any
/// other caller-chosen text.
pub fn route_of(path: &str) -> &'static str {
    const FIXED: &[&str] = &[
        HOME,
        SIGNUP,
        CHECK_EMAIL,
        PASSWORD,
        DEBUG_MAILS,
        HEALTHZ,
        READYZ,
        FAVICON,
        METRICS,
        API_ROOT,
        API_EMAIL_VERIFICATION,
        API_ACCOUNT_CREATION,
        API_PASSWORD_RESET,
        API_SPEC,
    ];
    if let Some(fixed) = FIXED.iter().find(|fixed| **fixed == path) {
        return fixed;
    }
    // A request target need not start with `/`: `CONNECT host:443` has an empty path and
    // `OPTIONS *` the path `*`; neither is any route's.
    let lang = lang_in_path(path)
        .filter(|code| (1..=5).contains(&code.len()))
        .is_some_and(|code| code.chars().all(|c| c.is_ascii_alphabetic()));
    if path.starts_with(VERIFY_PREFIX) {
        VERIFY_ROUTE
    } else if path.starts_with(PASSWORD_PREFIX) {
        PASSWORD_LINK_ROUTE
    } else if path.starts_with(ASSETS_PREFIX) {
        ASSET_ROUTE
    } else if lang && path.ends_with(PASSWORD) {
        PASSWORD_IN_ROUTE
    } else if lang {
        HOME_IN_ROUTE
    } else {
        NO_ROUTE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn routes_hide_tokens_and_free_text() {
        assert_eq!(route_of("/verify/eyJhbGciOi.secret.sig"), "/verify/{token}");
        assert_eq!(route_of("/signup"), "/signup");
        assert_eq!(route_of("/de"), "/{lang}");
        assert_eq!(route_of("/assets/style.css"), "/assets/{name}");
        assert_eq!(route_of("/some/probe/../etc/passwd"), "(other)");
        assert_eq!(route_of("/"), "/");
        assert_eq!(route_of("/password"), "/password");
        assert_eq!(route_of("/password/eyJ.secret.sig"), "/password/{token}");
        assert_eq!(route_of("/de/password"), "/{lang}/password");
        assert_eq!(route_of("/de/password/x"), "(other)");
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

    #[test]
    fn paths_of_every_request_target_form_have_a_route_name() {
        for path in [
            "",
            "*",
            "/",
            "//",
            "host:443",
            "/abcdef",
            "/ä",
            "//evil.example/x",
        ] {
            let route = route_of(path);
            assert!(
                route.starts_with('/') || route == NO_ROUTE,
                "{path:?}: {route}"
            );
        }
        assert_eq!(route_of("*"), NO_ROUTE);
        assert_eq!(route_of(""), NO_ROUTE);
        assert_eq!(route_of("/ä"), NO_ROUTE);
    }
}
