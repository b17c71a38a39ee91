//! The key everything per person is stored under.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::{Mailbox, SubaddressSeparator};

/// The address a registration, a pending sign-up and a username reservation are stored
/// under. The server keys every person by their [`Mailbox`] (`From`). Only the operator's
/// commands name a key as recorded elsewhere ([`RegistryKey::as_recorded`]): the original's
/// database holds addresses that are no valid mailbox, imported anyway so they stay
/// blocked, and older versions of this server keyed by the address as typed.
///
/// Records hold it as plain text (`serde(transparent)`), so a record reads back whatever
/// key it was stored under, even one that would not parse as a mailbox today.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RegistryKey(String);

impl RegistryKey {
    /// An address as another program (or an earlier version) recorded it: trimmed and
    /// lower-cased, as every key is, but not otherwise checked.
    pub fn as_recorded(raw: &str) -> Self {
        RegistryKey(raw.trim().to_lowercase())
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
        &self.0
    }

    /// The bytes sled stores the key as.
    pub(super) fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl From<&Mailbox> for RegistryKey {
    fn from(mailbox: &Mailbox) -> Self {
        RegistryKey(mailbox.as_str().to_owned())
    }
}

impl fmt::Display for RegistryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
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
}
