//! Links carry nothing readable (issue 22.5): the verification, status and reset links a
//! person gets show neither the address nor the name, however they are decoded; links
//! mailed before (HS256 JWTs) keep working until they expire; a changed link is refused;
//! and each link does only its own work.

use std::time::Duration;

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ms365_accountcreator::signup::token::TokenSigner;
use secrecy::SecretString;
use serde_json::json;

use crate::password_reset::{ask_for_reset, create_account, reset_path};
use crate::support::flaky_directory::FlakyDirectory;
use crate::support::helpers::{TestApp, attrs, texts};
use crate::support::routes::paths;

const KEY: &str = "opaque-links-test-key-of-more-than-32-bytes";
const EMAIL: &str = "augusta.king@uni.example";
/// What no link may show, in any decoding (each long enough not to turn up by chance in
/// random bytes).
const HIDDEN: &[&str] = &["augusta", "lovelace", "uni.example", "%40uni"];

/// Links sealed with a known key; resets on.
const SETTINGS: &[(&str, &str)] = &[("JWT_SECRET_KEY", KEY), ("PASSWORD_RESET_ENABLED", "true")];

/// `%XX` escapes decoded, as a proxy's log or a browser history may show them.
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|hex| u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The link as text, percent-decoded, plus every path segment, query value and
/// dot-separated part of them decoded as base64 (url-safe or standard, padded or not).
fn every_reading(link: &str) -> String {
    let decoded = percent_decoded(link);
    let mut readings = vec![link.to_owned(), decoded.clone()];
    for piece in decoded.split(['/', '?', '&', '=']) {
        for part in piece.split('.') {
            for engine in [
                base64::engine::general_purpose::URL_SAFE_NO_PAD,
                base64::engine::general_purpose::STANDARD_NO_PAD,
            ] {
                if let Ok(bytes) = engine.decode(part.trim_end_matches('=')) {
                    readings.push(String::from_utf8_lossy(&bytes).into_owned());
                }
            }
        }
    }
    readings.join("\n").to_lowercase()
}

fn assert_opaque(what: &str, link: &str) {
    let readings = every_reading(link);
    for hidden in HIDDEN {
        assert!(
            !readings.contains(hidden),
            "{what} shows {hidden:?}: {link}"
        );
    }
}

/// A link of the old format, as the server mailed them before sealing.
fn old_link(claims: serde_json::Value) -> String {
    let key = EncodingKey::from_secret(KEY.as_bytes()).unwrap();
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key).unwrap()
}

fn signer() -> TokenSigner {
    TokenSigner::new(&SecretString::from(KEY)).unwrap()
}

fn now(app: &TestApp) -> u64 {
    app.clock.load(std::sync::atomic::Ordering::SeqCst)
}

