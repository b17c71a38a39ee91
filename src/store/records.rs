//! What the store holds and answers, the same for either backend: the records (a pending
//! sign-up, a registration, a queue entry, and each of them as a backup holds it), and the
//! answers of the calls that read or change them.

use serde::{Deserialize, Serialize};

use super::{AccountLife, RecordKind, RegistryKey, Voucher, VoucherUse};
use crate::domain::{AccountEnd, AuditAction, AuditEntry, Step, VoucherCode};

/// A sign-up waiting for its address to be verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingSignup {
    pub id: String,
    /// One-time value carried in the link.
    pub nonce: String,
    /// The person's mailbox.
    pub email: RegistryKey,
    pub first_name: String,
    pub last_name: String,
    pub lang: String,
    pub created_at: u64,
    pub expires_at: u64,
    pub consent_email_at: u64,
    pub consent_name_at: u64,
    /// The voucher the sign-up named (checked at submit; its use is taken at confirm).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voucher: Option<VoucherCode>,
}

/// What claiming a pending sign-up found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This call took the address; provisioning starts.
    Claimed(Registration),
    /// The sign-up was claimed before and is not finished: resume it.
    Resume(Registration),
    /// The sign-up was completed before: the link is used up.
    AlreadyDone(Registration),
    /// The address was registered by another sign-up (or imported).
    AddressTaken,
    /// The link's sign-up was purged, forgotten, or never existed.
    Unknown,
    /// The link's sign-up has expired.
    Expired,
}

impl Claim {
    /// What a link whose sign-up is no longer pending finds in the registration it was
    /// claimed into. The store tells only whether that registration reached its last step
    /// (the link is used up); where provisioning resumes is for `signup` to decide.
    pub(in crate::store) fn earlier(registration: Registration) -> Self {
        if registration.step == Step::Done {
            Claim::AlreadyDone(registration)
        } else {
            Claim::Resume(registration)
        }
    }
}

/// What a pending sign-up id leads to, for the read-only verify page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Pending(PendingSignup),
    Registered(Registration),
    /// Still pending, but another link for the same mailbox was confirmed first.
    AddressTaken,
    Unknown,
}

/// A used address: the registry entry that stops a second account, and the provisioning state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub email: RegistryKey,
    /// The pending sign-up this came from; empty for imported addresses.
    pub signup_id: String,
    pub first_name: String,
    pub last_name: String,
    pub lang: String,
    pub consent_email_at: u64,
    pub consent_name_at: u64,
    pub claimed_at: u64,
    pub step: Step,
    pub upn: Option<String>,
    /// The directory's time (Unix seconds) when `upn` was found free: a user under `upn`
    /// created before then is not this registration's.
    #[serde(default)]
    pub upn_free_at: Option<u64>,
    pub object_id: Option<String>,
    /// Counts the temporary passwords given to the user (the create, then each new one):
    /// a password held in some process's memory is current only while this is unchanged.
    #[serde(default)]
    pub password_version: u32,
    pub updated_at: u64,
    /// The last failure, for operators (`signups list`); no secrets.
    pub last_error: Option<String>,
    /// Brought over from the original program's database (`emails import`).
    #[serde(default)]
    pub imported: bool,
    /// The mailbox's account was found in the directory by its mailbox tag (made by an
    /// earlier registration this store lost): this one recorded it and created nothing.
    #[serde(default)]
    pub existing_account: bool,
    /// The voucher it was made with, and what that grants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voucher: Option<VoucherUse>,
    /// When the account ends, recorded when it is created; `None` for accounts made before
    /// ends were recorded (they end `ACCOUNT_LIFETIME_DAYS` after their creation, if set).
    #[serde(default)]
    pub end: Option<AccountEnd>,
}

impl Registration {
    /// The registration a confirmed sign-up becomes, holding a use of `voucher` if one was
    /// taken: provisioning starts at its first step.
    pub(in crate::store) fn claimed(
        signup: &PendingSignup,
        now: u64,
        voucher: Option<VoucherUse>,
    ) -> Self {
        Registration {
            email: signup.email.clone(),
            signup_id: signup.id.clone(),
            first_name: signup.first_name.clone(),
            last_name: signup.last_name.clone(),
            lang: signup.lang.clone(),
            consent_email_at: signup.consent_email_at,
            consent_name_at: signup.consent_name_at,
            claimed_at: now,
            step: Step::Claimed,
            upn: None,
            upn_free_at: None,
            object_id: None,
            password_version: 0,
            updated_at: now,
            last_error: None,
            imported: false,
            existing_account: false,
            voucher,
            end: None,
        }
    }

    /// An address whose account exists already (made by the original program, or by this
    /// one before an export): nothing is left to provision, so it is at the last step.
    pub(in crate::store) fn imported(email: &RegistryKey, imported: &Imported) -> Self {
        let registered_at = imported.registered_at;
        Registration {
            email: email.clone(),
            signup_id: String::new(),
            first_name: String::new(),
            last_name: String::new(),
            lang: String::new(),
            consent_email_at: imported.consent_email_at.unwrap_or(registered_at),
            consent_name_at: imported.consent_name_at.unwrap_or(registered_at),
            claimed_at: registered_at,
            step: Step::Done,
            upn: imported.upn.clone(),
            upn_free_at: None,
            object_id: imported.object_id.clone(),
            password_version: 0,
            updated_at: registered_at,
            last_error: None,
            imported: true,
            existing_account: false,
            voucher: None,
            end: None,
        }
    }

