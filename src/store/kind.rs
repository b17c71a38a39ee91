//! The kinds of record the store keeps, by the names backups, `store verify` and error
//! messages use.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The kinds of record the store keeps; backups, `store verify` and error messages name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// A sign-up waiting for its link ([`PendingSignup`](super::PendingSignup)).
    Pending,
    /// A used address and its provisioning state ([`Registration`](super::Registration)).
    Registration,
    /// A username reserved by a registration.
    Username,
    /// A registration owed a provisioning run ([`QueueEntry`](super::QueueEntry)).
    QueueEntry,
    /// The newest password reset link used for an address.
    Reset,
    /// An account's life after its creation ([`AccountLife`](super::AccountLife)).
    Lifecycle,
    /// A line of the operators' audit log ([`AuditEntry`](crate::domain::AuditEntry)).
    Audit,
    /// A voucher and its uses ([`Voucher`](super::Voucher)).
    Voucher,
}

impl RecordKind {
    /// Every kind, in the order reports list them.
    pub const ALL: [RecordKind; 8] = [
        RecordKind::Pending,
        RecordKind::Registration,
        RecordKind::Username,
        RecordKind::QueueEntry,
        RecordKind::Reset,
        RecordKind::Lifecycle,
        RecordKind::Audit,
        RecordKind::Voucher,
    ];

    /// The name backups and reports use (`queue_entry`).
    pub fn name(self) -> &'static str {
        match self {
            RecordKind::Pending => "pending",
            RecordKind::Registration => "registration",
            RecordKind::Username => "username",
            RecordKind::QueueEntry => "queue_entry",
            RecordKind::Reset => "reset",
            RecordKind::Lifecycle => "lifecycle",
            RecordKind::Audit => "audit",
            RecordKind::Voucher => "voucher",
        }
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
