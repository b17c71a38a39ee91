//! A lost temporary password (issue 18): asking for a link, the link's page and button, and
//! everything that must refuse — through the debug outbox and the simulated directory here
//! and in `links`, against the fake Graph and a real SMTP server in `graph`, the limits, the
//! JSON API and the metrics in `limits`.

mod graph;
mod limits;
mod links;
mod pass_edges;
mod pass_texts;
mod stalled;

use crate::support::helpers::{ListedMail, TestApp, texts};

// The reset steps as the tests here (and some elsewhere) call them; each is the `TestApp`
// method of the same job.

/// Signs up and confirms: the account exists, made by this server.
pub(crate) async fn create_account(app: &TestApp, email: &str, first: &str, last: &str) {
    app.create_account(email, first, last).await;
}

/// Asks for a reset link as a browser without JavaScript does.
pub(crate) async fn ask_for_reset(app: &TestApp, email: &str, lang: &str) -> reqwest::Response {
    app.post_password(email, lang).await
}

/// The mails to `email`, newest first.
pub(crate) async fn mails_to(app: &TestApp, email: &str) -> Vec<ListedMail> {
    app.mails_to(email).await
}

/// The path (`/password/…`) of the reset link in the newest mail to `email`.
pub(crate) async fn reset_path(app: &TestApp, email: &str) -> String {
    app.reset_path(email).await
}

/// The answer's text paragraphs with the address written as `EMAIL`, to compare answers.
async fn neutral_text(response: reqwest::Response, email: &str) -> Vec<String> {
    let page = response.text().await.unwrap();
    texts(&page, "#password h1, #password p")
        .into_iter()
        .map(|text| text.replace(email, "EMAIL"))
        .collect()
}
