//! Nothing secret reaches the log, at the most verbose level: not the temporary password,
//! the JWT secret, the private key, a verification link's token, a Graph token or client
//! assertion, nor the SMTP password — through a full sign-up and a failing one. The server
//! runs as its own process with LOG_LEVEL=trace, and its whole output is searched.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::fake_graph::{FakeGraph, fixture};
use crate::smtp::{SmtpMode, SmtpServer, free_port};

const JWT_SECRET: &str = "jwt-secret-that-must-not-leak-7f3a";
const SMTP_PASSWORD: &str = "smtp-password-that-must-not-leak-91c2";

/// The server binary, logging everything to a file.
struct Server {
    child: Child,
    base: String,
    log: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start(env: &[(String, String)]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let log = dir.path().join("server.log");
        let mut command = Command::new(env!("CARGO_BIN_EXE_ms365-accountcreator"));
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("MODE", "test")
            .env("BIND", format!("127.0.0.1:{port}"))
            .env("DATABASE_PATH", dir.path().join("store"))
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("GRAPH_API_USER_MAIL_DOMAIN", "tenant.example")
            // A full filter (with a comma) is used as given: every crate at trace.
            .env("LOG_LEVEL", "trace,ms365_accountcreator=trace")
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        let child = command.spawn().expect("the server starts");
        let base = format!("http://127.0.0.1:{port}");
        for _ in 0..200 {
            if reqwest::get(format!("{base}/healthz")).await.is_ok() {
                return Server {
                    child,
                    base,
                    log,
                    _dir: dir,
                };
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!(
            "the server did not come up: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> u16 {
        let client = reqwest::Client::new();
        client
            .post(format!("{}{path}", self.base))
            .form(fields)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    /// Asserts a status, showing the server's warnings and errors when it differs.
    fn expect(&self, expected: u16, status: u16) {
        if status != expected {
            let logs = std::fs::read_to_string(&self.log).unwrap_or_default();
            let problems: Vec<&str> = logs
                .lines()
                .filter(|l| l.contains("WARN") || l.contains("ERROR"))
                .collect();
            panic!(
                "answered {status}, expected {expected}; the server said:\n{}",
                problems.join("\n")
            );
        }
    }

    /// Stops the server and returns everything it logged.
    fn stop(mut self) -> String {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
        std::fs::read_to_string(&self.log).unwrap()
    }
}

fn sign_up_fields<'a>(email: &'a str, first: &'a str, last: &'a str) -> [(&'a str, &'a str); 5] {
    [
        ("email", email),
        ("consent_email", "yes"),
        ("consent_name", "yes"),
        ("first_name", first),
        ("last_name", last),
    ]
}

#[tokio::test]
async fn a_full_and_a_failing_sign_up_log_no_secret_at_trace_level() {
    let fake = FakeGraph::start().await;
    let group = fake.add_group("Students");
    let sku = fake.add_sku("STANDARDWOFFPACK_STUDENT", 10);
    let smtp = SmtpServer::start(SmtpMode::StartTls, Some(("mailer", SMTP_PASSWORD)));
    let mut env = super::env(&fake, &[group], std::slice::from_ref(&sku));
    env.extend(smtp.app_settings());
    env.push(("JWT_SECRET_KEY".into(), JWT_SECRET.into()));
    let server = Server::start(&env).await;

    // A full sign-up.
    server.expect(
        200,
        server
            .post(
                "/signup",
                &sign_up_fields("ada@uni.example", "Ada", "Lovelace"),
            )
            .await,
    );
    let link_path = smtp
        .received()
        .pop()
        .expect("the verification mail")
        .verification_path();
    let token = link_path.trim_start_matches("/verify/").to_owned();
    assert_eq!(
        reqwest::get(format!("{}{link_path}", server.base))
            .await
            .unwrap()
            .status(),
        200
    );
    server.expect(200, server.post(&link_path, &[("lang", "en")]).await);
    let password = smtp
        .received()
        .iter()
        .find_map(|m| m.password())
        .expect("the password mail");

    // A failing one: the tenant has no free licence left.
    assert_eq!(
        server
            .post(
                "/signup",
                &sign_up_fields("bob@uni.example", "Bob", "Byron")
            )
            .await,
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
    assert_eq!(server.post(&bob_path, &[("lang", "en")]).await, 503);

    let logs = server.stop();
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
