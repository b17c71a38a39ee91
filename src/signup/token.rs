//! Verification links: HS256 JWTs naming a pending sign-up and its one-time nonce.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    /// The pending sign-up's id.
    sub: String,
    nonce: String,
    iat: u64,
    exp: u64,
}

/// The contents of a valid link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationClaims {
    pub signup_id: String,
    pub nonce: String,
}

/// Why a link is not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the link has expired")]
    Expired,
    #[error("the link is not valid")]
    Invalid,
}

/// Signs and checks verification links with `JWT_SECRET_KEY`.
#[derive(Clone)]
pub struct TokenSigner {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSigner([redacted])")
    }
}

impl TokenSigner {
    pub fn new(secret: &SecretString) -> Result<Self, jsonwebtoken::errors::Error> {
        let bytes = secret.expose_secret().as_bytes();
        Ok(TokenSigner {
            encoding: EncodingKey::from_secret(bytes)?,
            decoding: DecodingKey::from_secret(bytes)?,
        })
    }

    pub fn sign(&self, signup_id: &str, nonce: &str, issued_at: u64, expires_at: u64) -> String {
        let claims = Claims {
            sub: signup_id.to_owned(),
            nonce: nonce.to_owned(),
            iat: issued_at,
            exp: expires_at,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing of plain claims cannot fail")
    }

    /// Checks signature, algorithm (HS256 only, so `alg: none` fails) and expiry at `now`.
    pub fn verify(&self, token: &str, now: u64) -> Result<VerificationClaims, TokenError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false; // checked below against the given clock
        validation.required_spec_claims = ["exp", "sub"].into_iter().map(str::to_owned).collect();
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|_| TokenError::Invalid)?;
        if data.claims.exp <= now {
            return Err(TokenError::Expired);
        }
        Ok(VerificationClaims {
            signup_id: data.claims.sub,
            nonce: data.claims.nonce,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(secret: &str) -> TokenSigner {
        TokenSigner::new(&SecretString::from(secret)).unwrap()
    }

    #[test]
    fn a_signed_link_verifies_until_it_expires() {
        let s = signer("k");
        let token = s.sign("id1", "n1", 100, 200);
        assert_eq!(
            s.verify(&token, 150),
            Ok(VerificationClaims {
                signup_id: "id1".into(),
                nonce: "n1".into()
            })
        );
        assert_eq!(s.verify(&token, 200), Err(TokenError::Expired));
    }

    #[test]
    fn a_link_signed_with_another_key_is_invalid() {
        let token = signer("other").sign("id1", "n1", 100, 200);
        assert_eq!(signer("k").verify(&token, 150), Err(TokenError::Invalid));
    }

    #[test]
    fn tampered_and_unsigned_links_are_invalid() {
        let s = signer("k");
        let token = s.sign("id1", "n1", 100, 200);
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let forged_claims = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            br#"{"sub":"id2","nonce":"n1","iat":100,"exp":200}"#,
        );
        parts[1] = forged_claims.clone();
        assert_eq!(s.verify(&parts.join("."), 150), Err(TokenError::Invalid));
        let none_header = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            br#"{"alg":"none","typ":"JWT"}"#,
        );
        assert_eq!(
            s.verify(&format!("{none_header}.{forged_claims}."), 150),
            Err(TokenError::Invalid)
        );
        assert_eq!(s.verify("garbage", 150), Err(TokenError::Invalid));
    }
}
