//! The DEBUG flow end to end: form → mail at /debug/mails → link → confirm → result.

use crate::support::helpers::{TestApp, attr, password_in, spawn_app, texts};
use crate::support::routes::paths;

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
    assert!(path.starts_with(paths::VERIFY), "{path}");

    // Opening the link changes nothing: it can be opened any number of times.
    for _ in 0..3 {
        let page = app.get(&path).await;
        assert_eq!(page.status(), 200);
        let page = page.text().await.unwrap();
        assert_eq!(texts(&page, "h1"), vec!["Confirm your account"]);
        assert_eq!(
            texts(&page, "dd"),
            vec!["Ada Lovelace", "ada.lovelace@tenant.example Copy"]
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

    let result = app.confirm(&path).await;
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
    assert_eq!(app.confirm(&path).await.status(), 410);
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
    app.sign_up_in("de", "jo@uni.example", "Jörg", "Müller")
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
        vec!["Jörg Müller", "joerg.mueller@tenant.example Kopieren"]
    );
    app.confirm_in(&path, "de").await;
    assert_eq!(app.mails().await[0].subject, "Ihr neues Konto");
}

#[tokio::test]
async fn an_expired_link_says_so_and_offers_to_start_over() {
    let app = TestApp::builder()
        .env("VERIFICATION_TOKEN_TTL_MINUTES", "60")
        .spawn()
        .await;
    app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    let path = app.verification_path("ada@uni.example").await;
    app.advance_clock(3600);
    let page = app.get(&path).await;
    assert_eq!(page.status(), 410);
    let page = page.text().await.unwrap();
    assert_eq!(texts(&page, "h1"), vec!["This link has expired"]);
    let start_over = paths::home_in("en");
    assert_eq!(attr(&page, "main a.button", "href"), Some(start_over));
    assert_eq!(app.confirm(&path).await.status(), 410);
    assert_eq!(app.mails().await.len(), 1, "nothing was created");
}

#[tokio::test]
async fn tampered_foreign_and_garbage_links_are_not_valid() {
    let app = spawn_app().await;
    app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    let path = app.verification_path("ada@uni.example").await;
    let token = path.trim_start_matches(paths::VERIFY);
    // The sealed link with its last 22 characters (most of the authentication tag) forged.
    let forged_tag = "A".repeat(22);
    let tampered = paths::verify(&format!("{}{forged_tag}", &token[..token.len() - 22]));
    // An unsigned link of the old (JWT) form.
    let none_alg = paths::verify(&format!(
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.",
        base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            br#"{"sub":"x","nonce":"y","iat":1,"exp":99999999999}"#
        )
    ));
    for bad in [
        tampered,
        none_alg,
        paths::verify("garbage"),
        paths::verify("%3Cscript%3E"),
    ] {
        let bad = bad.as_str();
        let page = app.get(bad).await;
        assert_eq!(page.status(), 404, "{bad}");
        assert_eq!(
            texts(&page.text().await.unwrap(), "h1"),
            vec!["This link is not valid"],
            "{bad}"
        );
        assert_eq!(app.confirm(bad).await.status(), 404, "{bad}");
    }
    assert_eq!(app.mails().await.len(), 1);
}

