//! A confirmed sign-up whose account was never made (issue 22.7): a reset request for its
//! address mails a link that finishes the sign-up, not "this account was not created by
//! this service" — and the answer on the page stays the one every address gets.

use super::*;
use crate::graph::env;
use crate::support::fake_graph::{Endpoint, FakeGraph};
use crate::support::routes::paths;

const EMAIL: &str = "ada@uni.example";

/// Signs up and confirms while Graph answers the create with a 500, which no retry
/// mends: the registration exists, its account does not.
async fn stall_a_sign_up(app: &TestApp, fake: &FakeGraph) {
    app.sign_up(EMAIL, "Ada", "Lovelace").await;
    let path = app.verification_path(EMAIL).await;
    fake.fail(Endpoint::CreateUser, 1, 500);
    let failed = app.confirm(&path).await;
    assert_eq!(failed.status(), 503);
    assert_eq!(
        texts(&failed.text().await.unwrap(), "h1"),
        vec!["Your account could not be finished yet"]
    );
    assert_eq!(fake.count(Endpoint::CreateUser), 1);
    assert!(fake.users().is_empty(), "no account was made");
}

/// The path of the only link in `mail`, which must lead to a sign-up.
fn sign_up_path(app: &TestApp, mail: &ListedMail) -> String {
    assert_eq!(mail.links.len(), 1, "{:?}", mail.links);
    let path = mail.links[0]
        .strip_prefix(&app.address)
        .expect("the link points at this server");
    assert!(path.starts_with(paths::VERIFY), "{path}");
    path.to_owned()
}

#[tokio::test]
async fn a_stalled_sign_ups_reset_mail_leads_to_finishing_it() {
    // Arrange
    let fake = FakeGraph::start().await;
    let app = TestApp::builder()
        .envs(&env(&fake, &[], &[]))
        .resets()
        .spawn()
        .await;
    stall_a_sign_up(&app, &fake).await;

    // Act: ask for a new password, as the person would who got no account
    let answer = ask_for_reset(&app, EMAIL, "en").await;
    let unknown = ask_for_reset(&app, "nobody@uni.example", "en").await;

    // Assert: the page says what it says to everybody; the mail points to the sign-up
    assert_eq!(
        (answer.status().as_u16(), unknown.status().as_u16()),
        (200, 200)
    );
    assert_eq!(
        neutral_text(answer, EMAIL).await,
        neutral_text(unknown, "nobody@uni.example").await
    );
    let mail = mails_to(&app, EMAIL).await.remove(0);
    assert_eq!(mail.subject, "Your sign-up is not finished yet");
    assert!(
        !mail.text.contains("not created by this service"),
        "{}",
        mail.text
    );
    assert!(
        mail.text.contains("has not been finished yet") && mail.text.contains("valid for 24 hours"),
        "{}",
        mail.text
    );
    let path = sign_up_path(&app, &mail);

    // Act: open the link (it changes nothing), then press its button
    let shown = app.get(&path).await;
    assert_eq!(shown.status(), 200);
    let shown = shown.text().await.unwrap();
    assert_eq!(texts(&shown, "h1"), vec!["Confirm your account"]);
    assert_eq!(texts(&shown, "dd")[0], "Ada Lovelace");
    assert_eq!(texts(&shown, "main form button"), vec!["Continue"]);
    assert!(fake.users().is_empty(), "opening the link created nothing");
    let done = app.confirm(&path).await;

    // Assert: the sign-up is finished, with one account
    assert_eq!(done.status(), 200);
    let done = done.text().await.unwrap();
    assert_eq!(texts(&done, "h1"), vec!["Your account is ready"]);
    assert_eq!(
        texts(&done, "#username"),
        vec!["ada.lovelace@tenant.example"]
    );
    assert_eq!(fake.users().len(), 1);
    assert_eq!(mails_to(&app, EMAIL).await[0].subject, "Your new account");

    // Now there is a password to replace: the next request mails a reset link.
    ask_for_reset(&app, EMAIL, "en").await;
    let mail = mails_to(&app, EMAIL).await.remove(0);
    assert_eq!(mail.subject, "A new temporary password");
    assert!(
        reset_path(&app, EMAIL)
            .await
            .starts_with(paths::PASSWORD_LINK)
    );
}

#[tokio::test]
async fn the_stalled_sign_ups_reset_mail_comes_in_german_too() {
    let fake = FakeGraph::start().await;
    let app = TestApp::builder()
        .envs(&env(&fake, &[], &[]))
        .resets()
        .spawn()
        .await;
    stall_a_sign_up(&app, &fake).await;

    assert_eq!(ask_for_reset(&app, EMAIL, "de").await.status(), 200);

    let mail = mails_to(&app, EMAIL).await.remove(0);
    assert_eq!(
        mail.subject,
        "Ihre Registrierung ist noch nicht abgeschlossen"
    );
    assert!(
        mail.text.starts_with("Hallo,")
            && mail.text.contains("noch nicht fertig eingerichtet")
            && mail.text.contains("24 Stunden gültig"),
        "{}",
        mail.text
    );
    let path = sign_up_path(&app, &mail);
    let shown = app.get(&format!("{path}?lang=de")).await;
    assert_eq!(shown.status(), 200);
    assert_eq!(
        texts(&shown.text().await.unwrap(), "main form button"),
        vec!["Fortsetzen"]
    );
}
