//! Guessing voucher codes (issue 24 point 6): the inline check counts against the client's
//! limit like the address check, and once a client is limited no answer tells a right code
//! from a wrong one, not the inline check, not a voucher link, not the form sent again.

use serde_json::json;

use crate::cli::{run_with, stdout};
use crate::support::helpers::{TestApp, attr, texts};
use crate::support::routes::{HTMX, paths};

const GERMAN: (&str, &str) = ("accept-language", "de");
const FORM: &str = "application/x-www-form-urlencoded";
/// The inline check allows ten times the sign-up limit (`RATE_LIMIT_PER_IP_PER_HOUR`).
const CHECKS_ALLOWED: usize = 10;

/// A server allowing one sign-up post and ten checks per client, with one voucher whose own
/// filter admits guests (so its `pattern` hint would give it away); the voucher's code.
async fn app_with_voucher() -> (TestApp, String) {
    let dir = tempfile::tempdir().unwrap();
    let all = [
        "vouchers",
        "create",
        "--json",
        "--name",
        "Guests",
        "--email-filter",
        r".*@guest\.example",
    ];
    let made: serde_json::Value = serde_json::from_str(&stdout(&run_with(dir.path(), &all, &[])))
        .expect("the voucher as JSON");
    let code = made["code"].as_str().expect("a code").to_owned();
    let app = TestApp::builder()
        .store(dir)
        .env("VOUCHERS", "optional")
        .env("EMAIL_ADDRESS_FILTER", r".*@uni\.example")
        .env("RATE_LIMIT_PER_IP_PER_HOUR", "1")
        .spawn()
        .await;
    (app, code)
}

async fn check_voucher(app: &TestApp, code: &str) -> reqwest::Response {
    let headers = [HTMX[0], GERMAN];
    let fields = [("voucher", code), ("lang", "de")];
    app.post_form_with(paths::CHECK_VOUCHER, &fields, &headers)
        .await
}

/// What a page says about the voucher entered: its confirmation, its error, and the address
/// pattern it sets.
fn verdict(page: &str) -> (bool, Vec<String>, Option<String>) {
    (
        attr(page, "[data-voucher-ok]", "data-voucher-ok").is_some(),
        texts(page, "#voucher-status .field-error"),
        attr(page, "#email", "pattern"),
    )
}

#[tokio::test]
async fn guessing_codes_inline_is_limited_per_client_with_the_address_checks_answer() {
    // Arrange
    let (app, right) = app_with_voucher().await;

    // Act: wrong codes until the server refuses.
    let mut answers = Vec::new();
    for guess in 0..=CHECKS_ALLOWED {
        let response = check_voucher(&app, &format!("2345-6789-ABCD-{guess:04}")).await;
        answers.push(response.status().as_u16());
        if response.status() == 429 {
            break;
        }
    }

    // Assert: refused after the checks a client has, with the address check's answer.
    let mut expected = vec![200; CHECKS_ALLOWED];
    expected.push(429);
    assert_eq!(answers, expected);
    let limited = check_voucher(&app, &right).await;
    assert_eq!(limited.status(), 429, "a right code is refused too");
    let retry_after = limited.headers().get("retry-after").cloned();
    let page = limited.text().await.unwrap();
    assert!(!verdict(&page).0, "no word on the code: {page}");
    let address = app
        .post_check_email_with(
            &[("email", "ada@uni.example"), ("lang", "de")],
            &[HTMX[0], GERMAN],
        )
        .await;
    assert_eq!(address.status(), 429);
    assert!(retry_after.is_some() && address.headers().contains_key("retry-after"));
    let address = address.text().await.unwrap();
    let alert = texts(&page, "[role=alert] h1, [role=alert] p");
    assert_eq!(alert, texts(&address, "[role=alert] h1, [role=alert] p"));
    assert_eq!(alert[0], "Zu viele Anfragen", "in German: {page}");
}

#[tokio::test]
async fn once_limited_a_voucher_link_and_the_form_do_not_tell_a_right_code_from_a_wrong_one() {
    // Arrange: the client has used its checks and its sign-up post.
    let (app, right) = app_with_voucher().await;
    let wrong = "2345-6789-ABCD-EFGH";
    let unlimited = app
        .get(&format!("{}?voucher={right}", paths::HOME))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        verdict(&unlimited).0,
        "a right code shows before the limit: {unlimited}"
    );
    // The link's check was one of the client's checks.
    for _ in 1..CHECKS_ALLOWED {
        assert_eq!(check_voucher(&app, wrong).await.status(), 200);
    }
    assert_eq!(check_voucher(&app, wrong).await.status(), 429);
    let first = app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    assert_eq!(first.status(), 200);

    // Act / Assert: each answer is the same for the right and a wrong code.
    let app = &app;
    let link = |code: String| async move {
        let response = app.get(&format!("{}?voucher={code}", paths::HOME)).await;
        response.text().await.unwrap()
    };
    assert_eq!(
        verdict(&link(right.clone()).await),
        verdict(&link(wrong.into()).await)
    );
    assert!(!verdict(&link(right.clone()).await).0);

    let submit = |code: String| async move {
        let fields = [
            ("voucher", code.as_str()),
            ("email", "grace@guest.example"),
            ("consent_email", "yes"),
            ("consent_name", "yes"),
            ("first_name", "Grace"),
            ("last_name", "Hopper"),
            ("lang", "en"),
        ];
        let response = app.post_form(paths::SIGNUP, &fields).await;
        assert_eq!(response.status(), 429);
        response.text().await.unwrap()
    };
    assert_eq!(
        verdict(&submit(right.clone()).await),
        verdict(&submit(wrong.into()).await)
    );
    assert!(!verdict(&submit(right.clone()).await).0);

    // A damaged form is judged by no limit, so it judges no voucher either.
    let damaged = |code: String| async move {
        let body = format!("voucher={code}&email=%ZZ&lang=en");
        let response = app.post_bytes(paths::SIGNUP, FORM, body, &[]).await;
        assert_eq!(response.status(), 400);
        response.text().await.unwrap()
    };
    assert_eq!(
        verdict(&damaged(right.clone()).await),
        verdict(&damaged(wrong.into()).await)
    );
    assert!(!verdict(&damaged(right.clone()).await).0);

    // The API's sign-up is refused before its voucher is looked at.
    let body = json!({"firstName": "Grace", "lastName": "Hopper",
        "email": "grace@guest.example", "voucher": right});
    let api = app.post_json(paths::API_ACCOUNT_CREATION, &body, &[]).await;
    assert_eq!(api.status(), 429);
    assert_eq!(app.mails().await.len(), 1, "only the first sign-up's mail");
}
