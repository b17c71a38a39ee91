//! The pages behind a verification link: confirm, result, and every way a link can fail.

use maud::{Markup, html};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::pass::{PassView, first_sign_in, pass_details};
use super::username::username_value;
use crate::i18n::Tr;
use crate::signup::{LinkError, PassOutcome, Provisioned};
use crate::web::paths::Links;
use crate::web::refusal::Refusal;

/// Who is about to be created (`name` is first and family name), with the confirm button.
/// `resume` is set when an earlier attempt did not finish; `problem` says why the last press
/// did nothing.
pub fn confirm(
    tr: &Tr,
    links: &Links,
    token: &str,
    name: &str,
    username: &str,
    resume: bool,
    problem: Option<&str>,
) -> Markup {
    html! {
        section.panel {
            h1 { (tr.t("Confirm your account")) }
            @if let Some(problem) = problem {
                div.form-alert role="alert" tabindex="-1" autofocus { p { (problem) } }
            }
            @if resume {
                p { (tr.t("Your account was not finished last time. Press the button to continue where it stopped.")) }
            } @else {
                p { (tr.t("Please check the details and confirm. Only then is your account created.")) }
            }
            dl.details {
                // Translators: label of the person's full name on the confirm page.
                dt { (tr.t("Name")) }
                dd { (name) }
                @if !username.is_empty() {
                    // Translators: label of the new account's sign-in name (first.last@domain).
                    dt { (tr.t("Username")) }
                    dd { (username_value(tr, username, None)) }
                }
            }
            @if !resume {
                p.hint { (tr.t("If this username is taken already, a number is added to it.")) }
            }
            (confirm_button(tr, links, token, if resume { tr.t("Continue") } else { tr.t("Create my account") }))
        }
    }
}

fn confirm_button(tr: &Tr, links: &Links, token: &str, label: &str) -> Markup {
    post_button(tr, &links.verify(token), label)
}

/// A form of one button posting to `action` (a link's page: confirm, set a password), in
/// the page's language.
pub(super) fn post_button(tr: &Tr, action: &str, label: &str) -> Markup {
    html! {
        form method="post" action=(action) {
            input type="hidden" name="lang" value=(tr.lang());
            button.button type="submit" { (label) }
        }
    }
}

