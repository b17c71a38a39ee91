//! The audit log's vocabulary: what an operator did ([`AuditAction`]), who
//! ([`AuditActor`]), and one line of the log ([`AuditEntry`]).
//!
//! The type sits here because the store persists it, the console and the commands write
//! it, and the store may import only `domain`. An entry holds nothing secret — no whole
//! voucher code, no token, no password — and names an account by its username and object
//! id rather than by the address a deletion request asked to forget.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What an operator did (PRODUCT.md §9.3). New actions go at the end; the names are what
/// exports and filters use, so they never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// An operator signed in to the console.
    SignIn,
    /// An operator signed out.
    SignOut,
    /// Someone who is not in an `ADMIN_GROUP_IDS` group tried to sign in.
    SignInRefused,
    /// An unfinished registration was sent back to the queue.
    Retry,
    /// Everything stored about an address was removed (a deletion request).
    Forget,
    /// A voucher was made.
    VoucherCreate,
    /// A voucher was revoked.
    VoucherRevoke,
    /// An account's end was postponed.
    Extend,
    /// An ended account was brought back (enabled, its licences given back).
    Restore,
    /// The lifecycle disabled an account's user.
    Disable,
    /// The lifecycle removed an account's licences.
    RemoveLicences,
    /// The lifecycle deleted an account's user.
    Delete,
}

impl AuditAction {
    /// Every action, in the order the console's filter lists them.
    pub const ALL: [AuditAction; 12] = [
        AuditAction::SignIn,
        AuditAction::SignOut,
        AuditAction::SignInRefused,
        AuditAction::Retry,
        AuditAction::Forget,
        AuditAction::VoucherCreate,
        AuditAction::VoucherRevoke,
        AuditAction::Extend,
        AuditAction::Restore,
        AuditAction::Disable,
        AuditAction::RemoveLicences,
        AuditAction::Delete,
    ];

    /// The name exports and filters use (`sign_in_refused`).
    pub fn name(self) -> &'static str {
        match self {
            AuditAction::SignIn => "sign_in",
            AuditAction::SignOut => "sign_out",
            AuditAction::SignInRefused => "sign_in_refused",
            AuditAction::Retry => "retry",
            AuditAction::Forget => "forget",
            AuditAction::VoucherCreate => "voucher_create",
            AuditAction::VoucherRevoke => "voucher_revoke",
            AuditAction::Extend => "extend",
            AuditAction::Restore => "restore",
            AuditAction::Disable => "disable",
            AuditAction::RemoveLicences => "remove_licences",
            AuditAction::Delete => "delete",
        }
    }

    /// The action named `name`, as [`AuditAction::name`] writes it.
    pub fn parse(name: &str) -> Result<Self, UnknownAuditAction> {
        AuditAction::ALL
            .into_iter()
            .find(|action| action.name() == name.trim())
            .ok_or_else(|| UnknownAuditAction(name.to_owned()))
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is no [`AuditAction`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not an audit action (one of: sign_in, sign_out, sign_in_refused, retry, forget, voucher_create, voucher_revoke, extend, restore, disable, remove_licences, delete)"
)]
pub struct UnknownAuditAction(String);

/// Where an action came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditSource {
    /// The operator console, signed in with Microsoft.
    Console,
    /// A command run on the server's host.
    CommandLine,
    /// The accounts' lifecycle, run by the server each day or by `lifecycle run`.
    Lifecycle,
}

/// Who did it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditActor {
    /// The console: the UPN the id_token names; the command line: the local user.
    pub upn: String,
    /// The console: the user's object id in the tenant; the command line: none.
    pub object_id: Option<String>,
    pub source: AuditSource,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Its place in the log, given by the store (0 until it is written).
    pub seq: u64,
    /// When (Unix seconds), written before the action takes effect.
    pub at: u64,
    pub actor: AuditActor,
    pub action: AuditAction,
    /// What the action was done to: a sign-up id, an account's username, a voucher's name
    /// and the first characters of its code.
    pub subject: Option<String>,
    /// Anything else worth keeping (the days an end moves by, why a sign-in was refused).
    pub detail: Option<String>,
    /// The client's address (after the trusted proxies); none for the command line.
    pub client: Option<String>,
}

/// An entry as `audit export` and the console's download write it: the entry with its time
/// written out (RFC 3339, UTC) beside `at`.
#[derive(Debug, Serialize)]
pub struct ExportedAuditEntry<'a> {
    time: String,
    #[serde(flatten)]
    entry: &'a AuditEntry,
}

impl<'a> ExportedAuditEntry<'a> {
    pub fn new(entry: &'a AuditEntry) -> Self {
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(entry.at);
        ExportedAuditEntry {
            time: humantime::format_rfc3339_seconds(at).to_string(),
            entry,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_is_found_by_its_name_and_serialised_as_it() {
        for action in AuditAction::ALL {
            assert_eq!(AuditAction::parse(action.name()), Ok(action));
            let json = serde_json::to_string(&action).unwrap();
            assert_eq!(json, format!("\"{}\"", action.name()));
        }
        assert!(AuditAction::parse("delete_everything").is_err());
    }

    #[test]
    fn an_exported_entry_writes_its_time_out_beside_its_fields() {
        let entry = AuditEntry {
            seq: 7,
            at: 1_800_000_000,
            actor: AuditActor {
                upn: "ada@tenant.example".into(),
                object_id: None,
                source: AuditSource::CommandLine,
            },
            action: AuditAction::Forget,
            subject: None,
            detail: None,
            client: None,
        };
        let line = serde_json::to_value(ExportedAuditEntry::new(&entry)).unwrap();
        assert_eq!(line["time"], "2027-01-15T08:00:00Z");
        assert_eq!(line["seq"], 7);
        assert_eq!(line["actor"]["source"], "command_line");
    }
}
