//! The JSON API: the original's request shapes, translated reasons, the OpenAPI spec.

use serde_json::{Value, json};

use crate::support::helpers::{TestApp, spawn_app, spawn_app_with};
use ms365_accountcreator::startup::Overrides;

async fn post_json(
    app: &TestApp,
    path: &str,
    body: Value,
    headers: &[(&str, &str)],
) -> (u16, Value) {
    let mut request = app.client.post(app.url(path)).json(&body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn the_root_links_the_endpoints_and_the_spec_describes_them() {
    let app = spawn_app().await;
    let root: Value = app.get("/api/v1/").await.json().await.unwrap();
    assert_eq!(root["emailVerification"], "/api/v1/email-verification");
    assert_eq!(root["accountCreation"], "/api/v1/account_creation");
    assert!(
        root.get("passwordReset").is_none(),
        "resets are off: {root}"
    );
    let with_resets =
        spawn_app_with(&[("PASSWORD_RESET_ENABLED", "true")], Overrides::default()).await;
    let root: Value = with_resets.get("/api/v1/").await.json().await.unwrap();
    assert_eq!(root["passwordReset"], "/api/v1/password_reset");
    let spec: Value = app.get("/api/api-spec.json").await.json().await.unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/",
        "/email-verification",
        "/account_creation",
        "/password_reset",
    ] {
        assert!(
            spec["paths"].get(path).is_some(),
            "spec lacks {path}: {}",
            spec["paths"]
        );
    }
    assert_eq!(spec["servers"][0]["url"], "/api/v1");
}

#[tokio::test]
async fn email_verification_answers_valid_or_a_translated_reason() {
    let app = spawn_app_with(
        &[("EMAIL_ADDRESS_FILTER", r".*@uni\.example")],
        Overrides::default(),
    )
    .await;
    let (status, ok) = post_json(
        &app,
        "/api/v1/email-verification",
        json!({"email": "Ada@Uni.Example"}),
        &[],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(ok, json!({"valid": true, "reason": null}));
    let (_, illegal) = post_json(
        &app,
        "/api/v1/email-verification",
        json!({"email": "ada@other.example"}),
        &[],
    )
    .await;
    assert_eq!(illegal, json!({"valid": false, "reason": "Email illegal"}));
    let (_, german) = post_json(
        &app,
        "/api/v1/email-verification",
        json!({"email": "nope"}),
        &[("lang", "de")],
    )
    .await;
    assert_eq!(german["reason"], "E-Mail-Adresse nicht zulässig");
    let (_, by_accept) = post_json(
        &app,
        "/api/v1/email-verification",
        json!({"email": "nope"}),
        &[("accept-language", "de")],
    )
    .await;
    assert_eq!(by_accept["reason"], "E-Mail-Adresse nicht zulässig");
}

#[tokio::test]
async fn account_creation_sends_the_verification_mail_and_answers_202() {
    let app = spawn_app().await;
    let body = json!({"firstName": "Ada", "lastName": "Lovelace", "email": "ada@uni.example"});
    let (status, answer) = post_json(
        &app,
        "/api/v1/account_creation",
        body.clone(),
        &[("lang", "de")],
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    assert!(answer["message"].is_string());
    let mails = app.mails().await;
    assert_eq!(mails.len(), 1);
    assert_eq!(
        mails[0].subject, "Bestätigen Sie Ihre Registrierung",
        "the mail follows the lang header"
    );

    // Confirm through the link, then the address is used.
    let path = app.verification_path("ada@uni.example").await;
    assert_eq!(app.post_form(&path, &[]).await.status(), 200);
    let (status, answer) = post_json(&app, "/api/v1/account_creation", body, &[]).await;
    assert_eq!(
        (status, answer),
        (400, json!({"message": "Email already used"}))
    );
    let (_, verification) = post_json(
        &app,
        "/api/v1/email-verification",
        json!({"email": "ADA@uni.example"}),
        &[],
    )
    .await;
    assert_eq!(
        verification,
        json!({"valid": false, "reason": "Email already used"})
    );
}

#[tokio::test]
async fn account_creation_refuses_bad_data_with_the_originals_messages() {
    let app = spawn_app_with(
        &[("EMAIL_ADDRESS_FILTER", r".*@uni\.example")],
        Overrides::default(),
    )
    .await;
    let cases = [
        (
            json!({"firstName": "Ada", "lastName": "Lovelace", "email": "ada@else.example"}),
            "Email illegal",
        ),
        (
            json!({"firstName": "Ada", "lastName": "Lovelace", "email": "not an address"}),
            "Email illegal",
        ),
        (
            json!({"firstName": "李", "lastName": "王", "email": "li@uni.example"}),
            "Name format not supported",
        ),
        (
            json!({"firstName": "", "lastName": "Lovelace", "email": "ada@uni.example"}),
            "Name format not supported",
        ),
    ];
    for (body, expected) in cases {
        let (status, answer) = post_json(&app, "/api/v1/account_creation", body.clone(), &[]).await;
        assert_eq!(
            (status, answer),
            (400, json!({"message": expected})),
            "{body}"
        );
    }
    let (_, german) = post_json(
        &app,
        "/api/v1/account_creation",
        cases_german(),
        &[("lang", "de")],
    )
    .await;
    assert_eq!(german["message"], "Namensformat nicht unterstützt");
    assert!(app.mails().await.is_empty());
}

#[tokio::test]
async fn account_creation_refuses_invisible_and_look_alike_names() {
    let app = spawn_app().await;
    let stacked = format!("Ada{}", "\u{301}".repeat(60));
    for (first, last) in [
        ("Ad\u{200B}a", "Lovelace"),
        ("Ada", "Lovelace\u{200E}"),
        ("\u{3164}", "Lovelace"),
        (stacked.as_str(), "Lovelace"),
        ("\u{410}d\u{430}", "Smith"),
        ("Ada", "!!!"),
    ] {
        let body = json!({"firstName": first, "lastName": last, "email": "ada@uni.example"});
        let (status, answer) = post_json(&app, "/api/v1/account_creation", body, &[]).await;
        assert_eq!(
            (status, answer),
            (400, json!({"message": "Name format not supported"})),
            "{first:?} {last:?}"
        );
    }
    assert!(app.mails().await.is_empty());
}

fn cases_german() -> Value {
    json!({"firstName": "李", "lastName": "王", "email": "li@uni.example"})
}

#[tokio::test]
async fn malformed_bodies_get_422_with_a_json_message() {
    let app = spawn_app().await;
    for body in [
        r#"{"firstName": "Ada""#,
        r#"{"first_name": "Ada", "last_name": "L", "email": "a@b.example"}"#,
        "[]",
        "",
    ] {
        let response = app
            .client
            .post(app.url("/api/v1/account_creation"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422, "{body:?}");
        let answer: Value = response.json().await.unwrap();
        assert!(
            answer["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{body:?}: {answer}"
        );
    }
}

#[tokio::test]
async fn cross_site_browser_calls_are_refused_and_no_cors_headers_are_sent() {
    let app = spawn_app().await;
    let body = json!({"firstName": "Ada", "lastName": "Lovelace", "email": "ada@uni.example"});
    let (status, answer) = post_json(
        &app,
        "/api/v1/account_creation",
        body.clone(),
        &[("origin", "https://evil.example")],
    )
    .await;
    assert_eq!(status, 403);
    assert!(answer["message"].is_string(), "{answer}");
    let response = app
        .client
        .post(app.url("/api/v1/account_creation"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202, "scripts without Origin are fine");
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_or_without_a_declared_length() {
    let app = spawn_app().await;
    let huge = format!(
        r#"{{"firstName": "{}", "lastName": "L", "email": "a@uni.example"}}"#,
        "A".repeat(200_000)
    );
    let declared = app
        .client
        .post(app.url("/api/v1/account_creation"))
        .header("content-type", "application/json")
        .body(huge.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(declared.status(), 413);
    let body: Value = declared.json().await.unwrap();
    assert!(body["message"].is_string());

    // Streamed without Content-Length: refused once it passes the cap.
    let chunks: Vec<Result<String, std::io::Error>> = huge
        .as_bytes()
        .chunks(4096)
        .map(|c| Ok(String::from_utf8_lossy(c).into_owned()))
        .collect();
    let streamed = app
        .client
        .post(app.url("/api/v1/account_creation"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(streamed.status(), 413);
    assert!(app.mails().await.is_empty());
}

#[tokio::test]
async fn string_fields_refuse_every_other_json_type_with_422() {
    let app = spawn_app().await;
    let wrong = [
        json!(1),
        json!(1.5),
        json!(true),
        json!(false),
        json!(null),
        json!([]),
        json!(["Ada"]),
        json!({}),
        json!({"name": "Ada"}),
    ];
    let account = json!({"firstName": "Ada", "lastName": "Lovelace", "email": "ada@uni.example"});
    let address = json!({"email": "ada@uni.example"});
    let endpoints = [
        (
            "/api/v1/account_creation",
            &account,
            &["firstName", "lastName", "email"][..],
        ),
        ("/api/v1/email-verification", &address, &["email"][..]),
    ];
    for (path, valid, fields) in endpoints {
        for field in fields {
            for value in &wrong {
                let mut body = valid.clone();
                body[field] = value.clone();
                let (status, answer) = post_json(&app, path, body.clone(), &[]).await;
                assert_eq!(status, 422, "{path} {body}: {answer}");
                assert!(
                    answer["message"].as_str().is_some_and(|m| !m.is_empty()),
                    "{path} {body}: {answer}"
                );
            }
        }
    }
    assert!(app.mails().await.is_empty(), "no mail for a wrong type");

    // The issue's example, and valid input alongside it.
    let (status, _) = post_json(
        &app,
        "/api/v1/account_creation",
        json!({"firstName": 1, "lastName": true, "email": "one@uni.example"}),
        &[],
    )
    .await;
    assert_eq!(status, 422);
    let (status, answer) = post_json(&app, "/api/v1/account_creation", account, &[]).await;
    assert_eq!(status, 202, "{answer}");
    let (status, answer) = post_json(&app, "/api/v1/email-verification", address, &[]).await;
    assert_eq!(status, 200, "{answer}");
}

#[tokio::test]
async fn a_lone_surrogate_escape_is_refused_not_repaired() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/v1/account_creation"))
        .header("content-type", "application/json")
        .body(r#"{"firstName": "Ada\ud800", "lastName": "Lovelace", "email": "ada@uni.example"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let answer: Value = response.json().await.unwrap();
    assert!(answer["message"].is_string(), "{answer}");
}

#[tokio::test]
async fn the_spec_shows_the_request_fields_as_strings() {
    let app = spawn_app().await;
    let spec: Value = app.get("/api/api-spec.json").await.json().await.unwrap();
    let schemas = &spec["components"]["schemas"];
    for (schema, field) in [
        ("AccountCreationRequest", "firstName"),
        ("AccountCreationRequest", "lastName"),
        ("AccountCreationRequest", "email"),
        ("EmailVerificationRequest", "email"),
    ] {
        let property = &schemas[schema]["properties"][field];
        assert_eq!(property["type"], "string", "{schema}.{field}: {property}");
        assert!(
            property.get("title").is_none(),
            "{schema}.{field}: {property}"
        );
        assert!(
            schemas[schema]["required"]
                .as_array()
                .is_some_and(|r| r.contains(&json!(field))),
            "{schema}.{field} is required: {}",
            schemas[schema]
        );
    }
}

#[tokio::test]
async fn the_spec_documents_every_status_sent_and_the_fields_real_rules() {
    let app = spawn_app().await;
    let spec: Value = app.get("/api/api-spec.json").await.json().await.unwrap();

    for (path, statuses) in [
        ("/email-verification", &["200", "415", "422", "429"][..]),
        (
            "/account_creation",
            &["202", "400", "415", "422", "429"][..],
        ),
    ] {
        let responses = &spec["paths"][path]["post"]["responses"];
        for status in statuses {
            assert!(
                responses.get(status).is_some(),
                "{path} documents {status}: {responses}"
            );
        }
        let retry_after = &responses["429"]["headers"];
        assert!(
            retry_after.as_object().is_some_and(|h| h
                .keys()
                .any(|name| name.eq_ignore_ascii_case("retry-after"))),
            "{path}: 429 carries Retry-After: {retry_after}"
        );
    }

    let schemas = &spec["components"]["schemas"];
    let answer = &schemas["EmailVerificationAnswer"];
    assert_eq!(answer["properties"]["reason"]["nullable"], true, "{answer}");
    assert!(
        answer["required"]
            .as_array()
            .is_some_and(|r| r.contains(&json!("reason"))),
        "reason is always present: {answer}"
    );
    let account = &schemas["AccountCreationRequest"]["properties"];
    for name in ["firstName", "lastName"] {
        assert_eq!(account[name]["minLength"], 1, "{name}");
        assert_eq!(account[name]["maxLength"], 64, "{name}");
    }
    assert_eq!(account["email"]["format"], "email");
    assert_eq!(account["email"]["maxLength"], 190);
}

#[tokio::test]
async fn a_rate_limited_address_check_answers_429_with_retry_after_in_json() {
    let app = spawn_app_with(&[("RATE_LIMIT_PER_IP_PER_HOUR", "1")], Overrides::default()).await;
    for attempt in 0..=10 {
        let response = app
            .client
            .post(app.url("/api/v1/email-verification"))
            .json(&json!({"email": "ada@uni.example"}))
            .send()
            .await
            .unwrap();
        if response.status() == 429 {
            assert!(response.headers().get("retry-after").is_some());
            let answer: Value = response.json().await.unwrap();
            assert!(answer["message"].is_string(), "{answer}");
            return;
        }
        assert_eq!(response.status(), 200, "attempt {attempt}");
    }
    panic!("ten checks per allowed sign-up, then 429");
}