    /// The username this registration reserved, as reservations are keyed (lower case).
    pub(in crate::store) fn reserved_upn(&self) -> Option<String> {
        self.upn.as_deref().map(str::to_lowercase)
    }
}

/// What an import file says about an address that already has an account: the original's
/// table gives only the time, an `emails export` also the user and the consent times.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Imported {
    pub registered_at: u64,
    pub upn: Option<String>,
    pub object_id: Option<String>,
    /// When the consents were given; `registered_at` when the file does not say.
    pub consent_email_at: Option<u64>,
    pub consent_name_at: Option<u64>,
}

/// What `forget` removed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Forgotten {
    pub registration: Option<Registration>,
    pub pending: usize,
}

/// A registration owed a provisioning run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueEntry {
    /// Its place in the queue: the order of confirms.
    pub seq: u64,
    pub email: RegistryKey,
    pub signup_id: String,
    /// When it was confirmed (Unix seconds).
    pub queued_at: u64,
    /// Runs that ended without finishing.
    pub attempts: u32,
    /// Not to be run before this (Unix seconds).
    pub next_attempt_at: u64,
    /// The licence SKU whose seats are all taken, while the registration waits for one
    /// ("waiting for a licence"); `None` otherwise.
    #[serde(default)]
    pub waiting_for_seat: Option<String>,
}

/// How long the queue is, and since when its oldest entry waits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Entries in the queue, running ones included.
    pub length: usize,
    /// When the oldest entry was queued (Unix seconds); `None` when the queue is empty.
    pub oldest_queued_at: Option<u64>,
    /// Entries waiting for a free licence seat.
    pub waiting_for_seat: usize,
}

/// A reset link this request marked used: given back with
/// [`ResetStore::release_reset_link`](super::ResetStore::release_reset_link) when the
/// password could not be changed, so the person can press the button again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsedResetLink {
    pub(in crate::store) email: RegistryKey,
    pub(in crate::store) issued_at: u64,
    /// What was recorded before.
    pub(in crate::store) previous: Option<u64>,
}

/// One record of a store, as a backup holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BackupRecord {
    Pending(PendingSignup),
    Registration(Registration),
    /// A username (lower case) reserved by the registration of `email`.
    Username {
        upn: String,
        email: RegistryKey,
    },
    QueueEntry(QueueEntry),
    /// The issue time of the newest reset link used for `email`.
    Reset {
        email: RegistryKey,
        used_through: u64,
    },
    Lifecycle(AccountLife),
    /// A line of the audit log.
    Audit(AuditEntry),
    Voucher(Voucher),
}

impl BackupRecord {
    /// Its kind.
    pub fn kind(&self) -> RecordKind {
        match self {
            BackupRecord::Pending(_) => RecordKind::Pending,
            BackupRecord::Registration(_) => RecordKind::Registration,
            BackupRecord::Username { .. } => RecordKind::Username,
            BackupRecord::QueueEntry(_) => RecordKind::QueueEntry,
            BackupRecord::Reset { .. } => RecordKind::Reset,
            BackupRecord::Lifecycle(_) => RecordKind::Lifecycle,
            BackupRecord::Audit(_) => RecordKind::Audit,
            BackupRecord::Voucher(_) => RecordKind::Voucher,
        }
    }

    /// What it is stored under: written in this order, a backup of the same store is the
    /// same file.
    pub(in crate::store) fn key(&self) -> String {
        match self {
            BackupRecord::Pending(signup) => signup.id.clone(),
            BackupRecord::Registration(registration) => registration.email.to_string(),
            BackupRecord::Username { upn, .. } => upn.clone(),
            BackupRecord::QueueEntry(entry) => format!("{:020}", entry.seq),
            BackupRecord::Reset { email, .. } => email.to_string(),
            BackupRecord::Lifecycle(life) => life.email.to_string(),
            BackupRecord::Audit(entry) => format!("{:020}", entry.seq),
            BackupRecord::Voucher(voucher) => voucher.code.as_str().to_owned(),
        }
    }
}

/// Which lines of the audit log to read, and in which order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only lines written at or after this time (Unix seconds).
    pub since: Option<u64>,
    /// Only lines before this one (`seq`): the next page of a newest-first listing.
    pub before: Option<u64>,
    /// Only this operator's lines: their UPN or object id, any letter case.
    pub operator: Option<String>,
    pub action: Option<AuditAction>,
    /// At most this many lines.
    pub limit: Option<usize>,
    /// Oldest first (an export) instead of newest first (the console).
    pub oldest_first: bool,
}

impl AuditQuery {
    /// Whether `entry` is one of the lines asked for (but for the order and the limit).
    pub fn matches(&self, entry: &AuditEntry) -> bool {
        let operator = self.operator.as_deref().map(str::trim);
        self.since.is_none_or(|since| entry.at >= since)
            && self.before.is_none_or(|before| entry.seq < before)
            && self.action.is_none_or(|action| entry.action == action)
            && operator.is_none_or(|operator| {
                entry.actor.upn.eq_ignore_ascii_case(operator)
                    || entry
                        .actor
                        .object_id
                        .as_deref()
                        .is_some_and(|id| id.eq_ignore_ascii_case(operator))
            })
    }
}

/// What a purge did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Purged {
    /// Expired sign-ups deleted.
    pub deleted: usize,
    /// Records that could not be read, left in place.
    pub unreadable: Vec<Unreadable>,
}

/// A record that does not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub kind: RecordKind,
    pub key: String,
    pub error: String,
}

/// Every record of one kind that a listing read: the ones that do not decode are errors in
/// their place, so one bad record does not hide the others.
pub type Listed<T> = Vec<Result<T, super::StoreError>>;
