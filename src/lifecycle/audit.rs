//! What the lifecycle changes in the directory, for the audit log.
//!
//! SEAM: the operators' audit log (`domain/audit.rs`, the store's audit records, `audit
//! export`) is built on another branch and not merged yet. Until it is, each change is one
//! structured log line with the target `audit` (who: the lifecycle; what; which user), which
//! is what the audit record will hold; `record` is the one place to switch over.

use crate::domain::EndReason;
use crate::store::Registration;

/// A change the lifecycle made to a user (or to the account's end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Change {
    /// `accountEnabled` set to false.
    Disabled,
    /// The user's licences removed.
    LicencesRemoved,
    /// The person was mailed that the account ended (or the mailbox was gone).
    Told,
    /// The user deleted.
    Deleted,
    /// An operator moved the end (`lifecycle extend`).
    Extended,
    /// An operator brought the account back (`lifecycle restore`).
    Restored,
}

impl Change {
    fn name(self) -> &'static str {
        match self {
            Change::Disabled => "lifecycle.disabled",
            Change::LicencesRemoved => "lifecycle.licences_removed",
            Change::Told => "lifecycle.told",
            Change::Deleted => "lifecycle.deleted",
            Change::Extended => "lifecycle.extended",
            Change::Restored => "lifecycle.restored",
        }
    }
}

/// Records `change` to the account of `registration`, made because of `reason`.
pub(super) fn record(registration: &Registration, change: Change, reason: EndReason) {
    tracing::info!(
        target: "audit",
        actor = "lifecycle",
        action = change.name(),
        reason = reason.name(),
        upn = registration.upn.as_deref().unwrap_or(""),
        object_id = registration.object_id.as_deref().unwrap_or(""),
        "account lifecycle change"
    );
}

/// Records an operator's `change` (extend, restore) from the command line.
pub(super) fn record_operator(registration: &Registration, change: Change, detail: &str) {
    tracing::info!(
        target: "audit",
        actor = "command line",
        action = change.name(),
        detail,
        upn = registration.upn.as_deref().unwrap_or(""),
        object_id = registration.object_id.as_deref().unwrap_or(""),
        "account lifecycle change"
    );
}
