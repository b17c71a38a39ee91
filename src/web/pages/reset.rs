//! The pages of a lost temporary password: asking for a link, the neutral answer, the
//! link's page with its button, the new password, and every way a link can fail.

use maud::{Markup, html};
use url::Url;

use super::pass::{PassView, first_sign_in, pass_details};
use super::verify::{credentials, post_button};
use crate::i18n::{Tr, n_};
use crate::signup::{LinkError, PasswordReset};
use crate::web::paths::Links;
use crate::web::refusal::Refusal;

/// The request form: what was entered and what is wrong with it.
pub struct RequestView<'a> {
    pub email: &'a str,
    /// Whether a reset makes a Temporary Access Pass rather than a password.
    pub pass: bool,
    /// The address's problem, shown under the field.
    pub error: Option<&'a str>,
    /// A problem not tied to the field (a limit, a failure).
    pub general_error: Option<&'a str>,
}

/// One field, the institutional address. With HTMX the answer replaces the section.
pub fn request_form(tr: &Tr, links: &Links, view: &RequestView<'_>) -> Markup {
    html! {
        section #password .panel {
            h1 { (request_title(tr, view.pass)) }
            @if view.pass {
                p { (tr.t("If your account was created here, you can get a new Temporary Access Pass. Enter your institutional e-mail address and we send you a link.")) }
            } @else {
                p { (tr.t("If your account was created here, you can get a new temporary password. Enter your institutional e-mail address and we send you a link.")) }
            }
            @if let Some(message) = view.general_error {
                div.form-alert role="alert" tabindex="-1" autofocus { p { (message) } }
            }
            form method="post" action=(links.password()) data-hx-post=(links.password())
                data-hx-target="#password" data-hx-swap="outerHTML" {
                input type="hidden" name="lang" value=(tr.lang());
                div.field {
                    label for="reset-email" { (tr.t("Institutional e-mail address")) }
                    input #reset-email type="email" name="email" value=(view.email) autocomplete="email"
                        required maxlength="190" spellcheck="false" autocapitalize="off"
                        autofocus[view.error.is_some()]
                        aria-invalid=[view.error.map(|_| "true")]
                        aria-describedby=[view.error.map(|_| "reset-email-error")];
                    @if let Some(error) = view.error {
                        p.field-error #reset-email-error { (error) }
                    }
                }
                div.actions {
                    button.button type="submit" { (tr.t("Send me a link")) }
                }
            }
            p { a href=(links.home_in(tr.lang())) { (tr.t("Go to the sign-up page")) } }
        }
    }
}

/// The request page's heading and title; `pass`: resets make Temporary Access Passes.
pub fn request_title(tr: &Tr, pass: bool) -> &str {
    match pass {
        true => tr.t("Lost your Temporary Access Pass?"),
        false => tr.t("Lost your temporary password?"),
    }
}

/// The same answer whether or not the address has an account; `pass`: the link leads to a
/// new Temporary Access Pass.
pub fn request_sent(tr: &Tr, links: &Links, email: &str, valid_minutes: u64, pass: bool) -> Markup {
    html! {
        section #password .panel .panel--success role="status" tabindex="-1" autofocus {
            h1 { (tr.t("Check your mailbox")) }
            p { (tr.tf("If an account was created here for {email}, we have sent a link to this address.", &[("email", email)])) }
            // Translators: {count} is the number of minutes the mailed link stays valid.
            @if pass {
                // Translators: {count} is the number of minutes the mailed link stays valid.
                p { (tr.nf("Open the link within {count} minute to get a new Temporary Access Pass.", "Open the link within {count} minutes to get a new Temporary Access Pass.", valid_minutes, &[])) }
            } @else {
                // Translators: {count} is the number of minutes the mailed link stays valid.
                p { (tr.nf("Open the link within {count} minute to get a new temporary password.", "Open the link within {count} minutes to get a new temporary password.", valid_minutes, &[])) }
            }
            p.hint { (tr.t("No mail after a few minutes? Look in your spam folder, or ask again.")) }
            p { a href=(links.home_in(tr.lang())) { (tr.t("Go to the sign-up page")) } }
        }
    }
}

/// The link's page: whose password the button replaces (`pass`: for whom it makes a new
/// Temporary Access Pass). Opening it changes nothing.
pub fn confirm(tr: &Tr, links: &Links, token: &str, username: &str, pass: bool) -> Markup {
    let title = confirm_title(tr, pass);
    let text = match pass {
        true => tr.t("Press the button to get a new Temporary Access Pass for this account. An earlier pass stops working."),
        false => tr.t("Press the button to replace the password of this account with a new temporary one. The old password stops working."),
    };
    html! {
        section.panel {
            h1 { (title) }
            p { (text) }
            dl.details {
                dt { (tr.t("Username")) }
                dd { code.username { (username) } }
            }
            (button(tr, links, token, title))
        }
    }
}

/// The link's page's heading, title and button; `pass`: it makes a Temporary Access Pass.
pub fn confirm_title(tr: &Tr, pass: bool) -> &str {
    match pass {
        true => tr.t("Get a new Temporary Access Pass"),
        false => tr.t("Set a new temporary password"),
    }
}

