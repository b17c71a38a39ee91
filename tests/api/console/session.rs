//! The console's session: what opens it, what ends it, and what it refuses.

use crate::support::helpers::{TestApp, header, texts};

use super::{Console, paths, set_cookie};

/// The cookie `name=value` with its value's last character changed.
fn tampered(cookie: &str) -> String {
    let (head, last) = cookie.split_at(cookie.len() - 1);
    let other = if last == "A" { "B" } else { "A" };
    format!("{head}{other}")
}

#[tokio::test]
async fn a_tampered_cookie_opens_nothing() {
    let console = Console::start().await;
    console.member();
    let cookie = console.sign_in().await;

    let page = console.get(paths::ADMIN, &tampered(&cookie)).await;
    let action = console.post(paths::SIGN_OUT, &tampered(&cookie), &[]).await;

    assert_eq!(page.status(), 303, "a page starts a sign-in");
    assert!(
        header(&page, "location")
            .unwrap()
            .starts_with(&console.oidc.authority())
    );
    assert_eq!(action.status(), 403, "an action is refused");
    let refused = action.text().await.unwrap();
    assert_eq!(texts(&refused, "h1"), ["Your session has ended"]);
    assert_eq!(
        console.get(paths::ADMIN, &cookie).await.status(),
        200,
        "still signed in"
    );
}

#[tokio::test]
async fn signing_out_ends_the_session_on_the_server_too() {
    let console = Console::start().await;
    console.member();
    let cookie = console.sign_in().await;

    let out = console.post(paths::SIGN_OUT, &cookie, &[]).await;

    assert_eq!(out.status(), 200);
    let removed = set_cookie(&out, "console_session").unwrap();
    assert!(removed.contains("Max-Age=0"), "{removed}");
    // A browser that kept the cookie anyway gets nothing with it.
    assert_eq!(console.get(paths::ADMIN, &cookie).await.status(), 303);
    let again = console.sign_in().await;
    let lines = console.audit(&again).await;
    let actions: Vec<&str> = lines
        .iter()
        .map(|l| l["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["sign_in", "sign_out", "sign_in"]);
}

#[tokio::test]
async fn a_session_lasts_eight_hours_at_most() {
    let console = Console::start().await;
    console.member();
    let cookie = console.sign_in().await;

    console.app.advance_clock(8 * 60 * 60 - 1);
    assert_eq!(console.get(paths::ADMIN, &cookie).await.status(), 200);
    console.app.advance_clock(1);
    assert_eq!(console.get(paths::ADMIN, &cookie).await.status(), 303);
}

#[tokio::test]
async fn a_cross_site_post_is_refused_and_changes_nothing() {
    let console = Console::start().await;
    console.member();
    let cookie = console.sign_in().await;

    let headers = [
        ("cookie", cookie.as_str()),
        ("sec-fetch-site", "cross-site"),
    ];
    let forged = console
        .app
        .post_form_with(paths::SIGN_OUT, &[], &headers)
        .await;
    let origin = [
        ("cookie", cookie.as_str()),
        ("origin", "https://evil.example"),
    ];
    let other_origin = console
        .app
        .post_form_with(paths::SIGN_OUT, &[], &origin)
        .await;

    assert_eq!(forged.status(), 403);
    assert_eq!(other_origin.status(), 403);
    assert_eq!(
        console.get(paths::ADMIN, &cookie).await.status(),
        200,
        "not signed out"
    );
    let lines = console.audit(&cookie).await;
    assert_eq!(lines.len(), 1, "the sign-in only: {lines:#?}");
}

#[tokio::test]
async fn under_https_the_console_cookies_are_secure() {
    let console =
        Console::start_with(TestApp::builder().env("PUBLIC_URL", "https://signup.uni.example/"))
            .await;

    let start = console.app.get(paths::ADMIN).await;

    let state = set_cookie(&start, "console_sign_in").unwrap();
    assert!(state.contains("Secure"), "{state}");
    let authorize = url::Url::parse(&header(&start, "location").unwrap()).unwrap();
    let redirect_uri = authorize
        .query_pairs()
        .find(|(name, _)| name == "redirect_uri")
        .unwrap()
        .1;
    assert_eq!(redirect_uri, "https://signup.uni.example/admin/callback");
}
