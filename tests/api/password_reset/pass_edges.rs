//! With Temporary Access Passes the edges of a reset speak of a pass too (issue 27's
//! leftovers): a used or expired reset link, Graph refusing or failing the new pass, the
//! mails for an address whose account is not ours or not finished, a sign-up link used
//! twice, and the page and mail for a mailbox whose account exists already.

use super::pass_texts::{app_with_passes, speaks_of_a_password};
use super::*;
use std::time::Duration;

use crate::graph::{env, tag_of};
use crate::support::fake_graph::{Endpoint, FakeGraph};
use crate::support::smtp::{SmtpMode, SmtpServer};

const EMAIL: &str = "ada@uni.example";

/// The words of a page a person reads: its title, headings, paragraphs and buttons.
fn words(page: &str) -> String {
    texts(page, "title, h1, main p, main button").join(" ")
}

/// Asserts that `page` speaks of a pass (`pass`, the words in its language) and never of a
/// password.
fn assert_speaks_of_a_pass(page: &str, pass: &str) {
    let words = words(page);
    assert!(words.contains(pass), "{words}");
    assert!(!speaks_of_a_password(&words), "{words}");
}

#[tokio::test]
async fn a_used_or_expired_reset_link_speaks_of_a_pass_in_both_languages() {
    // Arrange
    let fake = FakeGraph::start().await;
    let app = app_with_passes(&fake).await;
    create_account(&app, EMAIL, "Ada", "Lovelace").await;
    ask_for_reset(&app, EMAIL, "en").await;
    let path = reset_path(&app, EMAIL).await;
    let shown = app.get(&path).await.text().await.unwrap();
    assert_eq!(app.confirm(&path).await.status(), 200);

    // Act
    let used = app.confirm(&path).await;
    let used_de = app.confirm_in(&path, "de").await;
    ask_for_reset(&app, EMAIL, "en").await;
    let newer = reset_path(&app, EMAIL).await;
    app.advance_clock(24 * 3600);
    let expired = app.get(&newer).await;

    // Assert
    assert_speaks_of_a_pass(&shown, "Temporary Access Pass");
    assert_eq!(used.status(), 410);
    assert_speaks_of_a_pass(&used.text().await.unwrap(), "new Temporary Access Pass");
    assert_eq!(used_de.status(), 410);
    assert_speaks_of_a_pass(&used_de.text().await.unwrap(), "befristeten Zugriffspass");
    assert_eq!(expired.status(), 410);
    let expired = expired.text().await.unwrap();
    assert_eq!(texts(&expired, "h1"), vec!["This link has expired"]);
    assert_speaks_of_a_pass(&expired, "new Temporary Access Pass");
}

#[tokio::test]
async fn graph_refusing_or_failing_the_new_pass_is_said_with_a_pass() {
    // Arrange
    let fake = FakeGraph::start().await;
    let app = app_with_passes(&fake).await;
    create_account(&app, EMAIL, "Ada", "Lovelace").await;
    ask_for_reset(&app, EMAIL, "en").await;
    let path = reset_path(&app, EMAIL).await;

    // Act: Graph refuses (403), then the tenant's policy is off (400: nothing made).
    fake.fail(Endpoint::CreatePass, 1, 403);
    let refused = app.confirm(&path).await;
    fake.disable_passes();
    let failed = app.confirm(&path).await;
    let failed_de = app.confirm_in(&path, "de").await;

    // Assert
    assert_eq!(refused.status(), 403);
    let refused = refused.text().await.unwrap();
    assert_eq!(texts(&refused, "h1"), vec!["Please contact support"]);
    assert_speaks_of_a_pass(&refused, "No new Temporary Access Pass can be made");
    assert!(refused.contains("it-support@uni.example"), "{refused}");
    assert_eq!(failed.status(), 503);
    let failed = failed.text().await.unwrap();
    assert_eq!(
        texts(&failed, "h1"),
        vec!["No new Temporary Access Pass yet"]
    );
    assert_speaks_of_a_pass(&failed, "making your new Temporary Access Pass");
    assert_speaks_of_a_pass(&failed_de.text().await.unwrap(), "Zugriffspass");
}

#[tokio::test]
async fn a_sign_up_link_used_twice_speaks_of_a_pass() {
    // Arrange
    let fake = FakeGraph::start().await;
    let app = app_with_passes(&fake).await;
    app.sign_up(EMAIL, "Ada", "Lovelace").await;
    let path = app.verification_path(EMAIL).await;
    assert_eq!(app.confirm(&path).await.status(), 200);

    // Act
    let again = app.confirm(&path).await;
    let again_de = app.confirm_in(&path, "de").await;

    // Assert
    assert_eq!(again.status(), 410);
    assert_speaks_of_a_pass(
        &again.text().await.unwrap(),
        "lost your Temporary Access Pass",
    );
    assert_speaks_of_a_pass(&again_de.text().await.unwrap(), "befristeten Zugriffspass");
}

