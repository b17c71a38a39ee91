//! Off by default and then invisible; when on, linked from the pages and mails, held to the
//! sign-up's limits, offered by the JSON API and counted in `/metrics`.

use serde_json::json;

use super::*;
use crate::support::helpers::{attrs, header, spawn_app};
use crate::support::routes::paths;

/// Every link on the page's `a` elements; the page must be there and have links.
async fn hrefs(response: reqwest::Response) -> Vec<String> {
    assert_eq!(response.status(), 200, "{}", response.url());
    let links = attrs(&response.text().await.unwrap(), "a", "href");
    assert!(!links.is_empty(), "a page with links");
    links
}

#[tokio::test]
async fn when_disabled_the_routes_are_not_found_and_nothing_links_to_them() {
    // Arrange: TEST mode, like PRODUCTION, leaves resets off
    let app = spawn_app().await;
    create_account(&app, "ada@uni.example", "Ada", "Lovelace").await;

    // Act / Assert: no route
    let pages = [
        paths::PASSWORD.to_owned(),
        paths::password_in("en"),
        paths::password_link("eyJ.a.b"),
    ];
    for path in &pages {
        assert_eq!(app.get(path).await.status(), 404, "GET {path}");
        let post = app.post_form(path, &[("email", "ada@uni.example")]).await;
        assert_eq!(post.status(), 404, "POST {path}");
    }
    let (status, api) = app
        .post_password_reset(&json!({ "email": "ada@uni.example" }))
        .await;
    assert_eq!(status, 404);
    assert!(api["message"].is_string(), "{api}");

    // No link on the sign-up page, the result page or in the mails.
    for lang in ["en", "de"] {
        let links = hrefs(app.get_home_in(lang).await).await;
        assert!(
            links.iter().all(|l| !l.contains(paths::PASSWORD)),
            "{lang}: {links:?}"
        );
    }
    app.sign_up("grace@uni.example", "Grace", "Hopper").await;
    let path = app.verification_path("grace@uni.example").await;
    let result = hrefs(app.confirm(&path).await).await;
    assert!(
        result.iter().all(|l| !l.contains(paths::PASSWORD)),
        "{result:?}"
    );
    let mails = app.mails().await;
    let subjects: Vec<&str> = mails.iter().map(|mail| mail.subject.as_str()).collect();
    assert_eq!(
        subjects,
        [
            "Your new account",
            "Confirm your sign-up",
            "Your new account",
            "Confirm your sign-up"
        ],
        "two sign-ups' mails"
    );
    for mail in mails {
        assert!(!mail.text.contains(paths::PASSWORD), "{}", mail.text);
    }
}

#[tokio::test]
async fn when_enabled_the_sign_up_page_the_result_page_and_the_password_mail_link_to_it() {
    let app = TestApp::builder().resets().spawn().await;

    let (english, german) = (app.get_home().await, app.get_home_in("de").await);
    for (page, lang) in [(english, "en"), (german, "de")] {
        let links = hrefs(page).await;
        let link = paths::password_in(lang);
        assert!(links.contains(&link), "{lang}: {links:?}");
    }
    app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    let path = app.verification_path("ada@uni.example").await;
    let result = hrefs(app.confirm(&path).await).await;
    assert!(result.contains(&paths::password_in("en")), "{result:?}");
    let mail = &mails_to(&app, "ada@uni.example").await[0];
    assert_eq!(mail.subject, "Your new account");
    let page = format!("{}.", app.url(paths::PASSWORD));
    assert!(mail.text.contains(&page), "{}", mail.text);
}

#[tokio::test]
async fn requests_count_against_the_mailbox_limit_whether_or_not_there_is_an_account() {
    // Arrange: one mail per mailbox and hour; ada's went out with her sign-up
    let app = TestApp::builder()
        .resets()
        .env("RATE_LIMIT_MAILS_PER_ADDRESS_PER_HOUR", "1")
        .spawn()
        .await;
    create_account(&app, "ada@uni.example", "Ada", "Lovelace").await;

    // Act
    let account = ask_for_reset(&app, "Ada+again@uni.example", "en").await;
    let first = ask_for_reset(&app, "nobody@uni.example", "en").await;
    let second = ask_for_reset(&app, "nobody+x@uni.example", "en").await;

    // Assert: no mail goes to nobody, yet the request counts, as it would with an account
    assert_eq!(account.status(), 429);
    assert_eq!(first.status(), 200);
    assert_eq!(second.status(), 429);
    assert!(header(&second, "retry-after").is_some());
    let page = second.text().await.unwrap();
    assert!(
        texts(&page, ".form-alert p")[0].starts_with("Too many attempts"),
        "{page}"
    );
}

