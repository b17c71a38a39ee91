//! A Temporary Access Pass on the result pages: the pass when it is shown here, when it stops
//! working, and the first sign-in in three short steps.

use maud::{Markup, html};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::username::username_value;
use crate::domain::SECURITY_INFO_URL;
use crate::i18n::{Tr, rfc3339};

/// What the page says about a pass.
#[derive(Debug, Clone, Copy)]
pub struct PassView<'a> {
    /// The pass itself, when it is shown on the page (`PASSWORD_DELIVERY` = `page`/`both`).
    pub shown: Option<&'a SecretString>,
    /// When it stops working (Unix seconds).
    pub expires_at: u64,
    pub usable_once: bool,
    /// Whether it went to the person's mailbox too.
    pub mailed: bool,
}

/// The username and the pass (when shown here), and when the pass stops working.
pub fn pass_details(tr: &Tr, username: &str, view: PassView<'_>) -> Markup {
    html! {
        dl.details {
            dt { (tr.t("Username")) }
            dd { (username_value(tr, username, Some("username"))) }
            @if let Some(pass) = view.shown {
                dt { (tr.t("Temporary Access Pass")) }
                dd { code #pass { (pass.expose_secret()) } }
            }
            // Translators: label of the moment a Temporary Access Pass stops working.
            dt { (tr.t("Valid until")) }
            dd { (moment(tr, view.expires_at)) }
        }
        @if view.shown.is_some() {
            p.notice { (tr.t("Write the pass down now: it is shown only this once.")) }
        }
        @if view.mailed {
            p { (tr.t("We have sent your Temporary Access Pass to your e-mail address.")) }
        }
        @if view.usable_once {
            p { (tr.t("The pass works for one sign-in only.")) }
        }
    }
}

/// The first sign-in with a pass, in three steps, and the way to the sign-in page.
pub fn first_sign_in(tr: &Tr, sign_in_url: &Url) -> Markup {
    let host = sign_in_url.host_str().unwrap_or(sign_in_url.as_str());
    html! {
        h2 { (tr.t("Your first sign-in")) }
        ol.steps {
            // Translators: {host} is where people sign in, e.g. www.office.com (SIGN_IN_URL).
            li { (tr.tf("Open {host} and enter your username.", &[("host", host)])) }
            li { (tr.t("When you are asked for your Temporary Access Pass, enter the pass.")) }
            li {
                (tr.t("Set up how you will sign in from now on, for example with the Microsoft Authenticator app or a passkey, before the pass expires:"))
                " " a href=(SECURITY_INFO_URL) { (SECURITY_INFO_URL.trim_start_matches("https://")) }
            }
        }
        p { a.button href=(sign_in_url) { (tr.tf("Sign in at {host}", &[("host", host)])) } }
    }
}

/// A moment in UTC, marked up so that the browser can show it in the reader's time zone.
pub fn moment(tr: &Tr, unix_seconds: u64) -> Markup {
    html! {
        time datetime=(rfc3339(unix_seconds)) data-local-time { (tr.utc_time(unix_seconds)) }
    }
}
