//! `ms365-accountcreator check` run as the real binary against the fake Graph and a real
//! SMTP server: one line per check, non-zero exit on any failure, JSON on request.

use std::process::{Command, Output};

use crate::support::fake_graph::FakeGraph;
use crate::support::smtp::{SmtpMode, SmtpServer};

const LOGIN: crate::support::smtp::Login = ("checker", "check-pass-123");

/// Runs the binary off the test's thread, so the fakes on this thread keep answering.
async fn check(env: Vec<(String, String)>, args: &[&str]) -> Output {
    let store = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_ms365-accountcreator"));
    command
        .arg("check")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("MODE", "test")
        .env("LOG_LEVEL", "error")
        .env("DATABASE_PATH", store.path())
        .current_dir(std::env::temp_dir());
    for (key, value) in env {
        command.env(key, value);
    }
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap();
    drop(store);
    output
}

fn env(
    fake: &FakeGraph,
    smtp: &SmtpServer,
    groups: &[String],
    skus: &[String],
) -> Vec<(String, String)> {
    let mut env = super::env(fake, groups, skus);
    env.extend(smtp.app_settings());
    env
}

#[tokio::test]
async fn every_check_passes_against_a_working_tenant_and_mail_server() {
    crate::support::tools::require_tool!(Aiosmtpd);
    let fake = FakeGraph::start().await;
    let group = fake.add_group("Students");
    let sku = fake.add_sku("STANDARDWOFFPACK_STUDENT", 100);
    let smtp = SmtpServer::start(SmtpMode::StartTls, Some(LOGIN));
    let output = check(env(&fake, &smtp, &[group], &[sku]), &[]).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines.len() >= 7, "{stdout}");
    assert!(lines.iter().all(|l| l.starts_with("ok ")), "{stdout}");
    for topic in [
        "configuration",
        "MAILBOX_TAG_SECRET",
        "store",
        "token",
        "Students",
        "SMTP",
    ] {
        assert!(stdout.contains(topic), "no line about {topic}: {stdout}");
    }
    assert!(smtp.received().is_empty(), "check sends no mail");
}

#[tokio::test]
async fn each_problem_is_one_failing_line_and_the_exit_code_says_so() {
    crate::support::tools::require_tool!(Aiosmtpd);
    let fake = FakeGraph::start().await;
    let group = fake.add_group("Students");
    let full_sku = fake.add_sku("STANDARDWOFFPACK_STUDENT", 0);
    let smtp = SmtpServer::start(SmtpMode::StartTls, Some(LOGIN));
    let missing_group = "00000000-0000-0000-0000-0000000000aa".to_owned();
    let mut env = env(&fake, &smtp, &[group, missing_group.clone()], &[full_sku]);
    env.push(("MAIL_SERVER_PW".into(), "wrong-password-456".into()));
    let output = check(env, &["--json"]).await;
    assert!(!output.status.success());
    let results: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    let failed: Vec<String> = results
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ok"] == false)
        .map(|r| format!("{}: {}", r["check"], r["detail"]))
        .collect();
    assert_eq!(failed.len(), 3, "{failed:#?}");
    assert!(
        failed.iter().any(|f| f.contains(&missing_group)),
        "{failed:#?}"
    );
    assert!(
        failed
            .iter()
            .any(|f| f.contains("STANDARDWOFFPACK_STUDENT") || f.to_lowercase().contains("free")),
        "{failed:#?}"
    );
    assert!(
        failed.iter().any(|f| f.starts_with("\"SMTP\"")),
        "{failed:#?}"
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        !text.contains("wrong-password-456"),
        "no password in the output"
    );
}

#[tokio::test]
async fn simulated_parts_are_reported_not_checked() {
    let output = check(Vec::new(), &[]).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains("not checked: DEBUG_DONT_CONNECT_TO_API"),
        "{stdout}"
    );
    assert!(
        stdout.contains("not checked: DEBUG_DONT_SEND_MAIL"),
        "{stdout}"
    );
}

