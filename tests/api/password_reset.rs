//! A lost temporary password (issue 18): asking for a link, the link's page and button, and
//! everything that must refuse — through the debug outbox and the simulated directory here
//! and in `links`, against the fake Graph and a real SMTP server in `graph`, the limits, the
//! JSON API and the metrics in `limits`.

mod graph;
mod limits;
mod links;
mod stalled;

use ms365_accountcreator::startup::Overrides;

use crate::support::helpers::{ListedMail, TestApp, spawn_app_with, texts};

/// Resets on, mails kept in the debug outbox, the directory simulated.
const ENABLED: &[(&str, &str)] = &[("PASSWORD_RESET_ENABLED", "true")];

async fn spawn_enabled(extra: &[(&str, &str)]) -> TestApp {
    let settings: Vec<(&str, &str)> = ENABLED.iter().chain(extra).copied().collect();
    spawn_app_with(&settings, Overrides::default()).await
}

/// Signs up and confirms: the account exists, made by this server.
pub(crate) async fn create_account(app: &TestApp, email: &str, first: &str, last: &str) {
    app.sign_up(email, first, last).await;
    let path = app.verification_path(email).await;
    let result = app.post_form(&path, &[("lang", "en")]).await;
    assert_eq!(result.status(), 200, "the account is created");
}

/// Asks for a reset link as a browser without JavaScript does.
pub(crate) async fn ask_for_reset(app: &TestApp, email: &str, lang: &str) -> reqwest::Response {
    app.post_form("/password", &[("email", email), ("lang", lang)])
        .await
}

/// The mails to `email`, newest first.
pub(crate) async fn mails_to(app: &TestApp, email: &str) -> Vec<ListedMail> {
    app.mails()
        .await
        .into_iter()
        .filter(|mail| mail.meta.contains(email))
        .collect()
}

/// The path (`/password/…`) of the reset link in the newest mail to `email`.
pub(crate) async fn reset_path(app: &TestApp, email: &str) -> String {
    let mail = mails_to(app, email)
        .await
        .into_iter()
        .find(|mail| mail.links.iter().any(|link| link.contains("/password/")))
        .expect("a reset link mailed to the address");
    let link = mail
        .links
        .iter()
        .find(|link| link.contains("/password/"))
        .expect("a reset link");
    link.strip_prefix(&app.address)
        .expect("the link points at this server")
        .to_owned()
}

/// The answer's text paragraphs with the address written as `EMAIL`, to compare answers.
async fn neutral_text(response: reqwest::Response, email: &str) -> Vec<String> {
    let page = response.text().await.unwrap();
    texts(&page, "#password h1, #password p")
        .into_iter()
        .map(|text| text.replace(email, "EMAIL"))
        .collect()
}
