//! The seam between the store's callers and its two backends: one trait per record kind,
//! implemented by `sled/` and by `postgres/` in files of the same names. Every method that
//! may wait for PostgreSQL is `async` (awaited on the caller's runtime, never blocking a
//! thread of it); sled answers its in-memory reads at once and sends its flushes to a
//! blocking thread.
//!
//! What only one backend does is said in the types: [`Lease`] (a lease on a row that lapses,
//! or the store's lock that cannot), [`Durability`] (a flush written, or nothing to flush),
//! a [`FailureWatch`] only where a failed write lasts, `None` from
//! [`MailCounts::count_mail`] where mails are counted in memory and from [`WriteBudget`] where
//! the Graph write budget is, and the schema's migrations only on the PostgreSQL handle
//! (`Store::connect_migrated`).

use std::collections::HashSet;
use std::fmt::Debug;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::watch;
use tokio::time::Instant;

use super::{
    AccountLife, AuditQuery, BackupRecord, Claim, ClaimVoucher, Finding, Forgotten, Imported,
    Lease, LifecycleRun, Listed, Lookup, PendingSignup, Purged, QueueEntry, QueueStats,
    Registration, RegistryKey, StoreError, UsedResetLink, Voucher,
};
use crate::domain::{AuditEntry, Mailbox, VoucherCode, VoucherRefusal};

/// Sign-ups waiting for their link (`pending.rs`).
#[async_trait]
pub trait PendingStore {
    /// Stores a pending sign-up beside any others for the same mailbox: each has its own
    /// link, and a new one cancels none (else anyone could cancel a person's link by
    /// submitting their address). Refuses an address that is already registered. Not yet
    /// on disk in sled: [`Housekeeping::flush`] before the link is mailed.
    async fn insert_pending(&self, signup: &PendingSignup) -> Result<(), StoreError>;

    /// When the mailbox's last pending link expires, if it has one.
    async fn latest_expiry(&self, email: &RegistryKey) -> Result<Option<u64>, StoreError>;

    /// What a link's sign-up id leads to, without changing anything.
    async fn lookup(&self, signup_id: &str) -> Result<Lookup, StoreError>;

    /// Takes the address for the sign-up `signup_id` if `nonce` matches, atomically: of any
    /// number of concurrent claims (in any number of instances) exactly one gets
    /// [`Claim::Claimed`]. The claimed registration is queued in the same write, due at
    /// `now`, so a process that dies right after the claim leaves it to a worker. The
    /// mailbox's other pending sign-ups stay until they expire, answering
    /// [`Claim::AddressTaken`].
    /// Takes no voucher use, whatever the sign-up named (see
    /// [`PendingStore::claim_with_voucher`]).
    async fn claim(&self, signup_id: &str, nonce: &str, now: u64) -> Result<Claim, StoreError> {
        let claimed = self
            .claim_with_voucher(signup_id, nonce, now, ClaimVoucher::Ignore)
            .await?;
        // No voucher is looked at, so none refuses.
        Ok(claimed.unwrap_or(Claim::Unknown))
    }

    /// [`PendingStore::claim`], taking a use of the voucher `voucher` names in the same
    /// write: of any number of concurrent claims with one voucher (in any number of
    /// instances), no more are claimed than it has uses left. When the voucher does not
    /// admit the sign-up (`Err`), nothing is claimed and the sign-up stays pending, so the
    /// person may claim it with another voucher.
    async fn claim_with_voucher(
        &self,
        signup_id: &str,
        nonce: &str,
        now: u64,
        voucher: ClaimVoucher<'_>,
    ) -> Result<Result<Claim, VoucherRefusal>, StoreError>;

    /// Every pending sign-up, in id order.
    async fn pending_signups(&self) -> Result<Listed<PendingSignup>, StoreError>;
}

/// The registry of used addresses: registrations, the sign-up index and the username
/// reservations (`registry.rs`).
#[async_trait]
pub trait RegistryStore {
    /// Whether the mailbox has a registration (a person's key is their mailbox).
    async fn is_registered(&self, email: &Mailbox) -> Result<bool, StoreError>;

