//! The links the service mails: sealed with [`TokenSigner`], under the URLs
//! [`MailLinks`] gives, and opened again when a person follows one.

use std::time::Duration;

use secrecy::SecretString;
use url::Url;

use super::settings::MailLinks;
use super::token::{NoRandom, ResetClaims, TokenError, TokenSigner, VerificationClaims};

/// Why a link leads nowhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("the link has expired")]
    Expired,
    #[error("the link is not valid")]
    Invalid,
    /// Its sign-up no longer exists (purged, or forgotten on request).
    #[error("the link's sign-up is unknown")]
    Unknown,
    #[error("the link was already used")]
    Used,
    #[error("the address was registered by another sign-up")]
    AddressTaken,
}

impl From<TokenError> for LinkError {
    fn from(err: TokenError) -> Self {
        match err {
            TokenError::Expired => LinkError::Expired,
            TokenError::Invalid => LinkError::Invalid,
        }
    }
}

/// Makes and opens the links in mails.
#[derive(Debug)]
pub struct Links {
    tokens: TokenSigner,
    urls: MailLinks,
    /// `VERIFICATION_TOKEN_TTL_MINUTES`: how long a sign-up's links stay valid.
    verification_ttl: Duration,
}

impl Links {
    /// The links for `secret` (`JWT_SECRET_KEY`); fails only when it cannot key tokens.
    pub fn new(
        secret: &SecretString,
        urls: MailLinks,
        verification_ttl: Duration,
    ) -> Result<Self, jsonwebtoken::errors::Error> {
        Ok(Links {
            tokens: TokenSigner::new(secret)?,
            urls,
            verification_ttl,
        })
    }

    /// The URLs links are made under.
    pub fn urls(&self) -> &MailLinks {
        &self.urls
    }

    /// How long a sign-up's links stay valid.
    pub fn verification_ttl(&self) -> Duration {
        self.verification_ttl
    }

    /// A pending sign-up's verification link, valid until `expires_at`.
    pub fn verification(
        &self,
        signup_id: &str,
        nonce: &str,
        now: u64,
        expires_at: u64,
    ) -> Result<Url, NoRandom> {
        let token = self.tokens.sign(signup_id, nonce, now, expires_at)?;
        Ok(self.urls.verify(&token))
    }

    /// A fresh link to a claimed sign-up, valid for `VERIFICATION_TOKEN_TTL_MINUTES`: it
    /// shows how the account stands and resumes an unfinished one (the ready mail, a
    /// stalled registration's reset mail). The nonce is checked only before the claim, so
    /// a claimed sign-up's links all lead to it.
    pub fn to_claimed(&self, signup_id: &str, now: u64) -> Result<Url, NoRandom> {
        let expires_at = now + self.verification_ttl.as_secs();
        self.verification(signup_id, "", now, expires_at)
    }

    /// A password reset link for `claims`, valid for `ttl`; `None` when resets are off.
    pub fn reset(&self, claims: &ResetClaims, ttl: Duration) -> Result<Option<Url>, NoRandom> {
        let expires_at = claims.issued_at + ttl.as_secs();
        let token = self.tokens.sign_reset(claims, expires_at)?;
        Ok(self.urls.password_reset(&token))
    }

    /// Opens a verification link's token.
    pub fn open(&self, token: &str, now: u64) -> Result<VerificationClaims, LinkError> {
        Ok(self.tokens.verify(token, now)?)
    }

    /// Opens a password reset link's token.
    pub fn open_reset(&self, token: &str, now: u64) -> Result<ResetClaims, LinkError> {
        Ok(self.tokens.verify_reset(token, now)?)
    }
}
