//! The store: sled (the default, one process) or PostgreSQL (`DATABASE_URL`, several
//! instances sharing one database), behind one [`Store`] type that dispatches to either.
//! The only module that touches sled or the database. This file holds [`Store`] and its
//! errors; `embedded.rs` is the sled handle, and what sled stores has a file each:
//! `pending.rs` (sign-ups waiting for their link), `registry.rs` (used addresses, the
//! sign-up index, username reservations), `housekeeping.rs` (purge, counts, readiness) and
//! `backup.rs`. `postgres/` is the PostgreSQL backend with the same methods. No
//! `sled::Tree` and no database connection leaves this module.
//!
//! Adding a method: write it for [`SledStore`] and [`PgStore`] with the same signature, and
//! add a one-line `dispatch!` to [`Store`].
//!
//! Trees: `pending` (id → [`PendingSignup`]), `pending_by_email` (address → its pending
//! sign-ups' ids, one per line), `registrations` (address → [`Registration`]), `signups`
//! (sign-up id → address), `usernames` (lower-cased UPN → the address whose registration
//! reserved it), `password_resets` (address → the newest reset link used; `reset.rs`), and
//! the provisioning queue (`queue.rs`). Addresses are [`RegistryKey`]s: a person's mailbox.
//!
//! No temporary password is ever written here, sealed or not: sled keeps superseded values
//! in its log, so anything written once may be read back from the files long after.

mod backup;
mod embedded;
mod housekeeping;
mod key;
mod pending;
mod postgres;
mod queue;
mod registry;
mod reset;

use std::collections::HashSet;
use std::io::{BufRead, Write};
use std::path::Path;

use sled::transaction::TransactionError;

use crate::domain::Mailbox;
pub use embedded::SledStore;
pub use postgres::{LEASE_RENEWAL, PgStore};

pub use backup::{BackupError, Copied};
pub use housekeeping::{Purged, Unreadable};
pub use key::RegistryKey;
pub use pending::{Claim, Lookup, PendingSignup};
pub use queue::{QueueEntry, QueueStats};
pub use registry::{Forgotten, Imported, Registration};
pub use reset::UsedResetLink;

/// A store failure. Callers show a generic error; the detail goes to the log, and the
/// failures an operator can fix say how.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the address is already registered")]
    AlreadyRegistered,
    #[error("another process has the store open, and only one may: stop the server first")]
    Locked,
    /// sled refuses every write after a failed one until the store is opened again, hence
    /// the restart.
    #[error(
        "the filesystem holding the store is full (no space left on device): free some space there, then start the server again"
    )]
    NoSpace,
    #[error(
        "the store's directory is not writable ({0}): make it writable for the user the server runs as"
    )]
    NotWritable(std::io::Error),
    /// Not a `#[source]`: the message holds sled's text already, and `{:#}` would repeat it.
    #[error("store error: {0}")]
    Sled(sled::Error),
    #[error("the flush to disk was aborted: {0}")]
    FlushAborted(String),
    /// sled read back data whose checksum does not match: bytes in the store's files were
    /// changed (a failing disk, a stray write). Only a backup brings the lost records back.
    #[error(
        "the store is damaged: sled read corrupted data{at}. Stop the server, move the damaged directory aside and restore DATABASE_PATH from a backup"
    )]
    Damaged { at: String },
    /// One record does not decode; the rest of the store is readable.
    #[error("corrupt record in {tree}: {source}")]
    Corrupt {
        tree: &'static str,
        source: serde_json::Error,
    },
    /// PostgreSQL refused or is unreachable: the server goes on and retries with the next
    /// request, `/readyz` says so meanwhile.
    #[error("database error: {0}")]
    Postgres(String),
    /// Another instance is provisioning this registration (it holds the lease).
    #[error("another instance is working on this registration")]
    Busy,
}

impl From<sled::Error> for StoreError {
    fn from(err: sled::Error) -> Self {
        use std::io::ErrorKind;
        match err {
            sled::Error::Io(io) => match io.kind() {
                ErrorKind::StorageFull => StoreError::NoSpace,
                ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem => {
                    StoreError::NotWritable(io)
                }
                // sled reports a held lock only in the message, as an `Other` error.
                ErrorKind::Other if io.to_string().starts_with("could not acquire lock") => {
                    StoreError::Locked
                }
                _ => StoreError::Sled(sled::Error::Io(io)),
            },
            sled::Error::Corruption { at, .. } => StoreError::Damaged {
                at: at.map(|at| format!(" ({at:?})")).unwrap_or_default(),
            },
            err => StoreError::Sled(err),
        }
    }
}

