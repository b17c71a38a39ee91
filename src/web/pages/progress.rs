//! The pages behind a confirmed link while and after the account is made through the queue:
//! waiting, or waiting for a licence seat (polled by HTMX, with a plain "Check again" link
//! without JavaScript), ready with the password still to be shown, ready, and stopped for
//! good.

use maud::{Markup, html};
use url::Url;

use super::pass::moment;
use crate::i18n::Tr;
use crate::web::paths::Links;

/// Seconds between two looks at the status with JavaScript on.
const POLL_SECONDS: u32 = 3;
/// The same while the account waits for a licence seat, which takes hours rather than
/// seconds (an administrator has to buy or free one).
const SEAT_POLL_SECONDS: u32 = 60;

/// The account is being made. With HTMX the section replaces itself with the status every
/// few seconds; the link does the same by hand.
pub fn waiting(tr: &Tr, links: &Links, token: &str, username: &str) -> Markup {
    let text = html! {
        h1 { (tr.t("Your account is being created")) }
        p { (tr.t("We will mail you as soon as it is ready; you can close this page.")) }
    };
    status_panel(tr, links, token, username, text, POLL_SECONDS)
}

/// The account waits for a licence: every seat the institution has is taken. The queue goes
/// on by itself as soon as one is free, and a mail follows.
pub fn waiting_for_licence(tr: &Tr, links: &Links, token: &str, username: &str) -> Markup {
    let text = html! {
        h1 { (tr.t("Your account is waiting for a licence")) }
        p { (tr.t("All licences are taken at the moment. Your sign-up is kept, and your account is created as soon as a licence is free: you need not do anything.")) }
        p { (tr.t("We will mail you as soon as it is ready; you can close this page.")) }
    };
    status_panel(tr, links, token, username, text, SEAT_POLL_SECONDS)
}

/// A status that HTMX looks at again every `poll_seconds`, with `text` and the username.
fn status_panel(
    tr: &Tr,
    links: &Links,
    token: &str,
    username: &str,
    text: Markup,
    poll_seconds: u32,
) -> Markup {
    let status = links.verify_status(token);
    html! {
        section #account-status .panel role="status" aria-live="polite"
            data-hx-get=(status) data-hx-trigger=(format!("every {poll_seconds}s"))
            data-hx-target="this" data-hx-swap="outerHTML" {
            (text)
            @if !username.is_empty() {
                dl.details {
                    dt { (tr.t("Username")) }
                    dd { code.username { (username) } }
                }
            }
            p { a.button href=(status) { (tr.t("Check again")) } }
        }
    }
}

/// The account exists; its temporary password is shown when the person presses the button.
/// `pass_minutes`: the button makes a Temporary Access Pass instead, valid this long.
pub fn password_waiting(
    tr: &Tr,
    links: &Links,
    token: &str,
    username: &str,
    pass_minutes: Option<u32>,
) -> Markup {
    html! {
        section #account-status .panel .panel--success {
            h1 { (tr.t("Your account is ready")) }
            dl.details {
                dt { (tr.t("Username")) }
                dd { code.username { (username) } }
            }
            @if let Some(minutes) = pass_minutes {
                p { (tr.t("Press the button to get your Temporary Access Pass, with which you sign in the first time. It is shown only once.")) }
                // Translators: {count} is TAP_LIFETIME_MINUTES; the pass is made when the button is pressed.
                p #pass-lifetime { (tr.nf("The pass works for {count} minute from then.", "The pass works for {count} minutes from then.", u64::from(minutes), &[])) }
            } @else {
                p { (tr.t("Press the button to see your temporary password. It is shown only once.")) }
            }
            form method="post" action=(links.verify(token)) {
                input type="hidden" name="lang" value=(tr.lang());
                @if pass_minutes.is_some() {
                    button.button type="submit" { (tr.t("Show my Temporary Access Pass")) }
                } @else {
                    button.button type="submit" { (tr.t("Show my password")) }
                }
            }
        }
    }
}

/// The account exists and its password was delivered (the status of a used link); with
/// `pass`, a Temporary Access Pass was, which stops working at `pass_expires_at` if known.
pub fn finished(
    tr: &Tr,
    username: &str,
    sign_in_url: &Url,
    pass: bool,
    pass_expires_at: Option<u64>,
) -> Markup {
    let host = sign_in_url.host_str().unwrap_or(sign_in_url.as_str());
    html! {
        section #account-status .panel .panel--success {
            h1 { (tr.t("Your account is ready")) }
            @if !username.is_empty() {
                dl.details {
                    dt { (tr.t("Username")) }
                    dd { code.username { (username) } }
                    @if let Some(at) = pass_expires_at {
                        // Translators: label of the moment a Temporary Access Pass stops working.
                        dt { (tr.t("Valid until")) }
                        dd #pass-expires { (moment(tr, at)) }
                    }
                }
            }
            @if pass {
                p { (tr.t("Your Temporary Access Pass has been delivered. Sign in with it before it expires; if you have lost it, contact support.")) }
            } @else {
                p { (tr.t("Your temporary password has been delivered. If you have lost it, contact support.")) }
            }
            p { a.button href=(sign_in_url) { (tr.tf("Sign in at {host}", &[("host", host)])) } }
        }
    }
}

/// Provisioning stopped and waits for support; pressing the button tries again.
pub fn stopped(tr: &Tr, links: &Links, token: &str, support: &str) -> Markup {
    html! {
        section #account-status .panel .panel--warning role="alert" {
            h1 { (tr.t("Your account could not be created")) }
            @if support.is_empty() {
                p { (tr.t("Your sign-up is kept. Please contact support.")) }
            } @else {
                p { (tr.tf("Your sign-up is kept. Please write to {support}.", &[("support", support)])) }
            }
            form method="post" action=(links.verify(token)) {
                input type="hidden" name="lang" value=(tr.lang());
                button.button type="submit" { (tr.t("Try again")) }
            }
        }
    }
}
