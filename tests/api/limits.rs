//! Rate limits and reverse-proxy handling, as a client sees them.

use serde_json::json;

use crate::support::helpers::{Logs, TestApp, attr, texts};
use crate::support::routes::{paths, sign_up_fields};

/// A sign-up post from `forwarded_for` as a proxy would pass it on; the status.
async fn post_forwarded(app: &TestApp, email: &str, forwarded_for: &str) -> u16 {
    let fields = sign_up_fields(email, "Ada", "Lovelace");
    app.post_signup_with(&fields, &[("x-forwarded-for", forwarded_for)])
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn sign_up_posts_per_client_are_limited_with_retry_after_and_values_kept() {
    let app = TestApp::builder()
        .env("RATE_LIMIT_PER_IP_PER_HOUR", "2")
        .spawn()
        .await;
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
    assert_eq!(attr(&page, "#last_name", "value").as_deref(), Some("Three"));

    let body = json!({"firstName": "Ada", "lastName": "Four", "email": "d@uni.example"});
    let api = app
        .post_json(paths::API_ACCOUNT_CREATION, &body, &[("lang", "de")])
        .await;
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
    let app = TestApp::builder()
        .env("RATE_LIMIT_PER_IP_PER_HOUR", "1")
        .env("REVERSE_PROXY_COUNT", "1")
        .spawn()
        .await;
    assert_eq!(
        post_forwarded(&app, "a@uni.example", "203.0.113.1").await,
        200
    );
    assert_eq!(
        post_forwarded(&app, "b@uni.example", "203.0.113.2").await,
        200,
        "another client behind the proxy"
    );
    assert_eq!(
        post_forwarded(&app, "c@uni.example", "203.0.113.1").await,
        429
    );
    // A client that prepends its own X-Forwarded-For value is still seen as itself.
    assert_eq!(
        post_forwarded(&app, "d@uni.example", "198.51.100.9, 203.0.113.1").await,
        429
    );
}

#[tokio::test]
async fn without_trusted_proxies_forwarded_headers_are_ignored() {
    let app = TestApp::builder()
        .env("RATE_LIMIT_PER_IP_PER_HOUR", "1")
        .spawn()
        .await;
    assert_eq!(
        post_forwarded(&app, "a@uni.example", "203.0.113.1").await,
        200
    );
    assert_eq!(
        post_forwarded(&app, "b@uni.example", "203.0.113.2").await,
        429
    );
}

#[tokio::test]
async fn mails_to_one_address_are_limited() {
    let app = TestApp::builder()
        .env("RATE_LIMIT_MAILS_PER_ADDRESS_PER_HOUR", "2")
        .spawn()
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
    let app = TestApp::builder()
        .env("REVERSE_PROXY_COUNT", "1")
        .spawn()
        .await;
    let page = app
        .get_with(paths::HOME, &[("x-forwarded-prefix", "/accounts")])
        .await
        .text()
        .await
        .unwrap();
    let mut seen = 0;
    for (attribute, url) in links_on(&page) {
        if url.starts_with('/') && !url.starts_with("//") {
            assert!(url.starts_with("/accounts/"), "{attribute}={url}");
            seen += 1;
        }
    }
    assert!(seen >= 6, "links checked: {seen}");
    let plain = app.get_home().await.text().await.unwrap();
    assert_eq!(
        attr(&plain, "form#signup", "action").as_deref(),
        Some(paths::SIGNUP)
    );
}

#[tokio::test]
async fn the_public_url_path_is_the_default_prefix_and_mail_links_ignore_the_host_header() {
    let app = TestApp::builder()
        .env("PUBLIC_URL", "https://signup.uni.example/accounts")
        .spawn()
        .await;
    let page = app.get_home().await.text().await.unwrap();
    assert_eq!(
        attr(&page, "form#signup", "action").as_deref(),
        Some("/accounts/signup")
    );
    let fields = sign_up_fields("ada@uni.example", "Ada", "Lovelace");
    let response = app
        .client
        .post(app.url(paths::SIGNUP))
        .header("host", "evil.example")
        .header("x-forwarded-host", "evil.example")
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mail = &app.mails().await[0];
    assert_eq!(mail.links.len(), 1, "{mail:?}");
    assert!(
        mail.links[0].starts_with("https://signup.uni.example/accounts/verify/"),
        "{mail:?}"
    );
}

#[tokio::test]
async fn forwarded_headers_count_only_from_a_trusted_proxy() {
    // Arrange: the proxy is elsewhere; this client reaches the port directly.
    let direct = TestApp::builder()
        .env("RATE_LIMIT_PER_IP_PER_HOUR", "1")
        .env("REVERSE_PROXY_COUNT", "1")
        .env("TRUSTED_PROXIES", "192.0.2.10, 198.51.100.0/24")
        .spawn()
        .await;
    // Act / Assert: rotating X-Forwarded-For does not make a new client.
    assert_eq!(
        post_forwarded(&direct, "a@uni.example", "203.0.113.1").await,
        200
    );
    assert_eq!(
        post_forwarded(&direct, "b@uni.example", "203.0.113.2").await,
        429,
        "a client outside TRUSTED_PROXIES chose its own address"
    );

    // Arrange: loopback is the proxy; TRUSTED_PROXIES alone implies one hop.
    let proxied = TestApp::builder()
        .env("RATE_LIMIT_PER_IP_PER_HOUR", "1")
        .env("TRUSTED_PROXIES", "127.0.0.0/8, ::1")
        .spawn()
        .await;
    // Act / Assert
    assert_eq!(
        post_forwarded(&proxied, "a@uni.example", "203.0.113.1").await,
        200
    );
    assert_eq!(
        post_forwarded(&proxied, "b@uni.example", "203.0.113.2").await,
        200
    );
    assert_eq!(
        post_forwarded(&proxied, "c@uni.example", "203.0.113.1").await,
        429
    );
}

#[tokio::test]
async fn ipv6_clients_share_a_limit_per_prefix() {
    // Arrange
    let settings = [
        ("RATE_LIMIT_PER_IP_PER_HOUR", "1"),
        ("REVERSE_PROXY_COUNT", "1"),
    ];
    let app = TestApp::builder().envs(&settings).spawn().await;
    // Act / Assert
    assert_eq!(
        post_forwarded(&app, "a@uni.example", "2001:db8:1:2::1").await,
        200
    );
    assert_eq!(
        post_forwarded(&app, "b@uni.example", "2001:db8:1:2:aaaa:bbbb:cccc:dddd").await,
        429,
        "another address in the same /64"
    );
    assert_eq!(
        post_forwarded(&app, "c@uni.example", "2001:db8:1:3::1").await,
        200,
        "the next /64 is another client"
    );

    // Arrange: per address, as configured.
    let per_address = [
        ("RATE_LIMIT_PER_IP_PER_HOUR", "1"),
        ("REVERSE_PROXY_COUNT", "1"),
        ("RATE_LIMIT_IPV6_PREFIX", "128"),
    ];
    let app = TestApp::builder().envs(&per_address).spawn().await;
    // Act / Assert
    assert_eq!(
        post_forwarded(&app, "a@uni.example", "2001:db8:1:2::1").await,
        200
    );
    assert_eq!(
        post_forwarded(&app, "b@uni.example", "2001:db8:1:2::2").await,
        200
    );
}

#[tokio::test]
async fn verification_mails_are_capped_per_hour_for_everyone_with_a_page_and_a_metric() {
    // Arrange
    let settings = [
        ("RATE_LIMIT_MAILS_PER_HOUR", "2"),
        ("METRICS_ENABLED", "true"),
    ];
    let app = TestApp::builder().envs(&settings).spawn().await;
    assert_eq!(
        app.sign_up("st1@uni.example", "Ada", "One").await.status(),
        200
    );
    assert_eq!(
        app.sign_up("st2@uni.example", "Ada", "Two").await.status(),
        200
    );
    // Act
    let limited = app.sign_up("st3@uni.example", "Ada", "Three").await;
    let body = json!({"firstName": "Ada", "lastName": "Four", "email": "st4@uni.example"});
    let api = app.post_json(paths::API_ACCOUNT_CREATION, &body, &[]).await;
    // Assert
    assert_eq!(limited.status(), 429);
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&retry_after), "{retry_after}");
    let page = limited.text().await.unwrap();
    assert!(
        texts(&page, "[role=alert]")[0].starts_with("So many people are signing up"),
        "{page}"
    );
    assert_eq!(api.status(), 429);
    assert!(api.headers().contains_key("retry-after"));
    assert_eq!(app.mails().await.len(), 2, "no mail beyond the cap");
    let samples = crate::metrics::scrape(&app.url(paths::METRICS)).await;
    let refused =
        crate::metrics::value(&samples, "ms365_rate_limited_total", "limit=mails_per_hour");
    assert_eq!(refused, 2.0);
}

