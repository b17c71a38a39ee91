//! LOG_FORMAT=json: one JSON object per line; every request logged with its id, route,
//! status and latency; sign-up steps with the sign-up id and not the address.

use serde_json::Value;

use crate::process::{ServerProcess, sign_up_fields};

#[tokio::test]
async fn json_logs_carry_request_id_route_status_and_latency_and_no_address() {
    let dir = tempfile::tempdir().unwrap();
    let env = vec![
        ("LOG_FORMAT".to_owned(), "json".to_owned()),
        ("LOG_LEVEL".to_owned(), "info".to_owned()),
    ];
    let server = ServerProcess::start(dir.path(), &env).await;
    let response = reqwest::Client::new()
        .post(server.url("/signup"))
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
    server.expect(404, server.get("/verify/not.a.token").await);

    let (_, log) = server.terminate();
    let lines: Vec<Value> = log
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|err| panic!("not JSON ({err}): {line}"))
        })
        .collect();
    let request_line = lines
        .iter()
        .find(|l| l["message"] == "request" && l["route"] == "/signup")
        .expect("a line for the sign-up request");
    assert_eq!(request_line["level"], "INFO");
    assert_eq!(request_line["status"], 200);
    assert_eq!(request_line["method"], "POST");
    assert!(request_line["latency_ms"].as_f64().is_some());
    assert_eq!(request_line["span"]["request_id"], request_id.as_str());
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
        lines
            .iter()
            .any(|l| l["route"] == "/verify/{token}" && l["status"] == 404)
    );
    assert!(
        !log.contains("ada.private"),
        "the address is not logged at info"
    );
    assert!(
        !log.contains("not.a.token"),
        "paths with tokens are logged as their route"
    );
}
