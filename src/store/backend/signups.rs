//! The sign-up's own record kinds: pending sign-ups, registrations, the provisioning queue
//! and used reset links (see the parent module for how backends implement them).

use std::collections::HashSet;

use async_trait::async_trait;

use crate::domain::{Mailbox, VoucherRefusal};
use crate::store::{
    Claim, ClaimVoucher, Forgotten, Imported, Lease, Listed, Lookup, PendingSignup, QueueEntry,
    QueueStats, Registration, RegistryKey, StoreError, UsedResetLink,
};

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
