//! Link tokens. The first byte picks what the rest is:
//! - `r`: a token as typed into a link, checked with a key that never signs anything, so
//!   any token that verifies (as either purpose) is a forgery.
//! - `j`: a link of the old format (an HS256 JWT made here with the key) with its header,
//!   payload or signature swapped for fuzzer-chosen ones, or signed with another key. It
//!   may verify only if the signed part (`header.payload`) is untouched, and then with its
//!   own claims.
//! - anything else: a sealed link with fuzzer-chosen claims, its bytes changed, cut or
//!   extended by the fuzzer, or sealed with another key. It may verify only unchanged.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::fuzz_target;
use ms365_accountcreator::signup::token::{
    ResetClaims, TokenError, TokenSigner, VerificationClaims,
};
use secrecy::SecretString;

/// Signs the genuine tokens that the other modes tamper with.
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
struct OldLink {
    sub: String,
    nonce: String,
    iat: u64,
    exp: u64,
    now: u64,
    header: Segment,
    payload: Segment,
    signature: Segment,
    /// Sign the claims with this key instead (when it differs from ours).
    other_key: Option<String>,
}

/// A change to a sealed link's bytes.
#[derive(Arbitrary, Debug)]
enum Change {
    Keep,
    Xor { at: usize, with: u8 },
    Cut { at: usize },
    Append(Vec<u8>),
    Replace(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
struct SealedLink {
    subject: String,
    nonce: String,
    iat: u64,
    exp: u64,
    now: u64,
    reset: bool,
    change: Change,
    other_key: Option<String>,
}

fn swap(segment: &Segment, genuine: &str) -> String {
    match segment {
        Segment::Keep => genuine.to_owned(),
        Segment::Raw(text) => text.clone(),
        Segment::Encoded(text) => URL_SAFE_NO_PAD.encode(text),
    }
}

fn jwt(key: &str, input: &OldLink) -> Option<String> {
    let key = jsonwebtoken::EncodingKey::from_secret(key.as_bytes()).ok()?;
    let claims = serde_json::json!({
        "sub": input.sub, "nonce": input.nonce, "iat": input.iat, "exp": input.exp,
    });
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).ok()
}

fn old_link(signer: &TokenSigner, input: OldLink) {
    let genuine = jwt(KEY, &input).expect("HS256 signs any claims");
    let claims = VerificationClaims {
        signup_id: input.sub.clone(),
        nonce: input.nonce.clone(),
    };
    // What we signed, we accept until it expires, and only for its purpose.
    let expected = if input.exp > input.now {
        Ok(claims.clone())
    } else {
        Err(TokenError::Expired)
    };
    assert_eq!(signer.verify(&genuine, input.now), expected, "{genuine}");
    assert!(signer.verify_reset(&genuine, input.now).is_err());

    if let Some(key) = input.other_key.as_deref().filter(|key| *key != KEY) {
        if let Some(foreign) = jwt(key, &input) {
            assert!(
                signer.verify(&foreign, input.now).is_err(),
                "{foreign} verified"
            );
        }
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

fn seal(signer: &TokenSigner, input: &SealedLink) -> String {
    let sealed = if input.reset {
        let claims = ResetClaims {
            email: input.subject.clone(),
            object_id: input.nonce.clone(),
            issued_at: input.iat,
        };
        signer.sign_reset(&claims, input.exp)
    } else {
        signer.sign(&input.subject, &input.nonce, input.iat, input.exp)
    };
    sealed.expect("the system has random numbers")
}

/// Whether `token` verifies for the purpose it was sealed for, and for the other one.
fn verifies(signer: &TokenSigner, token: &str, input: &SealedLink) -> (bool, bool) {
    let signup = signer.verify(token, input.now).is_ok();
    let reset = signer.verify_reset(token, input.now).is_ok();
    if input.reset {
        (reset, signup)
    } else {
        (signup, reset)
    }
}

fn sealed_link(signer: &TokenSigner, input: SealedLink) {
    let genuine = seal(signer, &input);
    let live = input.exp > input.now;
    assert_eq!(
        verifies(signer, &genuine, &input),
        (live, false),
        "{genuine}"
    );
    if live && input.reset {
        let claims = signer.verify_reset(&genuine, input.now).expect("checked");
        assert_eq!(
            (claims.email, claims.object_id),
            (input.subject.clone(), input.nonce.clone())
        );
    } else if live {
        let claims = signer.verify(&genuine, input.now).expect("checked");
        assert_eq!(
            (claims.signup_id, claims.nonce),
            (input.subject.clone(), input.nonce.clone())
        );
    }

    if let Some(key) = input.other_key.as_deref().filter(|key| *key != KEY) {
        if let Ok(other) = TokenSigner::new(&SecretString::from(key)) {
            let foreign = seal(&other, &input);
            assert_eq!(
                verifies(signer, &foreign, &input),
                (false, false),
                "{foreign}"
            );
        }
    }

    let mut bytes = URL_SAFE_NO_PAD.decode(&genuine).expect("base64url");
    match &input.change {
        Change::Keep => return,
        Change::Xor { at, with } => {
            let at = at % bytes.len();
            bytes[at] ^= (*with).max(1);
        }
        Change::Cut { at } => bytes.truncate(at % bytes.len()),
        Change::Append(more) if more.is_empty() => return,
        Change::Append(more) => bytes.extend_from_slice(more),
        Change::Replace(other) if *other == bytes => return,
        Change::Replace(other) => bytes.clone_from(other),
    }
    let changed = URL_SAFE_NO_PAD.encode(&bytes);
    assert_eq!(
        verifies(signer, &changed, &input),
        (false, false),
        "{changed}"
    );
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
                if let Ok(claims) = signer.verify_reset(&token, now) {
                    panic!("a token nobody signed verified: {token:?} → {claims:?}");
                }
            }
        }
        Some((b'j', rest)) => {
            if let Ok(input) = OldLink::arbitrary_take_rest(Unstructured::new(rest)) {
                old_link(&signer(KEY), input);
            }
        }
        _ => {
            if let Ok(input) = SealedLink::arbitrary_take_rest(Unstructured::new(data)) {
                sealed_link(&signer(KEY), input);
            }
        }
    }
});
