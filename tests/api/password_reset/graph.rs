//! The reset against the fake Graph, which records the password a user signs in with, and
//! a real SMTP server: the mailed password must be the user's, to be changed at sign-in.

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::graph::{client, env, settings};
use crate::support::fake_graph::{Endpoint, FakeGraph};
use crate::support::helpers::Logs;
use crate::support::routes::paths;
use crate::support::smtp::{SmtpMode, SmtpServer};

const UPN: &str = "ada.lovelace@tenant.example";

/// A server against `fake` with resets on; its mails kept in the debug outbox.
fn against(fake: &FakeGraph) -> crate::support::spawn::AppBuilder {
    TestApp::builder().envs(&env(fake, &[], &[])).resets()
}

/// The reset link's path in the newest mail the SMTP server received, once it has `count`.
async fn received_reset_path(smtp: &SmtpServer, count: usize) -> String {
    let mail = smtp.wait_for(count).await.pop().expect("a reset mail");
    assert_eq!(mail.subject, "A new temporary password");
    mail.link_path(paths::PASSWORD_LINK)
}

#[tokio::test]
async fn the_mailed_new_password_is_the_users_password_and_must_be_changed_at_sign_in() {
    crate::support::tools::require_tool!(Aiosmtpd);
    // Arrange: an account made through the fake Graph, its first password mailed over SMTP
    let fake = FakeGraph::start().await;
    let smtp = SmtpServer::start(SmtpMode::Plain, None);
    let app = against(&fake).smtp(&smtp).spawn().await;
    app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    let verify = smtp.wait_for(1).await.pop().unwrap().verification_path();
    assert_eq!(app.confirm(&verify).await.status(), 200);
    let first = smtp
        .received()
        .pop()
        .unwrap()
        .password()
        .expect("the first password");
    assert_eq!(fake.password_of(UPN).as_deref(), Some(first.as_str()));

    // Act
    assert_eq!(
        ask_for_reset(&app, "ada@uni.example", "en").await.status(),
        200
    );
    let path = received_reset_path(&smtp, 3).await;
    assert_eq!(app.get(&path).await.status(), 200);
    assert_eq!(
        fake.count(Endpoint::UpdateUser),
        0,
        "opening the link changes nothing"
    );
    let done = app.confirm(&path).await;

    // Assert
    assert_eq!(done.status(), 200);
    let mail = smtp.received().pop().unwrap();
    assert_eq!(mail.subject, "Your new temporary password");
    assert_eq!(mail.to, vec!["ada@uni.example"]);
    let new = mail.password().expect("the new password is in the mail");
    assert_ne!(new, first);
    let user = fake.user(UPN).unwrap();
    assert_eq!(
        user.password.as_deref(),
        Some(new.as_str()),
        "the mailed one works"
    );
    assert!(
        user.must_change_password,
        "to be changed at the next sign-in"
    );
    assert_eq!(fake.count(Endpoint::UpdateUser), 1);
}

#[tokio::test]
async fn graph_refusing_shows_a_contact_support_page_and_logs_the_permission_once() {
    // Arrange
    let fake = FakeGraph::start().await;
    let app = against(&fake).spawn().await;
    create_account(&app, "ada@uni.example", "Ada", "Lovelace").await;
    let before = fake.password_of(UPN);
    ask_for_reset(&app, "ada@uni.example", "en").await;
    let path = reset_path(&app, "ada@uni.example").await;
    fake.forbid_password_changes();

    // Act
    let (logs, guard) = Logs::capture();
    let refused = app.confirm(&path).await;
    drop(guard);

    // Assert
    assert_eq!(refused.status(), 403);
    let page = refused.text().await.unwrap();
    assert_eq!(texts(&page, "h1"), vec!["Please contact support"]);
    assert!(page.contains("it-support@uni.example"), "{page}");
    let naming: Vec<String> = logs
        .text()
        .lines()
        .filter(|line| line.contains("User-PasswordProfile.ReadWrite.All"))
        .map(str::to_owned)
        .collect();
    assert_eq!(naming.len(), 1, "{}", logs.text());
    assert!(naming[0].contains("User.ReadWrite.All"), "{}", naming[0]);
    assert!(
        naming[0].contains("Authorization_RequestDenied"),
        "{}",
        naming[0]
    );
    assert_eq!(fake.password_of(UPN), before, "nothing changed");
    let mails = mails_to(&app, "ada@uni.example").await;
    assert!(
        mails
            .iter()
            .all(|m| m.subject != "Your new temporary password")
    );
}

