//! With Temporary Access Passes (`CREDENTIAL` = `temporary_access_pass`) a reset makes a new
//! pass, so the way there speaks of a pass: the link on the result page, the request page,
//! its answer and the link's mail, in both languages.

use super::*;
use crate::graph::env;
use crate::support::fake_graph::FakeGraph;
use crate::support::routes::paths;

/// A server against `fake` whose accounts get passes, with resets on.
pub(super) async fn app_with_passes(fake: &FakeGraph) -> TestApp {
    fake.enable_passes(60, 1440);
    TestApp::builder()
        .envs(&env(fake, &[], &[]))
        .envs(&[
            ("CREDENTIAL", "temporary_access_pass"),
            ("PASSWORD_DELIVERY", "page"),
        ])
        .resets()
        .spawn()
        .await
}

/// Whether `text` speaks of a password (the pass is no password to the person).
pub(super) fn speaks_of_a_password(text: &str) -> bool {
    let text = text.to_lowercase();
    text.contains("password") || text.contains("passwort")
}

#[tokio::test]
async fn the_result_page_with_a_pass_links_to_a_new_pass() {
    // Arrange
    let fake = FakeGraph::start().await;
    let app = app_with_passes(&fake).await;
    app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    let path = app.verification_path("ada@uni.example").await;

    // Act
    let created = app.confirm(&path).await;

    // Assert
    assert_eq!(created.status(), 200);
    let page = created.text().await.unwrap();
    assert!(
        !texts(&page, "#pass").is_empty(),
        "the pass is shown: {page}"
    );
    let selector = format!("a[href=\"{}\"]", paths::password_in("en"));
    assert_eq!(
        texts(&page, &selector),
        vec!["Lost your Temporary Access Pass? Get a new one."],
        "{page}"
    );
}

#[tokio::test]
async fn the_request_page_and_its_answer_speak_of_a_pass() {
    // Arrange
    let fake = FakeGraph::start().await;
    let app = app_with_passes(&fake).await;

    // Act
    let form = app
        .get(&paths::password_in("de"))
        .await
        .text()
        .await
        .unwrap();
    let sent = ask_for_reset(&app, "ada@uni.example", "en").await;

    // Assert
    assert_eq!(
        texts(&form, "h1"),
        vec!["Befristeten Zugriffspass verloren?"]
    );
    assert_eq!(
        texts(&form, "title")
            .first()
            .map(|t| t.starts_with("Befristeten Zugriffspass verloren?")),
        Some(true),
        "{form}"
    );
    let intro = texts(&form, "#password p").join(" ");
    assert!(intro.contains("Zugriffspass"), "{intro}");
    assert!(!speaks_of_a_password(&intro), "{intro}");
    assert_eq!(sent.status(), 200);
    let sent = sent.text().await.unwrap();
    let answer = texts(&sent, "#password p").join(" ");
    assert!(answer.contains("new Temporary Access Pass"), "{answer}");
    assert!(!speaks_of_a_password(&answer), "{answer}");
}

#[tokio::test]
async fn the_reset_links_mail_speaks_of_a_pass_in_both_languages() {
    // Arrange
    let fake = FakeGraph::start().await;
    let app = app_with_passes(&fake).await;
    create_account(&app, "ada@uni.example", "Ada", "Lovelace").await;
    create_account(&app, "grace@uni.example", "Grace", "Hopper").await;

    // Act
    assert_eq!(
        ask_for_reset(&app, "ada@uni.example", "en").await.status(),
        200
    );
    assert_eq!(
        ask_for_reset(&app, "grace@uni.example", "de")
            .await
            .status(),
        200
    );

    // Assert
    for (email, subject, pass) in [
        (
            "ada@uni.example",
            "A new Temporary Access Pass",
            "Temporary Access Pass",
        ),
        (
            "grace@uni.example",
            "Ein neuer befristeter Zugriffspass",
            "Zugriffspass",
        ),
    ] {
        let mails = mails_to(&app, email).await;
        let mail = mails.first().expect("the reset link's mail");
        assert_eq!(mail.subject, subject);
        assert!(mail.text.contains(pass), "{}", mail.text);
        // The link's path is `/password/…`: only the words count.
        let words = mail.links.iter().fold(mail.text.clone(), |text, link| {
            text.replace(link.as_str(), "")
        });
        assert!(!speaks_of_a_password(&words), "{}", mail.text);
        assert!(
            mail.link_path(paths::PASSWORD_LINK).is_some(),
            "the link: {}",
            mail.text
        );
    }
}

#[tokio::test]
async fn the_sign_up_page_promises_a_pass_and_links_to_a_new_one() {
    // Arrange
    let fake = FakeGraph::start().await;
    let app = app_with_passes(&fake).await;

    // Act
    let page = app.get(&paths::home_in("de")).await.text().await.unwrap();

    // Assert
    let intro = texts(&page, "main p").join(" ");
    assert!(intro.contains("befristeten Zugriffspass"), "{intro}");
    assert!(!speaks_of_a_password(&intro), "{intro}");
    assert_eq!(
        texts(&page, "p.reset-link a"),
        vec!["Befristeten Zugriffspass verloren? Hier bekommen Sie einen neuen."]
    );
}

#[tokio::test]
async fn the_reset_links_page_offers_a_new_pass() {
    // Arrange
    let fake = FakeGraph::start().await;
    let app = app_with_passes(&fake).await;
    create_account(&app, "ada@uni.example", "Ada", "Lovelace").await;
    assert_eq!(
        ask_for_reset(&app, "ada@uni.example", "en").await.status(),
        200
    );
    let path = reset_path(&app, "ada@uni.example").await;

    // Act
    let page = app.get(&path).await.text().await.unwrap();

    // Assert
    assert_eq!(texts(&page, "h1"), vec!["Get a new Temporary Access Pass"]);
    assert_eq!(
        texts(&page, "form button"),
        vec!["Get a new Temporary Access Pass"]
    );
    let words = texts(&page, "main p").join(" ");
    assert!(!speaks_of_a_password(&words), "{words}");
}
