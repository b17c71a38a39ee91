//! The mailbox has its account already: the directory holds a user carrying its tag, made
//! before this store knew the mailbox. Nothing was created; the person learns the username
//! and where a lost password is replaced.

use maud::{Markup, html};
use url::Url;

use super::verify::credentials;
use crate::i18n::Tr;

/// The answer to a confirm (and the status of its link) when the mailbox's account exists:
/// the username, the reset page when resets are on (`reset_page`), else whom to ask.
pub fn existing_account(
    tr: &Tr,
    username: &str,
    sign_in_url: &Url,
    reset_page: Option<&str>,
    support: &str,
) -> Markup {
    let host = sign_in_url.host_str().unwrap_or(sign_in_url.as_str());
    html! {
        section #account-status .panel role="status" {
            h1 { (tr.t("This address already has an account")) }
            p { (tr.t("An account was created for this e-mail address before, so no second one is made. You can go on using it.")) }
            (credentials(tr, username, None))
            @if let Some(page) = reset_page {
                p { (tr.t("If you no longer have its password, you can get a new temporary password.")) }
                p { a.button href=(page) { (tr.t("Get a new password")) } }
            } @else if support.is_empty() {
                p { (tr.t("If you no longer have its password, please contact support.")) }
            } @else {
                p { (tr.tf("If you no longer have its password, please write to {support}.", &[("support", support)])) }
            }
            p { a href=(sign_in_url) { (tr.tf("Sign in at {host}", &[("host", host)])) } }
        }
    }
}
