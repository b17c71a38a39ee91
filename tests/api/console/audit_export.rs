//! `audit export`: the audit log as JSON lines, and the lines the commands that act on
//! someone's data write before they act.

use serde_json::Value;

use crate::cli::{run, stdout};
use crate::support::flaky_directory::{FlakyDirectory, Op};
use crate::support::helpers::{TestApp, spawn_app};

/// The exported lines, each parsed.
pub fn exported(store: &std::path::Path, filters: &[&str]) -> Vec<Value> {
    let mut args = vec!["audit", "export"];
    args.extend_from_slice(filters);
    stdout(&run(store, &args))
        .lines()
        .map(|line| serde_json::from_str(line).expect("every line is JSON"))
        .collect()
}

#[tokio::test]
async fn forget_and_retry_on_the_command_line_each_leave_one_audit_line_naming_the_account() {
    // Arrange: Ada's account is made; Bob's creation fails and waits for a retry.
    let directory = FlakyDirectory::new();
    let mut app = TestApp::builder()
        .directory(directory.clone())
        .spawn()
        .await;
    app.create_account("ada@uni.example", "Ada", "Lovelace")
        .await;
    app.sign_up("bob@uni.example", "Bob", "Builder").await;
    let bob = app.verification_path("bob@uni.example").await;
    directory.fail_next(Op::Create);
    app.confirm(&bob).await;
    let dir = app.stop().await;
    let listed = stdout(&run(dir.path(), &["signups", "list"]));
    let bob_id = listed
        .lines()
        .find(|line| line.contains("bob@uni.example"))
        .and_then(|line| line.split('\t').next())
        .expect("Bob's sign-up is listed")
        .to_owned();

    // Act
    stdout(&run(dir.path(), &["emails", "forget", "ADA@uni.example"]));
    stdout(&run(dir.path(), &["signups", "retry", &bob_id]));
    let lines = exported(dir.path(), &[]);

    // Assert: oldest first, who (the local user, on the command line), what, on what.
    assert_eq!(lines.len(), 2, "{lines:#?}");
    let (forget, retry) = (&lines[0], &lines[1]);
    assert_eq!(forget["action"], "forget");
    assert_eq!(forget["subject"], "ada.lovelace@tenant.example");
    assert_eq!(forget["actor"]["source"], "command_line");
    assert_eq!(forget["client"], Value::Null);
    assert_eq!(retry["action"], "retry");
    assert_eq!(retry["subject"], bob_id.as_str());
    assert!(retry["seq"].as_u64() > forget["seq"].as_u64());
    assert!(forget["time"].as_str().unwrap().ends_with('Z'), "{forget}");
    let text = serde_json::to_string(&lines).unwrap();
    assert!(
        !text.contains("ada@uni.example"),
        "the forgotten address stays forgotten: {text}"
    );
}

#[tokio::test]
async fn an_export_is_filtered_by_day_operator_and_action() {
    let mut app = spawn_app().await;
    let dir = app.stop().await;
    run(dir.path(), &["emails", "forget", "nobody@uni.example"]);

    let everything = exported(dir.path(), &[]);
    let user = everything[0]["actor"]["upn"].as_str().unwrap().to_owned();

    assert_eq!(everything.len(), 1, "{everything:#?}");
    assert_eq!(exported(dir.path(), &["--since", "2000-01-01"]).len(), 1);
    assert!(exported(dir.path(), &["--since", "2999-01-01"]).is_empty());
    assert_eq!(exported(dir.path(), &["--operator", &user]).len(), 1);
    assert!(exported(dir.path(), &["--operator", "eve@tenant.example"]).is_empty());
    assert!(exported(dir.path(), &["--action", "retry"]).is_empty());
    let wrong = run(dir.path(), &["audit", "export", "--action", "delete_all"]);
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("not an audit action"));
}