/// The username, and the temporary password when it is shown on the page, with the note
/// that it is shown only once.
pub(super) fn credentials(tr: &Tr, username: &str, password: Option<&SecretString>) -> Markup {
    html! {
        dl.details {
            dt { (tr.t("Username")) }
            dd { (username_value(tr, username, Some("username"))) }
            @if let Some(password) = password {
                dt { (tr.t("Temporary password")) }
                dd { code #password { (password.expose_secret()) } }
            }
        }
        @if password.is_some() {
            p.notice { (tr.t("Write the password down now: it is shown only this once.")) }
        }
    }
}

/// The account exists: username and how the password arrives; `reset_page` is where a lost
/// temporary password is replaced, when that is enabled.
pub fn created(
    tr: &Tr,
    result: &Provisioned,
    sign_in_url: &Url,
    reset_page: Option<&str>,
) -> Markup {
    if let Some(pass) = &result.pass {
        return created_with_pass(tr, result, pass, sign_in_url, reset_page);
    }
    let host = sign_in_url.host_str().unwrap_or(sign_in_url.as_str());
    html! {
        section.panel.panel--success {
            h1 { (tr.t("Your account is ready")) }
            (credentials(tr, &result.user_principal_name, result.password_on_page.as_ref()))
            @if result.password_mailed {
                p { (tr.t("We have sent your temporary password to your e-mail address.")) }
            }
            p { (tr.t("When you first sign in, you must choose a new password of your own.")) }
            // Translators: {host} is where people sign in, e.g. www.office.com (SIGN_IN_URL).
            p { a.button href=(sign_in_url) { (tr.tf("Sign in at {host}", &[("host", host)])) } }
            @if let Some(page) = reset_page {
                p.hint { a href=(page) { (tr.t("Lost your temporary password? Get a new one.")) } }
            }
        }
    }
}

/// The account exists and its first sign-in rests on a Temporary Access Pass: username,
/// the pass (when shown here), when it stops working, and the first sign-in in three steps;
/// `reset_page` is where a lost pass is replaced, when that is enabled.
fn created_with_pass(
    tr: &Tr,
    result: &Provisioned,
    pass: &PassOutcome,
    sign_in_url: &Url,
    reset_page: Option<&str>,
) -> Markup {
    let view = PassView {
        shown: pass.shown.as_ref(),
        expires_at: pass.expires_at,
        usable_once: pass.usable_once,
        mailed: result.password_mailed,
    };
    html! {
        section.panel.panel--success {
            h1 { (tr.t("Your account is ready")) }
            (pass_details(tr, &result.user_principal_name, view))
            (first_sign_in(tr, sign_in_url))
            @if let Some(page) = reset_page {
                p.hint { a href=(page) { (tr.t("Lost your Temporary Access Pass? Get a new one.")) } }
            }
        }
    }
}

/// A link that leads nowhere, with a way to start over; `pass`: accounts get a Temporary
/// Access Pass, so a used link's page speaks of one.
pub fn link_problem(tr: &Tr, links: &Links, problem: LinkError, pass: bool) -> Markup {
    let text = match problem {
        LinkError::Used if pass => tr.t("The account for this address has been created. If you have lost your Temporary Access Pass, contact support."),
        LinkError::Expired => tr.t("Links are valid for a limited time. Please fill in the form again to get a new one."),
        LinkError::Invalid => tr.t("The link may be incomplete: copy the whole link from the mail, or fill in the form again."),
        LinkError::Unknown => tr.t("The sign-up this link belongs to no longer exists. Please fill in the form again."),
        LinkError::Used => tr.t("The account for this address has been created. If you have lost the password, contact support."),
        LinkError::AddressTaken => tr.t("An account has already been created for this e-mail address."),
    };
    html! {
        section.panel.panel--warning {
            h1 { (problem.message(tr)) }
            p { (text) }
            p { a.button href=(links.home_in(tr.lang())) { (tr.t("Start over")) } }
        }
    }
}

/// Provisioning stopped; nothing is lost and confirming again resumes.
pub fn provisioning_failed(tr: &Tr, links: &Links, token: &str, busy: bool) -> Markup {
    html! {
        section.panel.panel--warning role="alert" {
            h1 { (tr.t("Your account could not be finished yet")) }
            @if busy {
                p { (tr.t("Your account is being created right now. Please wait a moment and press the button again.")) }
            } @else {
                p { (tr.t("Something went wrong while creating your account. Nothing is lost: please try again in a few minutes.")) }
            }
            (confirm_button(tr, links, token, tr.t("Try again")))
        }
    }
}

/// The voucher no longer admits this sign-up (used up, say, between the mail and now):
/// nothing was created, and the link still works with another voucher typed here.
pub fn voucher_refused(tr: &Tr, links: &Links, token: &str, problem: &str) -> Markup {
    html! {
        section.panel.panel--warning {
            h1 { (tr.t("Your voucher cannot be used")) }
            div.form-alert role="alert" tabindex="-1" autofocus { p #voucher-error { (problem) } }
            p { (tr.t("Nothing was created, and this link still works: if you have another voucher code, enter it here.")) }
            form method="post" action=(links.verify(token)) {
                input type="hidden" name="lang" value=(tr.lang());
                div.field {
                    label for="voucher" { (tr.t("Voucher code")) }
                    input #voucher type="text" name="voucher" required maxlength="64"
                        autocomplete="off" spellcheck="false" autocapitalize="characters"
                        aria-describedby="voucher-error";
                }
                button.button type="submit" { (tr.t("Create my account")) }
            }
        }
    }
}
