//! The mailbox has its account already: the directory holds a user carrying its tag, made
//! before this store knew the mailbox. Nothing was created; the person learns the username
//! and where a lost password (or Temporary Access Pass) is replaced.

use maud::{Markup, html};
use url::Url;

use super::verify::credentials;
use crate::i18n::{Tr, n_};

/// The answer to a confirm (and the status of its link) when the mailbox's account exists:
/// the username, the reset page when resets are on (`reset_page`), else whom to ask.
/// `pass`: a reset makes a Temporary Access Pass, so the page offers one, not a password.
pub fn existing_account(
    tr: &Tr,
    username: &str,
    sign_in_url: &Url,
    reset_page: Option<&str>,
    support: &str,
    pass: bool,
) -> Markup {
    let host = sign_in_url.host_str().unwrap_or(sign_in_url.as_str());
    let lost = match pass {
        true => [
            n_("If you can no longer sign in with it, you can get a new Temporary Access Pass."),
            n_("Get a new Temporary Access Pass"),
            n_("If you can no longer sign in with it, please contact support."),
            n_("If you can no longer sign in with it, please write to {support}."),
        ],
        false => [
            n_("If you no longer have its password, you can get a new temporary password."),
            n_("Get a new password"),
            n_("If you no longer have its password, please contact support."),
            n_("If you no longer have its password, please write to {support}."),
        ],
    };
    html! {
        section #account-status .panel role="status" {
            h1 { (tr.t("This address already has an account")) }
            p { (tr.t("An account was created for this e-mail address before, so no second one is made. You can go on using it.")) }
            (credentials(tr, username, None))
            @if let Some(page) = reset_page {
                p { (tr.t(lost[0])) }
                p { a.button href=(page) { (tr.t(lost[1])) } }
            } @else if support.is_empty() {
                p { (tr.t(lost[2])) }
            } @else {
                p { (tr.tf(lost[3], &[("support", support)])) }
            }
            p { a href=(sign_in_url) { (tr.tf("Sign in at {host}", &[("host", host)])) } }
        }
    }
}
