//! Temporary passwords: generated with `ring`, sealed at rest with an AEAD key derived from
//! `JWT_SECRET_KEY`, bound to the address they belong to.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hkdf;
use ring::rand::{SecureRandom, SystemRandom};
use secrecy::{ExposeSecret, SecretString};

/// A prefix that meets Entra's rule of three character classes whatever the random part holds.
const PREFIX: &str = "!1Aa";

/// Makes a temporary password: the prefix and `bytes` random bytes in base64url.
pub fn generate(bytes: usize) -> Result<SecretString, ring::error::Unspecified> {
    let mut random = vec![0u8; bytes];
    SystemRandom::new().fill(&mut random)?;
    Ok(SecretString::from(format!(
        "{PREFIX}{}",
        URL_SAFE_NO_PAD.encode(&random)
    )))
}

/// Random hex identifier (sign-up ids, nonces).
pub fn random_id(bytes: usize) -> Result<String, ring::error::Unspecified> {
    let mut random = vec![0u8; bytes];
    SystemRandom::new().fill(&mut random)?;
    Ok(random.iter().map(|b| format!("{b:02x}")).collect())
}

/// Seals and opens passwords kept until delivery.
pub struct PasswordSealer {
    key: LessSafeKey,
}

impl std::fmt::Debug for PasswordSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordSealer([redacted])")
    }
}

/// The sealed password could not be opened (wrong key or damaged record).
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the stored password cannot be opened: was JWT_SECRET_KEY changed?")]
pub struct SealError;

impl PasswordSealer {
    pub fn new(secret: &SecretString) -> Self {
        let salt = hkdf::Salt::new(
            hkdf::HKDF_SHA256,
            b"ms365-accountcreator/password-at-rest/v1",
        );
        let prk = salt.extract(secret.expose_secret().as_bytes());
        let okm = prk
            .expand(&[b"chacha20-poly1305"], &CHACHA20_POLY1305)
            .expect("32 bytes is a valid HKDF output length");
        let key = UnboundKey::from(okm);
        PasswordSealer {
            key: LessSafeKey::new(key),
        }
    }

    /// Random nonce followed by the ciphertext; `owner` (the address) is authenticated too.
    pub fn seal(&self, password: &SecretString, owner: &str) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| SealError)?;
        let mut buffer = password.expose_secret().as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(owner.as_bytes()),
                &mut buffer,
            )
            .map_err(|_| SealError)?;
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&buffer);
        Ok(sealed)
    }

    pub fn open(&self, sealed: &[u8], owner: &str) -> Result<SecretString, SealError> {
        if sealed.len() < NONCE_LEN {
            return Err(SealError);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError)?;
        let mut buffer = ciphertext.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(owner.as_bytes()), &mut buffer)
            .map_err(|_| SealError)?;
        String::from_utf8(plain.to_vec())
            .map(SecretString::from)
            .map_err(|_| SealError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_have_the_prefix_and_the_random_part() {
        let password = generate(8).unwrap();
        let text = password.expose_secret();
        assert!(text.starts_with(PREFIX));
        assert_eq!(
            text.len(),
            PREFIX.len() + 11,
            "8 bytes are 11 base64url characters"
        );
        assert_ne!(generate(8).unwrap().expose_secret(), text);
    }

    #[test]
    fn sealed_passwords_open_only_with_the_same_key_and_owner() {
        let sealer = PasswordSealer::new(&SecretString::from("secret"));
        let password = SecretString::from("!1Aa-secret-password");
        let sealed = sealer.seal(&password, "a@x.org").unwrap();
        assert!(
            !sealed.windows(6).any(|w| w == b"secret"),
            "the password is not stored in clear"
        );
        assert_eq!(
            sealer.open(&sealed, "a@x.org").unwrap().expose_secret(),
            "!1Aa-secret-password"
        );
        assert!(sealer.open(&sealed, "b@x.org").is_err());
        assert!(
            PasswordSealer::new(&SecretString::from("other"))
                .open(&sealed, "a@x.org")
                .is_err()
        );
    }
}
