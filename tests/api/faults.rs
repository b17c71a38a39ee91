//! Fault suite: the server process is killed with SIGKILL in the middle of each provisioning
//! step and restarted on the same store; confirming again finishes with nothing lost and
//! nothing duplicated. And the store's disk is full, at start-up or while serving.

use std::time::Duration;

use crate::support::fake_graph::{Endpoint, FakeGraph};
use crate::support::helpers::password_in;
use crate::support::process::{ServerProcess, sign_up_fields};
use crate::support::routes::paths;
use crate::support::small_disk::SmallDisk;

fn graph_env(fake: &FakeGraph, group: &str, sku: &str) -> Vec<(String, String)> {
    crate::graph::env(fake, &[group.to_owned()], &[sku.to_owned()])
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..400 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn a_kill_during_each_step_loses_nothing_and_duplicates_nothing() {
    // (the request the process is waiting on when it dies, what that request already did,
    // how many new passwords the resume must set: the one made at the create died with it)
    let cases = [
        (
            Endpoint::ListUsers,
            "the name query answered, the name not yet saved",
            0,
        ),
        (
            Endpoint::CreateUser,
            "the user created in Entra, its id not yet saved",
            1,
        ),
        (
            Endpoint::Batch,
            "licence and group granted, the step not yet saved",
            1,
        ),
    ];
    for (endpoint, situation, new_passwords) in cases {
        let fake = FakeGraph::start().await;
        let group = fake.add_group("Students");
        let sku = fake.add_sku("STANDARDWOFFPACK_STUDENT", 10);
        let env = graph_env(&fake, &group, &sku);
        let dir = tempfile::tempdir().unwrap();

        let server = ServerProcess::start(dir.path(), &env).await;
        server.sign_up_ada().await;
        let path = server.verification_path("ada@uni.example").await;

        // The answer to `endpoint` is held back; kill the process while it waits for it.
        fake.delay(endpoint, 1, Duration::from_secs(20));
        let before = fake.count(endpoint);
        let confirm = tokio::spawn({
            let url = server.url(&path);
            async move {
                reqwest::Client::new()
                    .post(url)
                    .form(&[("lang", "en")])
                    .send()
                    .await
                    .map(|r| r.status())
            }
        });
        wait_for("the request to reach the fake", || {
            fake.count(endpoint) > before
        })
        .await;
        server.kill();
        assert!(
            confirm.await.unwrap().is_err(),
            "{situation}: the person's request died with the process"
        );

        // The queue resumes the registration by itself; the password mail says it is done.
        let server = ServerProcess::start(dir.path(), &env).await;
        for _ in 0..200 {
            let mails = server.mails().await;
            if mails.iter().any(|mail| mail.subject == "Your new account") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        let users = fake.users();
        assert_eq!(users.len(), 1, "{situation}: exactly one user: {users:?}");
        assert_eq!(users[0].upn, "ada.lovelace@tenant.example", "{situation}");
        assert_eq!(
            fake.members(&group),
            vec![users[0].id.clone()],
            "{situation}"
        );
        assert_eq!(fake.consumed(&sku), 1, "{situation}: one licence");
        let passwords: Vec<String> = server
            .mails()
            .await
            .into_iter()
            .filter(|mail| mail.subject == "Your new account")
            .map(|mail| password_in(&mail.text).expect("a password in the mail"))
            .collect();
        assert_eq!(passwords.len(), 1, "{situation}: one password mail");
        assert_eq!(
            Some(&passwords[0]),
            users[0].password.as_ref(),
            "{situation}: the mailed password is the one the user has"
        );
        assert!(users[0].must_change_password, "{situation}");
        assert_eq!(
            fake.count(Endpoint::UpdateUser),
            new_passwords,
            "{situation}: a new password only when the first one died with the process"
        );
        assert_eq!(
            server.confirm(&path).await,
            410,
            "{situation}: the link is used up"
        );
    }
}

#[tokio::test]
async fn a_kill_between_the_create_and_the_pass_makes_a_new_pass_on_resume() {
    // Arrange: passes instead of passwords; the pass's answer is held back.
    let fake = FakeGraph::start().await;
    fake.enable_passes(60, 1440);
    let group = fake.add_group("Students");
    let sku = fake.add_sku("STANDARDWOFFPACK_STUDENT", 10);
    let mut env = graph_env(&fake, &group, &sku);
    env.push(("CREDENTIAL".into(), "temporary_access_pass".into()));
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(dir.path(), &env).await;
    server.sign_up_ada().await;
    let path = server.verification_path("ada@uni.example").await;
    fake.delay(Endpoint::CreatePass, 1, Duration::from_secs(20));
    let confirm = tokio::spawn({
        let url = server.url(&path);
        async move {
            reqwest::Client::new()
                .post(url)
                .form(&[("lang", "en")])
                .send()
                .await
                .map(|r| r.status())
        }
    });
    wait_for("the pass request to reach the fake", || {
        fake.count(Endpoint::CreatePass) > 0
    })
    .await;

    // Act: kill -9 while the pass is being made; a new server resumes from the queue.
    server.kill();
    assert!(confirm.await.unwrap().is_err(), "the request died with it");
    let server = ServerProcess::start(dir.path(), &env).await;
    for _ in 0..200 {
        let mails = server.mails().await;
        if mails.iter().any(|mail| mail.subject == "Your new account") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Assert
    let users = fake.users();
    assert_eq!(users.len(), 1, "exactly one user: {users:?}");
    assert_eq!(fake.count(Endpoint::CreateUser), 1, "no second create");
    assert_eq!(
        fake.count(Endpoint::CreatePass),
        2,
        "the resume made a new pass"
    );
    assert_eq!(fake.count(Endpoint::UpdateUser), 0, "no password was set");
    let mailed: Vec<String> = server
        .mails()
        .await
        .into_iter()
        .filter(|mail| mail.subject == "Your new account")
        .map(|mail| password_in(&mail.text).expect("a pass in the mail"))
        .collect();
    let held = fake
        .pass_of("ada.lovelace@tenant.example")
        .expect("the user has a pass");
    assert_eq!(
        mailed,
        vec![held.pass],
        "one mail, with the pass the user has"
    );
    let password = users[0]
        .password
        .clone()
        .expect("Graph's required password");
    let pass = mailed[0].clone();
    let (_, logs) = server.terminate();
    assert!(
        !logs.contains(&password) && !logs.contains(&pass),
        "neither the password nor the pass in the log"
    );
}

#[tokio::test]
async fn a_sign_up_whose_mail_went_out_survives_a_kill() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(dir.path(), &[]).await;
    server.sign_up_ada().await;
    // Killed the moment the mail is there: sled's own flusher (every 500 ms) has almost
    // certainly not run since the sign-up was stored, so only a flush before the mail
    // keeps it.
    let path = server.verification_path("ada@uni.example").await;
    server.kill();

    let server = ServerProcess::start(dir.path(), &[]).await;
    assert_eq!(server.get(&path).await, 200, "the mailed link still works");
    server.expect(200, server.confirm(&path).await);
}

#[tokio::test]
async fn sigterm_lets_the_running_request_finish_and_exits_cleanly() {
    let fake = FakeGraph::start().await;
    let group = fake.add_group("Students");
    let sku = fake.add_sku("STANDARDWOFFPACK_STUDENT", 10);
    let env = graph_env(&fake, &group, &sku);
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(dir.path(), &env).await;
    server.sign_up_ada().await;
    let path = server.verification_path("ada@uni.example").await;

    fake.delay(Endpoint::CreateUser, 1, Duration::from_millis(700));
    let confirm = tokio::spawn({
        let url = server.url(&path);
        async move {
            reqwest::Client::new()
                .post(url)
                .form(&[("lang", "en")])
                .send()
                .await
                .map(|r| r.status().as_u16())
        }
    });
    wait_for("the create to reach the fake", || {
        fake.count(Endpoint::CreateUser) > 0
    })
    .await;
    let (code, log) = tokio::task::spawn_blocking(move || server.terminate())
        .await
        .unwrap();
    assert_eq!(code, Some(0), "exit code after SIGTERM:\n{log}");
    assert_eq!(
        confirm.await.unwrap().unwrap(),
        200,
        "the request in flight was answered"
    );
    assert!(log.contains("store flushed"), "{log}");
    assert_eq!(fake.users().len(), 1);
}

/// The store's path on `disk`, for the server's environment.
fn store_on(disk: &SmallDisk, name: &str) -> (std::path::PathBuf, Vec<(String, String)>) {
    let store = disk.path().join(name);
    let env = vec![
        ("DATABASE_PATH".to_owned(), store.display().to_string()),
        // Every sign-up below comes from 127.0.0.1.
        ("RATE_LIMIT_PER_IP_PER_HOUR".to_owned(), "10000".to_owned()),
    ];
    (store, env)
}

#[tokio::test]
async fn a_full_disk_stops_start_up_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    // sled rewrites a whole segment (512 KiB) on the first start after one that failed.
    let disk = SmallDisk::mount("2m");
    let launcher = disk.launcher(dir.path());
    let (_, env) = store_on(&disk, "store");
    let server = ServerProcess::start_via(&launcher, dir.path(), &env).await;
    server.sign_up_ada().await;
    let path = server.verification_path("ada@uni.example").await;
    let (code, log) = tokio::task::spawn_blocking(move || server.terminate())
        .await
        .unwrap();
    assert_eq!(code, Some(0), "{log}");

    disk.fill();
    for (situation, name) in [("the store in use", "store"), ("a new store", "new")] {
        let (store, env) = store_on(&disk, name);
        let (code, stderr) = ServerProcess::refused_start(&launcher, dir.path(), &env).await;
        assert_eq!(code, Some(1), "{situation}: {stderr}");
        let expected = format!(
            "error: cannot open the store at DATABASE_PATH={}: the filesystem holding the store is full (no space left on device): free some space there, then start the server again",
            store.display()
        );
        assert_eq!(stderr.trim(), expected, "{situation}");
    }

    disk.free();
    let server = ServerProcess::start_via(&launcher, dir.path(), &env).await;
    assert_eq!(
        server.get(&path).await,
        200,
        "with room again, the server starts on the same store, the sign-up still in it"
    );
}

#[tokio::test]
async fn a_disk_filling_up_while_serving_gets_an_error_page_then_the_server_stops_for_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let disk = SmallDisk::mount("2m");
    let launcher = disk.launcher(dir.path());
    let (_, env) = store_on(&disk, "store");
    let mut server = ServerProcess::start_via(&launcher, dir.path(), &env).await;
    server.sign_up_ada().await;

    disk.fill();
    // sled buffers writes and reports the failure on a later one (observed: the 8th to
    // 10th sign-up with a 56-character name); long names make that come sooner.
    let client = reqwest::Client::new();
    let last = "Lovelace".repeat(7);
    // The outbox's worker writes too (a sent mail leaves the outbox): the first write that
    // finds the disk full is a sign-up's, which gets the error page, or the worker's, after
    // which the server has stopped before the next sign-up arrives.
    let mut refused = None;
    for n in 0..300 {
        let email = format!("st{n}@uni.example");
        let mut fields = sign_up_fields(&email, "Ada", &last).to_vec();
        fields.push(("lang", "de"));
        let sent = client
            .post(server.url(paths::SIGNUP))
            .form(&fields)
            .send()
            .await;
        let Ok(response) = sent else {
            refused = Some(None);
            break;
        };
        if response.status() != 200 {
            refused = Some(Some((
                response.status().as_u16(),
                response.text().await.unwrap(),
            )));
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let refused = refused.expect("300 sign-ups were accepted on a full disk");
    if let Some((status, page)) = refused {
        assert_eq!(status, 500, "{page}");
        assert!(page.contains(r#"<html lang="de">"#), "{page}");
        assert!(
            page.contains("Ihre Registrierung konnte gerade nicht gespeichert werden."),
            "{page}"
        );
        assert!(page.contains(&last), "the entered name is kept: {page}");
    }
    // sled refuses every write after a failed one until the store is opened again, so
    // the server stops by itself (exit 1, one clear line) for the service manager to
    // restart it, rather than failing every sign-up while claiming to be up.
    let (code, log) = server
        .exit_within(Duration::from_secs(10))
        .await
        .expect("the server kept running on a store it cannot write");
    assert_eq!(code, Some(1), "{log}");
    // sled adds its own complaints as the store is dropped; ours is one line of its own.
    assert!(
        log.lines().any(|line| line
            == "error: stopped because the store at DATABASE_PATH can no longer be written: the \
                filesystem holding the store is full (no space left on device): free some space \
                there, then start the server again"),
        "{log}"
    );
    assert!(!log.contains("panicked"), "{log}");

    // While the disk is full, a restart is refused; with room again, it works.
    let (code, _) = ServerProcess::refused_start(&launcher, dir.path(), &env).await;
    assert_eq!(code, Some(1));
    disk.free();
    let server = ServerProcess::start_via(&launcher, dir.path(), &env).await;
    assert_eq!(server.get(paths::READYZ).await, 200);
    server.expect(
        200,
        server.sign_up("bob@uni.example", "Bob", "Builder").await,
    );
}
