//! Several links for one mailbox (PRODUCT.md §2): a submission cancels no link already
//! mailed, the mail holds nothing the submitter typed, and the first confirm wins.

use serde_json::json;

use crate::support::helpers::{TestApp, texts};
use crate::support::routes::paths;

/// Only the per-mailbox mail limit can bite: the per-client one is loose.
const LOOSE: &[(&str, &str)] = &[("RATE_LIMIT_PER_IP_PER_HOUR", "100")];
const PER_MAILBOX: &str = "RATE_LIMIT_MAILS_PER_ADDRESS_PER_HOUR";

#[tokio::test]
async fn submissions_by_someone_else_cancel_no_link_and_put_nothing_of_theirs_in_the_mail() {
    // Arrange: the victim signs up and has a link.
    let app = TestApp::builder()
        .envs(LOOSE)
        .env(PER_MAILBOX, "6")
        .spawn()
        .await;
    assert_eq!(
        app.sign_up("st1@uni.example", "Ada", "Lovelace")
            .await
            .status(),
        200
    );
    let victims_link = app.verification_path("st1@uni.example").await;

    // Act: someone else submits the victim's address four times, with their own text.
    for email in [
        "st1@uni.example",
        "ST1@uni.example",
        "st1+a@uni.example",
        "st1+b@uni.example",
    ] {
        let answer = app
            .sign_up(email, "Click evil.example now", "Mallory")
            .await;
        assert_eq!(answer.status(), 200, "{email}");
    }

    // Assert: the victim's link still leads to their confirm page.
    assert_eq!(app.get(&victims_link).await.status(), 200);

    // The newest mail carries nothing the other person typed.
    let newest = app.mails().await.remove(0);
    for typed in ["Click", "evil", "Mallory", "st1+"] {
        assert!(!newest.text.contains(typed), "{typed:?} in {}", newest.text);
    }
    assert!(newest.text.starts_with("Hello,"), "{}", newest.text);
    let attackers_link = app.verification_path("st1@uni.example").await;
    assert_ne!(attackers_link, victims_link);

    // The victim's own new submission is not refused (5 of 6 mails this hour).
    assert_eq!(
        app.sign_up("st1@uni.example", "Ada", "Lovelace")
            .await
            .status(),
        200
    );

    // The victim's first link still shows their name and confirms.
    let page = app.get(&victims_link).await;
    assert_eq!(page.status(), 200);
    assert_eq!(
        texts(&page.text().await.unwrap(), "dd")[0],
        "Ada Lovelace",
        "the name shows behind the link"
    );
    let result = app.confirm(&victims_link).await;
    assert_eq!(result.status(), 200);
    assert_eq!(
        texts(&result.text().await.unwrap(), "#username"),
        vec!["ada.lovelace@tenant.example"]
    );

    // The other links died with the first confirm.
    assert_eq!(app.get(&attackers_link).await.status(), 409);
    assert_eq!(app.confirm(&attackers_link).await.status(), 409);
}

#[tokio::test]
async fn two_links_both_work_until_one_is_confirmed_then_the_other_is_taken() {
    let app = TestApp::builder()
        .envs(LOOSE)
        .env(PER_MAILBOX, "5")
        .spawn()
        .await;
    app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    let first = app.verification_path("ada@uni.example").await;
    app.sign_up("ada@uni.example", "Ada", "King").await;
    let second = app.verification_path("ada@uni.example").await;
    assert_ne!(first, second);

    for path in [&first, &second] {
        assert_eq!(app.get(path).await.status(), 200, "{path}");
    }
    let result = app.confirm(&second).await.text().await.unwrap();
    assert_eq!(texts(&result, "#username"), vec!["ada.king@tenant.example"]);

    let old = app.get(&first).await;
    assert_eq!(old.status(), 409);
    assert_eq!(
        texts(&old.text().await.unwrap(), "h1"),
        vec!["This address is already registered"]
    );
    assert_eq!(app.confirm(&first).await.status(), 409);
    let password_mails = app
        .mails()
        .await
        .into_iter()
        .filter(|m| m.subject == "Your new account")
        .count();
    assert_eq!(password_mails, 1, "one account");
}

#[tokio::test]
async fn reaching_the_mailbox_limit_cancels_nothing_and_says_a_link_was_already_sent() {
    // Arrange: two mails, the limit.
    let app = TestApp::builder()
        .envs(LOOSE)
        .env(PER_MAILBOX, "2")
        .spawn()
        .await;
    app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    let first = app.verification_path("ada@uni.example").await;
    app.sign_up("ada@uni.example", "Ada", "Lovelace").await;

    // Act
    let limited = app.sign_up("ada+x@uni.example", "Ada", "Lovelace").await;
    let body = json!({"firstName": "Ada", "lastName": "Lovelace", "email": "ada@uni.example"});
    let api = app
        .post_json(paths::API_ACCOUNT_CREATION, &body, &[("lang", "de")])
        .await;

    // Assert: the page and the API say a link was sent and how long it works.
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().contains_key("retry-after"));
    let page = limited.text().await.unwrap();
    let alert = texts(&page, "[role=alert]").join(" ");
    assert!(
        alert.starts_with("A confirmation link has already been sent to this address")
            && alert.contains("valid for 24 more hours"),
        "{alert}"
    );
    assert_eq!(api.status(), 429);
    let body: serde_json::Value = api.json().await.unwrap();
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("bereits") && message.contains("24 Stunden"),
        "{message}"
    );

    // Nothing was cancelled: the first link still confirms.
    assert_eq!(app.mails().await.len(), 2);
    assert_eq!(app.get(&first).await.status(), 200);
    assert_eq!(app.confirm(&first).await.status(), 200);
}
