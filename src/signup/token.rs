//! The links in mails. A verification (and status) link names a pending sign-up and its
//! one-time nonce; a password reset link names an account (address and object id). Each
//! carries its purpose, checked, so neither kind of link can do the other's work.
//!
//! Links are sealed ([`sealed`]): encrypted and authenticated with a key derived from
//! `JWT_SECRET_KEY` for the link's purpose, so a link shows nothing of what it carries —
//! proxies, browser histories and mail scanners keep URLs, and a reset link used to carry
//! the address readable in base64. Sealing was chosen over an opaque id looked up in the
//! store because it needs no new store records, costs no store round trip to issue, and
//! reads old and new links alike without a migration. Links issued before sealing are
//! HS256 JWTs ([`legacy`]); they are accepted until they expire, and never issued again.

mod legacy;
mod sealed;
#[cfg(test)]
mod tests;

use ring::rand::SystemRandom;
use secrecy::{ExposeSecret, SecretString};

use legacy::LegacyTokens;
use sealed::Sealer;

/// What a link may be used for; each purpose has its own key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
enum Purpose {
    #[default]
    Signup,
    PasswordReset,
    /// A re-verification link: it keeps an account (PRODUCT.md §9.4). Never a JWT.
    Reverify,
}

impl Purpose {
    /// The label that derives the purpose's key, so that a link sealed for one purpose
    /// does not open for the other.
    fn label(self) -> &'static [u8] {
        match self {
            Purpose::Signup => b"verification link",
            Purpose::PasswordReset => b"password reset link",
            Purpose::Reverify => b"re-verification link",
        }
    }
}

/// What a token holds, whatever its form: two strings, when it was issued and until when
/// it is good.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Contents {
    /// The pending sign-up's id, or the account's address for a reset link.
    subject: String,
    /// The sign-up's one-time nonce, or the account's object id for a reset link.
    nonce: String,
    issued_at: u64,
    expires_at: u64,
}

/// The contents of a valid link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationClaims {
    pub signup_id: String,
    pub nonce: String,
}

/// The contents of a valid password reset link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetClaims {
    /// The registration's address (its registry key).
    pub email: String,
    /// The Entra object id of the account the link was issued for.
    pub object_id: String,
    /// When the link was issued (Unix seconds): a link issued at or before the last used
    /// one is dead.
    pub issued_at: u64,
}

/// The contents of a valid re-verification link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReverifyClaims {
    /// The registration's address (its registry key).
    pub email: String,
    /// When the re-verification mail was sent (Unix seconds): only the account's pending
    /// question of that time is answered by the link, so it works once.
    pub sent_at: u64,
    /// Until when the answer is due (Unix seconds): the link expires then.
    pub answer_by: u64,
}

/// Why a link is not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the link has expired")]
    Expired,
    #[error("the link is not valid")]
    Invalid,
}

/// The system's random generator failed, so no link could be sealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no random numbers available to seal a link")]
pub struct NoRandom;

/// Seals and checks the links with keys derived from `JWT_SECRET_KEY`.
pub struct TokenSigner {
    signup: Sealer,
    reset: Sealer,
    reverify: Sealer,
    legacy: LegacyTokens,
    random: SystemRandom,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSigner([redacted])")
    }
}

impl TokenSigner {
    /// The keys for `secret`; fails only when the old links' HS256 key cannot be made from
    /// it (an empty secret).
    pub fn new(secret: &SecretString) -> Result<Self, jsonwebtoken::errors::Error> {
        let bytes = secret.expose_secret().as_bytes();
        Ok(TokenSigner {
            signup: Sealer::new(bytes, Purpose::Signup),
            reset: Sealer::new(bytes, Purpose::PasswordReset),
            reverify: Sealer::new(bytes, Purpose::Reverify),
            legacy: LegacyTokens::new(bytes)?,
            random: SystemRandom::new(),
        })
    }

    /// A verification link's token.
    pub fn sign(
        &self,
        signup_id: &str,
        nonce: &str,
        issued_at: u64,
        expires_at: u64,
    ) -> Result<String, NoRandom> {
        self.signup.seal(
            &Contents {
                subject: signup_id.to_owned(),
                nonce: nonce.to_owned(),
                issued_at,
                expires_at,
            },
            &self.random,
        )
    }

    /// A password reset link's token, valid until `expires_at`.
    pub fn sign_reset(&self, claims: &ResetClaims, expires_at: u64) -> Result<String, NoRandom> {
        self.reset.seal(
            &Contents {
                subject: claims.email.clone(),
                nonce: claims.object_id.clone(),
                issued_at: claims.issued_at,
                expires_at,
            },
            &self.random,
        )
    }

    /// Checks a verification link: sealed with the sign-up key (or an old HS256 JWT of this
    /// purpose), untouched, and not expired at `now`. A reset link is invalid here.
    pub fn verify(&self, token: &str, now: u64) -> Result<VerificationClaims, TokenError> {
        let contents = self.open(token, Purpose::Signup, now)?;
        Ok(VerificationClaims {
            signup_id: contents.subject,
            nonce: contents.nonce,
        })
    }

    /// Checks a password reset link as [`TokenSigner::verify`] does a verification link; a
    /// verification link is invalid here.
    pub fn verify_reset(&self, token: &str, now: u64) -> Result<ResetClaims, TokenError> {
        let contents = self.open(token, Purpose::PasswordReset, now)?;
        Ok(ResetClaims {
            email: contents.subject,
            object_id: contents.nonce,
            issued_at: contents.issued_at,
        })
    }

    /// A re-verification link's token for the mail sent to `email` at `sent_at`, valid
    /// until `answer_by`.
    pub fn sign_reverify(
        &self,
        email: &str,
        sent_at: u64,
        answer_by: u64,
    ) -> Result<String, NoRandom> {
        self.reverify.seal(
            &Contents {
                subject: email.to_owned(),
                nonce: String::new(),
                issued_at: sent_at,
                expires_at: answer_by,
            },
            &self.random,
        )
    }

    /// Checks a re-verification link as [`TokenSigner::verify`] does a verification link;
    /// a link of any other purpose is invalid here.
    pub fn verify_reverify(&self, token: &str, now: u64) -> Result<ReverifyClaims, TokenError> {
        let contents = self.open(token, Purpose::Reverify, now)?;
        Ok(ReverifyClaims {
            email: contents.subject,
            sent_at: contents.issued_at,
            answer_by: contents.expires_at,
        })
    }

    fn open(&self, token: &str, purpose: Purpose, now: u64) -> Result<Contents, TokenError> {
        // Sealed tokens are base64url alone; only a JWT has dots. Re-verification links
        // came after sealing: no JWT ever was one.
        let contents = match purpose {
            _ if token.contains('.') && purpose != Purpose::Reverify => {
                self.legacy.open(token, purpose)
            }
            Purpose::Signup => self.signup.open(token),
            Purpose::PasswordReset => self.reset.open(token),
            Purpose::Reverify => self.reverify.open(token),
        };
        // A link of the wrong kind is invalid, not merely expired: it fails before the clock.
        let contents = contents.ok_or(TokenError::Invalid)?;
        if contents.expires_at <= now {
            return Err(TokenError::Expired);
        }
        Ok(contents)
    }
}
