//! The outbox (issue 22 point 4): a mail owed when the server is killed with SIGKILL right
//! after its answer, while the SMTP server is down, arrives once after the restart, on
//! either store. (SMTP down at submit with the server running: `smtp_mail`; the equal time
//! itself: `bench/run`.)

use std::time::Duration;

use crate::support::postgres;
use crate::support::process::ServerProcess;
use crate::support::smtp::{SmtpMode, SmtpServer, app_settings, free_port};

/// Polls the server's log for `line` (up to 20 s).
async fn logged(server: &ServerProcess, line: &str) {
    for _ in 0..400 {
        if server.log_text().contains(line) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no {line:?} in the log:\n{}", server.log_text());
}

/// Signs up while the SMTP server is down, kills the server after the answer (and after
/// its worker's first try), starts the SMTP server and the server again: the verification
/// mail arrives once, and its link works.
async fn killed_after_the_answer_the_mail_arrives_once(store: Vec<(String, String)>) {
    // Arrange: no SMTP server on the port yet.
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut env = app_settings(port, SmtpMode::Plain, None);
    env.extend(store);
    let server = ServerProcess::start(dir.path(), &env).await;
    server.wait_until_ready().await;

    // Act: the answer, then SIGKILL.
    assert_eq!(
        server.sign_up("ada@uni.example", "Ada", "Lovelace").await,
        200
    );
    logged(
        &server,
        "an outbox mail could not be sent; it is tried again",
    )
    .await;
    server.kill();
    let smtp = SmtpServer::start_on(port, SmtpMode::Plain, None);
    let again = ServerProcess::start(dir.path(), &env).await;

    // Assert
    let mails = smtp.wait_for(1).await;
    logged(&again, "outbox mail sent").await;
    assert_eq!(mails.len(), 1, "the verification mail, once");
    assert_eq!(mails[0].to, vec!["ada@uni.example"]);
    assert_eq!(mails[0].subject, "Confirm your sign-up");
    assert_eq!(again.get(&mails[0].verification_path()).await, 200);
    // Nothing more comes: the mail left the outbox once it was sent.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(smtp.received().len(), 1, "no second copy");
}

#[tokio::test]
async fn a_mail_owed_when_the_server_is_killed_arrives_once_after_the_restart_on_sled() {
    crate::support::tools::require_tool!(Aiosmtpd);
    killed_after_the_answer_the_mail_arrives_once(Vec::new()).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
async fn a_mail_owed_when_the_server_is_killed_arrives_once_after_the_restart_on_postgres() {
    crate::support::tools::require_tool!(Aiosmtpd);
    let url = postgres::fresh_database("outbox_killed_after_the_answer").await;
    killed_after_the_answer_the_mail_arrives_once(vec![("DATABASE_URL".into(), url)]).await;
}
