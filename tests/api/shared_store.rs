//! Several instances on one PostgreSQL database (`DATABASE_URL`): what one registers, the
//! others know; the mail limits count for all of them together; a server waits for its
//! database instead of exiting; and two real processes behind a round-robin, one killed in
//! the middle of a burst of confirms, lose nothing and create nothing twice.

use std::time::Duration;

use futures_util::future::join_all;

use crate::password_reset::{ask_for_reset, create_account};
use crate::support::fake_graph::{Endpoint, FakeGraph};
use crate::support::helpers::{TestApp, spawn_app, texts};
use crate::support::mails::{reset_path_among, verification_path_among};
use crate::support::postgres;
use crate::support::process::ServerProcess;

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
async fn two_servers_on_one_database_know_each_others_registrations() {
    let url = postgres::fresh_database("two_servers_know_each_others").await;
    let one = TestApp::builder().database(&url).spawn().await;
    let two = TestApp::builder().database(&url).spawn().await;

    // Signed up at one, confirmed at the other.
    assert_eq!(
        one.sign_up("ada@uni.example", "Ada", "Lovelace")
            .await
            .status(),
        200
    );
    let bases = [one.address.as_str(), two.address.as_str()];
    let path = verification_path_among(&bases, "ada@uni.example").await;
    assert_eq!(two.confirm(&path).await.status(), 200);

    // Both refuse a second account, and the link is used up at both.
    for app in [&one, &two] {
        let again = app.sign_up("ada+x@uni.example", "Ada", "Lovelace").await;
        assert_eq!(again.status(), 422);
        assert_eq!(texts(&again.text().await.unwrap(), "#email-error").len(), 1);
        assert_eq!(app.confirm(&path).await.status(), 410);
    }
}

/// A reset link pressed at one server is used up at the other: the record of used links is
/// in the database, not in either process.
#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
async fn a_reset_link_used_at_one_server_is_used_up_at_the_other() {
    let url = postgres::fresh_database("a_reset_link_used_at_one_server").await;
    let one = TestApp::builder().database(&url).resets().spawn().await;
    let two = TestApp::builder().database(&url).resets().spawn().await;
    create_account(&one, "ada@uni.example", "Ada", "Lovelace").await;
    ask_for_reset(&one, "ada@uni.example", "en").await;
    let bases = [one.address.as_str(), two.address.as_str()];
    let path = reset_path_among(&bases, "ada@uni.example").await;

    let used = one.confirm(&path).await;
    let again = two.confirm(&path).await;

    assert_eq!(used.status(), 200);
    assert_eq!(again.status(), 410);
    assert_eq!(
        texts(&again.text().await.unwrap(), "h1"),
        vec!["This link has already been used"]
    );
}

