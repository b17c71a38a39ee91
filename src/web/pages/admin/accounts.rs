//! The console's accounts: find an address, see what is stored about it, forget it.

use maud::{Markup, html};

use super::{Notice, notice, step_name};
use crate::domain::{Day, Step};
use crate::i18n::Tr;
use crate::store::Registration;
use crate::web::admin::{Found, MAX_EXTEND_DAYS as MAX_DAYS};
use crate::web::pages::utc_secs;
use crate::web::paths::{self, Links};

/// What the page shows: the address asked for and what was found, and an action's notice.
pub struct Shown<'a> {
    pub email: Option<&'a str>,
    pub found: Option<&'a Found>,
    pub notice: Option<&'a Notice>,
}

pub fn page(tr: &Tr, links: &Links, shown: &Shown<'_>) -> Markup {
    let action = links.admin(paths::ADMIN_ACCOUNTS);
    html! {
        h1 { (tr.pt("console section", "Accounts")) }
        (notice(shown.notice))
        form.find method="get" action=(action)
            data-hx-get=(action) data-hx-target="#console" data-hx-swap="outerHTML" data-hx-push-url="true" {
            div.field {
                label for="find-email" { (tr.t("E-mail address")) }
                p.hint #find-email-hint { (tr.t("Any spelling of the address finds it: letter case and a sub-address tag do not count.")) }
                input #find-email type="text" name="email" inputmode="email" autocomplete="off" spellcheck="false"
                    aria-describedby="find-email-hint" value=(shown.email.unwrap_or(""));
            }
            div.actions { button type="submit" { (tr.t("Find")) } }
        }
        @if let (Some(email), Some(found)) = (shown.email, shown.found) {
            section.found aria-labelledby="found-heading" {
                h2 #found-heading { (email) }
                @if found.anything() {
                    (details(tr, found))
                    @if found.end.is_some() {
                        (extend_form(tr, links, email))
                    }
                    p { a.button href=(forget_link(links, email)) { (tr.t("Forget this address…")) } }
                } @else {
                    p role="status" { (tr.t("Nothing is stored about this address: it has no account made by this server and no sign-up waiting.")) }
                }
            }
        }
    }
}

fn forget_link(links: &Links, email: &str) -> String {
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("email", email)
        .finish();
    format!("{}?{query}", links.admin(paths::ADMIN_FORGET))
}

fn state_name<'a>(tr: &'a Tr, registration: &Registration) -> &'a str {
    if registration.imported {
        tr.t("registered before this server (imported)")
    } else if registration.existing_account {
        tr.t("its account was found in the directory")
    } else if registration.step == Step::Done {
        tr.t("account created")
    } else {
        step_name(tr, registration.step)
    }
}

fn details(tr: &Tr, found: &Found) -> Markup {
    let unknown = tr.t("unknown");
    html! {
        dl.details {
            @if let Some(registration) = &found.registration {
                dt { (tr.t("State")) }
                dd { (state_name(tr, registration)) }
                dt { (tr.t("Username")) }
                dd { code { (registration.upn.as_deref().unwrap_or(unknown)) } }
                dt { (tr.t("Object id")) }
                dd { code { (registration.object_id.as_deref().unwrap_or(unknown)) } }
                dt { (tr.t("Confirmed")) }
                dd { (utc_secs(tr, registration.claimed_at)) }
                dt { (tr.t("Voucher")) }
                dd { (registration.voucher.as_ref().map_or(tr.t("no voucher"), |voucher| voucher.name.as_str())) }
                dt { (tr.t("Account ends")) }
                dd.account-end { (found.end.map_or_else(|| tr.t("does not end").to_owned(), |end| Day::of(end).to_string())) }
                @if let Some(error) = &registration.last_error {
                    dt { (tr.t("Last error")) }
                    dd { (error) }
                }
            }
            @if let Some(entry) = &found.queued {
                dt { (tr.t("In the queue")) }
                dd { (tr.tf("attempt {attempts}, the next at {time}", &[("attempts", &entry.attempts.to_string()), ("time", &utc_secs(tr, entry.next_attempt_at))])) }
            }
            @if let Some(until) = found.pending_until {
                dt { (tr.t("Sign-up waiting for its link")) }
                dd { (tr.tf("the newest link is valid until {time}", &[("time", &utc_secs(tr, until))])) }
            }
        }
    }
}

/// Moves the account's end later by a number of days.
fn extend_form(tr: &Tr, links: &Links, email: &str) -> Markup {
    let action = links.admin(paths::ADMIN_EXTEND);
    html! {
        form.extend method="post" action=(action)
            data-hx-post=(action) data-hx-target="#console" data-hx-swap="outerHTML" {
            input type="hidden" name="email" value=(email);
            div.field {
                label for="extend-days" { (tr.t("Extend by (days)")) }
                p.hint #extend-days-hint { (tr.t("The end moves this many days later; counted from today if it has passed.")) }
                input #extend-days type="number" name="days" min="1" max=(MAX_DAYS) required
                    inputmode="numeric" aria-describedby="extend-days-hint";
            }
            div.actions { button type="submit" { (tr.t("Extend")) } }
        }
    }
}

/// The confirmation step before forgetting `email`.
pub fn confirm_forget(tr: &Tr, links: &Links, email: &str, found: &Found) -> Markup {
    let account = found
        .registration
        .as_ref()
        .and_then(|registration| registration.upn.as_deref());
    let back = format!(
        "{}?{}",
        links.admin(paths::ADMIN_ACCOUNTS),
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("email", email)
            .finish()
    );
    html! {
        h1 { (tr.t("Forget this address?")) }
        section.panel.panel--warning {
            p { (tr.tf("Everything this server stores about {email} is removed: its registration, sign-ups waiting for their link and used reset links. The address can then sign up again.", &[("email", email)])) }
            @if let Some(upn) = account {
                p { (tr.tf("Its account {upn} stays in Entra ID: delete it there too if the person asked for that.", &[("upn", upn)])) }
            }
            p { (tr.t("The audit log records who forgot an address and when, with the account's username, but not the address.")) }
            form method="post" action=(links.admin(paths::ADMIN_FORGET))
                data-hx-post=(links.admin(paths::ADMIN_FORGET)) data-hx-target="#console" data-hx-swap="outerHTML" {
                input type="hidden" name="email" value=(email);
                input type="hidden" name="confirm" value="yes";
                div.actions {
                    button type="submit" { (tr.t("Forget this address")) }
                    " "
                    a href=(back) { (tr.t("Cancel")) }
                }
            }
        }
    }
}
