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

use std::fmt::Debug;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::watch;
use tokio::time::Instant;

use super::{
    AccountLife, AuditQuery, BackupRecord, Finding, LifecycleRun, Listed, OutboxMail,
    PendingSignup, Purged, Registration, RegistryKey, StoreError, Voucher,
};
use crate::domain::{AuditEntry, VoucherCode, VoucherRefusal};

mod signups;

pub use signups::{PendingStore, QueueStore, RegistryStore, ResetStore};

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

/// The outbox: mails owed to people, written in the same durable write as what they are
/// about, sent by a worker off the request path (`outbox.rs`). A mail is taken with a lease
/// (its `next_attempt_at` moved to the lease's end), so of several workers (in any number
/// of instances) one sends it; it leaves the outbox once sent. A worker that dies after the
/// server accepted the mail and before it was taken out sends it again when the lease
/// lapses: at least once, rarely twice.
#[async_trait]
pub trait OutboxStore {
    /// Stores a pending sign-up as [`PendingStore::insert_pending`] does, and its
    /// verification mail in the outbox, in one durable write: on disk (or committed) when it
    /// returns, so an answer given after it survives a crash with its mail.
    async fn insert_pending_mailed(
        &self,
        signup: &PendingSignup,
        mail: &OutboxMail,
    ) -> Result<(), StoreError>;

    /// Puts `mail` into the outbox, durably.
    async fn post_mail(&self, mail: &OutboxMail) -> Result<(), StoreError>;

    /// Takes the mail that has been due longest at `now`, if any, leasing it until
    /// `lease_until` (its `next_attempt_at` becomes that); returns it as it was.
    async fn take_mail(&self, now: u64, lease_until: u64)
    -> Result<Option<OutboxMail>, StoreError>;

    /// Takes a sent (or abandoned) mail out of the outbox, durably.
    async fn mail_done(&self, id: &str) -> Result<(), StoreError>;

    /// Records a send that failed: one more attempt, the next not before `next_attempt_at`.
    async fn mail_failed(&self, id: &str, next_attempt_at: u64) -> Result<(), StoreError>;

    /// How many mails wait in the outbox (for metrics and the debug page); 0 when the store
    /// does not answer.
    async fn outbox_length(&self) -> usize;
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
    + OutboxStore
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
        + OutboxStore
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
