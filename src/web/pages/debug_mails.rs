//! `/debug/mails`: the mails DEBUG mode kept instead of sending, links clickable.

use maud::{Markup, html};

use crate::i18n::Tr;
use crate::mail::CapturedMail;

/// The kept mails, and how many still wait in the outbox (`waiting`): a mail is kept here
/// once the outbox's worker has sent it, a moment after the answer that asked for it.
pub fn list(tr: &Tr, mails: &[CapturedMail], waiting: usize, public_url: &str) -> Markup {
    html! {
        h1 { (tr.t("Mails kept in DEBUG mode")) }
        p.hint { (tr.t("Mails are not sent in this mode. They are listed here, newest first, until the server stops.")) }
        p #outbox-waiting data-waiting=(waiting) {
            (tr.tf("Mails waiting in the outbox: {count}", &[("count", &waiting.to_string())]))
        }
        @if mails.is_empty() {
            p { (tr.t("No mails yet.")) }
        }
        @for captured in mails {
            article.mail {
                h2 { (captured.mail.subject) }
                // Translators: label before a mail's recipient, as in a mail's "To:" header.
                p.mail-meta { (tr.pt("mail header", "To")) ": " (captured.mail.to) " · " (when(tr, captured.at)) }
                pre { (linkify(&captured.mail.text, public_url)) }
            }
        }
    }
}

/// When a mail was kept, in UTC, written as the page's language writes a date.
fn when(tr: &Tr, at: std::time::SystemTime) -> String {
    // `2026-12-02T06:30:00Z`: every part at a fixed place.
    let stamp = humantime::format_rfc3339_seconds(at).to_string();
    let part = |range: std::ops::Range<usize>| stamp.get(range).unwrap_or_default();
    // Translators: when a mail was kept (UTC); put the parts in your language's order.
    tr.tf(
        "{year}-{month}-{day} {hour}:{minute} UTC",
        &[
            ("year", part(0..4)),
            ("month", part(5..7)),
            ("day", part(8..10)),
            ("hour", part(11..13)),
            ("minute", part(14..16)),
        ],
    )
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
