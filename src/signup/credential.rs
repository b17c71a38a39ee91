//! The credential a person gets for a new account or a reset: a temporary password, from
//! `ring`'s system generator (random ids are `crate::ids`).
//!
//! A temporary password lives only in memory: it is made when the user is created (or when a
//! resumed registration needs a fresh one) and handed to the person; the store never sees it.

use ring::rand::{SecureRandom, SystemRandom};
use secrecy::SecretString;

/// The characters a password is drawn from, by class. Look-alikes (`l`, `I`, `O`, `0`, `1`)
/// are left out because people type these passwords from a mail or a screen; the symbols are
/// ones Entra accepts and every keyboard layout has without dead keys.
const CLASSES: [&str; 4] = [
    "abcdefghijkmnopqrstuvwxyz",
    "ABCDEFGHJKLMNPQRSTUVWXYZ",
    "23456789",
    "!#%+-.=?_",
];

/// Entra's complexity rule: characters from at least three of the four classes.
const CLASSES_REQUIRED: usize = 3;

/// The shortest password made, however few random bytes are configured.
pub const MIN_LENGTH: usize = 16;

/// Entra's longest password.
const MAX_LENGTH: usize = 256;

fn alphabet() -> Vec<u8> {
    CLASSES.concat().into_bytes()
}

/// The length that carries at least `entropy_bytes` random bytes, never under [`MIN_LENGTH`].
fn length_for(entropy_bytes: usize, alphabet_len: usize) -> usize {
    let bits_per_char = (alphabet_len as f64).log2();
    let chars = ((entropy_bytes * 8) as f64 / bits_per_char).ceil() as usize;
    chars.clamp(MIN_LENGTH, MAX_LENGTH)
}

fn classes_used(password: &[u8]) -> usize {
    CLASSES
        .iter()
        .filter(|class| password.iter().any(|c| class.as_bytes().contains(c)))
        .count()
}

/// Makes a temporary password with at least `entropy_bytes` of randomness
/// (`GENERATED_PASSWORD_BYTES`). Every position is drawn uniformly from the whole alphabet,
/// and a draw that misses Entra's complexity rule is thrown away whole, so no position is
/// fixed or predictable (an earlier version began every password with `!1Aa`).
pub fn generate(entropy_bytes: usize) -> Result<SecretString, ring::error::Unspecified> {
    let alphabet = alphabet();
    let length = length_for(entropy_bytes, alphabet.len());
    // The largest multiple of the alphabet's size in a byte: bytes above it would favour
    // the first characters, so they are drawn again.
    let fair_below = 256 - 256 % alphabet.len();
    let random = SystemRandom::new();
    loop {
        let mut password = Vec::with_capacity(length);
        let mut bytes = [0u8; 64];
        while password.len() < length {
            random.fill(&mut bytes)?;
            password.extend(
                bytes
                    .iter()
                    .filter(|&&b| usize::from(b) < fair_below)
                    .map(|&b| alphabet[usize::from(b) % alphabet.len()])
                    .take(length - password.len()),
            );
        }
        if classes_used(&password) >= CLASSES_REQUIRED {
            let text = String::from_utf8(password).expect("the alphabet is ASCII");
            return Ok(SecretString::from(text));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::collections::HashSet;

    #[test]
    fn passwords_are_long_enough_and_meet_entras_rule() {
        for bytes in [6, 8, 16, 64] {
            for _ in 0..200 {
                let password = generate(bytes).unwrap();
                let text = password.expose_secret();
                assert!(text.len() >= MIN_LENGTH, "{bytes}: {text}");
                assert!(text.len() <= MAX_LENGTH);
                assert!(classes_used(text.as_bytes()) >= CLASSES_REQUIRED, "{text}");
                assert!(text.bytes().all(|c| alphabet().contains(&c)), "{text}");
            }
        }
        assert_eq!(generate(8).unwrap().expose_secret().len(), 16);
        assert!(
            generate(64).unwrap().expose_secret().len() > 64,
            "64 random bytes need more than 64 characters of this alphabet"
        );
    }

    #[test]
    fn every_position_varies() {
        // With 66 characters, a position showing one value in 300 draws would be a fixed
        // prefix or suffix, as `!1Aa` was.
        let passwords: Vec<String> = (0..300)
            .map(|_| generate(8).unwrap().expose_secret().to_owned())
            .collect();
        for position in 0..MIN_LENGTH {
            let seen: HashSet<u8> = passwords.iter().map(|p| p.as_bytes()[position]).collect();
            assert!(seen.len() > 20, "position {position}: {seen:?}");
        }
        let distinct: HashSet<&String> = passwords.iter().collect();
        assert_eq!(distinct.len(), passwords.len());
    }
}
