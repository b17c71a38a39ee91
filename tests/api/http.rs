//! HTTP semantics the outside checkers look at: `405` with `Allow`, `HEAD` like `GET`, and a
//! whole page for every request a browser can make without HTMX.

use reqwest::Method;
use serde_json::Value;

use crate::support::helpers::{attr, header, spawn_app, texts};
use crate::support::routes::paths;

/// Every route and the methods it answers (`HEAD` goes wherever `GET` does).
fn routes() -> Vec<(String, &'static [&'static str])> {
    let read: &[&str] = &["GET", "HEAD"];
    vec![
        (paths::HOME.to_owned(), read),
        (paths::home_in("de"), read),
        (paths::SIGNUP.to_owned(), &["GET", "HEAD", "POST"]),
        (paths::CHECK_EMAIL.to_owned(), &["POST"]),
        (paths::verify("not-a-token"), &["GET", "HEAD", "POST"]),
        (paths::STYLE.to_owned(), read),
        (paths::FAVICON.to_owned(), read),
        (paths::HEALTHZ.to_owned(), read),
        (paths::READYZ.to_owned(), read),
        (paths::DEBUG_MAILS.to_owned(), read),
        (paths::API_SPEC.to_owned(), read),
        (paths::API_ROOT.to_owned(), read),
        (paths::API_EMAIL_VERIFICATION.to_owned(), &["POST"]),
        (paths::API_ACCOUNT_CREATION.to_owned(), &["POST"]),
    ]
}

#[tokio::test]
async fn every_other_method_gets_405_with_an_allow_header_naming_the_right_ones() {
    // Arrange
    let app = spawn_app().await;
    for (path, allowed) in routes() {
        for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
            if allowed.contains(&method) {
                continue;
            }
            // Act
            let response = app.send(method.parse().unwrap(), &path).await;

            // Assert
            assert_eq!(response.status(), 405, "{method} {path}");
            let allow = header(&response, "allow").unwrap_or_default();
            let mut listed: Vec<&str> = allow.split(',').map(str::trim).collect();
            listed.sort_unstable();
            let mut expected = allowed.to_vec();
            expected.sort_unstable();
            assert_eq!(listed, expected, "Allow of {method} {path}: {allow:?}");
        }
    }
}

#[tokio::test]
async fn a_405_says_method_not_allowed_on_a_page_and_in_json() {
    let app = spawn_app().await;

    let page = app.send(Method::PUT, paths::SIGNUP).await;
    assert_eq!(page.status(), 405);
    let html = page.text().await.unwrap();
    assert_eq!(texts(&html, "h1"), vec!["Method not allowed"]);
    assert!(texts(&html, "title")[0].starts_with("Method not allowed"));

    let german = app.send(Method::DELETE, &paths::home_in("de")).await;
    assert_eq!(german.status(), 405);
    let german = german.text().await.unwrap();
    assert_eq!(attr(&german, "html", "lang").as_deref(), Some("de"));
    assert_eq!(texts(&german, "h1"), vec!["Anfrageart nicht erlaubt"]);
    assert!(texts(&german, "title")[0].starts_with("Anfrageart nicht erlaubt"));

    let json = app.send(Method::GET, paths::API_EMAIL_VERIFICATION).await;
    assert_eq!(json.status(), 405);
    let answer: Value = json.json().await.unwrap();
    assert_eq!(answer["message"], "Method not allowed");
}

#[tokio::test]
async fn head_answers_carry_the_same_headers_as_get_and_no_body() {
    let app = spawn_app().await;
    for path in [
        paths::HOME,
        &paths::home_in("de"),
        paths::SIGNUP,
        paths::STYLE,
        paths::HTMX_SCRIPT,
        paths::FAVICON,
        paths::HEALTHZ,
        paths::API_SPEC,
        paths::API_ROOT,
        &paths::verify("not-a-token"),
        "/no/such/page",
    ] {
        // Act
        let get = app.send(Method::GET, path).await;
        let head = app.send(Method::HEAD, path).await;

        // Assert
        assert_eq!(head.status(), get.status(), "{path}");
        for name in ["content-length", "content-type", "etag", "cache-control"] {
            assert_eq!(header(&head, name), header(&get, name), "{name} of {path}");
        }
        let length: usize = header(&get, "content-length")
            .expect("GET has a length")
            .parse()
            .unwrap();
        assert_eq!(get.bytes().await.unwrap().len(), length, "{path}");
        assert!(head.bytes().await.unwrap().is_empty(), "{path}");
    }
}

#[tokio::test]
async fn checking_an_address_without_htmx_renders_the_whole_form_page_with_a_title() {
    let app = spawn_app().await;
    for (email, expect_error) in [
        ("ada@uni.example", false),
        ("not an address", true),
        ("", false),
    ] {
        // Act
        let fields = [("email", email), ("lang", "en")];
        let response = app.post_check_email_with(&fields, &[]).await;

        // Assert
        assert_eq!(response.status(), 200, "{email:?}");
        let html = response.text().await.unwrap();
        let title = texts(&html, "title");
        assert_eq!(title.len(), 1, "{email:?}");
        assert!(title[0].starts_with("Sign up – "), "{email:?}: {title:?}");
        assert_eq!(attr(&html, "html", "lang").as_deref(), Some("en"));
        assert_eq!(
            attr(&html, "form#signup #email", "value").as_deref(),
            Some(email)
        );
        assert_eq!(
            !texts(&html, "#email-status .field-error").is_empty(),
            expect_error,
            "{email:?}"
        );
    }
}
