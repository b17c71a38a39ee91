//! `/debug/mails`: the mails DEBUG mode kept instead of sending, links clickable.

use maud::{Markup, html};

use crate::i18n::Tr;
use crate::mail::CapturedMail;

pub fn list(tr: &Tr, mails: &[CapturedMail], public_url: &str) -> Markup {
    html! {
        h1 { (tr.t("Mails kept in DEBUG mode")) }
        p.hint { (tr.t("Mails are not sent in this mode. They are listed here, newest first, until the server stops.")) }
        @if mails.is_empty() {
            p { (tr.t("No mails yet.")) }
        }
        @for captured in mails {
            article.mail {
                h2 { (captured.mail.subject) }
                // Translators: label before a mail's recipient, as in a mail's "To:" header.
                p.mail-meta { (tr.pt("mail header", "To")) ": " (captured.mail.to) " · " (super::utc(tr, captured.at)) }
                pre { (linkify(&captured.mail.text, public_url)) }
            }
        }
    }
}

/// The text with every link to this server turned into an anchor.
fn linkify(text: &str, public_url: &str) -> Markup {
    html! {
        @for (i, line) in text.lines().enumerate() {
            @if i > 0 { "\n" }
            @let trimmed = line.trim();
            @if trimmed.starts_with(public_url) && !trimmed.contains(char::is_whitespace) {
                (&line[..line.len() - line.trim_start().len()])
                a.mail-link href=(trimmed) { (trimmed) }
            } @else {
                (line)
            }
        }
    }
}
