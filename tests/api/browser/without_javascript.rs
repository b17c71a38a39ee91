//! Without JavaScript: one form, plain posts, whole pages; errors next to the fields with
//! the values kept and the focus on the first field to correct.

use super::{
    ADA, DE, EN, GRETE, INVALID_FORM, Person, Texts, assert_every_input_is_labelled,
    assert_field_error, confirm_by_mail, open_form,
};
use crate::support::browser_support::{Browser, Js};
use crate::support::helpers::{TestApp, spawn_app};
use crate::support::routes::paths;

/// The same sign-up as plain form posts and whole pages.
async fn sign_up_without_javascript(browser: &Browser, app: &TestApp, t: &Texts, who: &Person) {
    let email = who.email;
    let shots = format!("{}-nojs", t.lang);
    open_form(browser, app, t).await;
    assert_every_input_is_labelled(browser).await;
    for step in [".step-email", ".step-consent", ".step-name"] {
        assert!(browser.shown(step).await, "{step} shows: it is one form");
    }
    assert!(
        !browser.shown("#email-next").await,
        "no separate address check without JavaScript"
    );
    browser.inspect(&format!("{shots}-1-form"), &[]).await;

    browser.type_into("#email", email).await;
    browser.click("#consent_email").await;
    browser.click("#consent_name").await;
    browser.type_into("#first_name", "李").await;
    browser.type_into("#last_name", "王").await;
    browser.mark_document().await;
    browser.click("button[type=submit]").await;
    browser.wait_for_page("the form's answer").await;
    assert_eq!(browser.text(".form-alert[role=alert]").await, t.summary);
    assert_field_error(browser, "first_name", t.name_unsupported).await;
    assert_eq!(
        browser.focused().await,
        "#first_name",
        "the field to correct has the focus"
    );
    assert_eq!(browser.value("#email").await, email);
    assert!(browser.checked("#consent_email").await && browser.checked("#consent_name").await);
    assert_eq!(browser.value("#first_name").await, "李");
    assert_eq!(browser.value("#last_name").await, "王");
    browser
        .inspect(&format!("{shots}-4-errors"), INVALID_FORM)
        .await;

    browser.type_into("#first_name", who.first).await;
    browser.type_into("#last_name", who.last).await;
    browser.mark_document().await;
    browser.click("button[type=submit]").await;
    browser.wait_for_page("the check-your-mailbox page").await;
    assert_eq!(browser.text("#signup h2").await, t.mailbox);
    assert!(!browser.exists("form#signup").await);
    browser.inspect(&format!("{shots}-5-mailbox"), &[]).await;

    confirm_by_mail(browser, app, t, who, &shots).await;
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver: run tests/run (installs them), or cargo test -- --ignored"]
async fn without_javascript_the_sign_up_completes_with_plain_form_posts() {
    let app = spawn_app().await;
    let browser = Browser::start(Js::Off).await;

    sign_up_without_javascript(&browser, &app, &EN, &ADA).await;
    sign_up_without_javascript(&browser, &app, &DE, &GRETE).await;

    // The same address again: the error is at the address, which takes the focus.
    open_form(&browser, &app, &EN).await;
    browser.type_into("#email", "ADA@uni.example").await;
    browser.click("#consent_email").await;
    browser.click("#consent_name").await;
    browser.type_into("#first_name", "Ada").await;
    browser.type_into("#last_name", "Lovelace").await;
    browser.mark_document().await;
    browser.click("button[type=submit]").await;
    browser.wait_for_page("the form's answer").await;
    assert_field_error(&browser, "email", EN.already_used).await;
    assert_eq!(browser.focused().await, "#email");
    assert_eq!(browser.value("#email").await, "ADA@uni.example");
    browser
        .inspect("en-nojs-8-already-used", INVALID_FORM)
        .await;

    browser.close().await;
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver: run tests/run (installs them), or cargo test -- --ignored"]
async fn the_favicon_opened_directly_reports_no_problems() {
    let app = crate::support::helpers::spawn_app().await;
    let browser = Browser::start(Js::Off).await;
    browser.goto(&app.url(paths::FAVICON)).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    browser.assert_no_problems("/favicon.ico", &[]).await;
    browser.close().await;
}
