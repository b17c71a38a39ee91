//! Sign-up in a real browser (headless Chromium through chromedriver), with JavaScript on and
//! off, in both languages, and by keyboard alone. Every step is checked for console and CSP
//! problems, axe-core's serious and critical findings, sideways scrolling at 320 px, and
//! photographed at 320 and 1280 px into `target/screenshots/`.

mod console;
mod console_vouchers;
mod keyboard;
mod pass;
mod password_reset;
mod vouchers;
mod waiting;
mod with_javascript;
mod without_javascript;

use std::path::Path;

use crate::support::browser_support::{Browser, Js};
use crate::support::helpers::TestApp;
use crate::support::routes::paths;

/// What a person reads in one language.
pub struct Texts {
    pub lang: &'static str,
    pub heading: &'static str,
    pub address_ok: &'static str,
    pub address_invalid: &'static str,
    pub continue_button: &'static str,
    pub summary: &'static str,
    pub name_unsupported: &'static str,
    pub already_used: &'static str,
    pub mailbox: &'static str,
    pub mail_subject: &'static str,
    pub confirm_heading: &'static str,
    pub confirm_button: &'static str,
    pub ready: &'static str,
}

pub const EN: Texts = Texts {
    lang: "en",
    heading: "Get your Microsoft 365 account",
    address_ok: "This address can be used.",
    address_invalid: "This is not a valid e-mail address.",
    continue_button: "Check address and continue",
    summary: "Please correct the marked fields.",
    name_unsupported: "No username can be made from this name. Please write it in Latin letters, as in your passport.",
    already_used: "An account has already been created for this e-mail address.",
    mailbox: "Check your mailbox",
    mail_subject: "Confirm your sign-up",
    confirm_heading: "Confirm your account",
    confirm_button: "Create my account",
    ready: "Your account is ready",
};

pub const DE: Texts = Texts {
    lang: "de",
    heading: "Ihr Microsoft-365-Konto",
    address_ok: "Diese Adresse kann verwendet werden.",
    address_invalid: "Das ist keine gültige E-Mail-Adresse.",
    continue_button: "Adresse prüfen und weiter",
    summary: "Bitte korrigieren Sie die markierten Felder.",
    name_unsupported: "Aus diesem Namen lässt sich kein Benutzername bilden. Bitte schreiben Sie ihn in lateinischen Buchstaben, wie in Ihrem Pass.",
    already_used: "Für diese E-Mail-Adresse wurde bereits ein Konto angelegt.",
    mailbox: "Bitte prüfen Sie Ihr Postfach",
    mail_subject: "Bestätigen Sie Ihre Registrierung",
    confirm_heading: "Konto bestätigen",
    confirm_button: "Mein Konto anlegen",
    ready: "Ihr Konto ist fertig",
};

/// Who signs up, and the username that gives.
pub struct Person {
    pub email: &'static str,
    pub first: &'static str,
    pub last: &'static str,
    pub username: &'static str,
}

pub const ADA: Person = Person {
    email: "ada@uni.example",
    first: "Ada",
    last: "Lovelace",
    username: "ada.lovelace@tenant.example",
};

pub const GRETE: Person = Person {
    email: "grete@uni.example",
    first: "Grete",
    last: "Müller",
    username: "grete.mueller@tenant.example",
};

/// A deliberately invalid form is answered with 422, which Chromium logs as a failed load.
pub const INVALID_FORM: &[&str] = &["status of 422"];

/// Opens the sign-up page and, for German, switches language with the switcher as a person
/// would (the browser itself asks for English).
pub async fn open_form(browser: &Browser, app: &TestApp, t: &Texts) {
    browser.goto(&app.url(paths::HOME)).await;
    assert_eq!(browser.attr("html", "lang").await.as_deref(), Some("en"));
    if t.lang != "en" {
        switch_language(browser, t.lang, "the page in the other language").await;
        assert_eq!(browser.path().await, paths::home_in(t.lang));
    }
    assert_eq!(browser.attr("html", "lang").await.as_deref(), Some(t.lang));
    assert_eq!(browser.text("h1").await, t.heading);
    assert_eq!(
        browser.attr("input[name=lang]", "value").await.as_deref(),
        Some(t.lang),
        "the form carries the language"
    );
    assert_eq!(
        browser.js == Js::On,
        browser
            .js_bool("return document.documentElement.classList.contains('js')")
            .await,
        "the page's scripts run exactly when JavaScript is on"
    );
}

/// Every form control a person fills in has a visible label naming it.
pub async fn assert_every_input_is_labelled(browser: &Browser) {
    let unlabelled = browser
        .js(
            "return [...document.querySelectorAll('input:not([type=hidden]), button, select, textarea')]
               .filter((e) => e.tagName === 'BUTTON'
                   ? !e.textContent.trim()
                   : !(e.labels && [...e.labels].some((l) => l.textContent.trim())))
               .map((e) => e.outerHTML);",
            vec![],
        )
        .await;
    assert_eq!(
        unlabelled,
        serde_json::json!([]),
        "form controls without a label"
    );
}

