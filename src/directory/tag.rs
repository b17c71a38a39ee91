//! The mailbox tag: a keyed hash of a mailbox, written on every user this server creates, so
//! the directory itself says which mailbox a user belongs to — without holding the address.
//! Whoever reads the directory learns nothing about the mailbox; this server, holding
//! `MAILBOX_TAG_SECRET`, recomputes the tag from a mailbox and finds its user. A store that
//! was lost, damaged or rolled back therefore cannot give a mailbox a second account.

use std::fmt;

use ring::hmac;
use secrecy::{ExposeSecret, SecretString};

/// The scheme's name and version, in front of every tag, so that a later scheme can be told
/// apart (and tags of this one replaced by `emails tag-existing`).
const PREFIX: &str = "mt1.";

/// Bytes of the HMAC kept: 128 bits, as many as a UUID. Collisions between mailboxes are out
/// of reach (about one in 10²⁶ for a million accounts), and the tag stays short.
const KEPT_BYTES: usize = 16;

/// The tag of one mailbox under one secret: `mt1.` and 32 lower-case hex digits. Lower case
/// because the directory compares strings in filters without regard to case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MailboxTag(String);

impl MailboxTag {
    /// The tag as the directory holds it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `value` is this tag, in any letter case (the directory's comparison).
    pub fn matches(&self, value: &str) -> bool {
        self.0.eq_ignore_ascii_case(value.trim())
    }

    /// Whether an attribute's `value` was written by this server (a tag of any secret), so
    /// that replacing it destroys nothing an administrator put there.
    pub fn is_a_tag(value: &str) -> bool {
        value.strip_prefix(PREFIX).is_some_and(|digits| {
            digits.len() == 2 * KEPT_BYTES && digits.bytes().all(|b| b.is_ascii_hexdigit())
        })
    }
}

impl fmt::Display for MailboxTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Computes mailbox tags with `MAILBOX_TAG_SECRET`. The key never leaves it: `Debug` shows
/// nothing of it.
#[derive(Clone)]
pub struct MailboxTagger {
    key: hmac::Key,
}

impl fmt::Debug for MailboxTagger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MailboxTagger(HMAC-SHA-256, key redacted)")
    }
}

impl MailboxTagger {
    /// A tagger keyed with `secret` (any length: HMAC takes every key).
    pub fn new(secret: &SecretString) -> Self {
        MailboxTagger {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret.expose_secret().as_bytes()),
        }
    }

    /// The tag of the mailbox whose registry key is `mailbox` (the address lower-cased,
    /// without a sub-address tag: what the store keys the person by).
    pub fn tag(&self, mailbox: &str) -> MailboxTag {
        let digest = hmac::sign(&self.key, mailbox.as_bytes());
        MailboxTag(format!(
            "{PREFIX}{}",
            hex::encode(&digest.as_ref()[..KEPT_BYTES])
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tagger(secret: &str) -> MailboxTagger {
        MailboxTagger::new(&SecretString::from(secret))
    }

    /// Computed with Python's `hmac` module, independent of ring:
    /// `hmac.new(b"test", b"ada@uni.example", "sha256").hexdigest()[:32]`.
    #[test]
    fn a_tag_is_the_truncated_hmac_of_the_mailbox_with_a_version_prefix() {
        assert_eq!(
            tagger("test").tag("ada@uni.example").as_str(),
            "mt1.c04f8a9ba8e637a9ae96465ba2b13945"
        );
    }

    #[test]
    fn a_tag_holds_nothing_of_the_address() {
        let tag = tagger("test").tag("ada@uni.example");
        assert!(!tag.as_str().contains("ada"), "{tag}");
        assert!(!tag.as_str().contains("uni"), "{tag}");
        assert_eq!(tag.as_str().len(), PREFIX.len() + 32);
    }

    #[test]
    fn another_secret_or_mailbox_gives_another_tag() {
        let ada = tagger("one").tag("ada@uni.example");
        assert_ne!(ada, tagger("two").tag("ada@uni.example"));
        assert_ne!(ada, tagger("one").tag("bob@uni.example"));
        assert_eq!(ada, tagger("one").tag("ada@uni.example"));
    }

    #[test]
    fn tags_are_recognised_in_any_letter_case_and_other_values_are_not_tags() {
        let tag = tagger("test").tag("ada@uni.example");
        assert!(tag.matches(&tag.as_str().to_uppercase()));
        assert!(MailboxTag::is_a_tag(tag.as_str()));
        for other in [
            "",
            "12345",
            "mt1.",
            "mt1.xyz",
            "mt2.d5bd57f6d14ea8ee4e4a0bb3ea2ba0e8",
        ] {
            assert!(!MailboxTag::is_a_tag(other), "{other}");
        }
    }

    #[test]
    fn the_tagger_does_not_show_its_key() {
        assert!(!format!("{:?}", tagger("s3cret-key")).contains("s3cret"));
    }
}
