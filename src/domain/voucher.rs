//! What vouchers are, besides their code: whether the service asks for one (`VOUCHERS`),
//! why one does not admit a person, and the directory ids a voucher grants.

use std::fmt;

use serde::{Deserialize, Serialize};

/// `VOUCHERS`: whether the sign-up form asks for a voucher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VoucherMode {
    /// No voucher field; a voucher in a form or API body is ignored.
    #[default]
    Off,
    /// A voucher may be given; without one the configured defaults apply.
    Optional,
    /// Nobody signs up without a voucher.
    Required,
}

/// `VOUCHERS` is none of its values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not one of off, optional, required")]
pub struct VoucherModeError(String);

impl VoucherMode {
    pub fn parse(raw: &str) -> Result<Self, VoucherModeError> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "off" => Ok(VoucherMode::Off),
            "optional" => Ok(VoucherMode::Optional),
            "required" => Ok(VoucherMode::Required),
            _ => Err(VoucherModeError(raw.to_owned())),
        }
    }

    /// Whether a voucher is looked at at all.
    pub fn is_on(self) -> bool {
        self != VoucherMode::Off
    }
}

impl fmt::Display for VoucherMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VoucherMode::Off => "off",
            VoucherMode::Optional => "optional",
            VoucherMode::Required => "required",
        })
    }
}

/// Why a voucher does not admit a sign-up. The public learns which of these it is, never how
/// many uses a voucher has left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum VoucherRefusal {
    /// `VOUCHERS = required`, and none was given.
    #[error("a voucher is required")]
    Missing,
    /// No voucher has this code (or the text is no code at all).
    #[error("no voucher has this code")]
    Unknown,
    #[error("the voucher was revoked")]
    Revoked,
    #[error("the voucher is no longer valid")]
    Expired,
    #[error("the voucher's uses are used up")]
    UsedUp,
}

/// A directory object or licence SKU id: a GUID, lower-cased and hyphenated as Graph writes
/// it. A voucher's own licences and groups are these.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DirectoryId(String);

/// Why a text is not a directory id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an object or SKU id (a GUID such as 314c4481-f395-4525-be8b-2ec4bb1e9d91)")]
pub struct DirectoryIdError(String);

impl DirectoryId {
    pub fn parse(raw: &str) -> Result<Self, DirectoryIdError> {
        uuid::Uuid::try_parse(raw.trim())
            .map(|id| DirectoryId(id.hyphenated().to_string()))
            .map_err(|_| DirectoryIdError(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DirectoryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for DirectoryId {
    type Error = DirectoryIdError;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        DirectoryId::parse(&raw)
    }
}

impl From<DirectoryId> for String {
    fn from(id: DirectoryId) -> Self {
        id.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_modes_read_in_any_case() {
        assert_eq!(VoucherMode::parse("Off").unwrap(), VoucherMode::Off);
        assert_eq!(
            VoucherMode::parse(" optional ").unwrap(),
            VoucherMode::Optional
        );
        assert_eq!(
            VoucherMode::parse("REQUIRED").unwrap(),
            VoucherMode::Required
        );
        assert!(VoucherMode::parse("yes").is_err());
        assert!(VoucherMode::parse("").is_err());
    }

    #[test]
    fn a_directory_id_is_a_guid_written_as_graph_writes_it() {
        let id = DirectoryId::parse(" 314C4481-F395-4525-BE8B-2EC4BB1E9D91 ").unwrap();
        assert_eq!(id.as_str(), "314c4481-f395-4525-be8b-2ec4bb1e9d91");
        assert!(DirectoryId::parse("Students").is_err());
        assert!(DirectoryId::parse("").is_err());
        let stored: DirectoryId =
            serde_json::from_str(r#""314c4481-f395-4525-be8b-2ec4bb1e9d91""#).unwrap();
        assert_eq!(stored, id);
        assert!(serde_json::from_str::<DirectoryId>(r#""Students""#).is_err());
    }
}
