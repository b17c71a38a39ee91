//! LOG_FORMAT=json: one JSON object per line; requests logged with their id, route, status
//! and latency (refused and failed ones at info, the rest at debug); sign-up steps with the
//! sign-up id and not the address.

use serde_json::Value;

use crate::support::process::{ServerProcess, sign_up_fields};
use crate::support::routes::paths;

#[tokio::test]
async fn json_logs_carry_request_id_route_status_and_latency_and_no_address() {
    let dir = tempfile::tempdir().unwrap();
    let env = vec![
        ("LOG_FORMAT".to_owned(), "json".to_owned()),
        ("LOG_LEVEL".to_owned(), "info".to_owned()),
    ];
    let server = ServerProcess::start(dir.path(), &env).await;
    let response = reqwest::Client::new()
        .post(server.url(paths::SIGNUP))
        .form(&sign_up_fields(
            "ada.private@uni.example",
            "Ada",
            "Lovelace",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(request_id.len(), 16);
    server.expect(404, server.get(&paths::verify("not.a.token")).await);

    let (_, log) = server.terminate();
    let lines: Vec<Value> = log
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|err| panic!("not JSON ({err}): {line}"))
        })
        .collect();
    // At info, a request that went well has no line of its own (the reverse proxy logs it;
    // LOG_LEVEL=debug shows it, see below); one that was refused has.
    assert!(
        !lines
            .iter()
            .any(|l| l["message"] == "request" && l["span"]["request_id"] == request_id.as_str()),
        "{log}"
    );
    let refused = lines
        .iter()
        .find(|l| l["message"] == "request" && l["route"] == "/verify/{token}")
        .expect("a line for the refused request");
    assert_eq!(refused["level"], "INFO");
    assert_eq!(refused["status"], 404);
    assert_eq!(refused["method"], "GET");
    assert!(refused["latency_ms"].as_f64().is_some());
    assert_eq!(
        refused["span"]["request_id"].as_str().map(str::len),
        Some(16)
    );
    let stored = lines
        .iter()
        .find(|l| l["message"] == "pending sign-up stored")
        .expect("the step line");
    assert_eq!(
        stored["span"]["request_id"],
        request_id.as_str(),
        "steps carry the request id"
    );
    assert!(stored["signup"].as_str().is_some_and(|id| id.len() == 32));
    assert!(
        !log.contains("ada.private"),
        "the address is not logged at info"
    );
    assert!(
        !log.contains("not.a.token"),
        "paths with tokens are logged as their route"
    );
}

#[tokio::test]
async fn at_debug_every_request_has_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let env = vec![
        ("LOG_FORMAT".to_owned(), "json".to_owned()),
        ("LOG_LEVEL".to_owned(), "debug".to_owned()),
    ];
    let server = ServerProcess::start(dir.path(), &env).await;
    let response = reqwest::get(server.url(paths::HOME)).await.unwrap();
    assert_eq!(response.status(), 200);
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let (_, log) = server.terminate();
    let line: Value = log
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|l| l["message"] == "request" && l["span"]["request_id"] == request_id.as_str())
        .unwrap_or_else(|| panic!("no line for the request: {log}"));
    assert_eq!(line["level"], "DEBUG");
    assert_eq!(line["route"], "/");
    assert_eq!(line["status"], 200);
    assert!(line["latency_ms"].as_f64().is_some());
}
