//! Sign-ups whose first credential is a Temporary Access Pass (`CREDENTIAL` =
//! `temporary_access_pass`), through the real server against the fake Graph.

use super::*;

const UPN: &str = "ada.lovelace@tenant.example";

/// The server's environment for passes, delivered as `delivery` says.
fn pass_env(fake: &FakeGraph, delivery: &str) -> Vec<(String, String)> {
    let mut env = env(fake, &[], &[]);
    for (key, value) in [
        ("CREDENTIAL", "temporary_access_pass"),
        ("TAP_LIFETIME_MINUTES", "480"),
        ("PASSWORD_DELIVERY", delivery),
    ] {
        env.push((key.to_owned(), value.to_owned()));
    }
    env
}

#[tokio::test]
async fn a_pass_goes_by_mail_with_its_end_and_no_password_anywhere() {
    // Arrange
    let fake = FakeGraph::start().await;
    fake.enable_passes(60, 1440);
    let (logs, _guard) = Logs::capture();
    let app = TestApp::builder()
        .envs(&pass_env(&fake, "mail"))
        .spawn()
        .await;

    // Act
    let result = sign_up_and_confirm(&app, "ada@uni.example", "Ada", "Lovelace").await;

    // Assert
    assert_eq!(result.status(), 200);
    let page = result.text().await.unwrap();
    assert_eq!(texts(&page, "h1"), vec!["Your account is ready"]);
    assert_eq!(texts(&page, "#username"), vec![UPN]);
    assert!(texts(&page, "#pass").is_empty(), "not on the page: {page}");
    assert_eq!(texts(&page, "ol.steps li").len(), 3, "{page}");
    assert_eq!(texts(&page, "time[datetime]").len(), 1, "{page}");
    let held = fake.pass_of(UPN).expect("the user has a pass");
    assert_eq!(held.lifetime_minutes, 480);
    assert!(held.usable_once);
    assert_eq!(fake.count(Endpoint::CreatePass), 1, "exactly one pass");
    let mails = app.mails().await;
    assert_eq!(mails.len(), 2, "the link and the pass");
    let mail = mails
        .iter()
        .find(|mail| mail.subject == "Your new account")
        .expect("the pass mail");
    assert_eq!(password_in(&mail.text), Some(held.pass.clone()));
    assert!(mail.text.contains("Temporary Access Pass"), "{}", mail.text);
    let password = fake
        .password_of(UPN)
        .expect("Graph required a password at the create");
    for (what, text) in [
        ("the page", page.as_str()),
        ("the mail", mail.text.as_str()),
        ("the log", &logs.text()),
    ] {
        assert!(!text.contains(&password), "the password in {what}");
    }
    assert!(!logs.text().contains(&held.pass), "the pass in the log");
}

#[tokio::test]
async fn a_pass_shown_on_the_page_and_mailed_is_the_same_in_german() {
    // Arrange
    let fake = FakeGraph::start().await;
    fake.enable_passes(60, 1440);
    let app = TestApp::builder()
        .envs(&pass_env(&fake, "both"))
        .spawn()
        .await;
    app.sign_up("ada@uni.example", "Ada", "Lovelace").await;

    // Act
    let result = confirm(&app, "ada@uni.example", "de").await;

    // Assert
    assert_eq!(result.status(), 200);
    let page = result.text().await.unwrap();
    assert_eq!(texts(&page, "h1"), vec!["Ihr Konto ist fertig"]);
    let held = fake.pass_of(UPN).expect("the user has a pass").pass;
    assert_eq!(texts(&page, "#pass"), vec![held.clone()]);
    assert_eq!(texts(&page, "ol.steps li").len(), 3, "{page}");
    assert!(page.contains("Ihre erste Anmeldung"), "{page}");
    let mails = app.mails().await;
    let mail = mails
        .iter()
        .find(|mail| mail.subject == "Your new account")
        .expect("the pass mail, in the language of the sign-up");
    assert_eq!(password_in(&mail.text), Some(held));
    assert_eq!(
        fake.count(Endpoint::CreatePass),
        1,
        "one pass for page and mail"
    );
}

#[tokio::test]
async fn a_pass_that_failed_is_made_on_the_next_confirm_after_the_user_exists() {
    // Arrange: Graph refuses the pass until the policy is on.
    let fake = FakeGraph::start().await;
    let app = TestApp::builder()
        .envs(&pass_env(&fake, "mail"))
        .spawn()
        .await;
    app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    let first = confirm(&app, "ada@uni.example", "en").await;
    assert_ne!(first.status(), 200, "no pass, no account ready");
    assert_eq!(fake.users().len(), 1, "the user is made");
    assert!(fake.pass_of(UPN).is_none());

    // Act
    fake.enable_passes(60, 1440);
    let later = confirm(&app, "ada@uni.example", "en").await;

    // Assert
    assert_ready(later, UPN).await;
    assert_eq!(fake.users().len(), 1, "no second user");
    assert_eq!(fake.count(Endpoint::CreateUser), 1);
    let held = fake.pass_of(UPN).expect("the user has a pass now").pass;
    let mails = app.mails().await;
    let credential_mails: Vec<_> = mails
        .iter()
        .filter(|mail| mail.subject == "Your new account")
        .collect();
    assert_eq!(credential_mails.len(), 1, "one pass mail");
    assert_eq!(password_in(&credential_mails[0].text), Some(held));
}