#[tokio::test]
async fn requests_are_limited_per_client_and_by_the_global_mail_cap() {
    let per_client = TestApp::builder()
        .resets()
        .env("RATE_LIMIT_PER_IP_PER_HOUR", "1")
        .spawn()
        .await;
    assert_eq!(
        ask_for_reset(&per_client, "a@uni.example", "en")
            .await
            .status(),
        200
    );
    let refused = ask_for_reset(&per_client, "b@uni.example", "en").await;
    assert_eq!(refused.status(), 429);
    let page = refused.text().await.unwrap();
    assert!(
        texts(&page, ".form-alert p")[0].starts_with("Too many attempts"),
        "{page}"
    );

    let capped = TestApp::builder()
        .resets()
        .env("RATE_LIMIT_MAILS_PER_HOUR", "1")
        .spawn()
        .await;
    assert_eq!(
        ask_for_reset(&capped, "a@uni.example", "en").await.status(),
        200
    );
    let refused = ask_for_reset(&capped, "b@uni.example", "en").await;
    assert_eq!(refused.status(), 429);
    let page = refused.text().await.unwrap();
    assert!(
        texts(&page, ".form-alert p")[0].contains("paused sending mails"),
        "{page}"
    );
}

#[tokio::test]
async fn the_api_takes_a_reset_request_with_202_and_documents_it() {
    // Arrange
    let app = TestApp::builder().resets().spawn().await;
    create_account(&app, "ada@uni.example", "Ada", "Lovelace").await;

    // Act
    let known = app
        .post_password_reset(&json!({ "email": "ada@uni.example" }))
        .await;
    let unknown = app
        .post_password_reset(&json!({ "email": "nobody@uni.example" }))
        .await;
    let illegal = app
        .post_password_reset(&json!({ "email": "not an address" }))
        .await;
    let (malformed, _) = app.post_password_reset(&json!({ "email": 1 })).await;

    // Assert
    assert_eq!(known.0, 202);
    assert_eq!(known, unknown, "the same answer either way");
    assert_eq!(illegal, (400, json!({ "message": "Email illegal" })));
    assert_eq!(malformed, 422);
    assert!(mails_to(&app, "ada@uni.example").await[0].links[0].contains(paths::PASSWORD_LINK));
    let spec = app.api_spec().await;
    let responses = spec["paths"]["/password_reset"]["post"]["responses"]
        .as_object()
        .expect("the operation is in the spec");
    for status in ["202", "400", "404", "422", "429", "500", "503"] {
        assert!(responses.contains_key(status), "{status} documented");
    }
}

#[tokio::test]
async fn resets_are_counted_by_outcome_in_metrics() {
    // Arrange
    let app = TestApp::builder()
        .resets()
        .env("METRICS_ENABLED", "true")
        .spawn()
        .await;
    create_account(&app, "ada@uni.example", "Ada", "Lovelace").await;

    // Act
    ask_for_reset(&app, "ada@uni.example", "en").await;
    ask_for_reset(&app, "nobody@uni.example", "en").await;
    let path = reset_path(&app, "ada@uni.example").await;
    app.confirm(&path).await;

    // Assert
    let samples = crate::metrics::scrape(&app.url(paths::METRICS)).await;
    let count = |outcome: &str| {
        crate::metrics::value(
            &samples,
            "ms365_password_resets_total",
            &format!("outcome={outcome}"),
        )
    };
    assert_eq!(
        [count("link_sent"), count("no_account"), count("reset")],
        [1.0, 1.0, 1.0]
    );
    let mail = |kind: &str| {
        crate::metrics::value(
            &samples,
            "ms365_mails_total",
            &format!("kind={kind},result=sent"),
        )
    };
    assert_eq!([mail("reset_link"), mail("new_password")], [1.0, 1.0]);
}
