//! A lost temporary password in a real browser, with JavaScript on and off, in both
//! languages: from the sign-up page's link through the mailed link to the new password.

use super::{
    ADA, DE, EN, GRETE, Person, Texts, assert_every_input_is_labelled, follow_mail, in_language,
    open_form,
};
use crate::support::browser_support::{Browser, Js};
use crate::support::helpers::TestApp;
use crate::support::routes::paths;

/// What a person reads on the reset pages in one language.
struct ResetTexts {
    heading: &'static str,
    mailbox: &'static str,
    link_subject: &'static str,
    confirm_heading: &'static str,
    done: &'static str,
    password_subject: &'static str,
}

const RESET_EN: ResetTexts = ResetTexts {
    heading: "Lost your temporary password?",
    mailbox: "Check your mailbox",
    link_subject: "A new temporary password",
    confirm_heading: "Set a new temporary password",
    done: "Your new temporary password",
    password_subject: "Your new temporary password",
};

const RESET_DE: ResetTexts = ResetTexts {
    heading: "Vorläufiges Passwort verloren?",
    mailbox: "Bitte prüfen Sie Ihr Postfach",
    link_subject: "Ein neues vorläufiges Passwort",
    confirm_heading: "Neues vorläufiges Passwort setzen",
    done: "Ihr neues vorläufiges Passwort",
    password_subject: "Ihr neues vorläufiges Passwort",
};

/// Resets on, and Ada's and Grete's accounts made.
async fn app_with_accounts() -> TestApp {
    let app = TestApp::builder().resets().spawn().await;
    for who in [&ADA, &GRETE] {
        app.create_account(who.email, who.first, who.last).await;
    }
    app
}

async fn reset(browser: &Browser, app: &TestApp, t: &Texts, r: &ResetTexts, who: &Person) {
    let js = if browser.js == Js::On { "js" } else { "nojs" };
    let shots = format!("{}-{js}-reset", t.lang);
    // From the sign-up page's link to the form, in the page's language.
    open_form(browser, app, t).await;
    browser.mark_document().await;
    browser.click("p.reset-link a").await;
    browser.wait_for_page("the reset page").await;
    assert_eq!(browser.path().await, paths::password_in(t.lang));
    assert_eq!(browser.attr("html", "lang").await.as_deref(), Some(t.lang));
    assert_eq!(browser.text("h1").await, r.heading);
    assert_every_input_is_labelled(browser).await;
    browser.inspect(&format!("{shots}-1-form"), &[]).await;

    // Ask: the neutral answer, swapped in place with JavaScript, a new page without.
    browser.type_into("#reset-email", who.email).await;
    browser.mark_document().await;
    browser.click("#password button[type=submit]").await;
    if browser.js == Js::On {
        let script = format!(
            "const h = document.querySelector('#password h1'); return !!h && h.textContent === {:?}",
            r.mailbox
        );
        browser
            .wait_for("the answer to replace the form", &script)
            .await;
        assert!(
            browser.same_document().await,
            "the form was swapped, not loaded"
        );
        browser
            .wait_for(
                "the focus to move to the answer",
                "return document.activeElement && document.activeElement.id === 'password'",
            )
            .await;
    } else {
        browser.wait_for_page("the answer").await;
        assert_eq!(browser.text("#password h1").await, r.mailbox);
    }
    assert!(browser.text("#password").await.contains(who.email));
    browser.inspect(&format!("{shots}-2-sent"), &[]).await;

    // The mailed link: the username and the button; the button sets the new password.
    follow_mail(browser, app, who.email, r.link_subject).await;
    assert!(browser.path().await.starts_with(paths::PASSWORD_LINK));
    in_language(browser, t.lang, "the link's page in the other language").await;
    assert_eq!(browser.text("h1").await, r.confirm_heading);
    assert_eq!(browser.text("dd code.username").await, who.username);
    browser.inspect(&format!("{shots}-3-link"), &[]).await;
    browser.mark_document().await;
    browser.click_text("button", r.confirm_heading).await;
    browser.wait_for_page("the new password's page").await;
    assert_eq!(browser.text("h1").await, r.done);
    assert_eq!(browser.text("#username").await, who.username);
    browser.inspect(&format!("{shots}-4-done"), &[]).await;
    let mail = app.mails_to(who.email).await.remove(0);
    assert_eq!(mail.subject, r.password_subject);
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver: run tests/run (installs them), or cargo test -- --ignored"]
async fn with_javascript_a_lost_password_is_replaced_in_both_languages() {
    let app = app_with_accounts().await;
    let browser = Browser::start(Js::On).await;

    reset(&browser, &app, &EN, &RESET_EN, &ADA).await;
    reset(&browser, &app, &DE, &RESET_DE, &GRETE).await;

    browser.close().await;
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver: run tests/run (installs them), or cargo test -- --ignored"]
async fn without_javascript_a_lost_password_is_replaced_in_both_languages() {
    let app = app_with_accounts().await;
    let browser = Browser::start(Js::Off).await;

    reset(&browser, &app, &EN, &RESET_EN, &ADA).await;
    reset(&browser, &app, &DE, &RESET_DE, &GRETE).await;

    browser.close().await;
}
