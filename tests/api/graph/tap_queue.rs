//! Accounts the queue finishes when passes are the first credential (`CREDENTIAL` =
//! `temporary_access_pass`): the "ready" mail and the link's status speak of the pass, and
//! say how long it works.

use super::*;
use crate::support::helpers::{ListedMail, attr};

const UPN: &str = "ada.lovelace@tenant.example";

/// A server for passes of 480 minutes delivered as `delivery`, whose confirm waits only a
/// second: the create is slowed past it, so the queue finishes the account.
async fn queued_with_passes(fake: &FakeGraph, delivery: &str) -> (TestApp, String) {
    fake.enable_passes(60, 1440);
    let app = TestApp::builder()
        .envs(&env(fake, &[], &[]))
        .envs(&[
            ("CREDENTIAL", "temporary_access_pass"),
            ("TAP_LIFETIME_MINUTES", "480"),
            ("PASSWORD_DELIVERY", delivery),
            ("PROVISION_WAIT_SECONDS", "1"),
        ])
        .spawn()
        .await;
    app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    let path = app.verification_path("ada@uni.example").await;
    fake.delay(Endpoint::CreateUser, 1, Duration::from_millis(1500));
    assert_eq!(app.confirm(&path).await.status(), 202);
    (app, path)
}

/// Ada's mail with `subject`, once the queue has sent it.
async fn mail_arrives(app: &TestApp, subject: &str) -> ListedMail {
    for _ in 0..120 {
        if let Some(mail) = app
            .mails_to("ada@uni.example")
            .await
            .into_iter()
            .find(|m| m.subject == subject)
        {
            return mail;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("no mail {subject:?}: {:#?}", app.mails().await);
}

#[tokio::test]
async fn the_ready_mail_and_the_page_behind_it_speak_of_the_pass_and_its_lifetime() {
    // Arrange
    let fake = FakeGraph::start().await;
    let (app, _) = queued_with_passes(&fake, "page").await;

    // Act
    let mail = mail_arrives(&app, "Your new account is ready").await;
    let link = mail.links.first().expect("a link").clone();
    let link = link.strip_prefix(&app.address).expect("to this server");
    let ready = app.get(link).await.text().await.unwrap();
    let status = app
        .get(&format!("{link}?view=status"))
        .await
        .text()
        .await
        .unwrap();

    // Assert
    assert!(mail.text.contains("Temporary Access Pass"), "{}", mail.text);
    assert!(!mail.text.contains("password"), "{}", mail.text);
    for page in [&ready, &status] {
        assert_eq!(
            texts(page, "form button"),
            vec!["Show my Temporary Access Pass"],
            "{page}"
        );
        assert_eq!(
            texts(page, "#pass-lifetime"),
            vec!["The pass works for 480 minutes from then."]
        );
        let panel = texts(page, "#account-status").join(" ");
        assert!(!panel.contains("password"), "{panel}");
    }
    let shown = app.confirm(link).await.text().await.unwrap();
    let held = fake.pass_of(UPN).expect("the pass").pass;
    assert_eq!(texts(&shown, "#pass"), vec![held]);
}

#[tokio::test]
async fn the_status_of_a_mailed_pass_says_when_it_stops_working() {
    // Arrange
    let fake = FakeGraph::start().await;
    let (app, path) = queued_with_passes(&fake, "mail").await;
    let mail = mail_arrives(&app, "Your new account").await;
    assert!(mail.text.contains("Temporary Access Pass"), "{}", mail.text);

    // Act
    let status = app.get(&format!("{path}?view=status")).await;

    // Assert
    assert_eq!(status.status(), 200);
    let status = status.text().await.unwrap();
    let panel = texts(&status, "#account-status p").join(" ");
    assert!(panel.contains("Temporary Access Pass"), "{panel}");
    assert!(!panel.contains("password"), "{panel}");
    let shown = attr(&status, "#pass-expires time", "datetime").expect("the pass's end");
    let shown = humantime::parse_rfc3339(&shown).expect("an RFC 3339 moment");
    // The server's clock stands still unless moved (it starts at a fixed time).
    let now = app.clock.load(std::sync::atomic::Ordering::SeqCst);
    let expected = std::time::UNIX_EPOCH + Duration::from_secs(now + 480 * 60);
    assert_eq!(shown, expected, "480 minutes from the pass's making");
}
