//! The whole reset with the simulated directory, and every way a link must refuse.

use super::*;
use crate::support::helpers::{attr, attrs, password_in};
use crate::support::routes::{HTMX, paths};

#[tokio::test]
async fn a_person_asks_for_a_link_opens_it_and_gets_a_new_temporary_password_by_mail() {
    // Arrange
    let app = TestApp::builder().resets().spawn().await;
    create_account(&app, "ada@uni.example", "Ada", "Lovelace").await;

    // Act: ask
    let form = app.get(paths::PASSWORD).await;
    assert_eq!(form.status(), 200);
    let form = form.text().await.unwrap();
    assert_eq!(
        attr(&form, "#password form", "action").as_deref(),
        Some(paths::PASSWORD)
    );
    assert_eq!(
        attr(&form, "#password form input[type=email]", "name").as_deref(),
        Some("email")
    );
    let answer = ask_for_reset(&app, "Ada+lost@Uni.example", "en").await;

    // Assert: the neutral page, and a link to the mailbox (not the tag)
    assert_eq!(answer.status(), 200);
    let answer = answer.text().await.unwrap();
    assert_eq!(texts(&answer, "h1"), vec!["Check your mailbox"]);
    let mail = &mails_to(&app, "ada@uni.example").await[0];
    assert_eq!(mail.subject, "A new temporary password");
    assert!(mail.text.contains("valid for 60 minutes"), "{}", mail.text);
    let path = reset_path(&app, "ada@uni.example").await;
    assert!(path.starts_with(paths::PASSWORD_LINK), "{path}");

    // Act: open the link (any number of times: it changes nothing)
    for _ in 0..3 {
        let page = app.get(&path).await;
        assert_eq!(page.status(), 200);
        let page = page.text().await.unwrap();
        assert_eq!(texts(&page, "h1"), vec!["Set a new temporary password"]);
        assert_eq!(texts(&page, "dd"), vec!["ada.lovelace@tenant.example"]);
        assert_eq!(
            attr(&page, "form[method=post]", "action").as_deref(),
            Some(path.as_str())
        );
    }
    assert!(
        mails_to(&app, "ada@uni.example").await[0].subject != "Your new temporary password",
        "opening the link sends nothing"
    );

    // Act: press the button
    let done = app.confirm(&path).await;

    // Assert
    assert_eq!(done.status(), 200);
    let done = done.text().await.unwrap();
    assert_eq!(texts(&done, "h1"), vec!["Your new temporary password"]);
    assert_eq!(
        texts(&done, "#username"),
        vec!["ada.lovelace@tenant.example"]
    );
    assert!(
        texts(&done, "#password").is_empty(),
        "PASSWORD_DELIVERY=mail"
    );
    let mail = &mails_to(&app, "ada@uni.example").await[0];
    assert_eq!(mail.subject, "Your new temporary password");
    assert!(
        mail.text.contains("ada.lovelace@tenant.example"),
        "{}",
        mail.text
    );
    assert!(
        password_in(&mail.text).is_some_and(|p| p.len() >= 16),
        "{}",
        mail.text
    );
}

#[tokio::test]
async fn page_delivery_shows_the_new_password_once_and_mails_none() {
    let app = TestApp::builder()
        .resets()
        .env("PASSWORD_DELIVERY", "page")
        .spawn()
        .await;
    create_account(&app, "ada@uni.example", "Ada", "Lovelace").await;
    ask_for_reset(&app, "ada@uni.example", "en").await;
    let path = reset_path(&app, "ada@uni.example").await;

    let done = app.confirm(&path).await.text().await.unwrap();

    assert!(
        texts(&done, "#password")
            .first()
            .is_some_and(|p| p.len() >= 16),
        "{done}"
    );
    let subjects: Vec<String> = mails_to(&app, "ada@uni.example")
        .await
        .into_iter()
        .map(|m| m.subject)
        .collect();
    assert!(
        !subjects.contains(&"Your new temporary password".to_owned()),
        "{subjects:?}"
    );
}