#[tokio::test]
async fn a_short_jwt_secret_fails_the_check_in_production_and_says_how_to_make_one() {
    // Arrange
    let env = [
        ("MODE", "production"),
        ("PUBLIC_URL", "https://signup.uni.example"),
        ("JWT_SECRET_KEY", "secret"),
        ("DEBUG_DONT_CONNECT_TO_API", "true"),
        ("DEBUG_DONT_SEND_MAIL", "true"),
    ];
    // Act
    let output = check(
        env.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        &[],
    )
    .await;
    // Assert
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{stdout}");
    let line = stdout
        .lines()
        .find(|line| line.contains("JWT_SECRET_KEY"))
        .unwrap_or_else(|| panic!("no line about the secret: {stdout}"));
    assert!(line.starts_with("FAIL"), "{line}");
    assert!(line.contains("openssl rand -base64 48"), "{line}");
    assert!(
        !stdout.contains("secret\n"),
        "the secret itself is not shown"
    );
}

#[tokio::test]
async fn check_says_whether_the_token_allows_password_resets() {
    // Arrange: a tenant whose app may create users but not set passwords
    let fake = FakeGraph::start().await;
    let mut env = super::env(&fake, &[], &[]);
    env.push(("PASSWORD_RESET_ENABLED".into(), "true".into()));
    fake.set_roles(&["User.Read.All", "GroupMember.ReadWrite.All"]);

    // Act
    let without = check(env.clone(), &[]).await;
    fake.set_roles(&["User-PasswordProfile.ReadWrite.All"]);
    let with = check(env, &[]).await;

    // Assert
    let line = |output: &Output| {
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .find(|line| line.contains("Graph password permission"))
            .unwrap_or_else(|| panic!("no line about the permission: {output:?}"))
            .to_owned()
    };
    assert!(!without.status.success());
    let refused = line(&without);
    assert!(refused.starts_with("FAIL"), "{refused}");
    assert!(
        refused.contains("User-PasswordProfile.ReadWrite.All or User.ReadWrite.All"),
        "{refused}"
    );
    assert!(with.status.success(), "{}", line(&with));
    assert!(line(&with).starts_with("ok"), "{}", line(&with));
}

#[tokio::test]
async fn with_passes_check_fails_on_a_disabled_policy_and_a_missing_permission_saying_the_fix() {
    // Arrange: passes chosen, the tenant's policy off, the app without the permission.
    let fake = FakeGraph::start().await;
    let mut env = super::env(&fake, &[], &[]);
    env.push(("CREDENTIAL".into(), "temporary_access_pass".into()));
    env.push(("TAP_LIFETIME_MINUTES".into(), "480".into()));
    fake.set_roles(&["User.ReadWrite.All", "Policy.Read.All"]);

    // Act
    let refused = check(env.clone(), &[]).await;
    fake.enable_passes(60, 480);
    fake.set_roles(&[
        "User.ReadWrite.All",
        "Policy.Read.All",
        "UserAuthenticationMethod.ReadWrite.All",
    ]);
    let allowed = check(env, &[]).await;

    // Assert
    let stdout = String::from_utf8_lossy(&refused.stdout);
    assert!(!refused.status.success(), "{stdout}");
    let line = |name: &str| {
        stdout
            .lines()
            .find(|line| line.contains(name))
            .unwrap_or_else(|| panic!("no line about {name}: {stdout}"))
            .to_owned()
    };
    let policy = line("Temporary Access Pass policy");
    assert!(
        policy.starts_with("FAIL") && policy.contains("enable it in the Entra admin centre"),
        "{policy}"
    );
    let permission = line("Graph pass permission");
    assert!(
        permission.starts_with("FAIL")
            && permission.contains("UserAuthenticationMethod.ReadWrite.All")
            && permission.contains("grant admin consent"),
        "{permission}"
    );
    let stdout = String::from_utf8_lossy(&allowed.stdout);
    assert!(allowed.status.success(), "{stdout}");
    assert!(
        stdout.contains("480 minutes, within the policy's 60–480 minutes"),
        "{stdout}"
    );
}
