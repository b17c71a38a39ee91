//! The operator console's markup: its navigation around every page (`console`), the pages
//! around signing in and out here, and one file per section. Every page is the console's
//! region (`#console`), which HTMX swaps whole; every action is a plain form too.

pub mod accounts;
pub mod audit;
pub mod overview;
pub mod signups;
pub mod vouchers;

use maud::{Markup, html};

use crate::domain::Step;
use crate::graph::signin::Operator;
use crate::i18n::Tr;
use crate::web::paths::{self, Links};

/// The console's sections, in the navigation's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Overview,
    Signups,
    Accounts,
    Vouchers,
    Audit,
}

impl Section {
    const ALL: [Section; 5] = [
        Section::Overview,
        Section::Signups,
        Section::Accounts,
        Section::Vouchers,
        Section::Audit,
    ];

    fn path(self) -> &'static str {
        match self {
            Section::Overview => paths::ADMIN,
            Section::Signups => paths::ADMIN_SIGNUPS,
            Section::Accounts => paths::ADMIN_ACCOUNTS,
            Section::Vouchers => paths::ADMIN_VOUCHERS,
            Section::Audit => paths::ADMIN_AUDIT,
        }
    }

    fn name(self, tr: &Tr) -> &str {
        match self {
            // Translators: the console's sections, in its navigation.
            Section::Overview => tr.pt("console section", "Overview"),
            Section::Signups => tr.pt("console section", "Sign-ups and queue"),
            Section::Accounts => tr.pt("console section", "Accounts"),
            Section::Vouchers => tr.pt("console section", "Vouchers"),
            Section::Audit => tr.pt("console section", "Audit log"),
        }
    }
}

/// What became of an action, shown above the page it returns to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    done: bool,
    text: String,
}

impl Notice {
    /// The action was done.
    pub fn success(text: impl Into<String>) -> Self {
        Notice {
            done: true,
            text: text.into(),
        }
    }

    /// The action was not done, and why.
    pub fn warning(text: impl Into<String>) -> Self {
        Notice {
            done: false,
            text: text.into(),
        }
    }
}

/// The notice, announced to screen readers when it appears.
pub fn notice(notice: Option<&Notice>) -> Markup {
    html! {
        @if let Some(notice) = notice {
            @let kind = if notice.done { "panel--success" } else { "panel--warning" };
            div.panel.notice-panel.(kind) role="status" { p { (notice.text) } }
        }
    }
}

/// A provisioning step as operators read it.
pub fn step_name(tr: &Tr, step: Step) -> &str {
    match step {
        // Translators: where the creation of an account stands (the console's lists).
        Step::Claimed => tr.pt("provisioning step", "confirmed, not started"),
        Step::Creating => tr.pt("provisioning step", "creating the user"),
        Step::UserCreated => tr.pt("provisioning step", "user created"),
        Step::LicencesAssigned => tr.pt("provisioning step", "licences assigned"),
        Step::GroupsAdded => tr.pt("provisioning step", "groups added"),
        Step::PasswordDelivered => tr.pt("provisioning step", "password delivered"),
        Step::Done => tr.pt("provisioning step", "done"),
    }
}

/// A signed-in operator's page: who is signed in, the navigation, a sign-out button, and
/// the section's `content`.
pub fn console(
    tr: &Tr,
    links: &Links,
    current: Section,
    operator: &Operator,
    content: Markup,
) -> Markup {
    html! {
        div #console .console {
            div.console-bar {
                p.console-who {
                    (tr.tf("Signed in as {name} ({upn})", &[("name", &operator.display_name), ("upn", &operator.upn)]))
                }
                form method="post" action=(links.admin(paths::ADMIN_SIGN_OUT)) {
                    button.button--quiet type="submit" { (tr.t("Sign out")) }
                }
            }
            // Translators: the name of the console's navigation, read out by screen readers.
            nav.console-nav aria-label=(tr.t("Console")) {
                ul {
                    @for section in Section::ALL {
                        li {
                            @if section == current {
                                a href=(links.admin(section.path())) aria-current="page" { (section.name(tr)) }
                            } @else {
                                a href=(links.admin(section.path())) { (section.name(tr)) }
                            }
                        }
                    }
                }
            }
            (content)
        }
    }
}

