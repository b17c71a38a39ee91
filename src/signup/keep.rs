//! The re-verification links (PRODUCT.md §9.4): the lifecycle mails one when an account's
//! mailbox is to prove itself again, and the link's page keeps the account. Sealed like the
//! other links, with their own purpose; single use because each names the mail it came in
//! (`sent_at`), and the account answers only its newest pending question.

use secrecy::SecretString;
use url::Url;

use super::links::LinkError;
use super::settings::with_token;
use super::token::{ReverifyClaims, TokenSigner};
use crate::lifecycle::ReverifyLinks;
use crate::store::RegistryKey;

/// Makes and opens the re-verification links under one prefix (`…/keep/`).
#[derive(Debug)]
pub struct KeepLinks {
    tokens: TokenSigner,
    /// Everything before the token, always from the configuration.
    prefix: Url,
}

impl KeepLinks {
    /// The links for `secret` (`JWT_SECRET_KEY`) under `prefix`; fails only when the
    /// secret cannot key tokens.
    pub fn new(secret: &SecretString, prefix: Url) -> Result<Self, jsonwebtoken::errors::Error> {
        Ok(KeepLinks {
            tokens: TokenSigner::new(secret)?,
            prefix,
        })
    }

    /// Opens a re-verification link's token at `now`.
    pub fn open(&self, token: &str, now: u64) -> Result<ReverifyClaims, LinkError> {
        Ok(self.tokens.verify_reverify(token, now)?)
    }
}

impl ReverifyLinks for KeepLinks {
    fn link(&self, email: &RegistryKey, sent_at: u64, answer_by: u64) -> Result<String, String> {
        let token = self
            .tokens
            .sign_reverify(email.as_str(), sent_at, answer_by)
            .map_err(|err| err.to_string())?;
        Ok(with_token(&self.prefix, &token).to_string())
    }
}