fn button(tr: &Tr, links: &Links, token: &str, label: &str) -> Markup {
    post_button(tr, &links.password_link(token), label)
}

/// The new password is set: the username, and the password or where it went.
pub fn done(tr: &Tr, result: &PasswordReset, sign_in_url: &Url) -> Markup {
    if let Some(pass) = &result.pass {
        let view = PassView {
            shown: pass.shown.as_ref(),
            expires_at: pass.expires_at,
            usable_once: pass.usable_once,
            mailed: result.password_mailed,
        };
        return html! {
            section.panel.panel--success {
                h1 { (tr.t("Your new Temporary Access Pass")) }
                (pass_details(tr, &result.user_principal_name, view))
                (first_sign_in(tr, sign_in_url))
            }
        };
    }
    let host = sign_in_url.host_str().unwrap_or(sign_in_url.as_str());
    html! {
        section.panel.panel--success {
            h1 { (tr.t("Your new temporary password")) }
            (credentials(tr, &result.user_principal_name, result.password_on_page.as_ref()))
            @if result.password_mailed {
                p { (tr.t("We have sent your new temporary password to your e-mail address.")) }
            }
            p { (tr.t("When you next sign in, you must choose a new password of your own.")) }
            p { a.button href=(sign_in_url) { (tr.tf("Sign in at {host}", &[("host", host)])) } }
        }
    }
}

/// A reset link that leads nowhere, with a way to ask for a new one; `pass`: resets make
/// Temporary Access Passes, so the page speaks of a pass.
pub fn link_problem(tr: &Tr, links: &Links, problem: LinkError, pass: bool) -> Markup {
    let text = match (problem, pass) {
        (LinkError::Expired, false) => tr.t("Links for a new password are valid for a short time only. Please ask for a new one."),
        (LinkError::Expired, true) => tr.t("Links for a new Temporary Access Pass are valid for a short time only. Please ask for a new one."),
        (LinkError::Invalid, _) => tr.t("The link may be incomplete: copy the whole link from the mail, or ask for a new one."),
        (LinkError::Used, false) => tr.t("Each link works once, and a newer link that was used makes the older ones invalid. If you need another new password, ask for a new link."),
        (LinkError::Used, true) => tr.t("Each link works once, and a newer link that was used makes the older ones invalid. If you need another new Temporary Access Pass, ask for a new link."),
        // A reset link cannot meet `AddressTaken` (only sign-up links can).
        (LinkError::Unknown | LinkError::AddressTaken, _) => tr.t("The account this link was sent for is no longer known here. Please ask for a new link, or contact support."),
    };
    html! {
        section.panel.panel--warning {
            h1 { (problem.message(tr)) }
            p { (text) }
            p { a.button href=(links.password_in(tr.lang())) { (tr.t("Ask for a new link")) } }
        }
    }
}

/// Microsoft refused to change the password (`pass`: to make a Temporary Access Pass): only
/// the support desk can.
pub fn forbidden(tr: &Tr, support_email: &str, pass: bool) -> Markup {
    let (refused, desk, write) = match pass {
        true => (
            tr.t("No new Temporary Access Pass can be made for this account here. Nothing has changed on your account."),
            tr.t("Please contact your IT support desk for a new Temporary Access Pass."),
            n_("Please write to {support} for a new Temporary Access Pass."),
        ),
        false => (
            tr.t("The password of this account cannot be replaced here. Your current password is unchanged."),
            tr.t("Please contact your IT support desk for a new password."),
            n_("Please write to {support} for a new password."),
        ),
    };
    html! {
        section.panel.panel--warning role="alert" {
            h1 { (tr.t("Please contact support")) }
            p { (refused) }
            @if support_email.is_empty() {
                p { (desk) }
            } @else {
                p { (tr.tf(write, &[("support", support_email)])) }
            }
        }
    }
}

/// The failed page's heading and title; `pass`: resets make Temporary Access Passes.
pub fn failed_title(tr: &Tr, pass: bool) -> &str {
    match pass {
        true => tr.t("No new Temporary Access Pass yet"),
        false => tr.t("No new password yet"),
    }
}

/// Setting or delivering the password (`pass`: making or delivering the Temporary Access
/// Pass) failed; the link works again. `mail`: it was made but its mail failed.
pub fn failed(tr: &Tr, links: &Links, token: &str, mail: bool, pass: bool) -> Markup {
    let text = match (mail, pass) {
        (true, false) => tr.t("The mail with your new password could not be sent. Your link still works: please press the button again in a few minutes to get another new password."),
        (true, true) => tr.t("The mail with your new Temporary Access Pass could not be sent. Your link still works: please press the button again in a few minutes to get another new pass."),
        (false, false) => tr.t("Something went wrong while setting your new password. Nothing has changed, and your link still works: please try again in a few minutes."),
        (false, true) => tr.t("Something went wrong while making your new Temporary Access Pass. Nothing has changed, and your link still works: please try again in a few minutes."),
    };
    html! {
        section.panel.panel--warning role="alert" {
            h1 { (failed_title(tr, pass)) }
            p { (text) }
            (button(tr, links, token, tr.t("Try again")))
        }
    }
}
