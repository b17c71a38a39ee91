//! The operator console in a real browser, JavaScript on and off: signing in with the
//! provider on another site (`localhost` against the server on 127.0.0.1, as Entra is to
//! the server), so the callback is a cross-site navigation and the Strict session cookie
//! must still reach the overview; then every page checked (axe, 320 px) and the actions
//! done as an operator would.

use crate::console::Console;
use crate::support::browser_support::{Browser, Js};
use crate::support::fake_graph::Endpoint;
use crate::support::fake_oidc::Groups;

/// Follows a link to `/admin` from a page of another site (the operator's mail, the
/// intranet), without a session: to Microsoft, back, our page, the overview. Started from
/// another site, the whole chain is cross-site to the browser, as after Entra's sign-in
/// form: a redirect at its end would arrive without the new Strict session cookie.
pub(super) async fn sign_in(browser: &Browser, console: &Console, shots: &str) {
    let elsewhere = console.app.url("/").replace("127.0.0.1", "localhost");
    browser.goto(&elsewhere).await;
    let admin = serde_json::json!(console.app.url("/admin"));
    browser
        .js("location.assign(arguments[0]);", vec![admin])
        .await;
    browser
        .wait_for(
            "the overview after the sign-in",
            "return location.pathname === '/admin' && !!document.querySelector('nav a[aria-current=page]')",
        )
        .await;
    assert_eq!(browser.text("h1").await, "Overview");
    browser.inspect(&format!("{shots}-1-overview"), &[]).await;
}

/// Follows the navigation's link to `section` and waits for its page.
pub(super) async fn to_section(browser: &Browser, section: &str) {
    browser.mark_document().await;
    browser.click_text("nav a", section).await;
    browser.wait_for_page(section).await;
    assert_eq!(browser.text("h1").await, section);
}

async fn retry(browser: &Browser, console: &Console, shots: &str) {
    to_section(browser, "Sign-ups and queue").await;
    assert_eq!(browser.texts("tbody th").await, ["ada@uni.example"]);
    browser.inspect(&format!("{shots}-2-signups"), &[]).await;
    browser.mark_document().await;
    browser.click("tbody form button").await;
    browser
        .wait_for(
            "the retry's notice",
            "return !!document.querySelector('#console [role=status]')",
        )
        .await;
    assert_eq!(
        browser.same_document().await,
        browser.js == Js::On,
        "HTMX swaps"
    );
    browser.inspect(&format!("{shots}-3-retried"), &[]).await;
    let _ = console;
}

async fn forget(browser: &Browser, shots: &str) {
    to_section(browser, "Accounts").await;
    browser.type_into("#find-email", "Bob@uni.example").await;
    browser.click("form.find button").await;
    browser
        .wait_for(
            "the account",
            "return !!document.querySelector('.found dl')",
        )
        .await;
    browser.inspect(&format!("{shots}-4-found"), &[]).await;
    browser.mark_document().await;
    browser.click(".found a.button").await;
    browser.wait_for_page("the confirmation").await;
    assert_eq!(browser.text("h1").await, "Forget this address?");
    browser.inspect(&format!("{shots}-5-confirm"), &[]).await;
    browser.click(".panel form button[type=submit]").await;
    browser
        .wait_for(
            "the notice",
            "return !!document.querySelector('#console [role=status]')",
        )
        .await;
    browser.inspect(&format!("{shots}-6-forgotten"), &[]).await;
}

async fn audit_and_sign_out(browser: &Browser, shots: &str) {
    to_section(browser, "Audit log").await;
    let actions = browser.texts("tbody td.audit-action").await;
    assert_eq!(
        actions,
        ["forgot an address", "retried a registration", "signed in"]
    );
    browser.inspect(&format!("{shots}-7-audit"), &[]).await;
    browser.mark_document().await;
    browser.click(".console-bar form button").await;
    browser.wait_for_page("the signed-out page").await;
    assert_eq!(browser.text("h1").await, "Signed out");
    browser.inspect(&format!("{shots}-8-signed-out"), &[]).await;
}

async fn operate(js: Js) {
    let console = Console::start().await;
    console.member();
    let app = &console.app;
    app.create_account("bob@uni.example", "Bob", "Builder")
        .await;
    app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    console.graph.fail(Endpoint::CreateUser, 1, 400);
    app.confirm(&app.verification_path("ada@uni.example").await)
        .await;
    let browser = Browser::start(js).await;
    let shots = if js == Js::On {
        "console-js"
    } else {
        "console-nojs"
    };

    sign_in(&browser, &console, shots).await;
    retry(&browser, &console, shots).await;
    forget(&browser, shots).await;
    audit_and_sign_out(&browser, shots).await;

    browser.close().await;
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver: run tests/run (installs them), or cargo test -- --ignored"]
async fn with_javascript_an_operator_signs_in_across_sites_and_acts() {
    operate(Js::On).await;
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver: run tests/run (installs them), or cargo test -- --ignored"]
async fn without_javascript_an_operator_signs_in_across_sites_and_acts() {
    operate(Js::Off).await;
}

/// Someone of the tenant but in none of `ADMIN_GROUP_IDS` signs in from another site: the
/// chain ends on the refusal page, which passes axe at 320 px like every console page.
async fn an_outsider_is_refused(js: Js) {
    let console = Console::start().await;
    let outsider = console.person("mallory@tenant.example", Groups::None);
    console.oidc.sign_in_as(outsider);
    let browser = Browser::start(js).await;
    let elsewhere = console.app.url("/").replace("127.0.0.1", "localhost");
    browser.goto(&elsewhere).await;
    let admin = serde_json::json!(console.app.url("/admin"));
    browser
        .js("location.assign(arguments[0]);", vec![admin])
        .await;
    browser
        .wait_for(
            "the refusal after the sign-in",
            "return location.pathname.startsWith('/admin') && !!document.querySelector('main h1')",
        )
        .await;
    assert_eq!(browser.text("h1").await, "No access to the console");
    assert!(
        browser.texts(".console-bar").await.is_empty(),
        "an outsider gets no session"
    );
    let shots = if js == Js::On {
        "console-outsider-js"
    } else {
        "console-outsider-nojs"
    };
    // The refusal is a 403, which the browser logs as a resource that failed to load.
    browser
        .inspect(shots, &["the server responded with a status of 403"])
        .await;
    browser.close().await;
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver: run tests/run (installs them), or cargo test -- --ignored"]
async fn with_javascript_an_outsider_gets_the_refusal_page() {
    an_outsider_is_refused(Js::On).await;
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver: run tests/run (installs them), or cargo test -- --ignored"]
async fn without_javascript_an_outsider_gets_the_refusal_page() {
    an_outsider_is_refused(Js::Off).await;
}