/// A page of the console outside a session: its title, and the panel as the console's
/// region.
fn outside(title: &str, kind: &str, content: Markup) -> (String, Markup) {
    let markup = html! {
        section #console .console .panel .(kind) {
            h1 { (title) }
            (content)
        }
    };
    (title.to_owned(), markup)
}

fn sign_in_link(tr: &Tr, links: &Links) -> Markup {
    html! {
        p { a.button href=(links.admin(paths::ADMIN_SIGN_IN)) { (tr.t("Sign in again")) } }
    }
}

/// DEBUG without Graph: a button that signs in a made-up operator.
pub fn debug_sign_in(tr: &Tr, links: &Links) -> (String, Markup) {
    let title = tr.t("Sign in to the console");
    outside(
        title,
        "panel--warning",
        html! {
            p { (tr.t("DEBUG mode without Microsoft Graph: there is no sign-in with Microsoft. This button signs in a made-up operator; it exists only in DEBUG mode.")) }
            form method="post" action=(links.admin(paths::ADMIN_SIGN_IN)) {
                button type="submit" { (tr.t("Sign in as the debug operator")) }
            }
        },
    )
}

/// After the callback: a page of our own, from which the browser moves on to the overview
/// (by itself, or by the link).
pub fn signed_in(tr: &Tr, links: &Links, operator: &Operator) -> (String, Markup) {
    let title = tr.t("Signed in");
    outside(
        title,
        "panel--success",
        html! {
            p { (tr.tf("You are signed in as {name} ({upn}).", &[("name", &operator.display_name), ("upn", &operator.upn)])) }
            p { a.button href=(links.admin(paths::ADMIN)) { (tr.t("Continue to the console")) } }
        },
    )
}

pub fn signed_out(tr: &Tr, links: &Links) -> (String, Markup) {
    let title = tr.t("Signed out");
    outside(
        title,
        "panel--success",
        html! {
            p { (tr.t("You have signed out of the console. To end your Microsoft session too, sign out of Microsoft 365 or close the browser.")) }
            (sign_in_link(tr, links))
        },
    )
}

/// Someone of the tenant who is in none of the operators' groups.
pub fn not_member(tr: &Tr, links: &Links, operator: &Operator) -> (String, Markup) {
    let title = tr.t("No access to the console");
    outside(
        title,
        "panel--warning",
        html! {
            p { (tr.tf("You signed in with Microsoft as {upn}, but this account is in none of the groups allowed to use the console.", &[("upn", &operator.upn)])) }
            p { (tr.t("If you should have access, ask an administrator of your tenant to add you to an operators' group, then sign in again.")) }
            p { a href=(links.home_in(tr.lang())) { (tr.t("Go to the sign-up page")) } }
        },
    )
}

/// A sign-in that did not complete; `message` says why.
pub fn sign_in_failed(tr: &Tr, links: &Links, message: &str) -> (String, Markup) {
    let title = tr.t("Sign-in not completed");
    outside(
        title,
        "panel--warning",
        html! {
            p role="alert" { (message) }
            (sign_in_link(tr, links))
        },
    )
}

/// An action without a session (it ended, or the cookie was not ours).
pub fn session_ended(tr: &Tr, links: &Links) -> (String, Markup) {
    let title = tr.t("Your session has ended");
    outside(
        title,
        "panel--warning",
        html! {
            p role="alert" { (tr.t("Nothing was changed. Please sign in again and repeat the action.")) }
            (sign_in_link(tr, links))
        },
    )
}

/// The audit line could not be written, so the action was not done.
pub fn not_recorded(tr: &Tr, links: &Links) -> (String, Markup) {
    let title = tr.t("Nothing was done");
    outside(
        title,
        "panel--warning",
        html! {
            p role="alert" { (tr.t("The action could not be written to the audit log, so it was not carried out. Please try again in a few minutes.")) }
            p { a href=(links.admin(paths::ADMIN)) { (tr.t("Back to the overview")) } }
        },
    )
}
