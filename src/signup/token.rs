//! The links in mails: HS256 JWTs. A verification link names a pending sign-up and its
//! one-time nonce; a password reset link names an account (address and object id). Each
//! carries its purpose, checked, so neither kind of link can do the other's work.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// What a link may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Purpose {
    /// Links mailed before purposes existed carry none: they are sign-up links.
    #[default]
    Signup,
    PasswordReset,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    /// The pending sign-up's id, or the account's address for a reset link.
    sub: String,
    /// The sign-up's one-time nonce, or the account's object id for a reset link.
    nonce: String,
    iat: u64,
    exp: u64,
    #[serde(default)]
    purpose: Purpose,
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

    /// A verification link's token.
    pub fn sign(&self, signup_id: &str, nonce: &str, issued_at: u64, expires_at: u64) -> String {
        self.encode(&Claims {
            sub: signup_id.to_owned(),
            nonce: nonce.to_owned(),
            iat: issued_at,
            exp: expires_at,
            purpose: Purpose::Signup,
        })
    }

    /// A password reset link's token, valid until `expires_at`.
    pub fn sign_reset(&self, claims: &ResetClaims, expires_at: u64) -> String {
        self.encode(&Claims {
            sub: claims.email.clone(),
            nonce: claims.object_id.clone(),
            iat: claims.issued_at,
            exp: expires_at,
            purpose: Purpose::PasswordReset,
        })
    }

    fn encode(&self, claims: &Claims) -> String {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .expect("HS256 signing of plain claims cannot fail")
    }

    /// Checks a verification link: signature, algorithm (HS256 only, so `alg: none` fails),
    /// purpose (a reset link is invalid here) and expiry at `now`.
    pub fn verify(&self, token: &str, now: u64) -> Result<VerificationClaims, TokenError> {
        let claims = self.decode(token, Purpose::Signup, now)?;
        Ok(VerificationClaims {
            signup_id: claims.sub,
            nonce: claims.nonce,
        })
    }

    /// Checks a password reset link as [`TokenSigner::verify`] does a verification link; a
    /// verification link is invalid here.
    pub fn verify_reset(&self, token: &str, now: u64) -> Result<ResetClaims, TokenError> {
        let claims = self.decode(token, Purpose::PasswordReset, now)?;
        Ok(ResetClaims {
            email: claims.sub,
            object_id: claims.nonce,
            issued_at: claims.iat,
        })
    }

    fn decode(&self, token: &str, purpose: Purpose, now: u64) -> Result<Claims, TokenError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false; // checked below against the given clock
        validation.required_spec_claims = ["exp", "sub"].into_iter().map(str::to_owned).collect();
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|_| TokenError::Invalid)?;
        // Before the expiry: a link of the wrong kind is invalid, not merely expired.
        if data.claims.purpose != purpose {
            return Err(TokenError::Invalid);
        }
        if data.claims.exp <= now {
            return Err(TokenError::Expired);
        }
        Ok(data.claims)
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

    fn reset_claims() -> ResetClaims {
        ResetClaims {
            email: "ada@uni.example".into(),
            object_id: "0f8fad5b-d9cb-469f-a165-70867728950e".into(),
            issued_at: 100,
        }
    }

    #[test]
    fn a_reset_link_verifies_as_one_until_it_expires() {
        let s = signer("k");
        let token = s.sign_reset(&reset_claims(), 200);
        assert_eq!(s.verify_reset(&token, 150), Ok(reset_claims()));
        assert_eq!(s.verify_reset(&token, 200), Err(TokenError::Expired));
    }

    #[test]
    fn a_link_of_one_purpose_is_invalid_for_the_other() {
        let s = signer("k");
        let reset = s.sign_reset(&reset_claims(), 200);
        assert_eq!(s.verify(&reset, 150), Err(TokenError::Invalid));
        let signup = s.sign("id1", "n1", 100, 200);
        assert_eq!(s.verify_reset(&signup, 150), Err(TokenError::Invalid));
    }

    /// Links mailed before the purpose claim existed must keep working as sign-up links,
    /// and only as those.
    #[test]
    fn a_link_without_a_purpose_is_a_sign_up_link() {
        let s = signer("k");
        let old = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &serde_json::json!({"sub": "id1", "nonce": "n1", "iat": 100, "exp": 200}),
            &s.encoding,
        )
        .unwrap();
        assert!(s.verify(&old, 150).is_ok());
        assert_eq!(s.verify_reset(&old, 150), Err(TokenError::Invalid));
    }
}
