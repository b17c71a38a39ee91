//! The console's sign-ups: registrations in the queue, and those stopped after a failure,
//! each with a retry button.

use maud::{Markup, html};

use super::{Notice, notice, step_name};
use crate::i18n::Tr;
use crate::web::admin::Unfinished;
use crate::web::pages::utc_secs;
use crate::web::paths::{self, Links};

pub fn page(tr: &Tr, links: &Links, list: &[Unfinished], shown: Option<&Notice>) -> Markup {
    let (queued, stopped): (Vec<&Unfinished>, Vec<&Unfinished>) = list
        .iter()
        .partition(|unfinished| unfinished.queued.is_some());
    html! {
        h1 { (tr.pt("console section", "Sign-ups and queue")) }
        (notice(shown))
        h2 #stopped-heading { (tr.t("Stopped after a failure")) }
        @if stopped.is_empty() {
            p { (tr.t("No registration has stopped.")) }
        } @else {
            p.hint { (tr.t("The person was told to contact support. Fix the cause (a missing licence, a name Graph refuses), then try again: the account is resumed at the step that failed.")) }
            div.table-scroll role="region" aria-labelledby="stopped-heading" tabindex="0" {
                table {
                    thead { tr {
                        th scope="col" { (tr.t("Address")) }
                        th scope="col" { (tr.t("Step reached")) }
                        th scope="col" { (tr.t("Confirmed")) }
                        th scope="col" { (tr.t("Last error")) }
                        th scope="col" { span.visually-hidden { (tr.t("Action")) } }
                    } }
                    tbody {
                        @for unfinished in stopped { (stopped_row(tr, links, unfinished)) }
                    }
                }
            }
        }
        h2 #queue-heading { (tr.t("In the queue")) }
        @if queued.is_empty() {
            p { (tr.t("The queue is empty.")) }
        } @else {
            div.table-scroll role="region" aria-labelledby="queue-heading" tabindex="0" {
                table {
                    thead { tr {
                        th scope="col" { (tr.t("Address")) }
                        th scope="col" { (tr.t("Step reached")) }
                        th scope="col" { (tr.t("Attempts")) }
                        th scope="col" { (tr.t("Next attempt")) }
                        th scope="col" { (tr.t("Last error")) }
                    } }
                    tbody {
                        @for unfinished in queued { (queued_row(tr, unfinished)) }
                    }
                }
            }
        }
    }
}

fn stopped_row(tr: &Tr, links: &Links, unfinished: &Unfinished) -> Markup {
    let registration = &unfinished.registration;
    html! {
        tr {
            th scope="row" { (registration.email) }
            td { (step_name(tr, registration.step)) }
            td { (utc_secs(tr, registration.claimed_at)) }
            td { (registration.last_error.as_deref().unwrap_or("")) }
            td {
                form method="post" action=(links.admin(paths::ADMIN_RETRY))
                    data-hx-post=(links.admin(paths::ADMIN_RETRY)) data-hx-target="#console" data-hx-swap="outerHTML" {
                    input type="hidden" name="id" value=(registration.signup_id);
                    button type="submit" aria-label=(tr.tf("Try again: {email}", &[("email", registration.email.as_str())])) {
                        (tr.t("Try again"))
                    }
                }
            }
        }
    }
}

fn queued_row(tr: &Tr, unfinished: &Unfinished) -> Markup {
    let registration = &unfinished.registration;
    html! {
        tr {
            th scope="row" { (registration.email) }
            td { (step_name(tr, registration.step)) }
            @if let Some(entry) = &unfinished.queued {
                td { (entry.attempts) }
                td { (utc_secs(tr, entry.next_attempt_at)) }
            }
            td { (registration.last_error.as_deref().unwrap_or("")) }
        }
    }
}
