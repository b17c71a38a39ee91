//! The DEBUG flow end to end: form → mail at /debug/mails → link → confirm → result.

use crate::support::helpers::{TestApp, attr, password_in, spawn_app, spawn_app_with, texts};
use ms365_accountcreator::startup::Overrides;

async fn confirm(app: &TestApp, path: &str) -> reqwest::Response {
    app.post_form(path, &[("lang", "en")]).await
}

#[tokio::test]
async fn a_person_signs_up_confirms_and_gets_a_username_and_a_password_mail() {
    let app = spawn_app().await;
    app.sign_up("ada@uni.example", "Ada", "Lovelace").await;

    let mail = &app.mails().await[0];
    assert_eq!(mail.subject, "Confirm your sign-up");
    assert!(mail.text.starts_with("Hello,"), "{}", mail.text);
    assert!(
        !mail.text.contains("Ada"),
        "nothing typed in the mail: {}",
        mail.text
    );
    let path = app.verification_path("ada@uni.example").await;
    assert!(path.starts_with("/verify/"), "{path}");

    // Opening the link changes nothing: it can be opened any number of times.
    for _ in 0..3 {
        let page = app.get(&path).await;
        assert_eq!(page.status(), 200);
        let page = page.text().await.unwrap();
        assert_eq!(texts(&page, "h1"), vec!["Confirm your account"]);
        assert_eq!(
            texts(&page, "dd"),
            vec!["Ada Lovelace", "ada.lovelace@tenant.example"]
        );
        assert_eq!(
            attr(&page, "form[method=post]", "action").as_deref(),
            Some(path.as_str())
        );
    }
    assert_eq!(
        app.mails().await.len(),
        1,
        "no account yet, so no password mail"
    );

    let result = confirm(&app, &path).await;
    assert_eq!(result.status(), 200);
    let result = result.text().await.unwrap();
    assert_eq!(texts(&result, "h1"), vec!["Your account is ready"]);
    assert_eq!(
        texts(&result, "#username"),
        vec!["ada.lovelace@tenant.example"]
    );
    assert!(
        texts(&result, "#password").is_empty(),
        "PASSWORD_DELIVERY=mail keeps it off the page"
    );

    let mails = app.mails().await;
    assert_eq!(mails.len(), 2);
    assert_eq!(mails[0].subject, "Your new account");
    assert!(mails[0].text.contains("ada.lovelace@tenant.example"));
    let password = password_in(&mails[0].text).expect("the password is in the mail");
    assert_eq!(password.len(), 16, "{password}");

    // The link is used up now, and the address is taken in any letter case.
    assert_eq!(
        texts(&app.get(&path).await.text().await.unwrap(), "h1"),
        vec!["This link has already been used"]
    );
    assert_eq!(confirm(&app, &path).await.status(), 410);
    let again = app.sign_up("ADA@Uni.Example", "Ada", "Lovelace").await;
    assert_eq!(again.status(), 422);
    assert_eq!(
        texts(&again.text().await.unwrap(), "#email-error"),
        vec!["An account has already been created for this e-mail address."]
    );
}

#[tokio::test]
async fn the_mails_and_pages_follow_the_persons_language() {
    let app = spawn_app().await;
    app.post_form(
        "/signup",
        &[
            ("email", "jo@uni.example"),
            ("consent_email", "yes"),
            ("consent_name", "yes"),
            ("first_name", "Jörg"),
            ("last_name", "Müller"),
            ("lang", "de"),
        ],
    )
    .await;
    let mail = &app.mails().await[0];
    assert_eq!(mail.subject, "Bestätigen Sie Ihre Registrierung");
    let path = app.verification_path("jo@uni.example").await;
    let page = app
        .get_with(&path, &[("accept-language", "de")])
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        texts(&page, "dd"),
        vec!["Jörg Müller", "joerg.mueller@tenant.example"]
    );
    app.post_form(&path, &[("lang", "de")]).await;
    assert_eq!(app.mails().await[0].subject, "Ihr neues Konto");
}

