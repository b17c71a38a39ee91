//! Verification tokens. The first byte picks what the rest is:
//! - `r`: a token as typed into a link, checked with a key that never signs anything, so
//!   any token that verifies is a forgery.
//! - anything else: a genuine token with fuzzer-chosen claims, its header, payload or
//!   signature swapped for fuzzer-chosen ones, or re-signed with another key. It may verify
//!   only if the signed part (`header.payload`) is untouched, and then with its own claims.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::fuzz_target;
use ms365_accountcreator::signup::token::{TokenError, TokenSigner, VerificationClaims};
use secrecy::SecretString;

/// Signs the genuine tokens that the second mode tampers with.
const KEY: &str = "fuzz-target-key-not-in-any-seed-0123456789abcdef";
/// Never signs: no token the fuzzer could have seen verifies with it.
const UNUSED_KEY: &str = "fuzz-target-key-that-signs-nothing-fedcba9876543210";

/// A segment swapped in: text as is, or JSON/bytes base64url-encoded as a JWT would carry it.
#[derive(Arbitrary, Debug)]
enum Segment {
    Keep,
    Raw(String),
    Encoded(String),
}

#[derive(Arbitrary, Debug)]
struct Tampered {
    sub: String,
    nonce: String,
    iat: u64,
    exp: u64,
    now: u64,
    header: Segment,
    payload: Segment,
    signature: Segment,
    /// Re-sign the claims with this key instead (when it differs from ours).
    other_key: Option<String>,
}

fn swap(segment: &Segment, genuine: &str) -> String {
    match segment {
        Segment::Keep => genuine.to_owned(),
        Segment::Raw(text) => text.clone(),
        Segment::Encoded(text) => URL_SAFE_NO_PAD.encode(text),
    }
}

fn tampered(signer: &TokenSigner, input: Tampered) {
    let genuine = signer.sign(&input.sub, &input.nonce, input.iat, input.exp);
    let claims = VerificationClaims {
        signup_id: input.sub.clone(),
        nonce: input.nonce.clone(),
    };
    // What we sign, we accept until it expires.
    let expected = if input.exp > input.now {
        Ok(claims.clone())
    } else {
        Err(TokenError::Expired)
    };
    assert_eq!(signer.verify(&genuine, input.now), expected, "{genuine}");

    let other_key = input.other_key.filter(|key| key != KEY);
    // jsonwebtoken refuses an empty key; that refusal is all an empty key can do.
    if let Some(Ok(other)) = other_key.map(|key| TokenSigner::new(&SecretString::from(key))) {
        let foreign = other.sign(&input.sub, &input.nonce, input.iat, input.exp);
        assert!(
            signer.verify(&foreign, input.now).is_err(),
            "{foreign} verified"
        );
    }

    let parts: Vec<&str> = genuine.split('.').collect();
    let [header, payload, signature] = parts[..] else {
        panic!("a JWT has three parts: {genuine}");
    };
    let header = swap(&input.header, header);
    let payload = swap(&input.payload, payload);
    let signature = swap(&input.signature, signature);
    let token = format!("{header}.{payload}.{signature}");
    if let Ok(got) = signer.verify(&token, input.now) {
        let signed_part_kept = genuine.starts_with(&format!("{header}.{payload}."));
        assert!(
            signed_part_kept && got == claims,
            "forged {token} verified as {got:?}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let signer = |key: &str| TokenSigner::new(&SecretString::from(key)).expect("a non-empty key");
    match data.split_first() {
        Some((b'r', rest)) => {
            let signer = signer(UNUSED_KEY);
            let token = String::from_utf8_lossy(rest);
            for now in [0, 1_700_000_000, u64::MAX] {
                if let Ok(claims) = signer.verify(&token, now) {
                    panic!("a token nobody signed verified: {token:?} → {claims:?}");
                }
            }
        }
        _ => {
            if let Ok(input) = Tampered::arbitrary_take_rest(Unstructured::new(data)) {
                tampered(&signer(KEY), input);
            }
        }
    }
});
