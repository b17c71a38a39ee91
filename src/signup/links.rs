//! Links to a sign-up made after its first mail, and the names its page shows.

use url::Url;

use super::{Signups, token};
use crate::domain::PersonName;

impl Signups {
    /// A fresh link to a claimed sign-up, valid for `VERIFICATION_TOKEN_TTL_MINUTES`: it
    /// shows how the account stands and resumes an unfinished one (the ready mail, a
    /// stalled registration's reset mail). The nonce is checked only before the claim, so
    /// a claimed sign-up's links all lead to it.
    pub(super) fn link_to_claimed(&self, signup_id: &str) -> Result<Url, token::NoRandom> {
        let now = self.now();
        let expires_at = now + self.settings.token_ttl.as_secs();
        let token = self.tokens.sign(signup_id, "", now, expires_at)?;
        Ok(self.verify_url(&token))
    }
}

/// A stored name as the link's page shows it: folded as [`PersonName::parse`] folds it, so
/// a sign-up stored before names were folded shows what Entra will get.
pub(super) fn shown_name(stored: String) -> String {
    match PersonName::parse(&stored) {
        Ok(name) => name.as_str().to_owned(),
        Err(_) => stored,
    }
}
