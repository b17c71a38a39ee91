//! With JavaScript: the steps open in turn, the address is checked inline, the form posts
//! through HTMX, and the whole sign-up happens in one document until the mail's link.

use fantoccini::key::Key;

use super::{
    ADA, DE, EN, GRETE, INVALID_FORM, Person, Texts, assert_every_input_is_labelled,
    assert_field_error, confirm_by_mail, description_of, open_form,
};
use crate::support::browser_support::{Browser, Js};
use crate::support::helpers::{TestApp, spawn_app};

/// The step-by-step form with HTMX: everything happens in one document.
async fn sign_up_with_javascript(browser: &Browser, app: &TestApp, t: &Texts, who: &Person) {
    let shots = format!("{}-js", t.lang);
    open_form(browser, app, t).await;
    browser.mark_document().await;
    address_step(browser, t, who, &shots).await;
    consent_step(browser, app, who, &shots).await;
    errors_come_back_in_place(browser, t, who, &shots).await;
    answer_replaces_the_form(browser, t, who, &shots).await;
    confirm_by_mail(browser, app, t, who, &shots).await;
}

/// Only the address step shows; the inline check answers in place until the address passes
/// and the consent step opens.
async fn address_step(browser: &Browser, t: &Texts, who: &Person, shots: &str) {
    assert_every_input_is_labelled(browser).await;
    assert!(browser.shown("#email").await);
    assert!(
        !browser.shown(".step-consent").await && !browser.shown(".step-name").await,
        "only the address step shows at first"
    );
    assert!(browser.shown("#email-next").await);
    assert_eq!(browser.text("#email-next").await, t.continue_button);
    browser.inspect(&format!("{shots}-1-form"), &[]).await;

    // An address that is not one: the check answers under the field, in a live region that
    // stays in place (so screen readers announce it), and the field is marked invalid.
    let live_region = browser
        .find("[aria-live]:has(#email-status), #email-status[aria-live]")
        .await;
    browser.type_into("#email", "ada.uni.example").await;
    browser
        .wait_for(
            "the inline check to find the address invalid",
            "return !!document.querySelector('#email-status .field-error')",
        )
        .await;
    let announced = live_region
        .text()
        .await
        .expect("the live region stays in place while its content changes (a replaced region is not announced)");
    assert!(
        announced.contains(t.address_invalid),
        "the live region announces the check: {announced:?}"
    );
    assert_eq!(
        browser.attr("#email", "aria-invalid").await.as_deref(),
        Some("true")
    );
    assert!(
        description_of(browser, "#email")
            .await
            .contains(t.address_invalid)
    );
    assert!(!browser.shown(".step-consent").await);

    // A good address: the check says so and the consent step opens, the name step not yet.
    browser.type_into("#email", who.email).await;
    browser
        .wait_for(
            "the inline check to accept the address",
            "return !!document.querySelector('#email-status [data-email-ok]')",
        )
        .await;
    assert_eq!(browser.text("#email-status").await, t.address_ok);
    assert!(
        live_region
            .text()
            .await
            .expect("same live region")
            .contains(t.address_ok)
    );
    assert_eq!(browser.attr("#email", "aria-invalid").await, None);
    assert!(browser.shown(".step-consent").await);
    assert!(!browser.shown(".step-name").await);
    assert!(
        !browser.shown("#email-next").await,
        "nothing left to continue"
    );
    assert!(
        browser.same_document().await,
        "the check did not load a page"
    );
    browser
        .inspect(&format!("{shots}-2-address-checked"), &[])
        .await;
}

