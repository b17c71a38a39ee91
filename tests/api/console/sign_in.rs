//! Signing in to the console through the server, with the provider on another site.

use crate::support::fake_graph::DOMAIN;
use crate::support::fake_oidc::{Groups, TokenFault};
use crate::support::helpers::{TestApp, attr, header, texts};

use super::{Console, cookie, paths, session_cookie, set_cookie};

#[tokio::test]
async fn a_member_lands_on_a_page_of_ours_first_then_on_the_overview() {
    // Arrange
    let console = Console::start().await;
    let grace = console.member();

    // Act: /admin sends the browser to Microsoft …
    let start = console.app.get(paths::ADMIN).await;
    let state_cookie = set_cookie(&start, "console_sign_in").unwrap();
    let authorize = header(&start, "location").unwrap();
    let back = console.oidc.authorize(&authorize).await;
    // … which sends it back to the callback, cross-site.
    let signed_in = console
        .callback(&back, cookie(&start, "console_sign_in").as_deref())
        .await;

    // Assert: the sign-in's state rides a Lax cookie to the callback only (a Strict one
    // would not come back on Microsoft's cross-site redirect).
    assert_eq!(start.status(), 303);
    assert!(
        authorize.starts_with(&console.oidc.authority()),
        "{authorize}"
    );
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/admin/callback"] {
        assert!(state_cookie.contains(flag), "{flag}: {state_cookie}");
    }
    // The callback answers with our own page (no redirect: the browser would not send the
    // new Strict cookie on a redirect of Microsoft's chain), which moves on by itself.
    assert_eq!(signed_in.status(), 200);
    let refresh = header(&signed_in, "refresh").unwrap();
    assert!(refresh.ends_with("url=/admin"), "{refresh}");
    let removed = set_cookie(&signed_in, "console_sign_in").unwrap();
    assert!(
        removed.contains("Max-Age=0"),
        "the sign-in is over: {removed}"
    );
    let session = set_cookie(&signed_in, "console_session").unwrap();
    for flag in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/admin",
        "Max-Age=28800",
    ] {
        assert!(session.contains(flag), "{flag}: {session}");
    }
    assert!(!session.contains("Secure"), "plain http here: {session}");
    let page = signed_in.text().await.unwrap();
    assert_eq!(attr(&page, "#console a.button", "href").unwrap(), "/admin");

    let cookie = session.split(';').next().unwrap();
    let overview = console.get(paths::ADMIN, cookie).await;
    assert_eq!(overview.status(), 200);
    let overview = overview.text().await.unwrap();
    assert!(
        texts(&overview, ".console-who")[0].contains(&grace.upn),
        "{overview}"
    );
    assert_eq!(texts(&overview, "nav a[aria-current=page]"), ["Overview"]);
}

#[tokio::test]
async fn a_sign_in_and_a_refused_one_each_leave_one_audit_line() {
    let console = Console::start().await;
    let outsider = console.person(&format!("mallory@{DOMAIN}"), Groups::Listed(vec![]));
    console.oidc.sign_in_as(outsider.clone());
    let (back, cookie) = console.to_provider_and_back().await;
    let refused = console
        .app
        .client
        .get(back.as_str())
        .header("cookie", cookie)
        .header("accept-language", "de")
        .send()
        .await
        .unwrap();

    // A non-member gets a 403 page in her language, and no session.
    assert_eq!(refused.status(), 403);
    assert_eq!(session_cookie(&refused), None);
    let page = refused.text().await.unwrap();
    assert_eq!(attr(&page, "html", "lang").as_deref(), Some("de"));
    assert_eq!(texts(&page, "h1"), ["Kein Zugang zur Konsole"]);

    let grace = console.member();
    let cookie = console.sign_in().await;
    let lines = console.audit(&cookie).await;
    assert_eq!(lines.len(), 2, "{lines:#?}");
    let (no, yes) = (&lines[0], &lines[1]);
    assert_eq!(no["action"], "sign_in_refused");
    assert_eq!(no["actor"]["upn"], outsider.upn.as_str());
    assert_eq!(no["actor"]["object_id"], outsider.oid.as_str());
    assert_eq!(yes["action"], "sign_in");
    assert_eq!(yes["actor"]["upn"], grace.upn.as_str());
    assert_eq!(yes["actor"]["object_id"], grace.oid.as_str());
    assert_eq!(yes["actor"]["source"], "console");
    assert_eq!(yes["client"], "127.0.0.1");
}

#[tokio::test]
async fn a_spoilt_token_a_replayed_code_and_a_wrong_state_give_no_session() {
    let console = Console::start().await;
    console.member();
    for fault in [
        TokenFault::WrongKey,
        TokenFault::WrongAudience,
        TokenFault::WrongIssuer,
        TokenFault::Expired,
        TokenFault::WrongNonce,
    ] {
        console.oidc.spoil_next_token(fault);
        let (back, cookie) = console.to_provider_and_back().await;
        let answer = console.callback(&back, Some(&cookie)).await;
        assert_eq!(answer.status(), 400, "{fault:?}");
        assert_eq!(session_cookie(&answer), None, "{fault:?}");
        let page = answer.text().await.unwrap();
        assert_eq!(texts(&page, "h1"), ["Sign-in not completed"], "{fault:?}");
    }

    // The state of one browser's sign-in does not complete another browser's.
    let (first, first_cookie) = console.to_provider_and_back().await;
    let (second, _) = console.to_provider_and_back().await;
    let crossed = console.callback(&second, Some(&first_cookie)).await;
    assert_eq!(crossed.status(), 400);
    assert_eq!(session_cookie(&crossed), None);
    let without_cookie = console.callback(&first, None).await;
    assert_eq!(
        session_cookie(&without_cookie),
        None,
        "no cookie, no sign-in"
    );

    // A callback (code and state) used a second time gets nothing.
    let (back, cookie) = console.to_provider_and_back().await;
    let once = console.callback(&back, Some(&cookie)).await;
    assert!(session_cookie(&once).is_some());
    let twice = console.callback(&back, Some(&cookie)).await;
    assert_eq!(twice.status(), 400);
    assert_eq!(session_cookie(&twice), None);
}

#[tokio::test]
async fn with_the_console_off_no_console_path_exists() {
    let app = TestApp::builder().spawn().await;
    let get = [
        paths::ADMIN,
        paths::SIGN_IN,
        paths::CALLBACK,
        paths::SIGNUPS,
        paths::ACCOUNTS,
        paths::FORGET,
        paths::VOUCHERS,
        paths::AUDIT,
        paths::AUDIT_EXPORT,
    ];
    for path in get {
        assert_eq!(app.get(path).await.status(), 404, "GET {path}");
    }
    let post = [
        paths::SIGN_OUT,
        paths::RETRY,
        paths::FORGET,
        paths::EXTEND,
        paths::VOUCHERS,
        paths::VOUCHER_REVOKE,
        paths::VOUCHER_SHEET,
        paths::SIGN_IN,
    ];
    for path in post {
        assert_eq!(app.post_form(path, &[]).await.status(), 404, "POST {path}");
    }
}
