//! The key everything per person is stored under.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::{Mailbox, SubaddressSeparator};

/// The address a registration, a pending sign-up and a username reservation are stored
/// under. The server keys every person by their [`Mailbox`] (`From`), and a key that is a
/// mailbox carries it typed ([`RegistryKey::mailbox`]): mails go to it without parsing the
/// text again. Only the operator's commands name a key as recorded elsewhere
/// ([`RegistryKey::as_recorded`]): the original's database holds addresses that are no
/// valid mailbox, imported anyway so they stay blocked, and older versions of this server
/// keyed by the address as typed. Such a key has no mailbox, and no mail goes to it.
///
/// Records hold it as plain text (`serde` as a string), so a record reads back whatever
/// key it was stored under, even one that would not parse as a mailbox today. Keys are
/// equal when their texts are.
#[derive(Debug, Clone)]
pub struct RegistryKey {
    text: String,
    /// The mailbox the text is, exactly; `None` for a recorded key that is none.
    mailbox: Option<Mailbox>,
}

impl RegistryKey {
    /// An address as another program (or an earlier version) recorded it: trimmed and
    /// lower-cased, as every key is, but not otherwise checked. It has its mailbox when the
    /// text is exactly one.
    pub fn as_recorded(raw: &str) -> Self {
        let text = raw.trim().to_lowercase();
        let mailbox = Mailbox::parse(&text, SubaddressSeparator::OFF)
            .ok()
            .filter(|mailbox| mailbox.as_str() == text);
        RegistryKey { text, mailbox }
    }

    /// The keys an operator's `raw` address may be stored under, most likely first: its
    /// mailbox (any letter case or sub-address tag finds it), then the address as written
    /// (an odd imported one, or one stored before the mailbox was the key).
    pub fn spellings(raw: &str, separator: SubaddressSeparator) -> Vec<RegistryKey> {
        let written = RegistryKey::as_recorded(raw);
        match Mailbox::parse_recorded(raw, separator) {
            Ok(mailbox) if RegistryKey::from(&mailbox) != written => {
                vec![RegistryKey::from(&mailbox), written]
            }
            _ => vec![written],
        }
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The mailbox this key is, to send mail to; `None` for a recorded address that is no
    /// mailbox (imported from the original, say).
    pub fn mailbox(&self) -> Option<&Mailbox> {
        self.mailbox.as_ref()
    }

    /// The bytes sled stores the key as.
    pub(super) fn as_bytes(&self) -> &[u8] {
        self.text.as_bytes()
    }
}

impl From<&Mailbox> for RegistryKey {
    fn from(mailbox: &Mailbox) -> Self {
        RegistryKey {
            text: mailbox.as_str().to_owned(),
            mailbox: Some(mailbox.clone()),
        }
    }
}

impl PartialEq for RegistryKey {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for RegistryKey {}

impl std::hash::Hash for RegistryKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.text.hash(state);
    }
}

impl Serialize for RegistryKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for RegistryKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(RegistryKey::as_recorded(&text))
    }
}

impl fmt::Display for RegistryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::SubaddressSeparator;

    /// Records written before keys had a type must read back, and new ones be written alike.
    #[test]
    fn a_key_is_stored_as_the_plain_text_it_always_was() {
        let mailbox = Mailbox::parse("Ada+x@X.example", SubaddressSeparator::PLUS).unwrap();
        let key = RegistryKey::from(&mailbox);
        assert_eq!(serde_json::to_string(&key).unwrap(), r#""ada@x.example""#);
        let odd: RegistryKey = serde_json::from_str(r#""weird,\"name\"@x.example""#).unwrap();
        assert_eq!(odd, RegistryKey::as_recorded(" Weird,\"Name\"@X.example "));
    }

    #[test]
    fn an_address_is_looked_for_as_its_mailbox_then_as_written() {
        let plus = SubaddressSeparator::PLUS;
        let keys = |raw| RegistryKey::spellings(raw, plus);
        assert_eq!(
            keys(" ADA@x.example"),
            [RegistryKey::as_recorded("ada@x.example")]
        );
        assert_eq!(
            keys("Ada+tag@x.example"),
            [
                RegistryKey::as_recorded("ada@x.example"),
                RegistryKey::as_recorded("ada+tag@x.example")
            ]
        );
        assert_eq!(
            keys("not an address"),
            [RegistryKey::as_recorded("not an address")]
        );
    }

    /// A key read back is its mailbox again, typed, without the flow parsing text; a
    /// recorded address that is no mailbox reads back without one.
    #[test]
    fn a_key_read_back_carries_its_mailbox_when_it_is_one() {
        let mailbox = Mailbox::parse("Ada+x@X.example", SubaddressSeparator::PLUS).unwrap();
        let json = serde_json::to_string(&RegistryKey::from(&mailbox)).unwrap();
        let read: RegistryKey = serde_json::from_str(&json).unwrap();
        assert_eq!(read.mailbox(), Some(&mailbox));
        let odd: RegistryKey = serde_json::from_str(r#""weird,\"name\"@x.example""#).unwrap();
        assert_eq!(odd.mailbox(), None);
        assert_eq!(RegistryKey::as_recorded("no address").mailbox(), None);
    }
}