#[tokio::test]
async fn a_sign_up_link_cannot_reset_and_a_reset_link_cannot_create() {
    // Arrange: a finished account with a reset link, and a pending sign-up's link
    let app = TestApp::builder().resets().spawn().await;
    create_account(&app, "ada@uni.example", "Ada", "Lovelace").await;
    ask_for_reset(&app, "ada@uni.example", "en").await;
    let reset = reset_path(&app, "ada@uni.example").await;
    app.sign_up("grace@uni.example", "Grace", "Hopper").await;
    let verify = app.verification_path("grace@uni.example").await;
    let reset_token = reset.trim_start_matches(paths::PASSWORD_LINK);
    let verify_token = verify.trim_start_matches(paths::VERIFY);

    // Act / Assert: each token at the other's place is an invalid link
    for (path, what) in [
        (
            paths::password_link(verify_token),
            "a sign-up link at /password",
        ),
        (paths::verify(reset_token), "a reset link at /verify"),
    ] {
        let shown = app.get(&path).await;
        assert_eq!(shown.status(), 404, "{what}");
        let page = shown.text().await.unwrap();
        assert_eq!(texts(&page, "h1"), vec!["This link is not valid"], "{what}");
        let pressed = app.confirm(&path).await;
        assert_eq!(pressed.status(), 404, "{what}");
    }

    // Both links still do their own work.
    assert_eq!(app.get(&verify).await.status(), 200);
    assert_eq!(app.confirm(&reset).await.status(), 200);
    let grace = app.confirm(&verify).await.text().await.unwrap();
    assert_eq!(texts(&grace, "h1"), vec!["Your account is ready"]);
}

#[tokio::test]
async fn a_reset_link_works_once() {
    let app = TestApp::builder().resets().spawn().await;
    create_account(&app, "ada@uni.example", "Ada", "Lovelace").await;
    ask_for_reset(&app, "ada@uni.example", "en").await;
    let path = reset_path(&app, "ada@uni.example").await;

    assert_eq!(app.confirm(&path).await.status(), 200);
    let again = app.confirm(&path).await;
    let shown = app.get(&path).await;

    assert_eq!(again.status(), 410);
    assert_eq!(shown.status(), 410);
    let page = shown.text().await.unwrap();
    assert_eq!(texts(&page, "h1"), vec!["This link has already been used"]);
    assert_eq!(
        attrs(&page, "main a.button", "href"),
        vec![paths::password_in("en")]
    );
    let new_passwords = mails_to(&app, "ada@uni.example")
        .await
        .iter()
        .filter(|m| m.subject == "Your new temporary password")
        .count();
    assert_eq!(new_passwords, 1);
}

#[tokio::test]
async fn using_a_newer_link_kills_the_older_one_but_not_the_other_way_round() {
    // Arrange: three links, a second apart
    let app = TestApp::builder().resets().spawn().await;
    create_account(&app, "ada@uni.example", "Ada", "Lovelace").await;
    let mut links = Vec::new();
    for _ in 0..3 {
        ask_for_reset(&app, "ada@uni.example", "en").await;
        links.push(reset_path(&app, "ada@uni.example").await);
        app.advance_clock(1);
    }
    let [oldest, middle, newest] = <[String; 3]>::try_from(links).unwrap();

    // Act: the middle one is used
    assert_eq!(app.confirm(&middle).await.status(), 200);

    // Assert
    assert_eq!(
        app.get(&oldest).await.status(),
        410,
        "older than the one used"
    );
    assert_eq!(app.confirm(&oldest).await.status(), 410);
    assert_eq!(
        app.get(&newest).await.status(),
        200,
        "newer than the one used"
    );
    assert_eq!(app.confirm(&newest).await.status(), 200);
}

#[tokio::test]
async fn a_reset_link_expires_after_its_ttl() {
    let app = TestApp::builder()
        .resets()
        .env("PASSWORD_RESET_TOKEN_TTL_MINUTES", "30")
        .spawn()
        .await;
    create_account(&app, "ada@uni.example", "Ada", "Lovelace").await;
    ask_for_reset(&app, "ada@uni.example", "en").await;
    let path = reset_path(&app, "ada@uni.example").await;

    app.advance_clock(29 * 60);
    assert_eq!(app.get(&path).await.status(), 200);
    app.advance_clock(60);
    let shown = app.get(&path).await;
    let pressed = app.confirm(&path).await;

    assert_eq!(shown.status(), 410);
    assert_eq!(
        texts(&shown.text().await.unwrap(), "h1"),
        vec!["This link has expired"]
    );
    assert_eq!(pressed.status(), 410);
}

#[tokio::test]
async fn an_unknown_address_gets_no_mail_and_the_same_answer_as_an_account() {
    let app = TestApp::builder().resets().spawn().await;
    create_account(&app, "ada@uni.example", "Ada", "Lovelace").await;
    let mails_before = app.mails().await.len();

    let known = ask_for_reset(&app, "ada@uni.example", "en").await;
    let unknown = ask_for_reset(&app, "nobody@uni.example", "en").await;

    assert_eq!(
        (known.status().as_u16(), unknown.status().as_u16()),
        (200, 200)
    );
    assert_eq!(
        neutral_text(known, "ada@uni.example").await,
        neutral_text(unknown, "nobody@uni.example").await
    );
    assert_eq!(
        app.mails().await.len(),
        mails_before + 1,
        "one link, to ada only"
    );
    assert!(mails_to(&app, "nobody@uni.example").await.is_empty());
}

