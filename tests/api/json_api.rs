//! The JSON API: the original's request shapes, translated reasons, the OpenAPI spec.

use serde_json::{Value, json};

use crate::support::helpers::{TestApp, spawn_app};
use crate::support::routes::{json_answer, paths};

const JSON: &str = "application/json";

#[tokio::test]
async fn the_root_links_the_endpoints_and_the_spec_describes_them() {
    let app = spawn_app().await;
    let root = app.api_root().await;
    assert_eq!(root["emailVerification"], paths::API_EMAIL_VERIFICATION);
    assert_eq!(root["accountCreation"], paths::API_ACCOUNT_CREATION);
    assert!(
        root.get("passwordReset").is_none(),
        "resets are off: {root}"
    );
    let with_resets = TestApp::builder().resets().spawn().await;
    let root = with_resets.api_root().await;
    assert_eq!(root["passwordReset"], paths::API_PASSWORD_RESET);
    let spec = app.api_spec().await;
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
    let app = TestApp::builder()
        .env("EMAIL_ADDRESS_FILTER", r".*@uni\.example")
        .spawn()
        .await;
    let (status, ok) = app
        .post_email_verification(&json!({"email": "Ada@Uni.Example"}), &[])
        .await;
    assert_eq!(status, 200);
    assert_eq!(ok, json!({"valid": true, "reason": null}));
    let (_, illegal) = app
        .post_email_verification(&json!({"email": "ada@other.example"}), &[])
        .await;
    assert_eq!(illegal, json!({"valid": false, "reason": "Email illegal"}));
    let (_, german) = app
        .post_email_verification(&json!({"email": "nope"}), &[("lang", "de")])
        .await;
    assert_eq!(german["reason"], "E-Mail-Adresse nicht zulässig");
    let (_, by_accept) = app
        .post_email_verification(&json!({"email": "nope"}), &[("accept-language", "de")])
        .await;
    assert_eq!(by_accept["reason"], "E-Mail-Adresse nicht zulässig");
}

#[tokio::test]
async fn account_creation_sends_the_verification_mail_and_answers_202() {
    let app = spawn_app().await;
    let body = json!({"firstName": "Ada", "lastName": "Lovelace", "email": "ada@uni.example"});
    let (status, answer) = app.post_account_creation(&body, &[("lang", "de")]).await;
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
    assert_eq!(app.confirm(&path).await.status(), 200);
    let (status, answer) = app.post_account_creation(&body, &[]).await;
    assert_eq!(
        (status, answer),
        (400, json!({"message": "Email already used"}))
    );
    let (_, verification) = app
        .post_email_verification(&json!({"email": "ADA@uni.example"}), &[])
        .await;
    assert_eq!(
        verification,
        json!({"valid": false, "reason": "Email already used"})
    );
}

#[tokio::test]
async fn account_creation_refuses_bad_data_with_the_originals_messages() {
    let app = TestApp::builder()
        .env("EMAIL_ADDRESS_FILTER", r".*@uni\.example")
        .spawn()
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
        // The spec's maxLength (64) holds for the name as sent: 62 letters behind a
        // carriage return and two spaces are 62 after trimming, 65 as sent.
        (
            json!({"firstName": "Ada", "lastName": format!("\r  {}", "L".repeat(62)), "email": "ada@uni.example"}),
            "Name format not supported",
        ),
    ];
    for (body, expected) in cases {
        let (status, answer) = app.post_account_creation(&body, &[]).await;
        assert_eq!(
            (status, answer),
            (400, json!({"message": expected})),
            "{body}"
        );
    }
    let (_, german) = app
        .post_account_creation(&cases_german(), &[("lang", "de")])
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
        let (status, answer) = app.post_account_creation(&body, &[]).await;
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
            .post_bytes(paths::API_ACCOUNT_CREATION, JSON, body, &[])
            .await;
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
    let (status, answer) = app
        .post_account_creation(&body, &[("origin", "https://evil.example")])
        .await;
    assert_eq!(status, 403);
    assert!(answer["message"].is_string(), "{answer}");
    let response = app.post_json(paths::API_ACCOUNT_CREATION, &body, &[]).await;
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
        .post_bytes(paths::API_ACCOUNT_CREATION, JSON, huge.clone(), &[])
        .await;
    assert_eq!(declared.status(), 413);
    let body: Value = declared.json().await.unwrap();
    assert!(body["message"].is_string());

    // Streamed without Content-Length: refused once it passes the cap.
    let chunks: Vec<Result<String, std::io::Error>> = huge
        .as_bytes()
        .chunks(4096)
        .map(|c| Ok(String::from_utf8_lossy(c).into_owned()))
        .collect();
    let stream = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let streamed = app
        .post_bytes(paths::API_ACCOUNT_CREATION, JSON, stream, &[])
        .await;
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
            paths::API_ACCOUNT_CREATION,
            &account,
            &["firstName", "lastName", "email"][..],
        ),
        (paths::API_EMAIL_VERIFICATION, &address, &["email"][..]),
    ];
    for (path, valid, fields) in endpoints {
        for field in fields {
            for value in &wrong {
                let mut body = valid.clone();
                body[field] = value.clone();
                let (status, answer) = json_answer(app.post_json(path, &body, &[]).await).await;
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
    let (status, _) = app
        .post_account_creation(
            &json!({"firstName": 1, "lastName": true, "email": "one@uni.example"}),
            &[],
        )
        .await;
    assert_eq!(status, 422);
    let (status, answer) = app.post_account_creation(&account, &[]).await;
    assert_eq!(status, 202, "{answer}");
    let (status, answer) = app.post_email_verification(&address, &[]).await;
    assert_eq!(status, 200, "{answer}");
}

#[tokio::test]
async fn a_lone_surrogate_escape_is_refused_not_repaired() {
    let app = spawn_app().await;
    let body = r#"{"firstName": "Ada\ud800", "lastName": "Lovelace", "email": "ada@uni.example"}"#;
    let response = app
        .post_bytes(paths::API_ACCOUNT_CREATION, JSON, body, &[])
        .await;
    assert_eq!(response.status(), 422);
    let answer: Value = response.json().await.unwrap();
    assert!(answer["message"].is_string(), "{answer}");
}

#[tokio::test]
async fn the_spec_shows_the_request_fields_as_strings() {
    let app = spawn_app().await;
    let spec = app.api_spec().await;
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
    let spec = app.api_spec().await;

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
    let app = TestApp::builder()
        .env("RATE_LIMIT_PER_IP_PER_HOUR", "1")
        .spawn()
        .await;
    for attempt in 0..=10 {
        let address = json!({"email": "ada@uni.example"});
        let response = app
            .post_json(paths::API_EMAIL_VERIFICATION, &address, &[])
            .await;
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
