//! Whether an SMTP refusal says the recipient's mailbox is gone for good — what ends an
//! account whose re-verification mail it refused (PRODUCT.md §9.4) — rather than that this
//! server may not send (a login, a relay or a sender problem, which an operator fixes).

/// Whether a refusal with `code` (`550`) and lettre's text for it names the mailbox as gone.
/// Only permanent replies count. With an enhanced status code (RFC 3463): the addressing
/// ones (`5.1.x`) but the two about the sender (`5.1.7`, `5.1.8`), and a disabled mailbox
/// (`5.2.1`). Without one: `550` and `551` (mailbox unavailable, user not local).
pub(super) fn mailbox_gone(code: Option<&str>, text: &str) -> bool {
    let Some(code) = code.filter(|code| code.starts_with('5')) else {
        return false;
    };
    match enhanced_status(text) {
        Some(status) => {
            (status.starts_with("5.1.") && !matches!(status, "5.1.7" | "5.1.8"))
                || status == "5.2.1"
        }
        None => matches!(code, "550" | "551"),
    }
}

/// The first `class.subject.detail` code in the text, such as `5.1.1`.
fn enhanced_status(text: &str) -> Option<&str> {
    text.split(|c: char| c.is_whitespace() || matches!(c, ':' | ',' | '(' | ')'))
        .find(|word| {
            let parts: Vec<&str> = word.split('.').collect();
            parts.len() == 3
                && matches!(parts[0], "2" | "4" | "5")
                && parts[1..]
                    .iter()
                    .all(|p| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_or_disabled_mailbox_is_gone() {
        for (code, text) in [
            (
                "550",
                "permanent error (550): 5.1.1 <ada@uni.example>: user unknown",
            ),
            ("550", "permanent error (550): mailbox unavailable"),
            ("551", "permanent error (551): user not local"),
            ("554", "permanent error (554): 5.2.1 mailbox disabled"),
            (
                "550",
                "permanent error (550): 5.1.10 Recipient address rejected: null MX",
            ),
        ] {
            assert!(mailbox_gone(Some(code), text), "{text}");
        }
    }

    #[test]
    fn refusals_of_this_server_or_for_now_are_not_the_mailbox_gone() {
        for (code, text) in [
            ("550", "permanent error (550): 5.7.1 Relaying denied"),
            (
                "535",
                "permanent error (535): 5.7.8 Authentication credentials invalid",
            ),
            (
                "553",
                "permanent error (553): 5.1.8 sender domain does not exist",
            ),
            ("452", "transient error (452): 4.2.2 mailbox full"),
            ("450", "transient error (450): 4.1.1 try again later"),
            ("552", "permanent error (552): message too large"),
        ] {
            assert!(!mailbox_gone(Some(code), text), "{text}");
        }
        assert!(!mailbox_gone(None, "connection refused"));
    }
}