#[tokio::test]
async fn an_imported_address_gets_a_mail_naming_support_and_the_same_answer() {
    // Arrange: an address from the original program's database (no object id)
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
    let app = TestApp::builder().store(store_dir).resets().spawn().await;

    // Act
    let imported = ask_for_reset(&app, "old@uni.example", "en").await;
    let unknown = ask_for_reset(&app, "nobody@uni.example", "en").await;

    // Assert
    assert_eq!(imported.status(), 200);
    assert_eq!(
        neutral_text(imported, "old@uni.example").await,
        neutral_text(unknown, "nobody@uni.example").await
    );
    let mails = mails_to(&app, "old@uni.example").await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].subject, "A new temporary password");
    assert!(
        mails[0].text.contains("it-support@uni.example"),
        "{}",
        mails[0].text
    );
    assert!(
        mails[0].link_path(paths::PASSWORD_LINK).is_none(),
        "no reset link"
    );
}

#[tokio::test]
async fn an_address_the_form_refuses_is_said_so_with_the_address_kept() {
    let app = TestApp::builder().resets().spawn().await;

    let answer = ask_for_reset(&app, "not an address", "en").await;

    assert_eq!(answer.status(), 422);
    let page = answer.text().await.unwrap();
    assert_eq!(
        attr(&page, "#reset-email", "value").as_deref(),
        Some("not an address")
    );
    assert_eq!(
        attr(&page, "#reset-email", "aria-invalid").as_deref(),
        Some("true")
    );
    assert_eq!(texts(&page, "#reset-email-error").len(), 1);
    assert!(app.mails().await.is_empty());
}

#[tokio::test]
async fn with_htmx_the_answer_is_the_section_alone() {
    let app = TestApp::builder().resets().spawn().await;
    create_account(&app, "ada@uni.example", "Ada", "Lovelace").await;

    let answer = app
        .post_password_with(&[("email", "ada@uni.example"), ("lang", "en")], HTMX)
        .await
        .text()
        .await
        .unwrap();

    assert!(!answer.contains("<html"), "{answer}");
    assert_eq!(
        texts(&answer, "section#password h1"),
        vec!["Check your mailbox"]
    );
}

#[tokio::test]
async fn the_pages_and_mails_come_in_german_too() {
    let app = TestApp::builder().resets().spawn().await;
    create_account(&app, "ada@uni.example", "Ada", "Lovelace").await;

    let page = app.get(&paths::password_in("de")).await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert_eq!(attr(&page, "html", "lang").as_deref(), Some("de"));
    assert_eq!(texts(&page, "h1"), vec!["Vorläufiges Passwort verloren?"]);
    assert_eq!(
        attr(&page, "#password input[name=lang]", "value").as_deref(),
        Some("de")
    );
    let switch = attrs(&page, ".lang-switch a", "href");
    assert_eq!(switch, vec![format!("{}?lang=en", paths::PASSWORD)]);
    let unknown = app.get(&paths::password_in("xx")).await;
    assert_eq!(unknown.status(), 404);

    let answer = ask_for_reset(&app, "ada@uni.example", "de")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(texts(&answer, "h1"), vec!["Bitte prüfen Sie Ihr Postfach"]);
    let mail = &mails_to(&app, "ada@uni.example").await[0];
    assert_eq!(mail.subject, "Ein neues vorläufiges Passwort");
    let path = reset_path(&app, "ada@uni.example").await;
    let shown = app
        .get(&format!("{path}?lang=de"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        texts(&shown, "h1"),
        vec!["Neues vorläufiges Passwort setzen"]
    );
    let done = app.confirm_in(&path, "de").await.text().await.unwrap();
    assert_eq!(texts(&done, "h1"), vec!["Ihr neues vorläufiges Passwort"]);
    let mail = &mails_to(&app, "ada@uni.example").await[0];
    assert_eq!(mail.subject, "Ihr neues vorläufiges Passwort");
}

#[tokio::test]
async fn an_htmx_error_from_the_front_door_replaces_the_reset_form() {
    let app = TestApp::builder().resets().spawn().await;

    let refused = app
        .post_password_with(
            &[("email", "ada@uni.example")],
            &[("hx-request", "true"), ("sec-fetch-site", "cross-site")],
        )
        .await;

    assert_eq!(refused.status(), 403);
    let target = crate::support::helpers::header(&refused, "hx-retarget");
    assert_eq!(
        target.as_deref(),
        Some("#password"),
        "the page has no #signup"
    );
}