/// Waits until the queue has made the account and mailed its password.
async fn wait_for_the_account(app: &TestApp) {
    for _ in 0..100 {
        let mails = app.mails().await;
        if mails.iter().any(|mail| mail.subject == "Your new account") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the queue made no account");
}

#[tokio::test]
async fn the_verification_status_and_reset_links_show_no_address_and_no_name() {
    // Arrange: creates take longer than the confirm button waits, so the status link shows
    let app = TestApp::builder()
        .envs(SETTINGS)
        .env("PROVISION_WAIT_SECONDS", "1")
        .directory(FlakyDirectory::with_delay(Duration::from_millis(2500)))
        .spawn()
        .await;

    // Act: sign up, confirm, wait for the account, ask for a new password
    app.sign_up(EMAIL, "Augusta", "Lovelace").await;
    let verify = app.verification_path(EMAIL).await;
    let waiting = app.confirm(&verify).await;
    let waiting = waiting.text().await.unwrap();
    assert_eq!(texts(&waiting, "h1"), vec!["Your account is being created"]);
    let status_links: Vec<String> = attrs(&waiting, "main a", "href")
        .into_iter()
        .chain(attrs(&waiting, "[data-hx-get]", "data-hx-get"))
        .filter(|link| link.contains(paths::VERIFY))
        .collect();
    wait_for_the_account(&app).await;
    ask_for_reset(&app, EMAIL, "en").await;
    let reset = reset_path(&app, EMAIL).await;

    // Assert
    assert_eq!(status_links.len(), 2, "the link and the poll: {waiting}");
    assert_opaque("the verification link", &app.url(&verify));
    for link in &status_links {
        assert_opaque("the status link", link);
    }
    assert_opaque("the reset link", &app.url(&reset));
    // The check reads what the old reset links showed.
    let old = old_link(json!({"sub": EMAIL, "nonce": "x", "iat": 1, "exp": 2}));
    assert!(every_reading(&paths::password_link(&old)).contains(EMAIL));
}

#[tokio::test]
async fn links_mailed_before_sealing_work_until_they_expire_each_for_its_own_purpose() {
    // Arrange: the old forms of a pending sign-up's link and of an account's reset link
    let app = TestApp::builder().envs(SETTINGS).spawn().await;
    app.sign_up("grace@uni.example", "Grace", "Hopper").await;
    let sealed = app.verification_path("grace@uni.example").await;
    let claims = signer()
        .verify(sealed.trim_start_matches(paths::VERIFY), now(&app))
        .unwrap();
    let hour = now(&app) + 3600;
    let old_verify = paths::verify(&old_link(
        json!({"sub": claims.signup_id, "nonce": claims.nonce, "iat": now(&app), "exp": hour}),
    ));
    create_account(&app, EMAIL, "Augusta", "Lovelace").await;
    ask_for_reset(&app, EMAIL, "en").await;
    let sealed_reset = reset_path(&app, EMAIL).await;
    let reset = signer()
        .verify_reset(
            sealed_reset.trim_start_matches(paths::PASSWORD_LINK),
            now(&app),
        )
        .unwrap();
    let old_token = old_link(json!({
        "sub": reset.email, "nonce": reset.object_id, "iat": reset.issued_at, "exp": hour,
        "purpose": "password_reset",
    }));
    let old_reset = paths::password_link(&old_token);
    let expired = paths::password_link(&old_link(json!({
        "sub": reset.email, "nonce": reset.object_id, "iat": reset.issued_at,
        "exp": now(&app), "purpose": "password_reset",
    })));

    // Act / Assert: each at the other's place is not a link
    let verify_token = old_verify.trim_start_matches(paths::VERIFY);
    for path in [
        paths::verify(&old_token),
        paths::password_link(verify_token),
    ] {
        assert_eq!(app.get(&path).await.status(), 404, "{path}");
        assert_eq!(app.confirm(&path).await.status(), 404, "{path}");
    }
    assert_eq!(app.get(&expired).await.status(), 410);

    // Each works at its own place.
    let shown = app.get(&old_verify).await.text().await.unwrap();
    assert_eq!(texts(&shown, "dd")[0], "Grace Hopper");
    let created = app.confirm(&old_verify).await;
    assert_eq!(created.status(), 200);
    assert_eq!(
        texts(&created.text().await.unwrap(), "#username"),
        vec!["grace.hopper@tenant.example"]
    );
    let shown = app.get(&old_reset).await.text().await.unwrap();
    assert_eq!(texts(&shown, "dd"), vec!["augusta.lovelace@tenant.example"]);
    let done = app.confirm(&old_reset).await;
    assert_eq!(done.status(), 200);
    assert_eq!(
        texts(&done.text().await.unwrap(), "h1"),
        vec!["Your new temporary password"]
    );

    // Until they expire.
    app.sign_up("alan@uni.example", "Alan", "Turing").await;
    let alan = app.verification_path("alan@uni.example").await;
    let alan = signer()
        .verify(alan.trim_start_matches(paths::VERIFY), now(&app))
        .unwrap();
    let old_alan = paths::verify(&old_link(
        json!({"sub": alan.signup_id, "nonce": alan.nonce, "iat": now(&app) - 10, "exp": now(&app)}),
    ));
    assert_eq!(app.get(&old_alan).await.status(), 410);
}

#[tokio::test]
async fn a_changed_link_is_refused() {
    let app = TestApp::builder().envs(SETTINGS).spawn().await;
    create_account(&app, EMAIL, "Augusta", "Lovelace").await;
    app.sign_up("grace@uni.example", "Grace", "Hopper").await;
    let verify = app.verification_path("grace@uni.example").await;
    ask_for_reset(&app, EMAIL, "en").await;
    let reset = reset_path(&app, EMAIL).await;

    for path in [&verify, &reset] {
        // One character in the middle swapped for another base64url character.
        let middle = path.len() - 40;
        let swapped = if &path[middle..=middle] == "A" {
            "B"
        } else {
            "A"
        };
        let changed = format!("{}{swapped}{}", &path[..middle], &path[middle + 1..]);
        let shown = app.get(&changed).await;
        assert_eq!(shown.status(), 404, "{changed}");
        assert_eq!(
            texts(&shown.text().await.unwrap(), "h1"),
            vec!["This link is not valid"]
        );
        let pressed = app.confirm(&changed).await;
        assert_eq!(pressed.status(), 404, "{changed}");
        // Cut short, it is no link either.
        let cut = &path[..path.len() - 5];
        assert_eq!(app.get(cut).await.status(), 404, "{cut}");
    }

    // The unchanged links still work.
    assert_eq!(app.get(&verify).await.status(), 200);
    assert_eq!(app.get(&reset).await.status(), 200);
}
