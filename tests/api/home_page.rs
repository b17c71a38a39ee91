//! The empty form is answered before routing (the front door's fast path for the page nearly
//! every visitor asks for). A query string, a body or a trusted proxy's prefix sends the
//! request through the routes instead, so the routes' answer is the reference: both ways
//! must give the same status, headers and body.

use reqwest::Method;

use crate::support::helpers::{TestApp, spawn_app};
use crate::support::process::ServerProcess;
use crate::support::routes::paths;

/// Status, headers (but the request id and the date, which differ per answer) and body.
async fn answer(
    app: &TestApp,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut request = app.client.request(method, app.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("an answer");
    let status = response.status().as_u16();
    let mut names: Vec<(String, String)> = response
        .headers()
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "x-request-id" | "date"))
        .map(|(name, value)| {
            let value = value.to_str().expect("a text header").to_owned();
            (name.as_str().to_owned(), value)
        })
        .collect();
    names.sort();
    let body = response.bytes().await.expect("a body").to_vec();
    (status, names, body)
}

/// A request the routes must answer: method, path, headers, the status expected.
type RoutedCase = (
    Method,
    &'static str,
    &'static [(&'static str, &'static str)],
    u16,
);

async fn assert_same_both_ways(app: &TestApp, label: &str) {
    // Both ways pick among the same forms once they are all made.
    app.wait_until_pages_compressed().await;
    let requests: &[&[(&str, &str)]] = &[
        &[],
        &[("accept-encoding", "gzip")],
        &[("accept-encoding", "br, gzip")],
        &[("accept-encoding", "br;q=0.5, gzip")],
        &[("accept-language", "de-DE,de;q=0.9,en;q=0.5")],
        &[("lang", "de")],
        &[("hx-request", "true"), ("accept-encoding", "gzip")],
        &[("if-none-match", "*"), ("accept-encoding", "br")],
    ];
    for path in [paths::HOME, &paths::home_in("de"), &paths::home_in("en")] {
        for method in [Method::GET, Method::HEAD] {
            for headers in requests {
                // Act
                let direct = answer(app, method.clone(), path, headers).await;
                let routed_path = format!("{path}?via=routes");
                let routed = answer(app, method.clone(), &routed_path, headers).await;

                // Assert
                let what = format!("{label}: {method} {path} {headers:?}");
                assert_eq!(direct.0, 200, "{what}");
                assert_eq!(direct.0, routed.0, "status of {what}");
                assert_eq!(direct.1, routed.1, "headers of {what}");
                assert!(direct.2 == routed.2, "body of {what}");
            }
        }
    }
}

#[tokio::test]
async fn the_empty_form_is_the_same_before_routing_as_through_the_routes() {
    let app = spawn_app().await;
    assert_same_both_ways(&app, "plain http").await;
    let https = TestApp::builder()
        .env("PUBLIC_URL", "https://signup.example.edu/accounts")
        .spawn()
        .await;
    assert_same_both_ways(&https, "under https and a path").await;
}

#[tokio::test]
async fn what_only_the_routes_judge_still_reaches_them() {
    let app = TestApp::builder()
        .env("REVERSE_PROXY_COUNT", "1")
        .spawn()
        .await;
    let cases: &[RoutedCase] = &[
        // The body cap refuses a declared body over it, on GET too.
        (
            Method::GET,
            paths::HOME,
            &[("content-length", "100000")],
            413,
        ),
        // Only GET and HEAD are answered with the form.
        (Method::POST, paths::HOME, &[], 405),
        (Method::DELETE, "/de", &[], 405),
        // A one-segment path that names no language is not found.
        (Method::GET, "/xx", &[], 404),
    ];
    for (method, path, headers, expected) in cases {
        let (status, _, _) = answer(&app, method.clone(), path, headers).await;
        assert_eq!(status, *expected, "{method} {path} {headers:?}");
    }
    // A trusted proxy's prefix puts every link under it.
    let prefix = [("x-forwarded-prefix", "/accounts")];
    let (_, _, page) = answer(&app, Method::GET, paths::HOME, &prefix).await;
    let page = String::from_utf8(page).unwrap();
    let signup = format!("/accounts{}", paths::SIGNUP);
    assert!(page.contains(&signup), "{page}");
}

#[tokio::test]
async fn the_empty_form_answers_with_its_request_id_and_a_debug_line() {
    let dir = tempfile::tempdir().unwrap();
    let env = vec![
        ("LOG_FORMAT".to_owned(), "json".to_owned()),
        ("LOG_LEVEL".to_owned(), "debug".to_owned()),
    ];
    let server = ServerProcess::start(dir.path(), &env).await;
    let client = reqwest::Client::new();
    let mut ids = Vec::new();
    for path in [paths::HOME, &paths::home_in("de")] {
        let response = client
            .head(server.url(path))
            .header("accept-encoding", "br")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let id = response.headers()["x-request-id"].to_str().unwrap();
        assert_eq!(id.len(), 16);
        ids.push(id.to_owned());
    }
    let (_, log) = server.terminate();
    for (id, route) in ids.iter().zip(["/", "/{lang}"]) {
        let line: serde_json::Value = log
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .find(|l| l["message"] == "request" && l["span"]["request_id"] == id.as_str())
            .unwrap_or_else(|| panic!("no line for {id}: {log}"));
        assert_eq!(line["level"], "DEBUG");
        assert_eq!(line["method"], "HEAD");
        assert_eq!(line["route"], route);
        assert_eq!(line["status"], 200);
        assert!(line["latency_ms"].as_f64().is_some());
    }
}
