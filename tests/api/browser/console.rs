//! The operator console in a real browser, JavaScript on and off: signing in with the
//! provider on another site (`localhost` against the server on 127.0.0.1, as Entra is to
//! the server), so the callback is a cross-site navigation and the Strict session cookie
//! must still reach the overview; then every page checked (axe, 320 px) and the actions
//! done as an operator would.

use crate::console::Console;
use crate::support::browser_support::{Browser, Js};
use crate::support::fake_graph::Endpoint;
use crate::support::fake_oidc::{Groups, TokenFault};

/// Follows a link to `/admin` from a page of another site (the operator's mail, the
/// intranet), without a session: to Microsoft, back, our page, the overview. Started from
/// another site, the whole chain is cross-site to the browser, as after Entra's sign-in
/// form: a redirect at its end would arrive without the new Strict session cookie.
pub(super) async fn sign_in(browser: &Browser, console: &Console, shots: &str) {
    to_admin_from_elsewhere(browser, console).await;
    browser
        .wait_for(
            "the overview after the sign-in",
            "return location.pathname === '/admin' && !!document.querySelector('nav a[aria-current=page]')",
        )
        .await;
    assert_eq!(browser.text("h1").await, "Overview");
    browser.inspect(&format!("{shots}-1-overview"), &[]).await;
}

/// Opens a page of another site (`localhost`), then `/admin` from it, so the sign-in chain
/// that follows is cross-site to the browser.
async fn to_admin_from_elsewhere(browser: &Browser, console: &Console) {
    let elsewhere = console.app.url("/").replace("127.0.0.1", "localhost");
    browser.goto(&elsewhere).await;
    let admin = serde_json::json!(console.app.url("/admin"));
    browser
        .js("location.assign(arguments[0]);", vec![admin])
        .await;
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

/// Follows a link to `/admin` from another site, as [`sign_in`] does, for a sign-in that
/// ends on one of the console's refusals; checks it (axe, 320 px) and returns its heading.
/// The refusals are 4xx answers, which the browser logs as resources that failed to load.
async fn refused_sign_in(js: Js, console: &Console, shots: &str) -> String {
    let browser = Browser::start(js).await;
    to_admin_from_elsewhere(&browser, console).await;
    browser
        .wait_for(
            "the refusal after the sign-in",
            "return location.pathname.startsWith('/admin') && !!document.querySelector('main h1')",
        )
        .await;
    assert!(
        browser.texts(".console-bar").await.is_empty(),
        "a refused sign-in gets no session"
    );
    let heading = browser.text("h1").await;
    browser
        .inspect(shots, &["the server responded with a status of 4"])
        .await;
    browser.close().await;
    heading
}

/// Someone of the tenant in none of `ADMIN_GROUP_IDS`, and a sign-in whose id_token fails
/// its checks: each ends on its refusal page, which passes the browser checks like every
/// console page.
async fn refusals(js: Js) {
    let console = Console::start().await;
    let outsider = console.person("mallory@tenant.example", Groups::None);
    console.oidc.sign_in_as(outsider);
    let suffix = if js == Js::On { "js" } else { "nojs" };
    let shots = format!("console-outsider-{suffix}");
    let heading = refused_sign_in(js, &console, &shots).await;
    assert_eq!(heading, "No access to the console");
    console.member();
    console.oidc.spoil_next_token(TokenFault::Expired);
    let shots = format!("console-sign-in-failed-{suffix}");
    let heading = refused_sign_in(js, &console, &shots).await;
    assert_eq!(heading, "Sign-in not completed");
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver: run tests/run (installs them), or cargo test -- --ignored"]
async fn with_javascript_an_outsider_and_a_bad_token_get_their_refusal_pages() {
    refusals(Js::On).await;
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver: run tests/run (installs them), or cargo test -- --ignored"]
async fn without_javascript_an_outsider_and_a_bad_token_get_their_refusal_pages() {
    refusals(Js::Off).await;
}
