//! The links mailed before they were sealed: HS256 JWTs signed with `JWT_SECRET_KEY`, their
//! claims readable by anyone (a reset link's `sub` is the address). None are issued any
//! more; the ones in mailboxes work until their `exp`, so this can go once the longest
//! link lifetime (`VERIFICATION_TOKEN_TTL_MINUTES`) has passed since the change.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use super::{Contents, Purpose};

#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
    nonce: String,
    iat: u64,
    exp: u64,
    /// Links mailed before purposes existed carry none: they are sign-up links.
    #[serde(default)]
    purpose: Purpose,
}

/// Checks old links.
pub(super) struct LegacyTokens {
    decoding: DecodingKey,
}

impl LegacyTokens {
    pub(super) fn new(secret: &[u8]) -> Result<Self, jsonwebtoken::errors::Error> {
        crate::jwt_crypto::install();
        Ok(LegacyTokens {
            decoding: DecodingKey::from_secret(secret)?,
        })
    }

    /// The contents of an old link of `purpose` with a good signature (HS256 only, so
    /// `alg: none` fails); expiry is the caller's to check.
    pub(super) fn open(&self, token: &str, purpose: Purpose) -> Option<Contents> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false; // checked by the caller against its clock
        validation.required_spec_claims = ["exp", "sub"].into_iter().map(str::to_owned).collect();
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .ok()?
            .claims;
        (claims.purpose == purpose).then_some(Contents {
            subject: claims.sub,
            nonce: claims.nonce,
            issued_at: claims.iat,
            expires_at: claims.exp,
        })
    }
}
