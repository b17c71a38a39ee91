//! Nothing secret reaches the log, at the most verbose level: not the temporary password,
//! the JWT secret, the mailbox tag secret, the private key, a verification link's token, a
//! Graph token or client assertion, nor the SMTP password — through a full sign-up and a failing one. The server
//! runs as its own process with LOG_LEVEL=trace, and its whole output is searched.

use crate::support::fake_graph::{FakeGraph, fixture};
use crate::support::process::ServerProcess;
use crate::support::routes::paths;
use crate::support::smtp::{SmtpMode, SmtpServer};

const JWT_SECRET: &str = "jwt-secret-that-must-not-leak-7f3a";
const TAG_SECRET: &str = "mailbox-tag-secret-that-must-not-leak-5d0e";
const SMTP_PASSWORD: &str = "smtp-password-that-must-not-leak-91c2";

#[tokio::test]
async fn a_full_and_a_failing_sign_up_log_no_secret_at_trace_level() {
    crate::support::tools::require_tool!(Aiosmtpd);
    let fake = FakeGraph::start().await;
    let group = fake.add_group("Students");
    let sku = fake.add_sku("STANDARDWOFFPACK_STUDENT", 10);
    let smtp = SmtpServer::start(SmtpMode::StartTls, Some(("mailer", SMTP_PASSWORD)));
    let mut env = super::env(&fake, &[group], std::slice::from_ref(&sku));
    env.extend(smtp.app_settings());
    env.push(("JWT_SECRET_KEY".into(), JWT_SECRET.into()));
    env.push(("MAILBOX_TAG_SECRET".into(), TAG_SECRET.into()));
    // A full filter (with a comma) is used as given: every crate at trace.
    env.push((
        "LOG_LEVEL".into(),
        "trace,ms365_accountcreator=trace".into(),
    ));
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(dir.path(), &env).await;

    // A full sign-up.
    server.sign_up_ada().await;
    let link_path = smtp
        .wait_for(1)
        .await
        .pop()
        .expect("the verification mail")
        .verification_path();
    let token = link_path.trim_start_matches(paths::VERIFY).to_owned();
    assert_eq!(server.get(&link_path).await, 200);
    server.expect(200, server.confirm(&link_path).await);
    let password = smtp
        .received()
        .iter()
        .find_map(|m| m.password())
        .expect("the password mail");

    // One that stops: the tenant has no free licence left (it waits in the queue for one).
    assert_eq!(server.sign_up("bob@uni.example", "Bob", "Byron").await, 200);
    let bob_path = smtp
        .wait_for(3)
        .await
        .iter()
        .rev()
        .find(|m| m.to.iter().any(|to| to.contains("bob@")))
        .unwrap()
        .verification_path();
    fake.set_sku_units(&sku, 1);
    assert_eq!(server.confirm(&bob_path).await, 202);

    let (_, logs) = server.terminate();
    assert!(
        logs.contains("provisioning step saved") && logs.contains("TRACE"),
        "the log is at trace level:\n{logs}"
    );
    let key_pem = std::fs::read_to_string(fixture("graph-test-key.pkcs1.pem")).unwrap();
    let key_lines: Vec<&str> = key_pem
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() > 20)
        .collect();
    let mut secrets = vec![
        ("temporary password", password.as_str()),
        ("JWT secret", JWT_SECRET),
        ("mailbox tag secret", TAG_SECRET),
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