    /// The registration stored under `email`.
    async fn registration(&self, email: &RegistryKey) -> Result<Option<Registration>, StoreError>;

    /// The registration a sign-up id led to.
    async fn registration_by_signup(
        &self,
        signup_id: &str,
    ) -> Result<Option<Registration>, StoreError>;

    /// Every registration, in address order.
    async fn registrations(&self) -> Result<Listed<Registration>, StoreError>;

    /// Saves a registration's progress, durably: the next provisioning step starts only
    /// after the previous one is stored. [`StoreError::Busy`] when another instance has
    /// taken the registration over (its lease lapsed here).
    async fn save_registration(&self, registration: &Registration) -> Result<(), StoreError>;

    /// Starts provisioning `email` in this process: the right to do so, and the
    /// registration as stored now. [`StoreError::Busy`] while another instance holds it.
    async fn lease(&self, email: &RegistryKey)
    -> Result<(Lease, Option<Registration>), StoreError>;

    /// Saves `registration` with its `upn` reserved for it, durably, unless another
    /// registration reserved that username first: then nothing changes and the answer is
    /// `false`. The reservation moves with the registration (its earlier username is freed),
    /// so of two people with the same name only one ever tries to create a given username.
    async fn reserve_username(&self, registration: &Registration) -> Result<bool, StoreError>;

    /// The usernames reserved by any registration that start with `nickname` (lower case),
    /// so the name query can skip them.
    async fn reserved_usernames(&self, nickname: &str) -> Result<Vec<String>, StoreError>;

    /// Records an address that already has an account (from the original's database or an
    /// export), so it cannot sign up again. `false` when the address was registered already.
    async fn import_registered(
        &self,
        email: &RegistryKey,
        imported: &Imported,
    ) -> Result<bool, StoreError>;

    /// Removes everything stored about an address (a deletion request): its registration,
    /// the sign-up index entry, its username, every pending sign-up and its reset record.
    async fn forget(&self, email: &RegistryKey) -> Result<Forgotten, StoreError>;
}

/// The provisioning queue: confirmed registrations owed a run, in confirm order (`queue.rs`).
#[async_trait]
pub trait QueueStore {
    /// Puts the registration of `email` at the end of the queue, due at `due_at`, unless it
    /// is queued already: then its entry keeps its place and becomes due at `due_at` if that
    /// is sooner (the person is back). Durable before it returns.
    async fn enqueue(
        &self,
        email: &RegistryKey,
        signup_id: &str,
        now: u64,
        due_at: u64,
    ) -> Result<QueueEntry, StoreError>;

    /// The first entry in confirm order that is due at `now` and not in `running` (this
    /// process's runs). PostgreSQL: also not run by another instance; this process holds
    /// the registration's lease when it gets the entry, so exactly one instance's worker
    /// runs it.
    async fn next_due(
        &self,
        now: u64,
        running: &HashSet<RegistryKey>,
    ) -> Result<Option<QueueEntry>, StoreError>;

    /// Records a run that did not finish: one more attempt, the next one not before
    /// `next_attempt_at`, and no longer waiting for a seat. Nothing happens when the entry
    /// is gone meanwhile.
    async fn reschedule(
        &self,
        email: &RegistryKey,
        next_attempt_at: u64,
    ) -> Result<Option<QueueEntry>, StoreError>;

    /// Records a run that stopped because licence SKU `sku` has no free seat: the entry
    /// waits for one (its status says so), the next run not before `next_attempt_at`. No
    /// attempt is counted: waiting for a seat is no failure. Nothing happens when the
    /// entry is gone meanwhile.
    async fn wait_for_seat(
        &self,
        email: &RegistryKey,
        sku: &str,
        next_attempt_at: u64,
    ) -> Result<Option<QueueEntry>, StoreError>;

    /// Takes the registration of `email` out of the queue (finished, failed for good, or
    /// forgotten). Returns whether it was queued.
    async fn dequeue(&self, email: &RegistryKey) -> Result<bool, StoreError>;

