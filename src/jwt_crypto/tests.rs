//! Checked against jsonwebtoken's RustCrypto provider (the tests' builds have it): both sign
//! the same bytes, and each verifies what the other signed.

use jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER as RUST_CRYPTO;

use super::*;

const MESSAGE: &[u8] = b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZGEifQ";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(path).expect("fixture")
}

fn rsa_key() -> EncodingKey {
    EncodingKey::from_rsa_pem(&fixture("graph-test-key.pkcs1.pem")).expect("an RSA key")
}

fn sign(provider: &CryptoProvider, algorithm: Algorithm, key: &EncodingKey) -> Vec<u8> {
    (provider.signer_factory)(&algorithm, key)
        .expect("a signer")
        .try_sign(MESSAGE)
        .expect("signed")
}

fn verifies(
    provider: &CryptoProvider,
    algorithm: Algorithm,
    key: &DecodingKey,
    message: &[u8],
    signed: &[u8],
) -> bool {
    (provider.verifier_factory)(&algorithm, key)
        .expect("a verifier")
        .verify(message, &signed.to_vec())
        .is_ok()
}

#[test]
fn rs256_signs_the_bytes_rust_crypto_signs_and_each_verifies_the_other() {
    let key = rsa_key();
    let ours = sign(&PROVIDER, Algorithm::RS256, &key);
    let theirs = sign(&RUST_CRYPTO, Algorithm::RS256, &key);
    // PKCS#1 v1.5 signatures are deterministic.
    assert_eq!(ours, theirs);
    let (n, e) = rsa_components_of_private_key(key.as_bytes()).expect("components");
    let from_jwk = DecodingKey::from_rsa_raw_components(&n, &e);
    let from_cert =
        DecodingKey::from_rsa_pem(&fixture("graph-test-cert.pem")).expect("the certificate");
    for public in [&from_jwk, &from_cert] {
        assert!(verifies(
            &PROVIDER,
            Algorithm::RS256,
            public,
            MESSAGE,
            &theirs
        ));
        assert!(verifies(
            &RUST_CRYPTO,
            Algorithm::RS256,
            public,
            MESSAGE,
            &ours
        ));
    }
}

#[test]
fn rs256_refuses_a_changed_message_or_signature() {
    let key = rsa_key();
    let signed = sign(&PROVIDER, Algorithm::RS256, &key);
    let (n, e) = rsa_components_of_private_key(key.as_bytes()).expect("components");
    let public = DecodingKey::from_rsa_raw_components(&n, &e);
    assert!(!verifies(
        &PROVIDER,
        Algorithm::RS256,
        &public,
        b"eyJ.changed",
        &signed
    ));
    let mut flipped = signed.clone();
    flipped[10] ^= 1;
    assert!(!verifies(
        &PROVIDER,
        Algorithm::RS256,
        &public,
        MESSAGE,
        &flipped
    ));
}

#[test]
fn hs256_matches_rust_crypto_and_refuses_another_secret() {
    let key = EncodingKey::from_secret(b"a secret of some length").expect("a key");
    let ours = sign(&PROVIDER, Algorithm::HS256, &key);
    assert_eq!(ours, sign(&RUST_CRYPTO, Algorithm::HS256, &key));
    let right = DecodingKey::from_secret(b"a secret of some length").expect("a key");
    let wrong = DecodingKey::from_secret(b"another secret").expect("a key");
    assert!(verifies(
        &PROVIDER,
        Algorithm::HS256,
        &right,
        MESSAGE,
        &ours
    ));
    assert!(!verifies(
        &PROVIDER,
        Algorithm::HS256,
        &wrong,
        MESSAGE,
        &ours
    ));
}

#[test]
fn other_algorithms_and_mismatched_keys_are_refused() {
    let rsa = rsa_key();
    let hmac = EncodingKey::from_secret(b"secret").expect("a key");
    let kind = |result: Result<Box<dyn JwtSigner>, Error>| match result {
        Ok(_) => panic!("a signer for what is not supported"),
        Err(err) => err.into_kind(),
    };
    assert_eq!(
        kind((PROVIDER.signer_factory)(&Algorithm::RS512, &rsa)),
        ErrorKind::InvalidAlgorithm
    );
    assert_eq!(
        kind((PROVIDER.signer_factory)(&Algorithm::ES256, &hmac)),
        ErrorKind::InvalidAlgorithm
    );
    assert_eq!(
        kind((PROVIDER.signer_factory)(&Algorithm::RS256, &hmac)),
        ErrorKind::InvalidKeyFormat
    );
    let public = DecodingKey::from_secret(b"secret").expect("a key");
    assert!((PROVIDER.verifier_factory)(&Algorithm::RS256, &public).is_err());
    assert!((PROVIDER.verifier_factory)(&Algorithm::EdDSA, &public).is_err());
}
