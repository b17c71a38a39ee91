//! How an account's life ends (PRODUCT.md §9.4): when it ends, why, and where its ending
//! stands.
//!
//! The state machine that moves an ending on lives in `signup` (its lifecycle); these types
//! sit here because the store persists them, and the store may import only `domain` — as
//! with the provisioning [`Step`](super::Step).

use serde::{Deserialize, Serialize};

/// When an account ends, as recorded at its creation: from its voucher (a lifetime or an
/// end date) or from `ACCOUNT_LIFETIME_DAYS`. Re-verification may end it earlier; only an
/// operator (`lifecycle extend`) moves this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountEnd {
    /// No end of its own.
    Never,
    /// It ends at this time (Unix seconds).
    At(u64),
}

impl AccountEnd {
    /// The end `days` after `from`, or none for 0 days (`ACCOUNT_LIFETIME_DAYS = 0`).
    pub fn after_days(from: u64, days: u32) -> Self {
        match days {
            0 => AccountEnd::Never,
            days => AccountEnd::At(from + u64::from(days) * super::DAY_SECS),
        }
    }

    /// The time it ends, if it does.
    pub fn time(self) -> Option<u64> {
        match self {
            AccountEnd::Never => None,
            AccountEnd::At(at) => Some(at),
        }
    }
}

/// Why an account is being ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// Its end came (the voucher's, or `ACCOUNT_LIFETIME_DAYS`).
    Expired,
    /// Nobody answered the re-verification mail within `REVERIFY_GRACE_DAYS`.
    Unverified,
    /// The mailbox refused the re-verification mail for good (it no longer exists).
    MailboxGone,
}

impl EndReason {
    /// The name listings and the audit log use.
    pub fn name(self) -> &'static str {
        match self {
            EndReason::Expired => "expired",
            EndReason::Unverified => "unverified",
            EndReason::MailboxGone => "mailbox_gone",
        }
    }
}

/// Where the ending of an account stands. Each step is saved before the next starts, so a
/// run resumes at the first step not yet done, and no step is done twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndStep {
    /// Decided and saved; nothing changed in the directory yet.
    Started,
    /// The user can no longer sign in (`accountEnabled: false`).
    Disabled,
    /// Its licences are removed: the seats are free again.
    LicencesRemoved,
    /// The person was mailed (or could not be: the mailbox is gone). The user is deleted
    /// `DELETE_AFTER_DAYS` after it was disabled.
    Told,
    /// The user is deleted (Entra keeps it restorable for 30 days).
    Deleted,
}

impl EndStep {
    /// The name listings use.
    pub fn name(self) -> &'static str {
        match self {
            EndStep::Started => "started",
            EndStep::Disabled => "disabled",
            EndStep::LicencesRemoved => "licences_removed",
            EndStep::Told => "told",
            EndStep::Deleted => "deleted",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lifetime_of_zero_days_is_no_end() {
        assert_eq!(AccountEnd::after_days(1_000, 0), AccountEnd::Never);
        assert_eq!(
            AccountEnd::after_days(1_000, 2),
            AccountEnd::At(1_000 + 2 * 86_400)
        );
        assert_eq!(AccountEnd::Never.time(), None);
    }

    /// Stored records must read back as they were written.
    #[test]
    fn ends_and_steps_are_stored_by_name() {
        let text = serde_json::to_string(&(AccountEnd::At(5), AccountEnd::Never)).unwrap();
        assert_eq!(text, r#"[{"at":5},"never"]"#);
        let text = serde_json::to_string(&(EndStep::LicencesRemoved, EndReason::MailboxGone));
        assert_eq!(text.unwrap(), r#"["licences_removed","mailbox_gone"]"#);
        assert!(EndStep::Started < EndStep::Deleted);
    }
}
