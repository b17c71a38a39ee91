//! Licence seats (issue 27): a registration whose licence has no free seat is accepted and
//! waits in the queue, "waiting for a licence", and finishes by itself once seats appear.

use super::*;
use crate::support::helpers::ListedMail;

/// The server for one SKU with no free seat, with a client that reads the seats afresh
/// every time (the server keeps a read for a minute; the test does not wait that long).
async fn app_without_seats(fake: &FakeGraph, sku: &str) -> TestApp {
    let skus = [sku.to_owned()];
    let graph = client(&settings(fake, &[], &skus), Duration::from_secs(2))
        .with_seats_fresh_for(Duration::ZERO);
    TestApp::builder()
        .envs(&env(fake, &[], &skus))
        .env("PROVISION_WAIT_SECONDS", "2")
        .directory(Arc::new(graph))
        .spawn()
        .await
}

/// The mails to Ada with `subject`, after moving the server's clock on until one is there.
async fn mails_once_there(app: &TestApp, subject: &str) -> Vec<ListedMail> {
    for _ in 0..120 {
        let mails: Vec<ListedMail> = app
            .mails()
            .await
            .into_iter()
            .filter(|m| m.subject == subject && m.is_to("ada@uni.example"))
            .collect();
        if !mails.is_empty() {
            return mails;
        }
        app.advance_clock(61);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("no mail {subject:?}: {:#?}", app.mails().await);
}

#[tokio::test]
async fn no_free_seat_is_accepted_and_waits_for_a_licence_then_finishes_once_seats_are_raised() {
    // Arrange
    let fake = FakeGraph::start().await;
    let sku = fake.add_sku("STUDENT", 0);
    let (logs, _guard) = Logs::capture();
    let mut app = app_without_seats(&fake, &sku).await;
    app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    let path = app.verification_path("ada@uni.example").await;

    // Act
    let page = app.confirm(&path).await;

    // Assert: accepted, waiting for a licence, on the page and in the status view.
    assert_eq!(page.status(), 202);
    let page = page.text().await.unwrap();
    assert_eq!(
        texts(&page, "h1"),
        vec!["Your account is waiting for a licence"]
    );
    let status = app
        .get(&format!("{path}?view=status"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        texts(&status, "h1"),
        vec!["Your account is waiting for a licence"]
    );
    assert!(
        app.mails()
            .await
            .iter()
            .all(|m| m.subject != "Your account could not be created"),
        "nothing failed"
    );
    for says in [
        "every seat of this licence is taken",
        "does not have any available licenses",
    ] {
        assert!(logs.text().contains(says), "{says}: {}", logs.text());
    }

    // Act: time passes without seats; then the administrator buys some.
    let batches = fake.count(Endpoint::Batch);
    for _ in 0..3 {
        app.advance_clock(61);
        tokio::time::sleep(Duration::from_millis(600)).await;
    }
    assert_eq!(
        fake.count(Endpoint::Batch),
        batches,
        "no licence write while the seats say none is free"
    );
    let warnings = logs
        .text()
        .matches("every seat of this licence is taken")
        .count();
    assert!(warnings <= 4, "once per SKU and minute at most: {warnings}");
    fake.set_sku_units(&sku, 5);

    // Assert
    let mails = mails_once_there(&app, "Your new account").await;
    assert_eq!(mails.len(), 1, "one password mail");
    let users = fake.users();
    assert_eq!(users.len(), 1);
    assert_eq!(
        fake.count(Endpoint::CreateUser),
        1,
        "resumed at the licence step"
    );
    assert_eq!(users[0].licences, vec![sku.clone()]);
    assert_eq!(
        password_in(&mails[0].text),
        fake.password_of("ada.lovelace@tenant.example")
    );
    let dir = app.stop().await;
    let listed = crate::cli::stdout(&crate::cli::run(dir.path(), &["signups", "list"]));
    assert!(!listed.contains("ada@uni.example"), "finished: {listed}");
}

#[tokio::test]
async fn signups_list_names_a_registration_waiting_for_a_licence() {
    // Arrange
    let fake = FakeGraph::start().await;
    let sku = fake.add_sku("STUDENT", 0);
    let mut app = app_without_seats(&fake, &sku).await;
    app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    let path = app.verification_path("ada@uni.example").await;
    assert_eq!(app.confirm(&path).await.status(), 202);

    // Act
    let dir = app.stop().await;
    let listed = crate::cli::stdout(&crate::cli::run(dir.path(), &["signups", "list"]));

    // Assert
    let ada = listed
        .lines()
        .find(|l| l.contains("ada@uni.example"))
        .expect("ada is listed");
    let columns: Vec<&str> = ada.split('\t').collect();
    assert_eq!(columns[1], "waiting for a licence", "{ada}");
    assert_eq!(columns[4], "0", "waiting is no failed attempt: {ada}");
    assert!(columns[6].contains(&sku.to_lowercase()), "{ada}");
}
