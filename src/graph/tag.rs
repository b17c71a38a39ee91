//! Where users carry their mailbox tag (`GRAPH_API_MAILBOX_TAG_ATTRIBUTE`): one of the
//! fifteen `onPremisesExtensionAttributes` (Exchange's custom attributes 1–15). They can be
//! set on cloud-only users (every user this server makes is one), hold up to 1 024
//! characters, need no schema extension registered first, and can be filtered with `eq` —
//! as an advanced query only (`ConsistencyLevel: eventual` and `$count=true`), whose index
//! may lag seconds behind. `employeeId` filters without that, but holds 16 characters at
//! most and is where institutions keep their own staff and student numbers.

use super::GraphClient;
use super::error::CallError;
use crate::directory::MailboxTag;

/// The property the extension attributes live in.
const CONTAINER: &str = "onPremisesExtensionAttributes";

/// Which of `extensionAttribute1` … `extensionAttribute15` holds the tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TagAttribute(u8);

/// Why a `GRAPH_API_MAILBOX_TAG_ATTRIBUTE` value cannot be used.
#[derive(Debug, thiserror::Error)]
#[error(
    "`{0}` is not one of extensionAttribute1 … extensionAttribute15 (the users' onPremisesExtensionAttributes, Exchange's custom attributes); pick one nobody in the tenant uses yet"
)]
pub struct TagAttributeError(String);

impl Default for TagAttribute {
    /// The last one: the first few are the ones other tools and administrators take first.
    fn default() -> Self {
        TagAttribute(15)
    }
}

impl TagAttribute {
    /// `extensionAttributeN`, or the same with `onPremisesExtensionAttributes/` in front
    /// (as Graph's filters write it); letter case does not matter, as in Graph.
    pub fn parse(raw: &str) -> Result<Self, TagAttributeError> {
        let name = raw.trim();
        let short = name
            .get(..CONTAINER.len() + 1)
            .filter(|head| head.eq_ignore_ascii_case(&format!("{CONTAINER}/")))
            .map_or(name, |_| &name[CONTAINER.len() + 1..]);
        const STEM: &str = "extensionattribute";
        short
            .get(..STEM.len())
            .filter(|head| head.eq_ignore_ascii_case(STEM))
            .map(|_| &short[STEM.len()..])
            .filter(|digits| digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0'))
            .and_then(|digits| digits.parse::<u8>().ok())
            .filter(|n| (1..=15).contains(n))
            .map(TagAttribute)
            .ok_or_else(|| TagAttributeError(raw.to_owned()))
    }

    /// `extensionAttributeN`, the name inside the container.
    pub fn name(self) -> String {
        format!("extensionAttribute{}", self.0)
    }

    /// `onPremisesExtensionAttributes/extensionAttributeN`, as a filter names it.
    pub(super) fn path(self) -> String {
        format!("{CONTAINER}/{}", self.name())
    }

    /// The JSON that sets the tag, in a create or an update.
    pub(super) fn payload(self, tag: &MailboxTag) -> serde_json::Value {
        let mut attributes = serde_json::Map::new();
        attributes.insert(self.name(), tag.as_str().into());
        serde_json::json!({ CONTAINER: attributes })
    }

    /// What a user read with `$select=…,onPremisesExtensionAttributes` holds in it.
    pub(super) fn read(self, attributes: Option<&serde_json::Value>) -> Option<String> {
        attributes?
            .get(self.name())?
            .as_str()
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
    }
}

impl GraphClient {
    /// Writes the tag into the user (`PATCH /users/{id}`, 204; the other extension
    /// attributes stay as they are), waiting out replication lag as a password change does.
    pub(super) async fn patch_tag(
        &self,
        object_id: &str,
        tag: &MailboxTag,
    ) -> Result<(), CallError> {
        let body = bytes::Bytes::from(self.tag_attribute.payload(tag).to_string());
        self.patch_user("set mailbox tag", object_id, body).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fifteen_extension_attributes_are_accepted_in_either_spelling() {
        for (raw, name) in [
            ("extensionAttribute15", "extensionAttribute15"),
            ("extensionattribute1", "extensionAttribute1"),
            (
                " onPremisesExtensionAttributes/extensionAttribute7 ",
                "extensionAttribute7",
            ),
        ] {
            assert_eq!(TagAttribute::parse(raw).unwrap().name(), name, "{raw}");
        }
        assert_eq!(
            TagAttribute::default().path(),
            "onPremisesExtensionAttributes/extensionAttribute15"
        );
    }

    #[test]
    fn other_attributes_are_refused_with_the_choices() {
        for raw in [
            "",
            "employeeId",
            "extensionAttribute0",
            "extensionAttribute16",
            "extensionAttribute07",
            "extensionAttribute+1",
            "onPremisesExtensionAttributes/",
            "extension_0b1c_tag",
        ] {
            let err = TagAttribute::parse(raw).unwrap_err().to_string();
            assert!(err.contains("extensionAttribute15"), "{raw}: {err}");
        }
    }
}