#[tokio::test]
async fn an_expired_link_says_so_and_offers_to_start_over() {
    let app = spawn_app_with(
        &[("VERIFICATION_TOKEN_TTL_MINUTES", "60")],
        Overrides::default(),
    )
    .await;
    app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    let path = app.verification_path("ada@uni.example").await;
    app.advance_clock(3600);
    let page = app.get(&path).await;
    assert_eq!(page.status(), 410);
    let page = page.text().await.unwrap();
    assert_eq!(texts(&page, "h1"), vec!["This link has expired"]);
    assert_eq!(attr(&page, "main a.button", "href").as_deref(), Some("/en"));
    assert_eq!(confirm(&app, &path).await.status(), 410);
    assert_eq!(app.mails().await.len(), 1, "nothing was created");
}

#[tokio::test]
async fn tampered_foreign_and_garbage_links_are_not_valid() {
    let app = spawn_app().await;
    app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    let path = app.verification_path("ada@uni.example").await;
    let token = path.trim_start_matches("/verify/");
    let mut parts: Vec<&str> = token.split('.').collect();
    let forged_signature = "A".repeat(parts[2].len());
    parts[2] = &forged_signature;
    let tampered = format!("/verify/{}", parts.join("."));
    let none_alg = format!(
        "/verify/eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.",
        token.split('.').nth(1).unwrap()
    );
    for bad in [
        tampered.as_str(),
        none_alg.as_str(),
        "/verify/garbage",
        "/verify/%3Cscript%3E",
    ] {
        let page = app.get(bad).await;
        assert_eq!(page.status(), 404, "{bad}");
        assert_eq!(
            texts(&page.text().await.unwrap(), "h1"),
            vec!["This link is not valid"],
            "{bad}"
        );
        assert_eq!(confirm(&app, bad).await.status(), 404, "{bad}");
    }
    assert_eq!(app.mails().await.len(), 1);
}

#[tokio::test]
async fn the_username_gets_a_number_when_the_name_is_taken() {
    let app = spawn_app().await;
    for email in ["ada1@uni.example", "ada2@uni.example"] {
        app.sign_up(email, "Ada", "Lovelace").await;
        let path = app.verification_path(email).await;
        confirm(&app, &path).await;
    }
    let created: Vec<String> = app
        .mails()
        .await
        .iter()
        .filter(|m| m.subject == "Your new account")
        .map(|m| m.text.clone())
        .collect();
    assert!(
        created[0].contains("ada.lovelace.2@tenant.example"),
        "{}",
        created[0]
    );
    assert!(created[1].contains("ada.lovelace@tenant.example"));
}

#[tokio::test]
async fn page_delivery_shows_the_password_once_and_sends_no_password_mail() {
    let app = spawn_app_with(&[("PASSWORD_DELIVERY", "page")], Overrides::default()).await;
    app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    let path = app.verification_path("ada@uni.example").await;
    let result = confirm(&app, &path).await.text().await.unwrap();
    let password = texts(&result, "#password");
    assert_eq!(password.len(), 1);
    assert_eq!(password[0].len(), 16, "{password:?}");
    assert_eq!(app.mails().await.len(), 1, "only the verification mail");
    let again = confirm(&app, &path).await.text().await.unwrap();
    assert!(texts(&again, "#password").is_empty(), "shown only once");
}

#[tokio::test]
async fn the_debug_mail_list_is_served_when_mails_are_captured() {
    let app = spawn_app().await;
    assert_eq!(app.get("/debug/mails").await.status(), 200);
}

#[tokio::test]
async fn the_link_opens_in_the_language_of_the_sign_up_unless_another_is_chosen() {
    let app = spawn_app().await;
    app.post_form(
        "/signup",
        &[
            ("email", "jo@uni.example"),
            ("consent_email", "yes"),
            ("consent_name", "yes"),
            ("first_name", "Jo"),
            ("last_name", "Müller"),
            ("lang", "de"),
        ],
    )
    .await;
    let path = app.verification_path("jo@uni.example").await;
    let page = app
        .get_with(&path, &[("accept-language", "en")])
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        attr(&page, "html", "lang").as_deref(),
        Some("de"),
        "a mail scanner's or another browser's language does not decide"
    );
    assert_eq!(texts(&page, "h1"), vec!["Konto bestätigen"]);
    let english = app
        .get(&format!("{path}?lang=en"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        attr(&english, "html", "lang").as_deref(),
        Some("en"),
        "the switcher still works"
    );
}