#[tokio::test]
async fn the_api_address_check_answers_429_with_retry_after() {
    // Arrange: the check allows ten times the sign-up limit.
    let app = TestApp::builder()
        .env("RATE_LIMIT_PER_IP_PER_HOUR", "1")
        .spawn()
        .await;
    let address = json!({"email": "ada@uni.example"});
    let check = || app.post_json(paths::API_EMAIL_VERIFICATION, &address, &[]);
    for _ in 0..10 {
        assert_eq!(check().await.status(), 200);
    }
    // Act
    let limited = check().await;
    // Assert
    assert_eq!(limited.status(), 429);
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .expect("a Retry-After header")
        .parse()
        .unwrap();
    assert!(retry_after >= 1, "{retry_after}");
    let body: serde_json::Value = limited.json().await.unwrap();
    assert!(body["message"].is_string(), "{body}");
}

/// Every link on a page as (attribute, value): where a click, a form post, an HTMX request or
/// a loaded asset leads.
fn links_on(page: &str) -> Vec<(&'static str, String)> {
    const LINKING: [&str; 5] = ["href", "src", "action", "data-hx-post", "data-hx-get"];
    let document = scraper::Html::parse_document(page);
    let selector = scraper::Selector::parse("*").unwrap();
    let mut links = Vec::new();
    for element in document.select(&selector) {
        for attribute in LINKING {
            if let Some(url) = element.value().attr(attribute) {
                links.push((attribute, url.to_owned()));
            }
        }
    }
    links
}

