//! Vouchers in a real browser: with JavaScript and `VOUCHERS = required`, the address step
//! opens once the voucher is accepted; without JavaScript, a voucher's link fills in the
//! optional voucher field and the one form post takes it.

use fantoccini::key::Key;

use crate::support::browser_support::{Browser, Js};
use crate::support::helpers::TestApp;

/// A store with one voucher (made with the CLI, as an operator does), and its code.
fn store_with_voucher() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let made = crate::cli::run_with(
        dir.path(),
        &["vouchers", "create", "--name", "Course", "--json"],
        &[],
    );
    let made: serde_json::Value = serde_json::from_str(&crate::cli::stdout(&made)).unwrap();
    let code = made["code"].as_str().unwrap().to_owned();
    (dir, code)
}

async fn fill_in_the_rest(browser: &Browser) {
    browser.click("#consent_email").await;
    browser.click("#consent_name").await;
    browser.type_into("#first_name", "Ada").await;
    browser.type_into("#last_name", "Lovelace").await;
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver: run tests/run (installs them), or cargo test -- --ignored"]
async fn with_javascript_a_required_voucher_opens_the_address_step() {
    let (dir, code) = store_with_voucher();
    let app = TestApp::builder()
        .store(dir)
        .env("VOUCHERS", "required")
        .spawn()
        .await;
    let browser = Browser::start(Js::On).await;
    browser.goto(&app.url("/")).await;

    // Only the voucher shows at first.
    assert!(browser.shown("#voucher").await);
    assert!(
        !browser.shown(".step-email").await,
        "the address waits for the voucher"
    );
    browser.inspect("voucher-js-1-form", &[]).await;

    // A wrong code: the message next to the field; the address step stays closed.
    browser.type_into("#voucher", "2345-6789-ABCD-EFGH").await;
    browser.press(&[Key::Tab.into()]).await;
    browser
        .wait_for(
            "the voucher check to refuse the code",
            "return !!document.querySelector('#voucher-status .field-error')",
        )
        .await;
    assert!(!browser.shown(".step-email").await);

    // The right code, typed in lower case: accepted, and the address step opens.
    browser.type_into("#voucher", &code.to_lowercase()).await;
    browser.press(&[Key::Tab.into()]).await;
    browser
        .wait_for(
            "the voucher check to accept the code",
            "return !!document.querySelector('#voucher-status [data-voucher-ok]')",
        )
        .await;
    assert!(browser.shown(".step-email").await);
    browser.type_into("#email", "ada@uni.example").await;
    browser
        .wait_for(
            "the address check",
            "return !!document.querySelector('#email-status [data-email-ok]')",
        )
        .await;
    fill_in_the_rest(&browser).await;
    browser.click(".step-name button[type=submit]").await;
    browser
        .wait_for(
            "the answer to replace the form",
            "return !!document.querySelector('.panel--success')",
        )
        .await;
    browser.inspect("voucher-js-2-sent", &[]).await;
    assert_eq!(app.mails().await.len(), 1);
    browser.close().await;
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver: run tests/run (installs them), or cargo test -- --ignored"]
async fn without_javascript_a_vouchers_link_fills_in_the_optional_field() {
    let (dir, code) = store_with_voucher();
    let app = TestApp::builder()
        .store(dir)
        .env("VOUCHERS", "optional")
        .spawn()
        .await;
    let browser = Browser::start(Js::Off).await;
    browser.goto(&app.url(&format!("/de?voucher={code}"))).await;

    assert_eq!(browser.value("#voucher").await, code);
    assert!(browser.shown(".step-email").await && browser.shown(".step-name").await);
    browser.inspect("voucher-nojs-1-prefilled", &[]).await;
    browser.type_into("#email", "ada@uni.example").await;
    fill_in_the_rest(&browser).await;
    // Without the mark, the form's own (already complete) page would pass for the answer.
    browser.mark_document().await;
    browser.click(".step-name button[type=submit]").await;
    browser.wait_for_page("the answer page").await;

    assert!(browser.exists(".panel--success").await);
    assert_eq!(app.mails().await.len(), 1);
    browser.close().await;
}
