//! A refusal answers with one status, and the same `Retry-After`, whether the form or the
//! JSON API asked: the sign-up's and the reset request's limits and failures, and a link
//! that leads nowhere, whichever kind of link it is.

use serde_json::json;

use crate::support::helpers::{TestApp, header, spawn_app_with};
use ms365_accountcreator::startup::Overrides;

async fn app(extra: &[(&str, &str)]) -> TestApp {
    let mut settings = vec![("PASSWORD_RESET_ENABLED", "true")];
    settings.extend_from_slice(extra);
    spawn_app_with(&settings, Overrides::default()).await
}

async fn sign_up_by_api(app: &TestApp, email: &str) -> reqwest::Response {
    let body = json!({"firstName": "Ada", "lastName": "Lovelace", "email": email});
    let url = app.url("/api/v1/account_creation");
    app.client.post(url).json(&body).send().await.unwrap()
}

async fn reset_by_form(app: &TestApp, email: &str) -> reqwest::Response {
    app.post_form("/password", &[("email", email), ("lang", "en")])
        .await
}

async fn reset_by_api(app: &TestApp, email: &str) -> reqwest::Response {
    let url = app.url("/api/v1/password_reset");
    let body = json!({ "email": email });
    app.client.post(url).json(&body).send().await.unwrap()
}

/// The status and whether `Retry-After` is a number of seconds.
fn answer(response: &reqwest::Response) -> (u16, bool) {
    let retry_after = header(response, "retry-after").and_then(|v| v.parse::<u64>().ok());
    (response.status().as_u16(), retry_after.is_some())
}

#[tokio::test]
async fn the_mail_cap_is_429_with_retry_after_on_every_form_and_in_the_api() {
    // Arrange: the one mail of the hour is spent.
    let app = app(&[("RATE_LIMIT_MAILS_PER_HOUR", "1")]).await;
    let first = app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    assert_eq!(first.status(), 200);

    // Act
    let answers = [
        (
            "sign-up form",
            answer(&app.sign_up("bob@uni.example", "Bob", "Baker").await),
        ),
        (
            "sign-up API",
            answer(&sign_up_by_api(&app, "cy@uni.example").await),
        ),
        (
            "reset form",
            answer(&reset_by_form(&app, "dee@uni.example").await),
        ),
        (
            "reset API",
            answer(&reset_by_api(&app, "eve@uni.example").await),
        ),
    ];

    // Assert
    for (asked, answer) in answers {
        assert_eq!(answer, (429, true), "{asked}");
    }
}

#[tokio::test]
async fn the_mailbox_limit_is_429_with_retry_after_on_every_form_and_in_the_api() {
    // Arrange: one mail per mailbox and hour, spent for each flow.
    let app = app(&[("RATE_LIMIT_MAILS_PER_ADDRESS_PER_HOUR", "1")]).await;
    let signed_up = app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    assert_eq!(signed_up.status(), 200);
    assert_eq!(reset_by_form(&app, "bob@uni.example").await.status(), 200);

    // Act
    let answers = [
        (
            "sign-up form",
            answer(&app.sign_up("ada@uni.example", "Ada", "Lovelace").await),
        ),
        (
            "sign-up API",
            answer(&sign_up_by_api(&app, "ada+x@uni.example").await),
        ),
        (
            "reset form",
            answer(&reset_by_form(&app, "bob@uni.example").await),
        ),
        (
            "reset API",
            answer(&reset_by_api(&app, "Bob@uni.example").await),
        ),
    ];

    // Assert
    for (asked, answer) in answers {
        assert_eq!(answer, (429, true), "{asked}");
    }
}

#[tokio::test]
async fn a_verification_mail_that_cannot_be_sent_yet_is_accepted_on_the_form_and_in_the_api() {
    // Arrange: mail goes to a port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port().to_string();
    drop(closed);
    let app = app(&[
        ("DEBUG_DONT_SEND_MAIL", "false"),
        ("MAIL_SERVER_HOST", "127.0.0.1"),
        ("MAIL_SERVER_PORT", &port),
        ("MAIL_SERVER_SSL", "false"),
        ("MAIL_SERVER_STARTTLS", "false"),
        ("MAIL_SERVER_LOGIN", "false"),
        ("MAIL_SENDING_ADDRESS", "Accounts <accounts@uni.example>"),
    ])
    .await;

    // Act
    let page = app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    let api = sign_up_by_api(&app, "bob@uni.example").await;

    // Assert: the mails wait in the outbox, which sends them once the server is back
    // (`smtp_mail::the_smtp_server_being_down_at_sign_up_...`): the answer is the usual one.
    assert_eq!(answer(&page), (200, false));
    assert_eq!(answer(&api).0 / 100, 2);
}

#[tokio::test]
async fn a_link_that_is_not_one_of_ours_is_404_for_either_kind_of_link_and_either_method() {
    let app = app(&[]).await;
    for path in [
        "/verify/not.a.token",
        "/password/not.a.token",
        "/verify/a%2Fb",
    ] {
        assert_eq!(app.get(path).await.status(), 404, "GET {path}");
        let posted = app.post_form(path, &[("lang", "en")]).await;
        assert_eq!(posted.status(), 404, "POST {path}");
    }
}