/// The words of `mail`, its URLs taken out (the reset page's path is `/password`).
fn mail_words(mail: &ListedMail) -> String {
    mail.text
        .split_whitespace()
        .filter(|word| !word.starts_with("http"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test]
async fn the_mails_for_an_account_not_ours_or_not_finished_speak_of_a_pass() {
    // Arrange: an address from the original program's database, and a sign-up whose
    // account Graph failed to make.
    let fake = FakeGraph::start().await;
    fake.enable_passes(60, 1440);
    let store_dir = tempfile::tempdir().unwrap();
    {
        let store = ms365_accountcreator::store::Store::open(store_dir.path()).unwrap();
        let key = ms365_accountcreator::store::RegistryKey::as_recorded("old@uni.example");
        let imported = ms365_accountcreator::store::Imported {
            registered_at: 1_700_000_000,
            ..Default::default()
        };
        assert!(store.import_registered(&key, &imported).await.unwrap());
        store.flush().await.unwrap();
    }
    let app = TestApp::builder()
        .store(store_dir)
        .envs(&env(&fake, &[], &[]))
        .envs(&[
            ("CREDENTIAL", "temporary_access_pass"),
            ("PASSWORD_DELIVERY", "page"),
        ])
        .resets()
        .spawn()
        .await;
    app.sign_up(EMAIL, "Ada", "Lovelace").await;
    let path = app.verification_path(EMAIL).await;
    fake.fail(Endpoint::CreateUser, 1, 500);
    assert_eq!(app.confirm(&path).await.status(), 503);

    // Act
    ask_for_reset(&app, "old@uni.example", "en").await;
    ask_for_reset(&app, EMAIL, "de").await;

    // Assert
    let not_ours = mails_to(&app, "old@uni.example").await.remove(0);
    assert_eq!(not_ours.subject, "A new Temporary Access Pass");
    assert!(
        not_ours.text.contains("no pass can be made"),
        "{}",
        not_ours.text
    );
    assert!(
        not_ours.text.contains("it-support@uni.example"),
        "{}",
        not_ours.text
    );
    assert!(
        !speaks_of_a_password(&mail_words(&not_ours)),
        "{}",
        not_ours.text
    );
    let unfinished = mails_to(&app, EMAIL).await.remove(0);
    assert!(
        unfinished.text.contains("befristeten Zugriffspass"),
        "{}",
        unfinished.text
    );
    assert!(
        !speaks_of_a_password(&mail_words(&unfinished)),
        "{}",
        unfinished.text
    );
}

#[tokio::test]
async fn a_mailbox_with_its_account_already_is_offered_a_new_pass_on_the_page_and_by_mail() {
    // Arrange: Ada's mailbox has its account (a user carries its tag); Grace's too, and her
    // confirm outlasts its wait, so the queue finds the account and mails her.
    let fake = FakeGraph::start().await;
    for (email, upn, first) in [
        (EMAIL, "ada.lovelace@tenant.example", "Ada"),
        ("grace@uni.example", "grace.hopper@tenant.example", "Grace"),
    ] {
        let tag = tag_of(email);
        fake.add_user_with_attribute(upn, first, "X", ("extensionAttribute15", tag.as_str()));
    }
    fake.enable_passes(60, 1440);
    let app = TestApp::builder()
        .envs(&env(&fake, &[], &[]))
        .envs(&[
            ("CREDENTIAL", "temporary_access_pass"),
            ("PASSWORD_DELIVERY", "page"),
            ("PROVISION_WAIT_SECONDS", "1"),
        ])
        .resets()
        .spawn()
        .await;
    app.sign_up(EMAIL, "Ada", "Lovelace").await;
    app.sign_up_in("de", "grace@uni.example", "Grace", "Hopper")
        .await;
    let ada = app.verification_path(EMAIL).await;
    let grace = app.verification_path("grace@uni.example").await;

    // Act
    let page = app.confirm(&ada).await;
    fake.delay(Endpoint::ListUsers, 1, Duration::from_secs(3));
    let queued = app.confirm_in(&grace, "de").await;

    // Assert
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert_eq!(
        texts(&page, "h1"),
        vec!["This address already has an account"]
    );
    assert_speaks_of_a_pass(&page, "Get a new Temporary Access Pass");
    assert_eq!(queued.status(), 202, "queued");
    let mut mails = Vec::new();
    for _ in 0..200 {
        mails = mails_to(&app, "grace@uni.example").await;
        if mails.len() > 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mail = mails.first().expect("the mail saying the account exists");
    assert_eq!(
        mail.subject, "Für diese Adresse gibt es bereits ein Konto",
        "{mails:?}"
    );
    assert!(
        mail.text.contains("befristeten Zugriffspass"),
        "{}",
        mail.text
    );
    assert!(!speaks_of_a_password(&mail_words(mail)), "{}", mail.text);
}

#[tokio::test]
async fn a_new_pass_whose_mail_fails_is_said_with_a_pass() {
    crate::support::tools::require_tool!(Aiosmtpd);
    // Arrange: passes go by mail, through a real SMTP server.
    let fake = FakeGraph::start().await;
    fake.enable_passes(60, 1440);
    let mut server = SmtpServer::start(SmtpMode::Plain, None);
    let app = TestApp::builder()
        .envs(&env(&fake, &[], &[]))
        .envs(&[
            ("CREDENTIAL", "temporary_access_pass"),
            ("PASSWORD_DELIVERY", "mail"),
        ])
        .smtp(&server)
        .resets()
        .spawn()
        .await;
    app.sign_up(EMAIL, "Ada", "Lovelace").await;
    let verify = server.wait_for(1).await[0].verification_path();
    assert_eq!(app.confirm(&verify).await.status(), 200);
    assert_eq!(ask_for_reset(&app, EMAIL, "en").await.status(), 200);
    let mails = server.wait_for(3).await;
    let link = mails
        .iter()
        .find(|mail| mail.subject == "A new Temporary Access Pass")
        .expect("the reset link's mail")
        .link_path("/password/");

    // Act: the SMTP server goes away before the new pass's mail.
    server.stop();
    let failed = app.confirm(&link).await;

    // Assert
    assert_eq!(failed.status(), 503);
    let failed = failed.text().await.unwrap();
    assert_eq!(
        texts(&failed, "h1"),
        vec!["No new Temporary Access Pass yet"]
    );
    assert_speaks_of_a_pass(&failed, "The mail with your new Temporary Access Pass");
}
