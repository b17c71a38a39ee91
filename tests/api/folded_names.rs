//! Letters as people type them (issue 22.6): fullwidth, mathematical and circled letters
//! are folded (NFKC) before the rules and the nickname, so the confirm page, the username
//! and what Entra gets are the plain letters; a name that folds into something refused is
//! refused with the usual message.

use ms365_accountcreator::signup::token::TokenSigner;
use ms365_accountcreator::store::{PendingSignup, RegistryKey, Store};
use secrecy::SecretString;

use crate::graph::env;
use crate::support::fake_graph::FakeGraph;
use crate::support::helpers::{TestApp, spawn_app, texts};
use crate::support::routes::paths;

#[tokio::test]
async fn compatibility_letters_reach_the_confirm_page_and_entra_as_plain_letters() {
    // Arrange
    let fake = FakeGraph::start().await;
    let app = TestApp::builder().envs(&env(&fake, &[], &[])).spawn().await;
    let people = [
        ("max@uni.example", "Ｍａｘ", "Ｍｕｓｔｅｒ", "Muster"),
        ("max2@uni.example", "𝐌𝐚𝐱", "𝐊𝐥𝐞𝐢𝐧", "Klein"),
        ("max3@uni.example", "Ⓜax", "Ⓦeber", "Weber"),
    ];

    for (email, first, last, plain_last) in people {
        // Act
        app.sign_up(email, first, last).await;
        let path = app.verification_path(email).await;
        let shown = app.get(&path).await.text().await.unwrap();
        let done = app.confirm(&path).await;

        // Assert: the page shows, and Entra gets, what a reader sees
        let nickname = format!("max.{}", plain_last.to_lowercase());
        let upn = format!("{nickname}@tenant.example");
        assert_eq!(
            texts(&shown, "dd")[0],
            format!("Max {plain_last}"),
            "{first} {last}"
        );
        assert_eq!(texts(&shown, "dd code.username"), vec![upn.clone()]);
        assert_eq!(done.status(), 200, "{first} {last}");
        assert_eq!(
            texts(&done.text().await.unwrap(), "#username"),
            vec![upn.clone()]
        );
        let user = fake.user(&upn).expect("the user was created");
        let payload = &user.payload;
        assert_eq!(payload["givenName"], "Max", "{first}");
        assert_eq!(payload["surname"], plain_last, "{last}");
        assert_eq!(payload["displayName"], format!("Max {plain_last}"));
        assert_eq!(payload["mailNickname"], nickname);
    }
    assert_eq!(fake.users().len(), 3);
}

#[tokio::test]
async fn a_name_that_folds_into_something_refused_gets_the_usual_message() {
    let app = spawn_app().await;
    // Mathematical bold A belongs to no script, so unfolded this word passed as Cyrillic;
    // folded, it mixes a Latin A into Cyrillic letters, as the plain spelling does.
    let folded = app
        .sign_up("st1@uni.example", "𝐀\u{431}\u{432}", "Muster")
        .await;
    let plain = app
        .sign_up("st2@uni.example", "A\u{431}\u{432}", "Muster")
        .await;

    assert_eq!(
        (folded.status().as_u16(), plain.status().as_u16()),
        (422, 422)
    );
    let folded = texts(&folded.text().await.unwrap(), "#first_name-error");
    let plain = texts(&plain.text().await.unwrap(), "#first_name-error");
    assert_eq!(folded.len(), 1, "{folded:?}");
    assert_eq!(folded, plain);
    assert!(app.mails().await.is_empty(), "no link for a refused name");
}

#[tokio::test]
async fn a_sign_up_stored_before_names_were_folded_is_shown_and_created_folded() {
    // Arrange: a pending sign-up as the server stored it before folding, names as typed
    const KEY: &str = "folded-names-test-key-of-more-than-32-bytes";
    let (id, nonce) = (
        "5f0c2a9d0e4b4c7f8a1b2c3d4e5f6a7b",
        "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b",
    );
    let now = 1_800_000_000;
    let store_dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(store_dir.path()).unwrap();
        store
            .insert_pending(&PendingSignup {
                id: id.into(),
                nonce: nonce.into(),
                email: RegistryKey::as_recorded("max@uni.example"),
                first_name: "Ｍａｘ".into(),
                last_name: "Ⓜuster".into(),
                lang: "en".into(),
                created_at: now,
                expires_at: now + 3600,
                consent_email_at: now,
                consent_name_at: now,
                voucher: None,
            })
            .await
            .unwrap();
        store.flush().await.unwrap();
    }
    let fake = FakeGraph::start().await;
    let app = TestApp::builder()
        .store(store_dir)
        .envs(&env(&fake, &[], &[]))
        .env("JWT_SECRET_KEY", KEY)
        .spawn()
        .await;
    assert_eq!(app.clock.load(std::sync::atomic::Ordering::SeqCst), now);
    let token = TokenSigner::new(&SecretString::from(KEY))
        .unwrap()
        .sign(id, nonce, now, now + 3600)
        .unwrap();
    let path = paths::verify(&token);

    // Act
    let shown = app.get(&path).await.text().await.unwrap();
    let done = app.confirm(&path).await;

    // Assert: the page shows what Entra gets
    assert_eq!(texts(&shown, "dd")[0], "Max Muster");
    assert_eq!(
        texts(&shown, "dd code.username"),
        vec!["max.muster@tenant.example"]
    );
    assert_eq!(done.status(), 200);
    let user = fake.user("max.muster@tenant.example").expect("created");
    assert_eq!(user.payload["displayName"], "Max Muster");
    assert_eq!(user.payload["givenName"], "Max");
}
