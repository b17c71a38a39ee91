use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};

use super::*;

fn signer(secret: &str) -> TokenSigner {
    TokenSigner::new(&SecretString::from(secret)).unwrap()
}

const SIGNUP_ID: &str = "5f0c2a9d0e4b4c7f8a1b2c3d4e5f6a7b";
const NONCE: &str = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b";

fn verification() -> VerificationClaims {
    VerificationClaims {
        signup_id: SIGNUP_ID.into(),
        nonce: NONCE.into(),
    }
}

fn reset_claims(email: &str) -> ResetClaims {
    ResetClaims {
        email: email.into(),
        object_id: "0f8fad5b-d9cb-469f-a165-70867728950e".into(),
        issued_at: 100,
    }
}

/// An HS256 JWT as links were before they were sealed.
fn old_link(secret: &str, claims: serde_json::Value) -> String {
    let key = EncodingKey::from_secret(secret.as_bytes()).unwrap();
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key).unwrap()
}

/// Every byte a token's parts decode to, as base64url (with or without padding), as text.
fn decoded(token: &str) -> String {
    let mut text = token.to_owned();
    for part in token.split('.') {
        for engine in [
            &URL_SAFE_NO_PAD,
            &base64::engine::general_purpose::STANDARD_NO_PAD,
        ] {
            if let Ok(bytes) = engine.decode(part.trim_end_matches('=')) {
                text.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
    }
    text.to_lowercase()
}

#[test]
fn a_sealed_link_verifies_until_it_expires() {
    let s = signer("k");
    let token = s.sign(SIGNUP_ID, NONCE, 100, 200).unwrap();
    assert_eq!(s.verify(&token, 150), Ok(verification()));
    assert_eq!(s.verify(&token, 199), Ok(verification()));
    assert_eq!(s.verify(&token, 200), Err(TokenError::Expired));
}

#[test]
fn a_reset_link_verifies_as_one_until_it_expires() {
    let s = signer("k");
    let claims = reset_claims("ada@uni.example");
    let token = s.sign_reset(&claims, 200).unwrap();
    assert_eq!(s.verify_reset(&token, 150), Ok(claims));
    assert_eq!(s.verify_reset(&token, 200), Err(TokenError::Expired));
}

#[test]
fn a_link_sealed_with_another_key_is_invalid() {
    let token = signer("other").sign(SIGNUP_ID, NONCE, 100, 200).unwrap();
    assert_eq!(signer("k").verify(&token, 150), Err(TokenError::Invalid));
    let reset = signer("other")
        .sign_reset(&reset_claims("ada@uni.example"), 200)
        .unwrap();
    assert_eq!(
        signer("k").verify_reset(&reset, 150),
        Err(TokenError::Invalid)
    );
}

#[test]
fn every_changed_byte_and_every_cut_makes_a_link_invalid() {
    let s = signer("k");
    let token = s.sign(SIGNUP_ID, NONCE, 100, 200).unwrap();
    let bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
    for at in 0..bytes.len() {
        for flip in [0x01, 0x80, 0xff] {
            let mut changed = bytes.clone();
            changed[at] ^= flip;
            let changed = URL_SAFE_NO_PAD.encode(changed);
            assert_eq!(s.verify(&changed, 150), Err(TokenError::Invalid), "{at}");
        }
        let cut = URL_SAFE_NO_PAD.encode(&bytes[..at]);
        assert_eq!(s.verify(&cut, 150), Err(TokenError::Invalid), "cut at {at}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    let longer = URL_SAFE_NO_PAD.encode(longer);
    assert_eq!(s.verify(&longer, 150), Err(TokenError::Invalid));
    for garbage in ["", "garbage", "!!!", "a.b.c", &format!("{token}=")] {
        assert_eq!(
            s.verify(garbage, 150),
            Err(TokenError::Invalid),
            "{garbage}"
        );
    }
}

#[test]
fn a_link_of_one_purpose_is_invalid_for_the_other() {
    let s = signer("k");
    let reset = s.sign_reset(&reset_claims("ada@uni.example"), 200).unwrap();
    assert_eq!(s.verify(&reset, 150), Err(TokenError::Invalid));
    let signup = s.sign(SIGNUP_ID, NONCE, 100, 200).unwrap();
    assert_eq!(s.verify_reset(&signup, 150), Err(TokenError::Invalid));
    // Also past expiry: the wrong kind is invalid, not expired.
    assert_eq!(s.verify(&reset, 500), Err(TokenError::Invalid));
}

/// Each hidden text is long enough not to turn up by chance in a link's random bytes.
#[test]
fn no_link_shows_an_address_an_id_or_a_nonce() {
    let s = signer("k");
    let email = "ada.lovelace@uni.example";
    let claims = reset_claims(email);
    let reset = s.sign_reset(&claims, 200).unwrap();
    let signup = s.sign(SIGNUP_ID, NONCE, 100, 200).unwrap();
    for (token, hidden) in [
        (
            &reset,
            vec!["ada.lovelace", "lovelace", "uni.example", "0f8fad5b"],
        ),
        (&signup, vec![&SIGNUP_ID[..8], &NONCE[..8]]),
    ] {
        let text = decoded(token);
        for hidden in hidden {
            assert!(!text.contains(hidden), "{hidden:?} readable in {token}");
        }
    }
    // The same claims sealed twice give two different links (a fresh nonce each).
    assert_ne!(s.sign(SIGNUP_ID, NONCE, 100, 200).unwrap(), signup);
}

/// The check above would pass on an encoding it cannot read: it must find the address in
/// a link of the old format.
#[test]
fn the_decoding_check_finds_the_address_in_an_old_reset_link() {
    let old = old_link(
        "k",
        serde_json::json!({"sub": "ada.lovelace@uni.example", "nonce": "x", "iat": 1, "exp": 2, "purpose": "password_reset"}),
    );
    assert!(decoded(&old).contains("ada.lovelace@uni.example"));
}

#[test]
fn links_are_short_and_their_length_hides_the_address_length() {
    let s = signer("k");
    // Both in the same 32-byte step of the padding.
    let short = s.sign_reset(&reset_claims("ada@uni.example"), 200).unwrap();
    let longer = s
        .sign_reset(&reset_claims("grace.hopper@uni.example"), 200)
        .unwrap();
    assert_eq!(short.len(), longer.len());
    assert!(longer.len() <= 170, "{} characters", longer.len());
    let signup = s.sign(SIGNUP_ID, NONCE, 100, 200).unwrap();
    assert!(signup.len() <= 170, "{} characters", signup.len());
    for token in [&short, &signup] {
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{token}"
        );
    }
}

#[test]
fn long_and_unusual_contents_come_back_as_sealed() {
    let s = signer("k");
    for email in [
        String::new(),
        "x".repeat(127),
        "x".repeat(128),
        format!("{}@uni.example", "ä".repeat(200)),
    ] {
        let claims = reset_claims(&email);
        let token = s.sign_reset(&claims, u64::MAX).unwrap();
        assert_eq!(s.verify_reset(&token, u64::MAX - 1), Ok(claims), "{email}");
    }
}

/// Links mailed before sealing keep working until they expire, each for its own purpose.
#[test]
fn old_hs256_links_work_until_they_expire() {
    let s = signer("k");
    let signup = old_link(
        "k",
        serde_json::json!({"sub": SIGNUP_ID, "nonce": NONCE, "iat": 100, "exp": 200, "purpose": "signup"}),
    );
    // Mailed before purposes existed: a sign-up link.
    let no_purpose = old_link(
        "k",
        serde_json::json!({"sub": SIGNUP_ID, "nonce": NONCE, "iat": 100, "exp": 200}),
    );
    let reset = old_link(
        "k",
        serde_json::json!({"sub": "ada@uni.example", "nonce": "0f8fad5b-d9cb-469f-a165-70867728950e", "iat": 100, "exp": 200, "purpose": "password_reset"}),
    );
    for old in [&signup, &no_purpose] {
        assert_eq!(s.verify(old, 150), Ok(verification()));
        assert_eq!(s.verify(old, 200), Err(TokenError::Expired));
        assert_eq!(s.verify_reset(old, 150), Err(TokenError::Invalid));
    }
    assert_eq!(
        s.verify_reset(&reset, 150),
        Ok(reset_claims("ada@uni.example"))
    );
    assert_eq!(s.verify_reset(&reset, 200), Err(TokenError::Expired));
    assert_eq!(s.verify(&reset, 150), Err(TokenError::Invalid));
}

#[test]
fn tampered_unsigned_and_foreign_old_links_are_invalid() {
    let s = signer("k");
    let token = old_link(
        "k",
        serde_json::json!({"sub": "id1", "nonce": "n1", "iat": 100, "exp": 200}),
    );
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let forged_claims =
        URL_SAFE_NO_PAD.encode(br#"{"sub":"id2","nonce":"n1","iat":100,"exp":200}"#);
    parts[1] = forged_claims.clone();
    assert_eq!(s.verify(&parts.join("."), 150), Err(TokenError::Invalid));
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    assert_eq!(
        s.verify(&format!("{none_header}.{forged_claims}."), 150),
        Err(TokenError::Invalid)
    );
    let foreign = old_link(
        "other",
        serde_json::json!({"sub": "id1", "nonce": "n1", "iat": 100, "exp": 200}),
    );
    assert_eq!(s.verify(&foreign, 150), Err(TokenError::Invalid));
}

#[test]
fn a_reverify_link_carries_its_mail_and_opens_until_the_answer_is_due() {
    // Arrange
    let signer = signer("secret");
    let token = signer
        .sign_reverify("ada@uni.example", 1_000, 2_000)
        .unwrap();

    // Act
    let claims = signer.verify_reverify(&token, 1_999);

    // Assert
    assert_eq!(
        claims,
        Ok(ReverifyClaims {
            email: "ada@uni.example".into(),
            sent_at: 1_000,
            answer_by: 2_000,
        })
    );
    assert_eq!(
        signer.verify_reverify(&token, 2_000),
        Err(TokenError::Expired)
    );
    assert!(!decoded(&token).contains("ada@uni.example"));
}

#[test]
fn a_reverify_link_does_no_other_links_work_nor_they_its() {
    // Arrange
    let signer = signer("secret");
    let reverify = signer
        .sign_reverify("ada@uni.example", 1_000, 2_000)
        .unwrap();
    let reset = signer
        .sign_reset(&reset_claims("ada@uni.example"), 2_000)
        .unwrap();
    let signup = signer.sign(SIGNUP_ID, NONCE, 1_000, 2_000).unwrap();
    let old = old_link(
        "secret",
        serde_json::json!({"sub": "ada@uni.example", "nonce": "", "iat": 1_000, "exp": 2_000, "purpose": "reverify"}),
    );

    // Act / Assert
    assert_eq!(signer.verify(&reverify, 1_500), Err(TokenError::Invalid));
    assert_eq!(
        signer.verify_reset(&reverify, 1_500),
        Err(TokenError::Invalid)
    );
    for other in [reset, signup, old] {
        assert_eq!(
            signer.verify_reverify(&other, 1_500),
            Err(TokenError::Invalid)
        );
    }
}