/// The texts an element's `aria-describedby` points at, as a screen reader reads them.
pub async fn description_of(browser: &Browser, css: &str) -> String {
    browser
        .js(
            "const e = document.querySelector(arguments[0]);
             return (e.getAttribute('aria-describedby') || '').split(/\\s+/)
               .map((id) => document.getElementById(id)).filter((d) => d)
               .map((d) => d.textContent.trim()).join(' | ');",
            vec![serde_json::json!(css)],
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The error shown for `field`: visible, next to the field, tied to it and marked.
pub async fn assert_field_error(browser: &Browser, field: &str, message: &str) {
    let error = format!("#{field}-error");
    assert!(browser.shown(&error).await, "{error} is shown");
    assert_eq!(browser.text(&error).await, message);
    assert_eq!(
        browser
            .attr(&format!("#{field}"), "aria-invalid")
            .await
            .as_deref(),
        Some("true"),
        "{field} is marked invalid"
    );
    assert!(
        description_of(browser, &format!("#{field}"))
            .await
            .contains(message),
        "{field} is described by its error"
    );
    assert!(
        browser
            .js_bool(&format!(
                "const f = document.getElementById('{field}'), e = document.getElementById('{field}-error');
                 const box = f.closest('.field, .check, fieldset');
                 return box.contains(e) || box.nextElementSibling === e;"
            ))
            .await,
        "{error} sits next to its field"
    );
}

/// Clicks the switcher's link to `lang` and waits for `what` to load.
async fn switch_language(browser: &Browser, lang: &str, what: &str) {
    browser.mark_document().await;
    browser
        .click(&format!("nav.lang-switch a[hreflang={lang}]"))
        .await;
    browser.wait_for_page(what).await;
}

/// A page behind a mailed link follows the browser's language (the link carries none): the
/// switcher keeps the link and changes to `lang` when it differs.
pub async fn in_language(browser: &Browser, lang: &str, what: &str) {
    if browser.attr("html", "lang").await.as_deref() != Some(lang) {
        switch_language(browser, lang, what).await;
    }
}

/// `/debug/mails` → the newest mail to `email` (its subject must be `subject`: the person's
/// language) → its link, and waits for the page behind it.
pub async fn follow_mail(browser: &Browser, app: &TestApp, email: &str, subject: &str) {
    browser.goto(&app.url(paths::DEBUG_MAILS)).await;
    for mail in browser.find_all("article.mail").await {
        let text = |css: &'static str| {
            let mail = mail.clone();
            async move {
                let found = mail.find(fantoccini::Locator::Css(css)).await.expect(css);
                found.text().await.expect("text")
            }
        };
        if !text(".mail-meta").await.contains(email) {
            continue;
        }
        assert_eq!(
            text("h2").await,
            subject,
            "the newest mail, in the person's language"
        );
        browser.mark_document().await;
        let link = mail.find(fantoccini::Locator::Css("a.mail-link")).await;
        link.expect("a link in the mail")
            .click()
            .await
            .expect("click");
        browser.wait_for_page("the page behind the link").await;
        return;
    }
    panic!("no mail to {email} at /debug/mails");
}

/// `/debug/mails` → the link in the newest mail to `email` → confirm → the result page.
pub async fn confirm_by_mail(
    browser: &Browser,
    app: &TestApp,
    t: &Texts,
    who: &Person,
    shots: &str,
) {
    follow_mail(browser, app, who.email, t.mail_subject).await;
    assert!(browser.path().await.starts_with(paths::VERIFY));
    in_language(browser, t.lang, "the confirm page in the other language").await;
    assert_eq!(browser.text("h1").await, t.confirm_heading);
    assert_eq!(
        browser.texts("dd").await[0],
        format!("{} {}", who.first, who.last)
    );
    assert_eq!(browser.text("dd code.username").await, who.username);
    browser.inspect(&format!("{shots}-6-confirm"), &[]).await;

    browser.mark_document().await;
    browser.click_text("button", t.confirm_button).await;
    browser.wait_for_page("the result page").await;
    assert_eq!(browser.text("h1").await, t.ready);
    assert_eq!(browser.text("#username").await, who.username);
    browser.inspect(&format!("{shots}-7-result"), &[]).await;
}

#[tokio::test]
#[should_panic(expected = "The browser tests need Chromium and chromedriver")]
async fn a_missing_chromedriver_fails_a_browser_test_instead_of_passing_it() {
    Browser::start_with(Path::new("/nonexistent/chromedriver"), Js::On).await;
}
