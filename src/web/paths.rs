//! Every path the server answers, in one place.

pub const HOME: &str = "/";
pub const SIGNUP: &str = "/signup";
pub const CHECK_EMAIL: &str = "/signup/check-email";
pub const VERIFY_PREFIX: &str = "/verify/";
pub const DEBUG_MAILS: &str = "/debug/mails";
pub const HEALTHZ: &str = "/healthz";
pub const READYZ: &str = "/readyz";
pub const ASSETS_PREFIX: &str = "/assets/";
pub const FAVICON: &str = "/favicon.ico";
pub const METRICS: &str = "/metrics";

/// The sign-up page in a language: `/de`.
pub fn home_in(lang: &str) -> String {
    format!("/{lang}")
}

/// The verification link's path for a token.
pub fn verify(token: &str) -> String {
    format!("{VERIFY_PREFIX}{token}")
}

/// The links a page contains, under the path prefix the service is reached at (from
/// `PUBLIC_URL`'s path or a trusted `X-Forwarded-Prefix`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Links {
    prefix: String,
}

impl Links {
    /// `prefix` like `/accounts` (a trailing slash is dropped; empty for the root).
    pub fn new(prefix: &str) -> Self {
        let trimmed = prefix.trim().trim_end_matches('/');
        let prefix = if trimmed.is_empty() || trimmed.starts_with('/') {
            trimmed.to_owned()
        } else {
            format!("/{trimmed}")
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

    pub fn favicon(&self) -> String {
        self.path(FAVICON)
    }

    /// An embedded asset with its version, for caching.
    pub fn asset(&self, name: &str) -> String {
        self.path(&super::assets::url(name))
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
}