/// The name step opens once both consents are given, and the form cannot be sent without.
async fn consent_step(browser: &Browser, app: &TestApp, who: &Person, shots: &str) {
    browser.click("#consent_email").await;
    assert!(
        !browser.shown(".step-name").await,
        "one consent is not enough"
    );
    browser.click("#consent_name").await;
    assert!(browser.shown(".step-name").await);
    browser.inspect(&format!("{shots}-3-consented"), &[]).await;

    // Consent is required: without it the name step closes and Enter sends nothing.
    browser.type_into("#first_name", who.first).await;
    browser.type_into("#last_name", who.last).await;
    browser.click("#consent_email").await;
    assert!(!browser.shown(".step-name").await);
    assert!(
        browser
            .js_bool("return document.getElementById('consent_email').validity.valueMissing")
            .await
    );
    browser
        .js(
            "window.__invalid = [];
             document.addEventListener('invalid', (e) => window.__invalid.push(e.target.id), true);",
            vec![],
        )
        .await;
    browser.click("#email").await;
    browser.press(&[Key::Enter.into()]).await;
    browser
        .wait_for(
            "the browser to refuse sending the form without consent",
            "return window.__invalid.includes('consent_email')",
        )
        .await;
    assert!(browser.exists("form#signup").await);
    assert!(
        app.mails()
            .await
            .iter()
            .all(|mail| !mail.meta.contains(who.email)),
        "nothing was sent without consent"
    );
    browser.click("#consent_email").await;
    assert!(browser.shown(".step-name").await);
    assert_eq!(
        browser.value("#first_name").await,
        who.first,
        "the names were kept"
    );
}

async fn errors_come_back_in_place(browser: &Browser, t: &Texts, who: &Person, shots: &str) {
    // A name no username can be made from: the form comes back through HTMX with the error
    // next to the field, the focus on it, and every value kept.
    browser.type_into("#first_name", "李").await;
    browser.type_into("#last_name", "王").await;
    browser.click("button[type=submit]").await;
    browser
        .wait_for(
            "the form to come back with an error",
            "return !!document.getElementById('first_name-error')",
        )
        .await;
    assert!(
        browser.same_document().await,
        "the form was swapped, not loaded"
    );
    assert_eq!(browser.text(".form-alert[role=alert]").await, t.summary);
    assert_field_error(browser, "first_name", t.name_unsupported).await;
    browser
        .wait_for(
            "the focus to move to the field to correct",
            "return document.activeElement && document.activeElement.id === 'first_name'",
        )
        .await;
    assert_eq!(browser.value("#email").await, who.email);
    assert!(browser.checked("#consent_email").await && browser.checked("#consent_name").await);
    assert_eq!(browser.value("#first_name").await, "李");
    assert_eq!(browser.value("#last_name").await, "王");
    assert!(browser.shown(".step-name").await && browser.shown(".step-consent").await);
    browser
        .inspect(&format!("{shots}-4-errors"), INVALID_FORM)
        .await;
}

