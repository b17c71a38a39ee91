//! The sign-up with mails going over real SMTP to a loopback server: the TLS modes and
//! login, a refused login, the server being down at either mail, and what the mails contain.

use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

use ms365_accountcreator::mail::SmtpMailer;
use ms365_accountcreator::startup::{Application, Overrides};

use crate::support::flaky_directory::FlakyDirectory;
use crate::support::helpers::{TestApp, attr, test_settings, texts};
use crate::support::smtp::{
    Login, ReceivedMail, SmtpMode, SmtpServer, app_settings, free_port, pairs,
};

const LOGIN: Login = ("mailer", "correct-horse-battery");
const COULD_NOT_SEND: &str =
    "We could not send the confirmation mail just now. Please try again in a few minutes.";

fn subjects(mails: &[ReceivedMail]) -> Vec<&str> {
    mails.iter().map(|m| m.subject.as_str()).collect()
}

/// Signs up, follows the mailed link, confirms, and returns both mails.
async fn sign_up_and_confirm(app: &TestApp, server: &SmtpServer) -> (ReceivedMail, ReceivedMail) {
    let page = app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    assert_eq!(page.status(), 200, "{}", page.text().await.unwrap());
    let verification = server.received().pop().expect("a verification mail");
    let path = verification.verification_path();
    assert_eq!(app.get(&path).await.status(), 200);
    let result = app.confirm(&path).await;
    assert_eq!(result.status(), 200);
    assert_eq!(
        texts(&result.text().await.unwrap(), "#username"),
        vec!["ada.lovelace@tenant.example"]
    );
    let mails = server.received();
    assert_eq!(
        subjects(&mails),
        ["Confirm your sign-up", "Your new account"]
    );
    (mails[0].clone(), mails[1].clone())
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[tokio::test]
async fn both_mails_go_over_starttls_with_login_and_are_well_formed() {
    crate::support::tools::require_tool!(Aiosmtpd);
    // Arrange
    let server = SmtpServer::start(SmtpMode::StartTls, Some(LOGIN));
    let app = TestApp::builder().smtp(&server).spawn().await;

    // Act
    let (verification, password) = sign_up_and_confirm(&app, &server).await;

    // Assert
    for mail in [&verification, &password] {
        assert_eq!(mail.envelope_from, "accounts@uni.example");
        assert_eq!(mail.envelope_to, ["ada@uni.example"]);
        assert_eq!(mail.from, "accounts@uni.example");
        assert_eq!(mail.from_name.as_deref(), Some("Accounts"));
        assert_eq!(mail.to, ["ada@uni.example"]);
        assert_eq!(mail.reply_to.as_deref(), Some("it-support@uni.example"));
        assert_eq!(mail.content_language.as_deref(), Some("en"));
        let sent_at = mail
            .date_unix
            .unwrap_or_else(|| panic!("Date {:?}", mail.date));
        assert!((now_unix() - sent_at).abs() < 300, "Date {:?}", mail.date);
        let (unique, domain) = mail.message_id.split_once('@').expect("id@domain");
        assert_eq!(domain, "uni.example", "{}", mail.message_id);
        assert!(unique.len() >= 16, "{}", mail.message_id);
        assert!(
            mail.raw
                .contains(&format!("Message-ID: <{}>", mail.message_id)),
            "{}",
            mail.raw
        );
    }
    assert_ne!(verification.message_id, password.message_id);
    assert!(
        verification.text.starts_with("Hello,") && !verification.text.contains("Ada"),
        "{}",
        verification.text
    );
    let link = app.url(&verification.verification_path());
    let html = verification.html.as_deref().expect("an HTML alternative");
    assert!(html.contains(&format!(r#"<a href="{link}">"#)), "{html}");
    assert!(html.contains(r#"<html lang="en">"#), "{html}");

    let secret = password.password().expect("the password is in the mail");
    assert!(password.text.contains("ada.lovelace@tenant.example"));
    assert!(
        password
            .html
            .as_deref()
            .is_some_and(|h| h.contains(&format!("<code>{secret}</code>"))),
        "{:?}",
        password.html
    );
    // Mails are sent, not listed.
    assert_eq!(app.get_debug_mails(&[]).await.status(), 404);
}

#[tokio::test]
async fn both_mails_go_over_implicit_tls_with_login() {
    crate::support::tools::require_tool!(Aiosmtpd);
    let server = SmtpServer::start(SmtpMode::Tls, Some(LOGIN));
    let app = TestApp::builder().smtp(&server).spawn().await;
    let (_, password) = sign_up_and_confirm(&app, &server).await;
    assert!(password.password().is_some());
}

#[tokio::test]
async fn both_mails_go_over_plain_smtp_without_login() {
    crate::support::tools::require_tool!(Aiosmtpd);
    let server = SmtpServer::start(SmtpMode::Plain, None);
    let app = TestApp::builder().smtp(&server).spawn().await;
    let (_, password) = sign_up_and_confirm(&app, &server).await;
    assert!(password.password().is_some());
}

#[tokio::test]
async fn an_unknown_certificate_authority_is_refused() {
    crate::support::tools::require_tool!(Aiosmtpd);
    let server = SmtpServer::start(SmtpMode::StartTls, Some(LOGIN));
    let mut settings = server.app_settings();
    settings.retain(|(key, _)| key != "MAIL_SERVER_CA_FILE");
    let app = TestApp::builder().envs(&settings).spawn().await;
    let page = app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    assert_eq!(page.status(), 503);
    assert!(server.received().is_empty());
}

async fn assert_could_not_send(page: reqwest::Response) {
    assert_eq!(page.status(), 503);
    let html = page.text().await.unwrap();
    assert_eq!(texts(&html, ".form-alert"), vec![COULD_NOT_SEND]);
    // Nothing the person typed is lost.
    assert_eq!(
        attr(&html, "input[name=email]", "value").as_deref(),
        Some("ada@uni.example")
    );
    assert_eq!(
        attr(&html, "input[name=first_name]", "value").as_deref(),
        Some("Ada")
    );
    assert_eq!(
        attr(&html, "input[name=last_name]", "value").as_deref(),
        Some("Lovelace")
    );
}

#[tokio::test]
async fn a_refused_login_says_the_mail_could_not_be_sent_and_a_later_submission_works() {
    crate::support::tools::require_tool!(Aiosmtpd);
    // Arrange: the server accepts another password than the one configured.
    let mut server = SmtpServer::start(SmtpMode::StartTls, Some(("mailer", "another-password")));
    let settings = app_settings(server.port(), SmtpMode::StartTls, Some(LOGIN));
    let app = TestApp::builder().envs(&settings).spawn().await;

    // Act + Assert
    assert_could_not_send(app.sign_up("ada@uni.example", "Ada", "Lovelace").await).await;
    assert!(server.received().is_empty());

    server.restart_with_login(Some(LOGIN));
    let (_, password) = sign_up_and_confirm(&app, &server).await;
    assert!(password.password().is_some());
}

#[tokio::test]
async fn the_smtp_server_being_down_at_sign_up_is_reported_and_a_later_submission_works() {
    crate::support::tools::require_tool!(Aiosmtpd);
    let port = free_port();
    let settings = app_settings(port, SmtpMode::StartTls, Some(LOGIN));
    let app = TestApp::builder().envs(&settings).spawn().await;
    assert_could_not_send(app.sign_up("ada@uni.example", "Ada", "Lovelace").await).await;

    let server = SmtpServer::start_on(port, SmtpMode::StartTls, Some(LOGIN));
    let (_, password) = sign_up_and_confirm(&app, &server).await;
    assert!(password.password().is_some());
}

#[tokio::test]
async fn the_smtp_server_being_down_at_the_password_mail_is_resumed_by_confirming_again() {
    crate::support::tools::require_tool!(Aiosmtpd);
    // Arrange
    let mut server = SmtpServer::start(SmtpMode::StartTls, Some(LOGIN));
    let directory = FlakyDirectory::new();
    let app = TestApp::builder()
        .smtp(&server)
        .directory(directory.clone())
        .spawn()
        .await;
    app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    let path = server.received()[0].verification_path();

    // Act: the server goes away between the two mails.
    server.stop();
    let failed = app.confirm(&path).await;

    // Assert: a clear page, the user exists once, nothing mailed.
    assert_eq!(failed.status(), 503);
    assert_eq!(
        texts(&failed.text().await.unwrap(), "h1"),
        vec!["Your account could not be finished yet"]
    );
    assert_eq!(directory.creates.load(Ordering::SeqCst), 1);
    assert_eq!(server.received().len(), 1);
    let page = app.get(&path).await;
    assert_eq!(
        page.status(),
        200,
        "the link still leads to the confirm button"
    );

    // Act: the server is back; confirming again resumes at the password mail.
    server.restart();
    let resumed = app.confirm(&path).await;

    // Assert
    assert_eq!(resumed.status(), 200);
    assert_eq!(
        texts(&resumed.text().await.unwrap(), "#username"),
        vec!["ada.lovelace@tenant.example"]
    );
    assert_eq!(app.confirm(&path).await.status(), 410, "used up");
    let mails = server.received();
    assert_eq!(
        subjects(&mails),
        ["Confirm your sign-up", "Your new account"]
    );
    assert!(mails[1].password().is_some());
    assert_eq!(
        directory.creates.load(Ordering::SeqCst),
        1,
        "one user, not two"
    );
}

#[tokio::test]
async fn german_sign_ups_get_german_mails() {
    crate::support::tools::require_tool!(Aiosmtpd);
    let server = SmtpServer::start(SmtpMode::StartTls, Some(LOGIN));
    let app = TestApp::builder().smtp(&server).spawn().await;
    app.sign_up_in("de", "jo@uni.example", "Jörg", "Müller")
        .await;
    let verification = &server.received()[0];
    assert_eq!(verification.subject, "Bestätigen Sie Ihre Registrierung");
    assert_eq!(verification.content_language.as_deref(), Some("de"));
    assert!(
        verification.text.starts_with("Hallo,"),
        "{}",
        verification.text
    );
    let html = verification.html.as_deref().unwrap();
    assert!(
        html.contains(r#"<html lang="de">"#) && html.contains("Hallo,"),
        "{html}"
    );

    app.confirm_in(&verification.verification_path(), "de")
        .await;
    let password = &server.received()[1];
    assert_eq!(password.subject, "Ihr neues Konto");
    assert_eq!(password.content_language.as_deref(), Some("de"));
    assert!(password.text.contains("joerg.mueller@tenant.example"));
}

#[tokio::test]
async fn markup_in_a_name_stays_text_in_the_html_part() {
    crate::support::tools::require_tool!(Aiosmtpd);
    let server = SmtpServer::start(SmtpMode::Plain, None);
    let app = TestApp::builder().smtp(&server).spawn().await;
    let page = app
        .sign_up("ada@uni.example", "<b>Ada</b><img src=x>", "Lovelace")
        .await;
    assert_eq!(page.status(), 200);
    // The verification mail names no one; the password mail does.
    let path = server.received()[0].verification_path();
    app.confirm(&path).await;
    let mail = &server.received()[1];
    assert!(
        mail.text.starts_with("Hello <b>Ada</b><img src=x>,"),
        "{}",
        mail.text
    );
    let html = mail.html.as_deref().unwrap();
    assert!(
        html.contains("Hello &lt;b&gt;Ada&lt;/b&gt;&lt;img src=x&gt;,"),
        "{html}"
    );
    assert!(!html.contains("<b>") && !html.contains("<img"), "{html}");
}

/// The SMTP mailer as `ms365-accountcreator check` builds it, from the application's settings.
fn mailer_for(settings: &[(String, String)]) -> SmtpMailer {
    let dir = tempfile::tempdir().unwrap();
    let settings = test_settings(dir.path(), &pairs(settings));
    SmtpMailer::from_settings(&settings.mail, &settings.support_email).unwrap()
}

#[tokio::test]
async fn check_connects_and_logs_in_without_sending_a_mail() {
    crate::support::tools::require_tool!(Aiosmtpd);
    for mode in [SmtpMode::StartTls, SmtpMode::Tls] {
        let server = SmtpServer::start(mode, Some(LOGIN));
        let mailer = mailer_for(&server.app_settings());
        mailer
            .check()
            .await
            .unwrap_or_else(|err| panic!("{mode:?}: {err}"));
        assert!(server.received().is_empty());
    }
}

#[tokio::test]
async fn check_explains_an_untrusted_certificate_and_a_refused_login() {
    crate::support::tools::require_tool!(Aiosmtpd);
    let server = SmtpServer::start(SmtpMode::Tls, Some(LOGIN));

    let mut without_ca = server.app_settings();
    without_ca.retain(|(key, _)| key != "MAIL_SERVER_CA_FILE");
    let err = mailer_for(&without_ca)
        .check()
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("certificate is not trusted"), "{err}");
    assert!(err.contains("MAIL_SERVER_CA_FILE"), "{err}");

    let wrong = app_settings(
        server.port(),
        SmtpMode::Tls,
        Some(("mailer", "wrong-password")),
    );
    let err = mailer_for(&wrong).check().await.unwrap_err().to_string();
    assert!(err.contains("535"), "{err}");
    assert!(
        err.contains("check MAIL_SERVER_USER and MAIL_SERVER_PW"),
        "{err}"
    );
    assert!(!err.contains("wrong-password"), "{err}");
}

#[tokio::test]
async fn start_up_refuses_unusable_mail_settings_naming_the_setting() {
    let ca = crate::support::smtp::ca_file();
    let not_a_ca = ca.with_file_name("make-certs.sh");
    let not_a_ca = not_a_ca.to_string_lossy();
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![], "MAIL_SERVER_HOST is empty"),
        (
            vec![
                ("MAIL_SERVER_HOST", "smtp.uni.example"),
                ("MAIL_SERVER_SSL", "true"),
                ("MAIL_SERVER_STARTTLS", "true"),
            ],
            "set MAIL_SERVER_STARTTLS = false",
        ),
        (
            vec![
                ("MAIL_SERVER_HOST", "smtp.uni.example"),
                ("MAIL_SERVER_LOGIN", "false"),
            ],
            "MAIL_SENDING_ADDRESS is empty",
        ),
        (
            vec![
                ("MAIL_SERVER_HOST", "smtp.uni.example"),
                ("MAIL_SENDING_ADDRESS", "accounts@uni.example"),
                ("MAIL_SERVER_CA_FILE", &not_a_ca),
                ("MAIL_SERVER_USER", "mailer"),
                ("MAIL_SERVER_PW", "secret-pw"),
            ],
            "holds no usable certificate",
        ),
    ];
    for (extra, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        let mut extra = extra;
        extra.push(("DEBUG_DONT_SEND_MAIL", "false"));
        let settings = test_settings(dir.path(), &extra);
        let err = match Application::build(&settings, Overrides::default()).await {
            Ok(_) => panic!("started with {extra:?}"),
            Err(err) => format!("{err:#}"),
        };
        assert!(err.contains(expected), "{extra:?}: {err}");
    }
}

/// The sink's permanent refusal, as a mail server answers for a mailbox that no longer
/// exists, is told apart from a refusal of this server (a wrong login): only the first says
/// the mailbox is gone (it ends an account whose re-verification mail it refused).
#[tokio::test]
async fn a_mailbox_refused_for_good_is_told_apart_from_a_refused_login() {
    use ms365_accountcreator::domain::EmailAddress;
    use ms365_accountcreator::mail::{MailError, OutgoingMail};
    crate::support::tools::require_tool!(Aiosmtpd);
    let server = SmtpServer::start(SmtpMode::StartTls, Some(LOGIN));
    server.refuse("gone@uni.example");
    let mail = |to: &str| OutgoingMail {
        to: EmailAddress::parse(to).unwrap(),
        subject: "Test".into(),
        text: "Hello".into(),
        lang: "en".into(),
        carries_secret: false,
    };
    let mailer = mailer_for(&server.app_settings());

    let refused = mailer.send(&mail("gone@uni.example")).await.unwrap_err();
    mailer.send(&mail("ada@uni.example")).await.unwrap();
    let wrong = app_settings(server.port(), SmtpMode::StartTls, Some(("mailer", "nope")));
    let login = mailer_for(&wrong)
        .send(&mail("ada@uni.example"))
        .await
        .unwrap_err();

    assert!(matches!(refused, MailError::Refused(_)), "{refused:?}");
    assert!(refused.to_string().contains("5.1.1"), "{refused}");
    assert!(matches!(login, MailError::Send(_)), "{login:?}");
    let received = server.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].envelope_to, vec!["ada@uni.example"]);
}
