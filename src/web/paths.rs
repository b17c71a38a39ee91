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

/// The sign-up page in a language: `/de`.
pub fn home_in(lang: &str) -> String {
    format!("/{lang}")
}

/// The verification link's path for a token.
pub fn verify(token: &str) -> String {
    format!("{VERIFY_PREFIX}{token}")
}
