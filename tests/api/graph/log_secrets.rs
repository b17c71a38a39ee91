//! Nothing secret reaches the log, at the most verbose level: not the temporary password,
//! the JWT secret, the private key, a verification link's token, a Graph token or client
//! assertion, nor the SMTP password — through a full sign-up and a failing one.

use crate::fake_graph::{FakeGraph, fixture};
use crate::helpers::{Logs, spawn_app_with};
use crate::smtp::{SmtpMode, SmtpServer};

const JWT_SECRET: &str = "jwt-secret-that-must-not-leak-7f3a";
const SMTP_PASSWORD: &str = "smtp-password-that-must-not-leak-91c2";

#[tokio::test]
async fn a_full_and_a_failing_sign_up_log_no_secret_at_trace_level() {
    let (logs, _guard) = Logs::capture_at(tracing::Level::TRACE);
    let fake = FakeGraph::start().await;
    let group = fake.add_group("Students");
    let sku = fake.add_sku("STANDARDWOFFPACK_STUDENT", 10);
    let smtp = SmtpServer::start(SmtpMode::StartTls, Some(("mailer", SMTP_PASSWORD)));
    let mut env = super::env(&fake, &[group], std::slice::from_ref(&sku));
    env.extend(smtp.app_settings());
    env.push(("JWT_SECRET_KEY".into(), JWT_SECRET.into()));
    env.push(("LOG_LEVEL".into(), "trace".into()));
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let app = spawn_app_with(&pairs, Default::default()).await;

    // A full sign-up.
    assert_eq!(
        app.sign_up("ada@uni.example", "Ada", "Lovelace")
            .await
            .status(),
        200
    );
    let verification = smtp.received().pop().expect("the verification mail");
    let link_path = verification.verification_path();
    let token = link_path.trim_start_matches("/verify/").to_owned();
    assert_eq!(app.get(&link_path).await.status(), 200);
    assert_eq!(
        app.post_form(&link_path, &[("lang", "en")]).await.status(),
        200
    );
    let password = smtp
        .received()
        .iter()
        .find_map(|m| m.password())
        .expect("the password mail");

    // A failing one: the tenant has no free licence left.
    assert_eq!(
        app.sign_up("bob@uni.example", "Bob", "Byron")
            .await
            .status(),
        200
    );
    let bob_path = smtp
        .received()
        .iter()
        .rev()
        .find(|m| m.to.iter().any(|to| to.contains("bob@")))
        .unwrap()
        .verification_path();
    fake.set_sku_units(&sku, 1);
    assert_eq!(
        app.post_form(&bob_path, &[("lang", "en")]).await.status(),
        503
    );

    let logs = logs.text();
    assert!(
        logs.len() > 10_000,
        "the capture saw the server's trace output ({} bytes)",
        logs.len()
    );
    assert!(
        logs.contains("provisioning step saved"),
        "the capture saw the sign-up"
    );
    let key_pem = std::fs::read_to_string(fixture("graph-test-key.pkcs1.pem")).unwrap();
    let key_lines: Vec<&str> = key_pem
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() > 20)
        .collect();
    let mut secrets = vec![
        ("temporary password", password.as_str()),
        ("JWT secret", JWT_SECRET),
        ("SMTP password", SMTP_PASSWORD),
        ("verification token", token.as_str()),
    ];
    secrets.extend(key_lines.iter().map(|line| ("private key", *line)));
    for (what, secret) in secrets {
        assert!(!logs.contains(secret), "the {what} is in the log");
    }
    // Every JWT (links, Graph access tokens, client assertions) starts with a base64 `{"`.
    let jwt = regex::Regex::new(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}").unwrap();
    if let Some(found) = jwt.find(&logs) {
        let start = found.start().saturating_sub(200);
        panic!("a JWT is in the log: …{}…", &logs[start..found.end()]);
    }
}
