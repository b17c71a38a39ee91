//! Rate limits and reverse-proxy handling, as a client sees them.

use serde_json::json;

use crate::support::helpers::{spawn_app_with, texts};
use ms365_accountcreator::startup::Overrides;

#[tokio::test]
async fn sign_up_posts_per_client_are_limited_with_retry_after_and_values_kept() {
    let app = spawn_app_with(&[("RATE_LIMIT_PER_IP_PER_HOUR", "2")], Overrides::default()).await;
    assert_eq!(
        app.sign_up("a@uni.example", "Ada", "One").await.status(),
        200
    );
    assert_eq!(
        app.sign_up("b@uni.example", "Ada", "Two").await.status(),
        200
    );
    let limited = app.sign_up("c@uni.example", "Ada", "Three").await;
    assert_eq!(limited.status(), 429);
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=1800).contains(&retry_after), "{retry_after}");
    let page = limited.text().await.unwrap();
    assert!(
        texts(&page, "[role=alert]")[0].starts_with("Too many attempts."),
        "{page}"
    );
    assert_eq!(
        crate::support::helpers::attr(&page, "#last_name", "value").as_deref(),
        Some("Three")
    );

    let api = app
        .client
        .post(app.url("/api/v1/account_creation"))
        .header("lang", "de")
        .json(&json!({"firstName": "Ada", "lastName": "Four", "email": "d@uni.example"}))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 429);
    assert!(api.headers().contains_key("retry-after"));
    let body: serde_json::Value = api.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("Zu viele Versuche."),
        "{body}"
    );
    assert_eq!(app.mails().await.len(), 2, "no mail for the refused ones");
}

#[tokio::test]
async fn each_client_behind_a_trusted_proxy_has_its_own_limit_and_spoofing_does_not_help() {
    let app = spawn_app_with(
        &[
            ("RATE_LIMIT_PER_IP_PER_HOUR", "1"),
            ("REVERSE_PROXY_COUNT", "1"),
        ],
        Overrides::default(),
    )
    .await;
    let post = |email: &'static str, forwarded_for: &'static str| {
        let app = &app;
        async move {
            let fields = [
                ("email", email),
                ("consent_email", "yes"),
                ("consent_name", "yes"),
                ("first_name", "Ada"),
                ("last_name", "Lovelace"),
            ];
            app.post_form_with("/signup", &fields, &[("x-forwarded-for", forwarded_for)])
                .await
                .status()
        }
    };
    assert_eq!(post("a@uni.example", "203.0.113.1").await, 200);
    assert_eq!(
        post("b@uni.example", "203.0.113.2").await,
        200,
        "another client behind the proxy"
    );
    assert_eq!(post("c@uni.example", "203.0.113.1").await, 429);
    // A client that prepends its own X-Forwarded-For value is still seen as itself.
    assert_eq!(
        post("d@uni.example", "198.51.100.9, 203.0.113.1").await,
        429
    );
}

#[tokio::test]
async fn without_trusted_proxies_forwarded_headers_are_ignored() {
    let app = spawn_app_with(&[("RATE_LIMIT_PER_IP_PER_HOUR", "1")], Overrides::default()).await;
    let fields = [
        ("email", "a@uni.example"),
        ("consent_email", "yes"),
        ("consent_name", "yes"),
        ("first_name", "Ada"),
        ("last_name", "Lovelace"),
    ];
    assert_eq!(
        app.post_form_with("/signup", &fields, &[("x-forwarded-for", "203.0.113.1")])
            .await
            .status(),
        200
    );
    let fields = [
        ("email", "b@uni.example"),
        ("consent_email", "yes"),
        ("consent_name", "yes"),
        ("first_name", "Ada"),
        ("last_name", "Lovelace"),
    ];
    assert_eq!(
        app.post_form_with("/signup", &fields, &[("x-forwarded-for", "203.0.113.2")])
            .await
            .status(),
        429
    );
}

#[tokio::test]
async fn mails_to_one_address_are_limited() {
    let app = spawn_app_with(
        &[("RATE_LIMIT_MAILS_PER_ADDRESS_PER_HOUR", "2")],
        Overrides::default(),
    )
    .await;
    assert_eq!(
        app.sign_up("ada@uni.example", "Ada", "Lovelace")
            .await
            .status(),
        200
    );
    assert_eq!(
        app.sign_up("ADA@uni.example", "Ada", "Lovelace")
            .await
            .status(),
        200
    );
    let limited = app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().contains_key("retry-after"));
    assert_eq!(
        app.sign_up("bob@uni.example", "Bob", "Lovelace")
            .await
            .status(),
        200,
        "other addresses are not affected"
    );
    assert_eq!(app.mails().await.len(), 3);
}

#[tokio::test]
async fn a_trusted_prefix_is_used_for_every_link_on_the_page() {
    let app = spawn_app_with(&[("REVERSE_PROXY_COUNT", "1")], Overrides::default()).await;
    let page = app
        .get_with("/", &[("x-forwarded-prefix", "/accounts")])
        .await
        .text()
        .await
        .unwrap();
    let document = scraper::Html::parse_document(&page);
    let selector = scraper::Selector::parse("[href], [src], [action], [data-hx-post]").unwrap();
    let mut seen = 0;
    for element in document.select(&selector) {
        for attribute in ["href", "src", "action", "data-hx-post"] {
            if let Some(url) = element.value().attr(attribute) {
                if url.starts_with('/') && !url.starts_with("//") {
                    assert!(url.starts_with("/accounts/"), "{attribute}={url}");
                    seen += 1;
                }
            }
        }
    }
    assert!(seen >= 6, "links checked: {seen}");
    let plain = app.get("/").await.text().await.unwrap();
    assert_eq!(
        crate::support::helpers::attr(&plain, "form#signup", "action").as_deref(),
        Some("/signup")
    );
}

#[tokio::test]
async fn the_public_url_path_is_the_default_prefix_and_mail_links_ignore_the_host_header() {
    let app = spawn_app_with(
        &[("PUBLIC_URL", "https://signup.uni.example/accounts")],
        Overrides::default(),
    )
    .await;
    let page = app.get("/").await.text().await.unwrap();
    assert_eq!(
        crate::support::helpers::attr(&page, "form#signup", "action").as_deref(),
        Some("/accounts/signup")
    );
    let fields = [
        ("email", "ada@uni.example"),
        ("consent_email", "yes"),
        ("consent_name", "yes"),
        ("first_name", "Ada"),
        ("last_name", "Lovelace"),
    ];
    let response = app
        .client
        .post(app.url("/signup"))
        .header("host", "evil.example")
        .header("x-forwarded-host", "evil.example")
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mail = &app.mails().await[0];
    let link = mail
        .text
        .lines()
        .map(str::trim)
        .find(|l| l.contains("/verify/"))
        .unwrap();
    assert!(
        link.starts_with("https://signup.uni.example/accounts/verify/"),
        "{link}"
    );
}
