//! Pages for HTTP errors; never with internal details.

use maud::{Markup, html};
use poem::http::StatusCode;

use crate::i18n::{Tr, n_};
use crate::web::paths::Links;

/// The message naming what went wrong, untranslated.
pub fn title_msgid(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => n_("Page not found"),
        StatusCode::METHOD_NOT_ALLOWED => n_("Method not allowed"),
        StatusCode::FORBIDDEN => n_("Request refused"),
        StatusCode::PAYLOAD_TOO_LARGE => n_("Too much data"),
        StatusCode::REQUEST_TIMEOUT => n_("The request took too long"),
        StatusCode::TOO_MANY_REQUESTS => n_("Too many requests"),
        s if s.is_client_error() => n_("The request could not be read"),
        _ => n_("Something went wrong"),
    }
}

pub fn title(tr: &Tr, status: StatusCode) -> &str {
    tr.t(title_msgid(status))
}

/// The error page's panel, as the page region `region` (`signup`, `password`, `console`):
/// an HTMX request swaps it in for that region, which it then still is.
pub fn error_panel(tr: &Tr, links: &Links, status: StatusCode, region: &str) -> Markup {
    let text = match status {
        StatusCode::NOT_FOUND => tr.t("There is nothing at this address. Check the link, or start from the sign-up page."),
        StatusCode::METHOD_NOT_ALLOWED => tr.t("This address does not take this kind of request. Please start from the sign-up page."),
        StatusCode::FORBIDDEN => tr.t("The form was sent from another site, so it was not accepted. Please open the sign-up page and send it from there."),
        StatusCode::PAYLOAD_TOO_LARGE => tr.t("The form sent more data than expected. Please fill it in again."),
        StatusCode::REQUEST_TIMEOUT => tr.t("The form arrived too slowly, so it was not accepted. Please send it again."),
        StatusCode::TOO_MANY_REQUESTS => tr.t("Please wait a while before trying again."),
        s if s.is_client_error() => tr.t("The form could not be read. Please fill it in again."),
        _ => tr.t("An unexpected error occurred. Please try again in a few minutes; if it persists, contact support."),
    };
    html! {
        section id=(region) .panel .panel--warning role="alert" {
            h1 { (title(tr, status)) }
            p { (text) }
            p { a.button href=(links.home_in(tr.lang())) { (tr.t("Go to the sign-up page")) } }
        }
    }
}
