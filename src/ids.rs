//! Random identifiers (sign-up ids, nonces, an instance's lease-holder name), from `ring`'s
//! system generator. Below every other module: it imports nothing of ours, so the store and
//! the sign-up flow both use it without an arrow running up the layers.

use ring::rand::{SecureRandom, SystemRandom};

/// `bytes` random bytes as lower-case hex.
pub fn random_id(bytes: usize) -> Result<String, ring::error::Unspecified> {
    let mut random = vec![0u8; bytes];
    SystemRandom::new().fill(&mut random)?;
    Ok(hex::encode(random))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_hex_of_the_asked_length_and_differ() {
        let one = random_id(16).unwrap();
        let two = random_id(16).unwrap();
        assert_eq!(one.len(), 32);
        assert!(
            one.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_ne!(one, two);
    }
}
