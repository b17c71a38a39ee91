//! Fault suite: the server process is killed with SIGKILL in the middle of each provisioning
//! step and restarted on the same store; confirming again finishes with nothing lost and
//! nothing duplicated.

use std::time::Duration;

use scraper::{Html, Selector};

use crate::fake_graph::{Endpoint, FakeGraph};
use crate::process::{ServerProcess, sign_up_fields};

fn graph_env(fake: &FakeGraph, group: &str, sku: &str) -> Vec<(String, String)> {
    crate::graph::env(fake, &[group.to_owned()], &[sku.to_owned()])
}

/// The mails the process kept at `/debug/mails`: (subject, text).
async fn debug_mails(server: &ServerProcess) -> Vec<(String, String)> {
    let html = reqwest::get(server.url("/debug/mails"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let document = Html::parse_document(&html);
    let article = Selector::parse("article.mail").unwrap();
    let h2 = Selector::parse("h2").unwrap();
    let pre = Selector::parse("pre").unwrap();
    document
        .select(&article)
        .map(|mail| {
            let text = |sel: &Selector| {
                mail.select(sel)
                    .next()
                    .map(|e| e.text().collect::<String>())
                    .unwrap_or_default()
            };
            (text(&h2), text(&pre))
        })
        .collect()
}

/// The path of the link in the newest mail the process kept.
async fn verification_path(server: &ServerProcess) -> String {
    let (_, text) = debug_mails(server)
        .await
        .pop()
        .expect("the verification mail");
    let link = text
        .lines()
        .map(str::trim)
        .find(|l| l.contains("/verify/"))
        .expect("a link");
    link[link.find("/verify/").expect("a verify path")..].to_owned()
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
    // (the request the process is waiting on when it dies, what that request already did)
    let cases = [
        (
            Endpoint::ListUsers,
            "the name query answered, the name not yet saved",
        ),
        (
            Endpoint::CreateUser,
            "the user created in Entra, its id not yet saved",
        ),
        (
            Endpoint::Batch,
            "licence and group granted, the step not yet saved",
        ),
    ];
    for (endpoint, situation) in cases {
        let fake = FakeGraph::start().await;
        let group = fake.add_group("Students");
        let sku = fake.add_sku("STANDARDWOFFPACK_STUDENT", 10);
        let env = graph_env(&fake, &group, &sku);
        let dir = tempfile::tempdir().unwrap();

        let server = ServerProcess::start(dir.path(), &env).await;
        server.expect(
            200,
            server
                .post(
                    "/signup",
                    &sign_up_fields("ada@uni.example", "Ada", "Lovelace"),
                )
                .await,
        );
        let path = verification_path(&server).await;

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

        let server = ServerProcess::start(dir.path(), &env).await;
        assert_eq!(
            server.get(&path).await,
            200,
            "{situation}: the link still works"
        );
        server.expect(200, server.post(&path, &[("lang", "en")]).await);

        let users = fake.users();
        assert_eq!(users.len(), 1, "{situation}: exactly one user: {users:?}");
        assert_eq!(users[0].upn, "ada.lovelace@tenant.example", "{situation}");
        assert_eq!(
            fake.members(&group),
            vec![users[0].id.clone()],
            "{situation}"
        );
        assert_eq!(fake.consumed(&sku), 1, "{situation}: one licence");
        let passwords = debug_mails(&server)
            .await
            .into_iter()
            .filter(|(subject, _)| subject == "Your new account")
            .count();
        assert_eq!(passwords, 1, "{situation}: one password mail");
        assert_eq!(
            server.post(&path, &[("lang", "en")]).await,
            410,
            "{situation}: the link is used up"
        );
    }
}

#[tokio::test]
async fn sigterm_lets_the_running_request_finish_and_exits_cleanly() {
    let fake = FakeGraph::start().await;
    let group = fake.add_group("Students");
    let sku = fake.add_sku("STANDARDWOFFPACK_STUDENT", 10);
    let env = graph_env(&fake, &group, &sku);
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(dir.path(), &env).await;
    server.expect(
        200,
        server
            .post(
                "/signup",
                &sign_up_fields("ada@uni.example", "Ada", "Lovelace"),
            )
            .await,
    );
    let path = verification_path(&server).await;

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