#[tokio::test]
async fn a_forwarded_prefix_never_makes_links_lead_to_another_site() {
    // Arrange
    let app = TestApp::builder()
        .env("REVERSE_PROXY_COUNT", "1")
        .spawn()
        .await;
    let base = url::Url::parse(&app.url(paths::HOME)).unwrap();
    // (the forwarded prefix, the prefix the links get: a path on this site or none)
    for (prefix, expected) in [
        ("//evil.example", "/evil.example"),
        ("///evil.example/", "/evil.example"),
        ("/\\evil.example", ""),
        ("/\t/evil.example", ""),
        ("/a b", ""),
    ] {
        // Act
        let response = app
            .get_with(paths::HOME, &[("x-forwarded-prefix", prefix)])
            .await;

        // Assert: the page has its links, each resolving to this site, under the prefix.
        assert_eq!(response.status(), 200, "{prefix:?}");
        let links = links_on(&response.text().await.unwrap());
        for attribute in ["href", "src", "action", "data-hx-post"] {
            assert!(
                links.iter().any(|(a, _)| *a == attribute),
                "{prefix:?}: no {attribute} on the page"
            );
        }
        for (attribute, url) in &links {
            let target = base.join(url).unwrap();
            if target.scheme() == "mailto" {
                continue; // the support address
            }
            assert_eq!(
                target.origin(),
                base.origin(),
                "{prefix:?} gave {attribute}={url:?}, leading to {target}"
            );
            if !url.starts_with('#') {
                assert!(
                    url.starts_with(&format!("{expected}/")),
                    "{prefix:?} gave {attribute}={url:?}"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_proxy_count_without_trusted_proxies_warns_at_start_up() {
    // Arrange
    let (logs, _guard) = Logs::capture();
    // Act
    let _app = TestApp::builder()
        .env("REVERSE_PROXY_COUNT", "1")
        .spawn()
        .await;
    let _trusted = TestApp::builder()
        .env("REVERSE_PROXY_COUNT", "1")
        .env("TRUSTED_PROXIES", "127.0.0.1")
        .spawn()
        .await;
    // Assert
    let warned = logs.text().matches("set TRUSTED_PROXIES").count();
    assert_eq!(warned, 1, "{}", logs.text());
}
