//! The OpenAPI document says what the service takes: the address syntax and the configured
//! EMAIL_ADDRESS_FILTER are the `email` properties' patterns, judging as the service does.

use regex::Regex;
use serde_json::{Value, json};

use crate::support::helpers::{TestApp, spawn_app_with};
use ms365_accountcreator::startup::Overrides;

const REQUESTS: [&str; 2] = ["AccountCreationRequest", "PasswordResetRequest"];

async fn spec(app: &TestApp) -> Value {
    let response = app.get("/api/api-spec.json").await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn email_of<'a>(spec: &'a Value, request: &str) -> &'a Value {
    &spec["components"]["schemas"][request]["properties"]["email"]
}

/// Whether the address check takes `address`: the service's own judgement.
async fn taken(app: &TestApp, address: &str) -> bool {
    let url = app.url("/api/v1/email-verification");
    let body = json!({ "email": address });
    let answer: Value = app
        .client
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["valid"].as_bool().expect("a boolean")
}

#[tokio::test]
async fn a_configured_filter_is_the_email_pattern_and_judges_as_the_service_does() {
    // Arrange
    let filter = r"st[0-9]+@stud\.uni\.example";
    let app = spawn_app_with(&[("EMAIL_ADDRESS_FILTER", filter)], Overrides::default()).await;

    // Act
    let spec = spec(&app).await;

    // Assert
    let email = email_of(&spec, REQUESTS[0]);
    for request in REQUESTS {
        assert_eq!(
            email_of(&spec, request)["pattern"],
            email["pattern"],
            "{request}"
        );
        assert_eq!(
            email_of(&spec, request)["allOf"],
            email["allOf"],
            "{request}"
        );
    }
    let pattern = Regex::new(email["pattern"].as_str().expect("a pattern")).unwrap();
    let syntax = Regex::new(email["allOf"][0]["pattern"].as_str().expect("the syntax")).unwrap();
    for address in [
        "st42@stud.uni.example",
        "ST42@Stud.Uni.Example",
        "st42+lists@stud.uni.example",
        "st42@stud.uni.example.evil.org",
        "xst42@stud.uni.example",
        "st@stud.uni.example",
        "ada@uni.example",
        "+st42@stud.uni.example",
        "st42.@stud.uni.example",
    ] {
        let published = pattern.is_match(address) && syntax.is_match(address);
        assert_eq!(published, taken(&app, address).await, "{address}");
    }
}

#[tokio::test]
async fn a_filter_that_does_not_translate_is_not_published_and_the_spec_says_so() {
    let app = spawn_app_with(
        &[("EMAIL_ADDRESS_FILTER", r".*\.edu")],
        Overrides::default(),
    )
    .await;
    let spec = spec(&app).await;
    for request in REQUESTS {
        let email = email_of(&spec, request);
        assert!(email.get("allOf").is_none(), "{email}");
        let syntax = Regex::new(email["pattern"].as_str().expect("a pattern")).unwrap();
        assert!(
            syntax.is_match("ada@uni.example"),
            "only the syntax: {email}"
        );
        let description = email["description"].as_str().unwrap_or_default();
        assert!(
            description.contains("filter is not published"),
            "{description}"
        );
    }
}

#[tokio::test]
async fn without_a_filter_the_pattern_is_the_address_syntax() {
    let app = spawn_app_with(&[], Overrides::default()).await;
    let spec = spec(&app).await;
    for request in REQUESTS {
        let email = email_of(&spec, request);
        assert_eq!(email["format"], "email");
        assert!(email.get("allOf").is_none(), "{email}");
        let syntax = Regex::new(email["pattern"].as_str().expect("a pattern")).unwrap();
        for (address, takes) in [("ada@uni.example", true), ("+tag@uni.example", false)] {
            assert_eq!(syntax.is_match(address), takes, "{address}");
            assert_eq!(taken(&app, address).await, takes, "{address}");
        }
    }
}