#[tokio::test]
async fn the_username_gets_a_number_when_the_name_is_taken() {
    let app = spawn_app().await;
    for email in ["ada1@uni.example", "ada2@uni.example"] {
        app.sign_up(email, "Ada", "Lovelace").await;
        let path = app.verification_path(email).await;
        app.confirm(&path).await;
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
    let app = TestApp::builder()
        .env("PASSWORD_DELIVERY", "page")
        .spawn()
        .await;
    app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    let path = app.verification_path("ada@uni.example").await;
    let result = app.confirm(&path).await.text().await.unwrap();
    let password = texts(&result, "#password");
    assert_eq!(password.len(), 1);
    assert_eq!(password[0].len(), 16, "{password:?}");
    assert_eq!(app.mails().await.len(), 1, "only the verification mail");
    let again = app.confirm(&path).await.text().await.unwrap();
    assert!(texts(&again, "#password").is_empty(), "shown only once");
}

#[tokio::test]
async fn the_debug_mail_list_is_served_when_mails_are_captured() {
    let app = spawn_app().await;
    assert_eq!(app.get_debug_mails(&[]).await.status(), 200);
}

#[tokio::test]
async fn the_link_opens_in_the_language_of_the_sign_up_unless_another_is_chosen() {
    let app = spawn_app().await;
    app.sign_up_in("de", "jo@uni.example", "Jo", "Müller").await;
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

#[tokio::test]
async fn a_link_valid_for_one_hour_is_said_in_the_singular_on_the_page_and_in_the_mail() {
    // Arrange
    let app = TestApp::builder()
        .env("VERIFICATION_TOKEN_TTL_MINUTES", "60")
        .spawn()
        .await;
    let sign_up = |email, lang| app.sign_up_in(lang, email, "Ada", "Lovelace");

    // Act
    let english = sign_up("ada@uni.example", "en").await.text().await.unwrap();
    let german = sign_up("ada.de@uni.example", "de")
        .await
        .text()
        .await
        .unwrap();
    let mails = app.mails().await;

    // Assert
    assert!(
        texts(&english, "#signup p").contains(
            &"Open the link within an hour and confirm to create your account.".to_owned()
        ),
        "{english}"
    );
    assert_eq!(
        texts(&german, "#signup h2"),
        vec!["Bitte prüfen Sie Ihr Postfach"]
    );
    assert!(
        texts(&german, "#signup p").contains(
            &"Öffnen Sie den Link innerhalb einer Stunde und bestätigen Sie, um Ihr Konto anzulegen."
                .to_owned()
        ),
        "{german}"
    );
    assert!(
        mails[1].text.contains("The link is valid for one hour."),
        "{}",
        mails[1].text
    );
    assert!(
        mails[0].text.contains("Der Link ist eine Stunde gültig."),
        "{}",
        mails[0].text
    );
}

#[tokio::test]
async fn the_password_mail_and_the_result_page_say_where_to_sign_in_and_that_the_password_must_be_changed()
 {
    // Arrange
    let app = TestApp::builder()
        .env("SIGN_IN_URL", "https://portal.uni.example/login")
        .spawn()
        .await;
    app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    let path = app.verification_path("ada@uni.example").await;

    // Act
    let result = app.confirm(&path).await.text().await.unwrap();
    let mails = app.mails().await;

    // Assert
    let mail = &mails[0];
    assert_eq!(mail.subject, "Your new account");
    assert!(
        mail.text.contains(
            "Sign in at https://portal.uni.example/login with your username and this temporary password. You must then choose a new password of your own."
        ),
        "{}",
        mail.text
    );
    assert_eq!(
        attr(&result, "main a.button", "href").as_deref(),
        Some("https://portal.uni.example/login")
    );
    assert_eq!(
        texts(&result, "main a.button"),
        vec!["Sign in at portal.uni.example"]
    );
    assert!(
        texts(&result, "main p").contains(
            &"When you first sign in, you must choose a new password of your own.".to_owned()
        ),
        "{result}"
    );
}

#[tokio::test]
async fn without_a_sign_in_url_setting_people_are_sent_to_office_com() {
    let app = spawn_app().await;
    app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    let path = app.verification_path("ada@uni.example").await;
    let result = app.confirm(&path).await.text().await.unwrap();
    assert_eq!(
        attr(&result, "main a.button", "href").as_deref(),
        Some("https://www.office.com/")
    );
    assert!(
        app.mails().await[0]
            .text
            .contains("Sign in at https://www.office.com/ ")
    );
}

/// The store directories a DEBUG server made under `tmp`.
fn debug_stores(tmp: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(tmp)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("ms365-accountcreator-debug"))
        .collect()
}

#[tokio::test]
async fn a_debug_run_has_its_own_store_removed_at_exit_so_a_restart_forgets_what_its_mails_forgot()
{
    use crate::support::process::{ServerProcess, UNSET};

    // Arrange: DEBUG mode as `MODE=debug cargo run` starts it, with its own temp directory.
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let env: Vec<(String, String)> = [
        ("MODE", "debug"),
        ("DATABASE_PATH", UNSET),
        ("TMPDIR", tmp.to_str().unwrap()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();

    // Act: sign up and confirm by the mailed link as it is, stop, start again and sign up
    // with the same address.
    let server = ServerProcess::start(dir.path(), &env).await;
    let ada = ("ada@uni.example", "Ada", "Lovelace");
    server.expect(200, server.sign_up(ada.0, ada.1, ada.2).await);
    let mail = server.mails().await.remove(0);
    let link = mail.links.first().expect("a link in the mail");
    let confirmed = reqwest::Client::new()
        .post(link)
        .form(&[("lang", "en")])
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), 200);
    let stores_while_running = debug_stores(&tmp);
    let mails_url = server.url(paths::DEBUG_MAILS);
    let (code, log) = server.terminate();
    let stores_after_exit = debug_stores(&tmp);
    let again = ServerProcess::start(dir.path(), &env).await;
    let second = again.sign_up(ada.0, ada.1, ada.2).await;

    // Assert
    assert_eq!(code, Some(0), "{log}");
    assert!(
        log.contains(&mails_url),
        "the start-up log names {mails_url}:\n{log}"
    );
    assert_eq!(stores_while_running.len(), 1, "{stores_while_running:?}");
    assert!(stores_after_exit.is_empty(), "{stores_after_exit:?}");
    assert_eq!(
        second, 200,
        "a new run has a new store: the address is not registered"
    );
}

#[tokio::test]
async fn mail_dates_on_the_debug_page_follow_the_page_language() {
    let app = spawn_app().await;
    app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    let meta = |lang: &'static str| {
        let app = &app;
        async move {
            let page = app
                .get_debug_mails(&[("accept-language", lang)])
                .await
                .text()
                .await
                .unwrap();
            texts(&page, ".mail-meta").remove(0)
        }
    };
    let german =
        regex::Regex::new(r"^An: ada@uni\.example · \d\d\.\d\d\.\d{4}, \d\d:\d\d UTC$").unwrap();
    let english =
        regex::Regex::new(r"^To: ada@uni\.example · \d{4}-\d\d-\d\d \d\d:\d\d UTC$").unwrap();
    let (de, en) = (meta("de").await, meta("en").await);
    assert!(german.is_match(&de), "{de}");
    assert!(english.is_match(&en), "{en}");
}

#[tokio::test]
async fn the_username_breaks_only_after_dots_and_before_the_at_and_has_a_copy_button() {
    // Arrange
    let app = spawn_app().await;
    app.sign_up("sophie@uni.example", "Sophie", "Schöneberg-Grossmann")
        .await;
    let path = app.verification_path("sophie@uni.example").await;

    // Act
    let confirm_page = app.get(&path).await.text().await.unwrap();
    let result = app.confirm(&path).await.text().await.unwrap();

    // Assert: each part is kept whole (CSS), with a break hint between parts.
    for page in [&confirm_page, &result] {
        assert_eq!(
            texts(page, "code.username > span"),
            vec!["sophie.", "schoeneberg-grossmann", "@tenant.", "example"]
        );
        assert_eq!(
            texts(page, "code.username").concat(),
            "sophie.schoeneberg-grossmann@tenant.example"
        );
        assert_eq!(texts(page, "button.copy-button"), vec!["Copy"]);
        assert_eq!(
            attr(page, "button.copy-button", "data-copied").as_deref(),
            Some("Copied")
        );
    }
    assert_eq!(
        texts(&result, "#username"),
        vec!["sophie.schoeneberg-grossmann@tenant.example"]
    );
}
