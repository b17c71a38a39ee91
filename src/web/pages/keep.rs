//! The pages of a re-verification link: the account and its button, the account kept, and
//! every way the link can fail.

use maud::{Markup, html};

use super::verify::post_button;
use crate::i18n::Tr;
use crate::signup::LinkError;
use crate::web::paths::Links;
use crate::web::refusal::Refusal;

/// The link's page: which account, and the button that keeps it. Following the link (a
/// mail scanner does) changes nothing; only the button does.
pub fn question(tr: &Tr, links: &Links, token: &str, upn: &str, answer_by: &str) -> Markup {
    html! {
        section.panel {
            h1 { (tr.t("Keep your account")) }
            p { (tr.t("We check from time to time that the accounts made here still belong to someone who can read the mail of their institutional address. Press the button to keep this account.")) }
            dl.details {
                dt { (tr.t("Username")) }
                dd { code.username { (upn) } }
            }
            p { (tr.tf("Without an answer by {date}, the account is disabled.", &[("date", answer_by)])) }
            (post_button(tr, &links.keep(token), tr.t("Keep my account")))
        }
    }
}

/// The account is kept: until when nothing more is asked of the person.
pub fn kept(tr: &Tr, upn: &str, until: Option<&str>) -> Markup {
    html! {
        section.panel.panel--success role="status" tabindex="-1" autofocus {
            h1 { (tr.t("Your account is kept")) }
            @match until {
                Some(date) => p { (tr.tf("Thank you. The account {username} stays active until {date}.", &[("username", upn), ("date", date)])) },
                None => p { (tr.tf("Thank you. The account {username} stays active.", &[("username", upn)])) },
            }
        }
    }
}

/// Why the link keeps nothing.
pub fn link_problem(tr: &Tr, problem: LinkError, support_email: &str) -> Markup {
    let text = match problem {
        LinkError::Used => tr.t("This link has done its work: the question it came with was answered, or a newer mail asked it again, or the account has ended. There is nothing more to do with it."),
        LinkError::Expired => tr.t("The time to answer has passed. If your account was disabled by mistake, please contact support."),
        LinkError::Invalid => tr.t("The link may be incomplete: copy the whole link from the mail."),
        LinkError::Unknown | LinkError::AddressTaken => tr.t("The account this link was sent for is no longer known here."),
    };
    html! {
        section.panel.panel--warning {
            h1 { (problem.message(tr)) }
            p { (text) }
            @if !support_email.is_empty() {
                p { (tr.tf("Questions? Write to {support}.", &[("support", support_email)])) }
            }
        }
    }
}
