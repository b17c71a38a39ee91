//! The waiting page of a queued account: with JavaScript its status updates itself (HTMX
//! polling), without JavaScript the "Check again" link shows the status.

use std::time::Duration;

use crate::support::browser_support::{Browser, Js};
use crate::support::flaky_directory::FlakyDirectory;
use crate::support::helpers::TestApp;

/// A server whose creates take longer than the confirm button waits; Ada's link confirmed,
/// showing the waiting page.
async fn confirmed_and_waiting(browser: &Browser) -> TestApp {
    let app = TestApp::builder()
        .env("PROVISION_WAIT_SECONDS", "1")
        .directory(FlakyDirectory::with_delay(Duration::from_millis(2500)))
        .spawn()
        .await;
    app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    let path = app.verification_path("ada@uni.example").await;
    browser.goto(&app.url(&path)).await;
    browser.mark_document().await;
    browser.click("button[type=submit]").await;
    browser.wait_for_page("the answer to the confirm").await;
    assert_eq!(browser.text("h1").await, "Your account is being created");
    app
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver: run tests/run (installs them), or cargo test -- --ignored"]
async fn with_javascript_the_waiting_page_turns_into_the_ready_status_by_itself() {
    let browser = Browser::start(Js::On).await;
    let _app = confirmed_and_waiting(&browser).await;
    browser.inspect("queue-js-1-waiting", &[]).await;
    browser.mark_document().await;

    browser
        .wait_for(
            "the status to say the account is ready",
            "return document.querySelector('#account-status h1').textContent === 'Your account is ready'",
        )
        .await;

    assert!(browser.same_document().await, "swapped in, no navigation");
    assert_eq!(
        browser.text("#account-status code.username").await,
        "ada.lovelace@tenant.example"
    );
    browser.inspect("queue-js-2-ready", &[]).await;
    browser.close().await;
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver: run tests/run (installs them), or cargo test -- --ignored"]
async fn without_javascript_check_again_shows_the_ready_status() {
    let browser = Browser::start(Js::Off).await;
    let _app = confirmed_and_waiting(&browser).await;
    browser.inspect("queue-nojs-1-waiting", &[]).await;
    tokio::time::sleep(Duration::from_secs(3)).await;

    browser.mark_document().await;
    browser.click_text("#account-status a", "Check again").await;
    browser.wait_for_page("the status page").await;

    assert_eq!(browser.text("h1").await, "Your account is ready");
    assert_eq!(
        browser.text("#account-status code.username").await,
        "ada.lovelace@tenant.example"
    );
    browser.inspect("queue-nojs-2-ready", &[]).await;
    browser.close().await;
}
