//! By keyboard alone (Tab, Space, Enter, typing), with and without JavaScript, with a
//! visible focus ring at every stop.

use fantoccini::key::Key;

use super::{EN, open_form};
use crate::support::browser_support::{Browser, Js};
use crate::support::helpers::{TestApp, spawn_app};
use crate::support::routes::paths;

/// Tabs until `target` has the focus, checking a visible focus ring at every stop; returns
/// the stops on the way.
async fn tab_to(browser: &Browser, target: &str, at_most: usize) -> Vec<String> {
    let mut stops = Vec::new();
    for _ in 0..at_most {
        browser.press(&[Key::Tab.into()]).await;
        let focused = browser.focused().await;
        assert_focus_ring(browser, &focused).await;
        stops.push(focused.clone());
        if browser
            .js_bool(&format!(
                "return document.activeElement && document.activeElement.matches({target:?})"
            ))
            .await
        {
            return stops;
        }
    }
    panic!("Tab did not reach {target} in {at_most} presses: {stops:?}");
}

/// The focused element shows a clear outline (at least 2 px, not `none`).
async fn assert_focus_ring(browser: &Browser, what: &str) {
    let ring = browser
        .js_string(
            "const s = getComputedStyle(document.activeElement);
             return s.outlineStyle + ' ' + parseFloat(s.outlineWidth);",
        )
        .await;
    let mut parts = ring.split(' ');
    let style = parts.next().unwrap_or("none");
    let width: f64 = parts.next().and_then(|w| w.parse().ok()).unwrap_or(0.0);
    assert!(
        style != "none" && width >= 2.0,
        "{what} has no visible focus ring ({ring})"
    );
}

/// A whole sign-up with Tab, Space, Enter and typing only.
async fn sign_up_by_keyboard(browser: &Browser, app: &TestApp) {
    open_form(browser, app, &EN).await;
    browser.mark_document().await;
    let stops = tab_to(browser, "#email", 6).await;
    assert_eq!(
        stops.first().map(String::as_str),
        Some("a:Skip to content"),
        "the skip link comes first"
    );
    if browser.js == Js::On {
        // Enter checks the address (the next step cannot be seen yet) and keeps the focus.
        browser.type_keys("grace").await;
        browser.press(&[Key::Enter.into()]).await;
        browser
            .wait_for(
                "Enter to check the address",
                "return !!document.querySelector('#email-status .field-error')",
            )
            .await;
        assert_eq!(browser.focused().await, "#email");
        assert!(browser.same_document().await);
        // Tab right after typing: the consent step opens when the check answers, and the
        // focus must end up in it rather than outside the page.
        browser.type_keys("@uni.example").await;
        browser.press(&[Key::Tab.into()]).await;
        browser
            .wait_for(
                "the focus to move into the consent step",
                "return document.activeElement && document.activeElement.id === 'consent_email'",
            )
            .await;
    } else {
        browser.type_keys("grace@uni.example").await;
        browser.press(&[Key::Tab.into()]).await;
        assert_eq!(browser.focused().await, "#consent_email");
    }
    assert_focus_ring(browser, "#consent_email").await;
    browser.press(&[Key::Space.into()]).await;
    tab_to(browser, "#consent_name", 1).await;
    browser.press(&[Key::Space.into()]).await;
    tab_to(browser, "#first_name", 1).await;
    browser.type_keys("Grace").await;
    tab_to(browser, "#last_name", 1).await;
    browser.type_keys("Hopper").await;
    tab_to(browser, "button[type=submit]", 1).await;
    browser.mark_document().await;
    browser.press(&[Key::Enter.into()]).await;
    browser
        .wait_for(
            "the check-your-mailbox answer",
            "return !!document.querySelector('#signup h2')",
        )
        .await;
    assert_eq!(browser.text("#signup h2").await, EN.mailbox);
    assert_eq!(browser.same_document().await, browser.js == Js::On);

    // The mail's link and the confirm button, by keyboard too.
    browser.goto(&app.url(paths::DEBUG_MAILS)).await;
    tab_to(browser, "a.mail-link", 8).await;
    browser.mark_document().await;
    browser.press(&[Key::Enter.into()]).await;
    browser.wait_for_page("the confirm page").await;
    assert_eq!(browser.text("h1").await, EN.confirm_heading);
    tab_to(browser, "button[type=submit]", 8).await;
    browser.mark_document().await;
    browser.press(&[Key::Enter.into()]).await;
    browser.wait_for_page("the result page").await;
    assert_eq!(browser.text("h1").await, EN.ready);
    assert_eq!(
        browser.text("#username").await,
        "grace.hopper@tenant.example"
    );
    browser.assert_no_problems("keyboard sign-up", &[]).await;
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver: run tests/run (installs them), or cargo test -- --ignored"]
async fn a_keyboard_alone_completes_the_sign_up_with_and_without_javascript() {
    let app = spawn_app().await;
    let with_js = Browser::start(Js::On).await;
    sign_up_by_keyboard(&with_js, &app).await;
    with_js.close().await;

    let app = spawn_app().await;
    let without_js = Browser::start(Js::Off).await;
    sign_up_by_keyboard(&without_js, &app).await;
    without_js.close().await;
}