async fn status(app: &TestApp, email: &str) -> u16 {
    app.sign_up(email, "Bob", "Builder").await.status().as_u16()
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
async fn the_mail_limits_count_the_mails_of_every_server_together() {
    let url = postgres::fresh_database("the_mail_limits_count_together").await;
    let limits = [
        ("RATE_LIMIT_MAILS_PER_ADDRESS_PER_HOUR", "2"),
        ("RATE_LIMIT_MAILS_PER_HOUR", "3"),
    ];
    let one = TestApp::builder()
        .database(&url)
        .envs(&limits)
        .spawn()
        .await;
    let two = TestApp::builder()
        .database(&url)
        .envs(&limits)
        .spawn()
        .await;

    assert_eq!(status(&one, "bob@uni.example").await, 200);
    assert_eq!(status(&two, "bob@uni.example").await, 200);
    assert_eq!(
        status(&one, "bob@uni.example").await,
        429,
        "the mailbox's third mail this hour, its second at this server"
    );
    assert_eq!(status(&two, "cy@uni.example").await, 200);
    assert_eq!(
        status(&one, "dee@uni.example").await,
        429,
        "the fourth mail of the hour: the global cap, though each server sent fewer"
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
async fn a_server_waits_for_its_database_and_is_not_ready_meanwhile() {
    let server = postgres::server_url("a_server_waits_for_its_database");
    // Arrange: a database that does not exist yet.
    let name = postgres::unique_name();
    let url = postgres::url_of(&server, &name);
    let app = TestApp::builder().env("DATABASE_URL", &url).spawn().await;

    // Act + Assert: up, not ready; then the database appears and it gets ready by itself.
    assert_eq!(app.get_healthz().await.status(), 200);
    assert_eq!(app.get_readyz().await.status(), 503);
    assert!(
        app.sign_up("ada@uni.example", "Ada", "Lovelace")
            .await
            .status()
            .is_server_error(),
        "a sign-up fails cleanly meanwhile"
    );
    postgres::execute(&server, &format!("CREATE DATABASE {name}")).await;
    app.wait_until_ready().await;
    assert_eq!(
        app.sign_up("ada@uni.example", "Ada", "Lovelace")
            .await
            .status(),
        200
    );
}

/// POSTs the confirm form at `base` + `path`: the status, or `None` when the connection
/// died (its server was killed).
async fn confirm(base: String, path: String) -> Option<u16> {
    reqwest::Client::new()
        .post(format!("{base}{path}"))
        .form(&[("lang", "en")])
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .ok()
        .map(|response| response.status().as_u16())
}

/// Confirms at `server` until the registration is finished (200, or 410 once another
/// request finished it): 409 (another request holds it) and 202 (queued: another instance
/// holds it) wait for that one or its lease.
async fn confirm_until_done(server: &ServerProcess, path: &str) {
    for _ in 0..120 {
        match confirm(server.base.clone(), path.to_owned()).await {
            Some(200 | 410) => return,
            Some(202 | 409) => tokio::time::sleep(Duration::from_millis(250)).await,
            other => panic!(
                "{path}: answered {other:?}; the server said:\n{}",
                server.log_text()
            ),
        }
    }
    panic!("{path} never finished:\n{}", server.log_text());
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
async fn two_instances_behind_a_round_robin_survive_losing_one() {
    let url = postgres::fresh_database("two_instances_survive_losing_one").await;
    // Arrange: one fake Graph and one database behind two processes.
    let fake = FakeGraph::start().await;
    let group = fake.add_group("Students");
    let sku = fake.add_sku("M365EDU_A1", 1000);
    let mut env = crate::graph::env(
        &fake,
        std::slice::from_ref(&group),
        std::slice::from_ref(&sku),
    );
    env.push(("DATABASE_URL".into(), url));
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let one = ServerProcess::start(dirs[0].path(), &env).await;
    let two = ServerProcess::start(dirs[1].path(), &env).await;
    one.wait_until_ready().await;
    two.wait_until_ready().await;
    assert!(
        one.log_text().contains("PostgreSQL at 127.0.0.1"),
        "start-up names the store: {}",
        one.log_text()
    );

    // Sign-ups split across both (a round-robin: every other one to each).
    let names = [
        "Ada", "Bob", "Cem", "Dana", "Emil", "Fay", "Gus", "Hana", "Ivo", "Jule", "Kim", "Lea",
    ];
    let people: Vec<(String, &str)> = names
        .iter()
        .enumerate()
        .map(|(n, first)| (format!("st{n}@uni.example"), *first))
        .collect();
    let mut links = Vec::new();
    for (n, (email, first)) in people.iter().enumerate() {
        let server = if n % 2 == 0 { &one } else { &two };
        server.expect(200, server.sign_up(email, first, "Gleich").await);
        let bases = [one.base.as_str(), two.base.as_str()];
        links.push(verification_path_among(&bases, email).await);
    }

    // 50 parallel confirms of one link, split across both: one user.
    let burst = (0..50).map(|n| {
        let base = if n % 2 == 0 { &one.base } else { &two.base };
        confirm(base.clone(), links[0].clone())
    });
    let answers = join_all(burst).await;
    assert!(
        answers
            .iter()
            .all(|a| matches!(a, Some(200 | 202 | 409 | 410))),
        "{answers:?}"
    );
    assert_eq!(
        answers.iter().filter(|a| **a == Some(200)).count(),
        1,
        "one confirm creates the account, the others are told it is busy, queued (the other \
         instance's worker leaves it to the one that claimed it) or done: {answers:?}"
    );
    assert_eq!(fake.users().len(), 1);

    // A burst of confirms of everyone else, split across both; the first instance is
    // killed while its creates wait on Graph.
    fake.delay(Endpoint::CreateUser, 6, Duration::from_millis(400));
    let burst: Vec<_> = links[1..]
        .iter()
        .enumerate()
        .map(|(n, path)| {
            let base = if n % 2 == 0 { &one.base } else { &two.base };
            tokio::spawn(confirm(base.clone(), path.clone()))
        })
        .collect();
    for _ in 0..200 {
        if fake.count(Endpoint::CreateUser) >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    one.kill();
    let answers: Vec<Option<u16>> = join_all(burst)
        .await
        .into_iter()
        .map(|answer| answer.unwrap())
        .collect();
    assert!(
        answers.contains(&None),
        "some confirms died with the killed instance: {answers:?}"
    );
    for answer in answers {
        assert!(
            matches!(answer, None | Some(200 | 202 | 409)),
            "a confirm answered {answer:?}"
        );
    }

    // The survivor's queue worker finishes every registration by itself (those the dead one
    // held once their lease lapses), nobody pressing anything; then the first comes back,
    // and nothing is lost or doubled.
    for _ in 0..600 {
        if fake.users().len() >= people.len() && fake.members(&group).len() >= people.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        fake.members(&group).len(),
        people.len(),
        "the survivor's worker finished the queue:\n{}",
        two.log_text()
    );
    for path in &links {
        confirm_until_done(&two, path).await;
    }
    let one = ServerProcess::start(dirs[0].path(), &env).await;
    one.wait_until_ready().await;
    for path in &links {
        assert_eq!(
            confirm(one.base.clone(), path.clone()).await,
            Some(410),
            "{path}: used up"
        );
    }
    let users = fake.users();
    let mut upns: Vec<&str> = users.iter().map(|u| u.upn.as_str()).collect();
    upns.sort_unstable();
    upns.dedup();
    assert_eq!(users.len(), people.len(), "one user per person: {users:?}");
    assert_eq!(upns.len(), people.len(), "no username twice: {upns:?}");
    assert_eq!(fake.members(&group).len(), people.len());
    assert_eq!(fake.consumed(&sku), people.len() as i64);
}

/// Runs the binary with `args` on the database at `url` (and `DATABASE_PATH` pointing at a
/// sled store that must stay untouched).
fn command(url: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_ms365-accountcreator"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("MODE", "test")
        .env("LOG_LEVEL", "warn")
        .env("DATABASE_URL", url)
        .env(
            "DATABASE_PATH",
            "/nonexistent/ignored-while-DATABASE_URL-is-set",
        )
        .env("GRAPH_API_USER_MAIL_DOMAIN", "tenant.example")
        .current_dir(std::env::temp_dir())
        .output()
        .expect("the binary runs")
}

fn stdout(output: &std::process::Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
async fn a_sled_store_moves_to_the_database_and_the_commands_work_while_servers_run() {
    let url = postgres::fresh_database("a_sled_store_moves_to_the_database").await;
    // Arrange: a sled server with a finished registration and a pending sign-up, stopped.
    let mut sled_app = spawn_app().await;
    sled_app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    let ada_link = sled_app.verification_path("ada@uni.example").await;
    assert_eq!(sled_app.confirm(&ada_link).await.status(), 200);
    sled_app.sign_up("bob@uni.example", "Bob", "Builder").await;
    let bob_link = sled_app.verification_path("bob@uni.example").await;
    let sled_dir = sled_app.stop().await;

    // Act: copy it over, then serve from the database.
    let copied = stdout(&command(
        &url,
        &[
            "store",
            "copy",
            "--from",
            sled_dir.path().to_str().unwrap(),
            "--to",
            &url,
        ],
    ));
    let app = TestApp::builder().database(&url).spawn().await;

    // Assert: everything came along, and the commands work beside the running server.
    let from_to = format!(
        "copied from sled at {} to PostgreSQL at",
        sled_dir.path().display()
    );
    assert!(copied.contains(&from_to), "{copied}");
    let emails = stdout(&command(&url, &["emails", "list"]));
    assert!(emails.contains("ada@uni.example"), "{emails}");
    let signups = stdout(&command(&url, &["signups", "list"]));
    assert!(signups.contains("bob@uni.example"), "{signups}");
    assert_eq!(
        app.confirm(&ada_link).await.status(),
        410,
        "the finished link stays used up"
    );
    assert_eq!(
        app.confirm(&bob_link).await.status(),
        200,
        "the pending link works at the new store"
    );
    let forgotten = stdout(&command(&url, &["emails", "forget", "ada@uni.example"]));
    assert!(
        forgotten.contains("removed the registration of ada@uni.example"),
        "{forgotten}"
    );
    let emails = stdout(&command(&url, &["emails", "list"]));
    assert!(!emails.contains("ada@uni.example"), "{emails}");
    assert!(stdout(&command(&url, &["store", "migrate"])).contains("is current"));
    let again = command(
        &url,
        &[
            "store",
            "copy",
            "--from",
            sled_dir.path().to_str().unwrap(),
            "--to",
            &url,
        ],
    );
    assert!(
        !again.status.success(),
        "a second copy into a used database"
    );
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("not empty"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}