    /// The queue entry of `email`, if it is queued.
    async fn queue_entry(&self, email: &RegistryKey) -> Result<Option<QueueEntry>, StoreError>;

    /// Every queue entry, in confirm order.
    async fn queued(&self) -> Result<Listed<QueueEntry>, StoreError>;

    /// The queue's length and its oldest entry's time (for metrics).
    async fn queue_stats(&self) -> Result<QueueStats, StoreError>;
}

/// Password reset links in use: per address, the issue time of the newest one used
/// (`resets.rs`). A link issued at or before it is dead, so each link works once and using a
/// newer one kills every older one. Nothing else about a reset is stored (never a password).
#[async_trait]
pub trait ResetStore {
    /// The issue time of the newest reset link used for `email`, if any was.
    async fn reset_used_through(&self, email: &RegistryKey) -> Result<Option<u64>, StoreError>;

    /// Marks the link issued at `issued_at` used, durably, unless it is dead already (a link
    /// issued at or after it was used): then `None`. Of any number of requests with one
    /// link (in any number of instances), one wins.
    async fn use_reset_link(
        &self,
        email: &RegistryKey,
        issued_at: u64,
    ) -> Result<Option<UsedResetLink>, StoreError>;

    /// Undoes [`ResetStore::use_reset_link`] (the password could not be changed), unless a
    /// newer link was used meanwhile.
    async fn release_reset_link(&self, used: &UsedResetLink) -> Result<(), StoreError>;
}

/// Accounts' lives after their creation (`lifecycle.rs`): one [`AccountLife`] per account
/// the lifecycle has acted on, and the right to run the lifecycle.
#[async_trait]
pub trait LifecycleStore {
    /// The life of the account of `email`, once the lifecycle has acted on it.
    async fn life(&self, email: &RegistryKey) -> Result<Option<AccountLife>, StoreError>;

    /// Every account's life, in address order.
    async fn lives(&self) -> Result<Listed<AccountLife>, StoreError>;

    /// Saves `life`, durably, if the stored one is still the copy it was read from (the same
    /// `version`; version 0: none is stored), and counts its version up. `false`: another
    /// save came first (the person's button, another command); nothing was written, read it
    /// again.
    async fn save_life(&self, life: &mut AccountLife) -> Result<bool, StoreError>;

    /// The right to run the lifecycle, unless another run holds it (in any instance): then
    /// `None`. For the daily run, `day` (a [`Day`](crate::domain::Day)'s number): `None` as
    /// well when that day's run has finished already.
    async fn start_lifecycle_run(
        &self,
        day: Option<i64>,
    ) -> Result<Option<LifecycleRun>, StoreError>;
}

/// The operators' audit log (`audit.rs`): append-only, numbered in the order written.
#[async_trait]
pub trait AuditLog {
    /// Appends `entry` (its `seq` is ignored) under the next number, durably — on disk
    /// (sled) or committed (PostgreSQL) — before it returns, so an action written here
    /// first is never done unrecorded. Returns the number.
    async fn append_audit(&self, entry: &AuditEntry) -> Result<u64, StoreError>;

    /// The lines `query` asks for, newest first unless it asks for the oldest.
    async fn audit_entries(&self, query: &AuditQuery) -> Result<Listed<AuditEntry>, StoreError>;
}

/// Vouchers and their uses (`vouchers.rs`). A use is taken by the claim
/// ([`PendingStore::claim_with_voucher`]); these give it back and take it again.
#[async_trait]
pub trait VoucherStore {
    /// Stores a new voucher, durably; `false` when a voucher has its code already.
    async fn create_voucher(&self, voucher: &Voucher) -> Result<bool, StoreError>;

    /// The voucher with `code`.
    async fn voucher(&self, code: &VoucherCode) -> Result<Option<Voucher>, StoreError>;

    /// Every voucher, in code order.
    async fn vouchers(&self) -> Result<Listed<Voucher>, StoreError>;

