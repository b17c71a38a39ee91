//! The new account's username as pages show it: readable and typeable on a phone, with a
//! copy button.

use maud::{Markup, html};

use crate::i18n::Tr;

/// A username to read and type on a phone: it breaks only after a `.` or before the `@`
/// (each part is kept whole by CSS), and with JavaScript a button copies it.
pub(super) fn username_value(tr: &Tr, username: &str, id: Option<&str>) -> Markup {
    let mut parts = Vec::new();
    let mut start = 0;
    for (at, c) in username.char_indices() {
        let cut = match c {
            '.' => at + 1,
            '@' => at,
            _ => continue,
        };
        if cut > start {
            parts.push(&username[start..cut]);
            start = cut;
        }
    }
    parts.push(&username[start..]);
    html! {
        code.username id=[id] {
            @for (i, part) in parts.iter().enumerate() {
                @if i > 0 { wbr; }
                span { (part) }
            }
        }
        " "
        // Shown by CSS only with JavaScript, which does the copying (app.js).
        // Translators: the button beside the username that copies it, and what it says then.
        button.copy-button type="button" data-copied=(tr.t("Copied")) { (tr.t("Copy")) }
    }
}
