//! The mailbox tag's settings: its secret (`MAILBOX_TAG_SECRET`) and the attribute that holds
//! it (`GRAPH_API_MAILBOX_TAG_ATTRIBUTE`).

use secrecy::{ExposeSecret, SecretString};

use super::{ConfigError, Getter, MIN_SECRET_BYTES, Mode};
use crate::graph::TagAttribute;

impl Getter<'_> {
    /// `MAILBOX_TAG_SECRET`, refused when empty, and in PRODUCTION when short: the tags are
    /// public to whoever reads the directory, so a guessable key would let them test
    /// mailboxes against the tags offline.
    pub(super) fn mailbox_tag_secret(&self, mode: Mode) -> Result<SecretString, ConfigError> {
        let secret = SecretString::from(self.string("MAILBOX_TAG_SECRET")?);
        if secret.expose_secret().trim().is_empty() {
            return Err(ConfigError::EmptyTagSecret);
        }
        let bytes = secret.expose_secret().len();
        if mode == Mode::Production && bytes < MIN_SECRET_BYTES {
            return Err(ConfigError::WeakTagSecret { bytes });
        }
        Ok(secret)
    }

    /// `GRAPH_API_MAILBOX_TAG_ATTRIBUTE`.
    pub(super) fn tag_attribute(&self) -> Result<TagAttribute, ConfigError> {
        self.parsed("GRAPH_API_MAILBOX_TAG_ATTRIBUTE", TagAttribute::parse)
    }
}