    /// Revokes the voucher with `code`, durably (a second revocation keeps the first
    /// time); `None` when there is none. Registrations made with it keep their use.
    async fn revoke_voucher(
        &self,
        code: &VoucherCode,
        now: u64,
    ) -> Result<Option<Voucher>, StoreError>;

    /// Gives the voucher use of the registration of `email` back, atomically with marking
    /// it given back in the registration: no account was made from it. `false` when it
    /// holds none (or gave it back before). [`StoreError::Busy`] while another instance
    /// provisions the registration.
    async fn return_voucher_use(&self, email: &RegistryKey) -> Result<bool, StoreError>;

    /// Takes a use of `code` for the registration of `email`, whose use was given back,
    /// atomically with recording it there (the registration resumes): the registration as
    /// saved, or why the voucher does not admit it. A registration holding a use already
    /// is answered as it is.
    async fn retake_voucher_use(
        &self,
        email: &RegistryKey,
        code: &VoucherCode,
        now: u64,
    ) -> Result<Result<Registration, VoucherRefusal>, StoreError>;
}

/// Mails counted against the hourly limits (`mail_counts.rs`).
#[async_trait]
pub trait MailCounts {
    /// Counts one mail under `key` against `per_hour` in the store, so that the limit holds
    /// across instances: `Some(Err(wait))` when the hour's mails are used up. `None` where
    /// one process holds the store (sled): it counts in memory (`limits::HourlyLimit`).
    async fn count_mail(
        &self,
        key: &str,
        per_hour: u32,
        now: u64,
    ) -> Result<Option<Result<(), std::time::Duration>>, StoreError>;
}

/// The Graph write budget of the whole deployment (`write_budget.rs`): a token bucket refilled
/// at `GRAPH_API_WRITES_PER_MINUTE` and the pause a 429's `Retry-After` asks for, kept where
/// every instance sees them. `None` where one process holds the store (sled): its Graph
/// client keeps the budget in memory (`graph::Pacer`).
#[async_trait]
pub trait WriteBudget {
    /// Takes `writes` tokens of a bucket refilled at `per_minute` (one second's worth saved
    /// up at most, as in memory), unless the wait for them and for a pause would be longer
    /// than `limit`: then nothing is taken, and the answer says how long it would be. Writers
    /// of every instance are served in the order they asked, each going into debt if need
    /// be. One round trip.
    async fn take_writes(
        &self,
        writes: u32,
        per_minute: u32,
        limit: Duration,
    ) -> Result<Option<WriteTurn>, StoreError>;

    /// Records that Graph asked for `retry_after` of quiet: every instance's writes wait
    /// until then, and [`WriteBudget::write_pauses`] tells every instance at once. The
    /// answer is how long the shared pause lasts now (a longer one may be under way).
    async fn pause_writes(&self, retry_after: Duration) -> Result<Option<Duration>, StoreError>;

    /// Pauses recorded by any instance, as they are announced: the end of the latest, on
    /// this process's clock. Needs a tokio runtime the first time (it starts listening).
    fn write_pauses(&self) -> Option<watch::Receiver<Option<Instant>>>;
}

/// An answer of [`WriteBudget::take_writes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteTurn {
    /// How long until the writes may go out: the budget's debt and any pause.
    pub wait: Duration,
    /// Whether the tokens were taken: not when `wait` is longer than the limit.
    pub taken: bool,
    /// How long the shared pause lasts still (zero: there is none).
    pub paused_for: Duration,
}

/// Chores and state of the store as a whole (`housekeeping.rs`).
#[async_trait]
pub trait Housekeeping {
    /// Which store this is, for the log: `sled at PATH` or `PostgreSQL at host:port/db`.
    fn describe(&self) -> String;

    /// Whether the store answers reads and writes (for `/readyz`).
    async fn is_ready(&self) -> bool;

    /// Deletes pending sign-ups whose link expired at or before `now` (and, PostgreSQL, the
    /// mail counts of past hours). A record that does not decode is skipped and reported.
    async fn purge_expired(&self, now: u64) -> Result<Purged, StoreError>;

