//! What an attacker can send to the front door: any method and request-target form gets an
//! answer, the language switcher never leads off-site, and kept mails stay off the wire in
//! PRODUCTION.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::helpers::{Logs, TestApp, attrs, spawn_app, texts};
use crate::support::routes::paths;

/// Sends `head` (a request without body) on a fresh connection; the status code of the
/// answer, or `None` when the server closed the connection without one.
async fn status_of_raw(app: &TestApp, head: &str) -> Option<u16> {
    let address = app.address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.expect("a connection");
    stream.write_all(head.as_bytes()).await.expect("sent");
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    // The status line is all we need; stop at its end or when the server hangs up.
    while !received.windows(2).any(|w| w == b"\r\n") {
        match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer)).await {
            Ok(Ok(n)) if n > 0 => received.extend_from_slice(&buffer[..n]),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&received);
    let status = text.strip_prefix("HTTP/1.1 ")?.get(..3)?;
    status.parse().ok()
}

#[tokio::test]
async fn every_method_and_request_target_form_gets_an_answer_never_a_panic() {
    // Arrange
    let app = spawn_app().await;
    let host = app.address.trim_start_matches("http://").to_owned();
    let methods = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "PROPFIND",
    ];
    let targets = [
        paths::HOME.to_owned(),
        "/nothing-here".to_owned(),
        "//evil.example/x".to_owned(),
        paths::VERIFY.to_owned(),
        format!("http://{host}/"),
        format!("http://{host}{}", paths::SIGNUP),
        format!("{host}:443"),
        "host:443".to_owned(),
        "*".to_owned(),
    ];
    for method in methods {
        for target in &targets {
            let head = format!(
                "{method} {target} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            // Act
            let status = status_of_raw(&app, &head).await;
            // Assert
            let status = status.unwrap_or_else(|| panic!("no answer to {method} {target}"));
            assert!(status < 500, "{method} {target} answered {status}");
        }
    }
    // The forms no route can serve are refused, not served.
    for (method, target) in [("CONNECT", "host:443"), ("OPTIONS", "*"), ("GET", "*")] {
        let head =
            format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        let status = status_of_raw(&app, &head).await.expect("an answer");
        assert!(
            [400, 404, 405].contains(&status),
            "{method} {target} answered {status}"
        );
    }
    assert_eq!(app.get_home().await.status(), 200, "still serving");
}

#[tokio::test]
async fn the_language_switcher_never_links_to_another_site() {
    // Arrange
    let app = spawn_app().await;
    let cases = [
        "//evil.example/x",
        "//evil.example",
        "/nothing/here",
        "/%2F%2Fevil.example",
    ];
    for path in cases {
        // Act
        let response = app.get(path).await;
        let status = response.status();
        let page = response.text().await.unwrap();
        // Assert
        let links = attrs(&page, "nav.lang-switch a", "href");
        assert!(
            !links.is_empty(),
            "{path} ({status}) has a switcher: {page}"
        );
        for link in links {
            assert!(
                link.starts_with('/') && !link.starts_with("//") && !link.contains("evil"),
                "{path} offers {link}"
            );
        }
    }
    // A page the server does serve keeps its own path.
    let page = app.get_verify("not-a-token").await.text().await.unwrap();
    let links = attrs(&page, "nav.lang-switch a", "href");
    assert_eq!(links, [format!("{}?lang=de", paths::verify("not-a-token"))]);
}

#[tokio::test]
async fn kept_mails_are_not_reachable_in_production() {
    // Arrange
    let production = [
        ("MODE", "production"),
        ("PUBLIC_URL", "http://127.0.0.1:1"),
        (
            "JWT_SECRET_KEY",
            "a-long-production-secret-of-more-than-32-bytes",
        ),
        (
            "MAILBOX_TAG_SECRET",
            "a-long-production-tag-secret-of-32-bytes-or-more",
        ),
        ("DEBUG_DONT_SEND_MAIL", "true"),
        ("DEBUG_DONT_CONNECT_TO_API", "true"),
    ];
    let (logs, _guard) = Logs::capture();
    let app = TestApp::builder().envs(&production).spawn().await;
    assert!(logs.text().contains("no mail is sent"), "{}", logs.text());
    assert_eq!(
        app.sign_up("ada@uni.example", "Ada", "Lovelace")
            .await
            .status(),
        200
    );
    // Act
    let response = app.get_debug_mails(&[]).await;
    // Assert
    assert_eq!(response.status(), 404);
    let page = response.text().await.unwrap();
    assert_eq!(texts(&page, "h1"), vec!["Page not found"]);
    assert!(
        texts(&page, "a")
            .iter()
            .all(|link| !link.contains(paths::VERIFY))
    );
    assert!(!page.contains(paths::VERIFY), "{page}");
}