impl From<TransactionError<StoreError>> for StoreError {
    fn from(err: TransactionError<StoreError>) -> Self {
        match err {
            TransactionError::Abort(err) => err,
            TransactionError::Storage(err) => StoreError::from(err),
        }
    }
}

/// The store the rest of the crate uses: sled (one process) or PostgreSQL (several
/// instances sharing one database), chosen at start-up. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    backend: Backend,
}

#[derive(Debug, Clone)]
enum Backend {
    Sled(SledStore),
    Postgres(PgStore),
}

/// Runs `$body` with `$store` bound to whichever backend this is. Both arms are the same
/// code, so a method both backends have is one line here.
macro_rules! dispatch {
    ($self:ident, $store:ident => $body:expr) => {
        match &$self.backend {
            Backend::Sled($store) => $body,
            Backend::Postgres($store) => $body,
        }
    };
}

impl Store {
    /// Opens (or creates) the sled store in `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Ok(Store {
            backend: Backend::Sled(SledStore::open(path)?),
        })
    }

    /// A sled store that disappears when dropped, for tests.
    pub fn temporary() -> Result<Self, StoreError> {
        Ok(Store {
            backend: Backend::Sled(SledStore::temporary()?),
        })
    }

    /// The PostgreSQL store at `url`, not yet connected (see [`PgStore::connect`]); migrate
    /// it with [`Store::migrate`] or [`Store::keep_migrating`] before use.
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        Ok(Store {
            backend: Backend::Postgres(PgStore::connect(url)?),
        })
    }

    /// The PostgreSQL store at `url` with its tables in `schema` (tests: one schema each).
    pub fn connect_in_schema(url: &str, schema: &str) -> Result<Self, StoreError> {
        Ok(Store {
            backend: Backend::Postgres(PgStore::connect_with(url, Some(schema))?),
        })
    }

    /// Which store this is, for the log: `sled` or `PostgreSQL at host:port/database`.
    pub fn describe(&self) -> String {
        match &self.backend {
            Backend::Sled(_) => "sled".into(),
            Backend::Postgres(store) => format!("PostgreSQL at {}", store.target()),
        }
    }

    /// Brings the database's schema up to date (PostgreSQL; sled needs none): how many
    /// migrations were applied.
    pub fn migrate(&self) -> Result<usize, StoreError> {
        match &self.backend {
            Backend::Sled(_) => Ok(0),
            Backend::Postgres(store) => store.migrate(),
        }
    }

    /// As [`Store::migrate`], in the background and retrying until the database answers.
    pub fn keep_migrating(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sled(_) => Ok(()),
            Backend::Postgres(store) => store.keep_migrating(),
        }
    }

    /// Stores a pending sign-up beside any others for the same mailbox; refuses an address
    /// that is already registered.
    pub fn insert_pending(&self, signup: &PendingSignup) -> Result<(), StoreError> {
        dispatch!(self, store => store.insert_pending(signup))
    }

    /// When the mailbox's last pending link expires, if it has one.
    pub fn latest_expiry(&self, email: &RegistryKey) -> Result<Option<u64>, StoreError> {
        dispatch!(self, store => store.latest_expiry(email))
    }

    /// What a link's sign-up id leads to, without changing anything.
    pub fn lookup(&self, signup_id: &str) -> Result<Lookup, StoreError> {
        dispatch!(self, store => store.lookup(signup_id))
    }

    /// Takes the address for the sign-up `signup_id` if `nonce` matches, atomically: of any
    /// number of concurrent claims (in any number of instances) exactly one gets
    /// [`Claim::Claimed`]. PostgreSQL: the claimed registration is queued in the same
    /// transaction, due at `now`, so an instance that dies right after the claim leaves it
    /// to the others' workers (sled: one process, whose confirm enqueues it next).
    pub fn claim(&self, signup_id: &str, nonce: &str, now: u64) -> Result<Claim, StoreError> {
        dispatch!(self, store => store.claim(signup_id, nonce, now))
    }

    /// Every pending sign-up, in id order.
    pub fn pending_signups(
        &self,
    ) -> Box<dyn Iterator<Item = Result<PendingSignup, StoreError>> + '_> {
        match &self.backend {
            Backend::Sled(store) => Box::new(store.pending_signups()),
            Backend::Postgres(store) => all_or_error(store.pending_signups()),
        }
    }

    /// Every registration, in address order.
    pub fn registrations(&self) -> Box<dyn Iterator<Item = Result<Registration, StoreError>> + '_> {
        match &self.backend {
            Backend::Sled(store) => Box::new(store.registrations()),
            Backend::Postgres(store) => all_or_error(store.registrations()),
        }
    }

    /// Whether the mailbox has a registration.
    pub fn is_registered(&self, email: &Mailbox) -> Result<bool, StoreError> {
        dispatch!(self, store => store.is_registered(email))
    }

    /// Saves a registration's progress, durably: the next provisioning step starts only
    /// after the previous one is stored. PostgreSQL: [`StoreError::Busy`] when another
    /// instance has taken the registration over.
    pub async fn save_registration(&self, registration: &Registration) -> Result<(), StoreError> {
        dispatch!(self, store => store.save_registration(registration).await)
    }

    /// Starts provisioning `email` in this process: the registration as stored now.
    /// PostgreSQL: takes a lease on it, [`StoreError::Busy`] while another instance holds
    /// one (sled: one process, whose in-memory guard is enough).
    pub async fn lease(&self, email: &RegistryKey) -> Result<Option<Registration>, StoreError> {
        match &self.backend {
            Backend::Sled(store) => store.registration(email),
            Backend::Postgres(store) => store.lease(email).await,
        }
    }

    /// Keeps this process's lease on `email` (every [`LEASE_RENEWAL`] while it provisions).
    pub async fn renew(&self, email: &RegistryKey) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sled(_) => Ok(()),
            Backend::Postgres(store) => store.lease(email).await.map(drop),
        }
    }

    /// Ends provisioning `email` in this process (gives up the lease [`Store::lease`] took).
    pub async fn release(&self, email: &RegistryKey) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sled(_) => Ok(()),
            Backend::Postgres(store) => store.release(email).await,
        }
    }

    /// Saves `registration` with its `upn` reserved for it, unless another registration
    /// reserved that username first (then nothing changes and the answer is `false`).
    pub async fn reserve_username(&self, registration: &Registration) -> Result<bool, StoreError> {
        dispatch!(self, store => store.reserve_username(registration).await)
    }

    /// The usernames reserved by any registration that start with `nickname` (lower case).
    pub fn reserved_usernames(&self, nickname: &str) -> Result<Vec<String>, StoreError> {
        dispatch!(self, store => store.reserved_usernames(nickname))
    }

    /// The registration stored under `email`.
    pub fn registration(&self, email: &RegistryKey) -> Result<Option<Registration>, StoreError> {
        dispatch!(self, store => store.registration(email))
    }

    /// The registration a sign-up id led to.
    pub fn registration_by_signup(
        &self,
        signup_id: &str,
    ) -> Result<Option<Registration>, StoreError> {
        dispatch!(self, store => store.registration_by_signup(signup_id))
    }

    /// Records an address that already has an account; `false` when it was registered.
    pub fn import_registered(
        &self,
        email: &RegistryKey,
        imported: &Imported,
    ) -> Result<bool, StoreError> {
        dispatch!(self, store => store.import_registered(email, imported))
    }

    /// The issue time of the newest reset link used for `email`, if any was.
    pub fn reset_used_through(&self, email: &RegistryKey) -> Result<Option<u64>, StoreError> {
        dispatch!(self, store => store.reset_used_through(email))
    }

    /// Marks the reset link issued at `issued_at` used, durably, unless it is dead already (a
    /// link issued at or after it was used): then `None`. Of any number of requests with one
    /// link (in any number of instances), one wins.
    pub async fn use_reset_link(
        &self,
        email: &RegistryKey,
        issued_at: u64,
    ) -> Result<Option<UsedResetLink>, StoreError> {
        dispatch!(self, store => store.use_reset_link(email, issued_at).await)
    }

    /// Undoes [`Store::use_reset_link`] (the password could not be changed), unless a newer
    /// link was used meanwhile.
    pub async fn release_reset_link(&self, used: &UsedResetLink) -> Result<(), StoreError> {
        dispatch!(self, store => store.release_reset_link(used).await)
    }

    /// Removes everything stored about an address (a deletion request).
    pub fn forget(&self, email: &RegistryKey) -> Result<Forgotten, StoreError> {
        dispatch!(self, store => store.forget(email))
    }

    /// Puts the registration of `email` at the end of the provisioning queue, due at
    /// `due_at`, unless it is queued already: then its entry keeps its place and becomes due
    /// at `due_at` if that is sooner (the person is back). Durable before it returns.
    pub async fn enqueue(
        &self,
        email: &RegistryKey,
        signup_id: &str,
        now: u64,
        due_at: u64,
    ) -> Result<QueueEntry, StoreError> {
        dispatch!(self, store => store.enqueue(email, signup_id, now, due_at).await)
    }

    /// The first queue entry in confirm order that is due at `now` and not in `running`
    /// (this process's runs). PostgreSQL: also not run by another instance; this process
    /// holds the registration's lease when it gets the entry, so exactly one instance's
    /// worker runs it.
    pub fn next_due(
        &self,
        now: u64,
        running: &HashSet<RegistryKey>,
    ) -> Result<Option<QueueEntry>, StoreError> {
        dispatch!(self, store => store.next_due(now, running))
    }

    /// Records a run that did not finish: one more attempt, the next one not before
    /// `next_attempt_at`. Nothing happens when the entry is gone meanwhile.
    pub async fn reschedule(
        &self,
        email: &RegistryKey,
        next_attempt_at: u64,
    ) -> Result<Option<QueueEntry>, StoreError> {
        dispatch!(self, store => store.reschedule(email, next_attempt_at).await)
    }

    /// Takes the registration of `email` out of the queue (finished, failed for good, or
    /// forgotten). Returns whether it was queued.
    pub fn dequeue(&self, email: &RegistryKey) -> Result<bool, StoreError> {
        dispatch!(self, store => store.dequeue(email))
    }

    /// The queue entry of `email`, if it is queued.
    pub fn queue_entry(&self, email: &RegistryKey) -> Result<Option<QueueEntry>, StoreError> {
        dispatch!(self, store => store.queue_entry(email))
    }

    /// Every queue entry, in confirm order.
    pub fn queued(&self) -> Box<dyn Iterator<Item = Result<QueueEntry, StoreError>> + '_> {
        match &self.backend {
            Backend::Sled(store) => Box::new(store.queued()),
            Backend::Postgres(store) => all_or_error(store.queued()),
        }
    }

    /// The queue's length and its oldest entry's time (for metrics).
    pub fn queue_stats(&self) -> Result<QueueStats, StoreError> {
        dispatch!(self, store => store.queue_stats())
    }

    /// Whether the store answers reads and writes (for `/readyz`).
    pub fn is_ready(&self) -> bool {
        dispatch!(self, store => store.is_ready())
    }

    /// Deletes pending sign-ups whose link expired at or before `now`.
    pub fn purge_expired(&self, now: u64) -> Result<Purged, StoreError> {
        dispatch!(self, store => store.purge_expired(now))
    }

    /// How many sign-ups wait for their link (for metrics, not hot paths).
    pub fn pending_count(&self) -> usize {
        dispatch!(self, store => store.pending_count())
    }

    /// Counts one mail under `key` against `per_hour` in the database, so that the limit
    /// holds across instances: `Err` holds how long to wait. `None` for sled, whose one
    /// process counts in memory (`limits::HourlyLimit`).
    pub fn count_mail(
        &self,
        key: &str,
        per_hour: u32,
        now: u64,
    ) -> Result<Option<Result<(), std::time::Duration>>, StoreError> {
        match &self.backend {
            Backend::Sled(_) => Ok(None),
            Backend::Postgres(store) => store.count_mail(key, per_hour, now).map(Some),
        }
    }

    /// Writes every record to `out`.
    pub fn backup(&self, out: &mut impl Write) -> Result<Copied, BackupError> {
        dispatch!(self, store => store.backup(out))
    }

    /// Reads a whole backup from `input` into this store, which must be empty.
    pub fn restore(&self, input: impl BufRead) -> Result<Copied, BackupError> {
        dispatch!(self, store => store.restore(input))
    }

    /// Completes, with the reason, once a write has failed for a reason of the store that
    /// lasts (sled: a full disk, say). PostgreSQL's failures pass: never.
    pub async fn failed(&self) -> String {
        match &self.backend {
            Backend::Sled(store) => store.failed().await,
            Backend::Postgres(_) => std::future::pending().await,
        }
    }

    /// Why writes fail, once one has (for good).
    pub fn failure(&self) -> Option<String> {
        match &self.backend {
            Backend::Sled(store) => store.failure(),
            Backend::Postgres(_) => None,
        }
    }

    /// Writes everything to disk (for commands that exit right after). PostgreSQL commits
    /// every write durably already.
    pub fn flush_blocking(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sled(store) => store.flush_blocking(),
            Backend::Postgres(_) => Ok(()),
        }
    }

    /// Writes everything to disk.
    pub async fn flush(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sled(store) => store.flush().await,
            Backend::Postgres(_) => Ok(()),
        }
    }
}

/// The records a query read, or its error as the only item.
fn all_or_error<'a, T: 'a>(
    records: Result<Vec<Result<T, StoreError>>, StoreError>,
) -> Box<dyn Iterator<Item = Result<T, StoreError>> + 'a> {
    match records {
        Ok(records) => Box::new(records.into_iter()),
        Err(err) => Box::new(std::iter::once(Err(err))),
    }
}

#[cfg(test)]
mod tests;