    /// How many sign-ups wait for their link (for metrics, not hot paths); 0 when the store
    /// does not answer.
    async fn pending_count(&self) -> usize;

    /// Makes every write so far durable.
    async fn flush(&self) -> Result<Durability, StoreError>;

    /// Makes every write so far durable and records the state the store is left in: for a
    /// server about to stop (the store's last handle does the same when it is dropped).
    async fn close(&self) -> Result<Durability, StoreError>;

    /// Where a failed write stays failed until the store is opened again (sled: a full
    /// disk), the watch that says so; `None` where failures pass (PostgreSQL).
    fn failures(&self) -> Option<&FailureWatch>;
}

/// Every record at once, for backups and `store verify` (`backup.rs`, `verify.rs`).
#[async_trait]
pub trait BackupStore {
    /// Every record, read in one consistent view: the decoded ones, and the ones that do not
    /// decode.
    async fn export(&self) -> Result<Exported, StoreError>;

    /// Writes `records` into this store, which must hold none yet (else `Ok(Err(count))`
    /// with the records it holds); the backend's indexes are rebuilt from them.
    async fn import(&self, records: &[BackupRecord]) -> Result<Result<(), usize>, StoreError>;

    /// What the backend's own indexes say that the records do not (an index entry without
    /// its record, a record missing from its index, a column that disagrees with its record).
    async fn index_findings(&self) -> Result<Vec<Finding>, StoreError>;
}

/// A store backend: every kind of record, and the store as a whole.
pub trait Backend:
    PendingStore
    + RegistryStore
    + QueueStore
    + ResetStore
    + LifecycleStore
    + AuditLog
    + VoucherStore
    + MailCounts
    + WriteBudget
    + Housekeeping
    + BackupStore
    + Debug
    + Send
    + Sync
{
}

impl<T> Backend for T where
    T: PendingStore
        + RegistryStore
        + QueueStore
        + ResetStore
        + LifecycleStore
        + AuditLog
        + VoucherStore
        + MailCounts
        + WriteBudget
        + Housekeeping
        + BackupStore
        + Debug
        + Send
        + Sync
{
}

/// Every record of a store: what decodes, and what does not.
#[derive(Debug, Default)]
pub struct Exported {
    pub records: Vec<BackupRecord>,
    pub unreadable: Vec<super::Unreadable>,
}

/// What [`Housekeeping::flush`] and [`Housekeeping::close`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// sled: its log was written to disk.
    Flushed,
    /// sled, closing: its log was written to disk and the state it leaves recorded beside
    /// it (its generation, `sled/integrity.rs`), so the next start can tell it from an
    /// older one.
    Recorded,
    /// PostgreSQL: every write was committed when it returned; nothing was waiting.
    Committed,
}

/// Notes the first write that failed for a reason of the store and not of the request, and
/// tells whoever waits for it. Where such a failure lasts (sled refuses every write after
/// one until the store is opened again), serving on only fails every sign-up.
#[derive(Debug)]
pub struct FailureWatch(watch::Sender<Option<String>>);

impl Default for FailureWatch {
    fn default() -> Self {
        FailureWatch(watch::Sender::new(None))
    }
}

impl FailureWatch {
    /// Records `reason` unless a failure was recorded before: whether it was the first.
    pub fn note(&self, reason: String) -> bool {
        self.0.send_if_modified(|failure| {
            let first = failure.is_none();
            if first {
                *failure = Some(reason);
            }
            first
        })
    }

    /// Completes, with the reason, once a write has failed.
    pub async fn failed(&self) -> String {
        let mut failure = self.0.subscribe();
        // The guard `wait_for` returns must not live across an await.
        let reason = match failure.wait_for(Option::is_some).await {
            Ok(reason) => reason.clone(),
            Err(_) => None,
        };
        match reason {
            Some(reason) => reason,
            // The sender lives as long as the store does.
            None => std::future::pending().await,
        }
    }

    /// Why writes fail, once one has.
    pub fn failure(&self) -> Option<String> {
        self.0.borrow().clone()
    }
}