async fn answer_replaces_the_form(browser: &Browser, t: &Texts, who: &Person, shots: &str) {
    // Corrected: the answer replaces the form, still in the same document, and takes focus.
    let path_before = browser.path().await;
    browser.type_into("#first_name", who.first).await;
    browser.type_into("#last_name", who.last).await;
    browser.click("button[type=submit]").await;
    browser
        .wait_for(
            "the answer to replace the form",
            "return !document.querySelector('form#signup') && !!document.querySelector('#signup h2')",
        )
        .await;
    assert_eq!(browser.text("#signup h2").await, t.mailbox);
    assert!(browser.text("#signup").await.contains(who.email));
    assert!(browser.same_document().await, "no page was loaded");
    assert_eq!(browser.path().await, path_before);
    browser
        .wait_for(
            "the focus to move to the answer",
            "return document.activeElement && document.activeElement.id === 'signup'",
        )
        .await;
    browser.inspect(&format!("{shots}-5-mailbox"), &[]).await;
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver: run tests/run (installs them), or cargo test -- --ignored"]
async fn with_javascript_the_steps_open_in_turn_and_the_sign_up_completes_without_a_page_load() {
    let app = spawn_app().await;
    let browser = Browser::start(Js::On).await;

    sign_up_with_javascript(&browser, &app, &EN, &ADA).await;
    sign_up_with_javascript(&browser, &app, &DE, &GRETE).await;

    browser.close().await;
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver: run tests/run (installs them), or cargo test -- --ignored"]
async fn with_javascript_a_problem_of_no_single_field_is_announced_and_takes_the_focus() {
    let app = TestApp::builder()
        .env("RATE_LIMIT_PER_IP_PER_HOUR", "1")
        .spawn()
        .await;
    let browser = Browser::start(Js::On).await;
    for attempt in 1..=2 {
        open_form(&browser, &app, &EN).await;
        browser.type_into("#email", ADA.email).await;
        browser
            .wait_for(
                "the consent step",
                "return !!document.querySelector('[data-email-ok]')",
            )
            .await;
        browser.click("#consent_email").await;
        browser.click("#consent_name").await;
        browser.type_into("#first_name", ADA.first).await;
        browser.type_into("#last_name", ADA.last).await;
        browser.click("button[type=submit]").await;
        browser
            .wait_for(
                "the form's answer",
                "return !document.querySelector('form#signup.htmx-request') && \
                 !!document.querySelector('#signup h2, .form-alert')",
            )
            .await;
        assert_eq!(browser.exists(".form-alert").await, attempt == 2);
    }
    assert!(
        browser
            .text(".form-alert[role=alert]")
            .await
            .starts_with("Too many attempts."),
        "the rate limit is announced"
    );
    browser
        .wait_for(
            "the focus to move to the message",
            "return document.activeElement && document.activeElement.matches('.form-alert')",
        )
        .await;
    browser
        .assert_no_problems("rate-limited", &["status of 429"])
        .await;
    browser.close().await;
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver: run tests/run (installs them), or cargo test -- --ignored"]
async fn typing_an_address_and_pressing_check_at_once_reports_no_console_errors() {
    // Arrange
    let app = spawn_app().await;
    let browser = Browser::start(Js::On).await;
    open_form(&browser, &app, &EN).await;
    browser.assert_no_problems("the form", &[]).await;

    // Act: the click leaves the field (its `change` check starts), then checks itself, and
    // the typing's delayed check follows.
    browser.type_into("#email", ADA.email).await;
    browser.click("#email-next").await;
    browser
        .wait_for(
            "the consent step",
            "return !!document.querySelector('[data-email-ok]')",
        )
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(900)).await;
    browser
        .wait_for(
            "every check to finish",
            "return !document.querySelector('.htmx-request')",
        )
        .await;

    // Assert
    browser.assert_no_problems("check and continue", &[]).await;
    assert!(browser.shown(".step-consent").await);
    browser.close().await;
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver: run tests/run (installs them), or cargo test -- --ignored"]
async fn at_360_px_a_long_username_breaks_only_between_its_parts_and_the_button_copies_it() {
    // Arrange: a long name, the confirm page at phone width.
    let app = spawn_app().await;
    app.sign_up("sophie@uni.example", "Sophie", "Schöneberg-Grossmann")
        .await;
    let path = app.verification_path("sophie@uni.example").await;
    let browser = Browser::start(Js::On).await;
    browser.set_width(360).await;
    browser
        .cdp(
            "Browser.grantPermissions",
            serde_json::json!({
                "origin": app.url(""),
                "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"],
            }),
        )
        .await;
    browser.goto(&app.url(&path)).await;
    let whole_parts = "return [...document.querySelectorAll('code.username > span')]\
        .every(part => part.getClientRects().length === 1)";
    let label_above = "const dt = [...document.querySelectorAll('.details dt')].pop(); \
        const dd = dt.nextElementSibling; \
        return dd.getBoundingClientRect().top >= dt.getBoundingClientRect().bottom";

    // Act / Assert: the confirm page, then the result page.
    assert!(browser.js_bool(whole_parts).await, "confirm page");
    assert!(browser.js_bool(label_above).await, "label above the value");
    browser.click_text("button", "Create my account").await;
    browser.wait_for_page("the result page").await;
    assert!(browser.js_bool(whole_parts).await, "result page");
    assert!(browser.js_bool(label_above).await, "label above the value");
    browser.inspect("en-js-username-360", &[]).await;
    browser.click("#username + .copy-button").await;
    browser
        .wait_for(
            "the button to say it copied",
            "return document.querySelector('#username + .copy-button').textContent === 'Copied'",
        )
        .await;
    let copied = browser
        .js_string("return await navigator.clipboard.readText()")
        .await;
    assert_eq!(copied, "sophie.schoeneberg-grossmann@tenant.example");
    browser.assert_no_problems("copied", &[]).await;
    browser.close().await;
}
