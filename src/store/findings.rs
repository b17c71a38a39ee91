//! What `store verify` reports: counts per kind, and each thing found wrong.

use std::collections::BTreeMap;
use std::fmt;

use super::{RecordKind, RegistryKey, Unreadable};

/// What `store verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The store, as the log names it.
    pub store: String,
    /// Records per kind that decode; `None` when the store could not be read at all.
    pub per_kind: Option<BTreeMap<RecordKind, usize>>,
    /// Everything wrong, in the order found.
    pub findings: Vec<Finding>,
}

impl Verified {
    /// Nothing wrong.
    pub fn is_healthy(&self) -> bool {
        self.findings.is_empty()
    }
}

/// One thing wrong with a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The store as a whole is damaged (sled's checksums, an older state than recorded).
    Damaged(String),
    /// A record that does not decode.
    Undecodable(Unreadable),
    /// A registration naming a username that no reservation holds for it.
    Unreserved { email: RegistryKey, upn: String },
    /// A reservation whose registration is gone, or names another username now.
    StrayReservation { upn: String, email: RegistryKey },
    /// More registrations hold a use of a voucher than the voucher counts (`used: None`:
    /// no voucher has the code). Fewer is no damage: a forgotten registration's use stays
    /// counted. The code is shown redacted.
    VoucherUses {
        code: String,
        used: Option<u32>,
        held: usize,
    },
    /// An account's lifecycle record whose registration is gone.
    StrayLife { email: RegistryKey },
    /// An index or a column that disagrees with the records.
    Index(String),
    /// The database's schema is not the one this program writes.
    Schema(String),
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::Damaged(what) => write!(f, "damaged: {what}"),
            Finding::Undecodable(Unreadable { kind, key, error }) => {
                write!(f, "a {kind} record under {key:?} does not decode: {error}")
            }
            Finding::Unreserved { email, upn } => write!(
                f,
                "the registration of {email} names the username {upn}, which no reservation holds for it"
            ),
            Finding::StrayReservation { upn, email } => write!(
                f,
                "the username {upn} is reserved for {email}, whose registration does not name it"
            ),
            Finding::VoucherUses {
                code,
                used: Some(used),
                held,
            } => write!(
                f,
                "{held} registrations hold a use of the voucher {code}, which counts {used}"
            ),
            Finding::VoucherUses {
                code,
                used: None,
                held,
            } => write!(
                f,
                "{held} registrations hold a use of the voucher {code}, which the store does not have"
            ),
            Finding::StrayLife { email } => write!(
                f,
                "the lifecycle record of {email} belongs to no registration"
            ),
            Finding::Index(what) => write!(f, "index: {what}"),
            Finding::Schema(what) => write!(f, "schema: {what}"),
        }
    }
}
