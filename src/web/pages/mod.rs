//! Functions returning markup. A page is the layout around a fragment, so the HTMX path and
//! the no-JavaScript path share one renderer.

pub mod admin;
pub mod debug_mails;
pub mod existing;
pub mod keep;
pub mod layout;
pub mod pass;
pub mod progress;
pub mod reset;
pub mod signup;
pub mod status;
mod username;
pub mod verify;

/// A moment in UTC, written as the page's language writes a date and time.
pub fn utc(tr: &crate::i18n::Tr, at: std::time::SystemTime) -> String {
    // `2026-12-02T06:30:00Z`: every part at a fixed place.
    let stamp = humantime::format_rfc3339_seconds(at).to_string();
    let part = |range: std::ops::Range<usize>| stamp.get(range).unwrap_or_default();
    // Translators: a moment in UTC (when a mail was kept, when an operator acted); put the
    // parts in your language's order.
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

/// [`utc`] of a time in Unix seconds.
pub fn utc_secs(tr: &crate::i18n::Tr, secs: u64) -> String {
    utc(
        tr,
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs),
    )
}