#[tokio::test]
async fn an_administrator_graph_protects_gets_the_contact_support_page_too() {
    let fake = FakeGraph::start().await;
    let app = against(&fake).spawn().await;
    create_account(&app, "ada@uni.example", "Ada", "Lovelace").await;
    fake.protect_user(UPN);
    ask_for_reset(&app, "ada@uni.example", "en").await;
    let path = reset_path(&app, "ada@uni.example").await;

    let refused = app.confirm(&path).await;

    assert_eq!(refused.status(), 403);
    assert_eq!(
        texts(&refused.text().await.unwrap(), "h1"),
        vec!["Please contact support"]
    );
}

#[tokio::test]
async fn a_throttled_reset_waits_and_succeeds() {
    let fake = FakeGraph::start().await;
    let app = against(&fake).spawn().await;
    create_account(&app, "ada@uni.example", "Ada", "Lovelace").await;
    ask_for_reset(&app, "ada@uni.example", "en").await;
    let path = reset_path(&app, "ada@uni.example").await;
    fake.throttle(Some(Endpoint::UpdateUser), 1, 1);

    let done = app.confirm(&path).await;

    assert_eq!(done.status(), 200);
    assert_eq!(
        fake.count(Endpoint::UpdateUser),
        2,
        "the 429, then the change"
    );
    let mail = &mails_to(&app, "ada@uni.example").await[0];
    let new = crate::support::helpers::password_in(&mail.text);
    assert_eq!(fake.password_of(UPN), new);
}

#[tokio::test]
async fn graph_down_beyond_the_wait_leaves_the_link_usable_for_another_try() {
    // Arrange: a client that waits only briefly
    let fake = FakeGraph::start().await;
    let graph = client(&settings(&fake, &[], &[]), Duration::from_millis(300));
    let app = against(&fake).directory(Arc::new(graph)).spawn().await;
    create_account(&app, "ada@uni.example", "Ada", "Lovelace").await;
    let before = fake.password_of(UPN);
    ask_for_reset(&app, "ada@uni.example", "en").await;
    let path = reset_path(&app, "ada@uni.example").await;
    fake.unavailable(Some(Endpoint::UpdateUser), 1000, None);

    // Act
    let failed = app.confirm(&path).await;
    fake.clear_faults();
    let again = app.confirm(&path).await;

    // Assert
    assert_eq!(failed.status(), 503);
    let page = failed.text().await.unwrap();
    assert_eq!(texts(&page, "h1"), vec!["No new password yet"]);
    assert_eq!(again.status(), 200, "the link was given back");
    assert_ne!(fake.password_of(UPN), before);
}

#[tokio::test]
async fn with_passes_a_reset_makes_a_new_pass_and_sets_no_password() {
    // Arrange: an account whose first sign-in rests on a pass.
    let fake = FakeGraph::start().await;
    fake.enable_passes(60, 1440);
    let app = against(&fake)
        .envs(&[
            ("CREDENTIAL", "temporary_access_pass"),
            ("TAP_LIFETIME_MINUTES", "120"),
            ("PASSWORD_DELIVERY", "both"),
        ])
        .spawn()
        .await;
    create_account(&app, "ada@uni.example", "Ada", "Lovelace").await;
    let first = fake.pass_of(UPN).expect("the first pass").pass;
    let password = fake.password_of(UPN);

    // Act
    assert_eq!(
        ask_for_reset(&app, "ada@uni.example", "en").await.status(),
        200
    );
    let path = reset_path(&app, "ada@uni.example").await;
    let done = app.confirm(&path).await;

    // Assert
    assert_eq!(done.status(), 200);
    let page = done.text().await.unwrap();
    assert_eq!(texts(&page, "h1"), vec!["Your new Temporary Access Pass"]);
    let second = fake.pass_of(UPN).expect("a pass").pass;
    assert_ne!(second, first, "a new pass");
    assert_eq!(texts(&page, "#pass"), vec![second.clone()]);
    assert_eq!(texts(&page, "ol.steps li").len(), 3, "{page}");
    assert_eq!(fake.count(Endpoint::CreatePass), 2);
    assert_eq!(fake.count(Endpoint::UpdateUser), 0, "no password set");
    assert_eq!(fake.password_of(UPN), password, "the password is as it was");
    let mail = mails_to(&app, "ada@uni.example")
        .await
        .into_iter()
        .find(|m| m.subject == "Your new Temporary Access Pass")
        .expect("the new pass mail");
    assert_eq!(
        crate::support::helpers::password_in(&mail.text),
        Some(second)
    );
}
