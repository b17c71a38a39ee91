//! The store: sled (the default, one process) or PostgreSQL (`DATABASE_URL`, several
//! instances sharing one database), behind one [`Store`] handle. The only module that
//! touches sled or the database; no `sled::Tree`, SQL row or backend error leaves it.
//!
//! Layout: the records and answers both backends share (`records.rs`, `kind.rs`, `key.rs`),
//! the errors by meaning (`error.rs`), the seam — one trait per record kind (`backend.rs`),
//! and the right to provision (`lease.rs`) —, the backup file's format (`backup/`) and
//! `store verify` (`verify.rs`, reporting `findings.rs`). `sled/` and
//! `postgres/` implement the traits, each in files named after them: `pending.rs`,
//! `registry.rs`, `queue.rs`, `resets.rs`, `lifecycle.rs`, `audit.rs`, `vouchers.rs`, `mail_counts.rs`,
//! `write_budget.rs`, `housekeeping.rs`, `backup.rs` and `verify.rs`; sled's `integrity.rs`
//! notices a store rolled back to an older state.
//!
//! Adding a method: declare it on the trait of its record kind, with its documentation,
//! and implement it in both backends' files of that name. Callers reach it through
//! [`Store`] (which dereferences to the backend).
//!
//! No temporary password is ever written here, sealed or not: sled keeps superseded values
//! in its log, so anything written once may be read back from the files long after.

mod backend;
mod backup;
mod error;
mod findings;
mod key;
mod kind;
mod lease;
mod lifecycle;
mod postgres;
mod records;
mod sled;
mod verify;
mod voucher;

use std::ops::Deref;
use std::path::Path;
use std::sync::Arc;

pub use backend::{
    AuditLog, Backend, BackupStore, Durability, Exported, FailureWatch, Housekeeping,
    LifecycleStore, MailCounts, PendingStore, QueueStore, RegistryStore, ResetStore, VoucherStore,
    WriteBudget, WriteTurn,
};
pub use backup::{BackupError, Copied};
pub use error::StoreError;
pub use findings::{Finding, Verified};
pub use key::RegistryKey;
pub use kind::RecordKind;
pub use lease::{Lease, RowLease};
pub use lifecycle::{AccountLife, Ending, LifecycleRun, Reverification};
pub use postgres::LEASE_RENEWAL;
pub use records::{
    AuditQuery, BackupRecord, Claim, Forgotten, Imported, Listed, Lookup, PendingSignup, Purged,
    QueueEntry, QueueStats, Registration, Unreadable, UsedResetLink,
};
pub use voucher::{ClaimVoucher, Voucher, VoucherUse};

use self::postgres::PgStore;
use self::sled::SledStore;

/// The store the rest of the crate uses: sled (one process) or PostgreSQL (several
/// instances sharing one database), chosen at start-up. Cheap to clone. Its methods are the
/// [`Backend`]'s; backups and `store verify` are here (`backup/`, `verify.rs`).
#[derive(Debug, Clone)]
pub struct Store(Arc<dyn Backend>);

impl Deref for Store {
    type Target = dyn Backend;

    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

impl Store {
    /// Opens (or creates) the sled store in `path`. Refuses a damaged one
    /// ([`StoreError::Damaged`]): every record is read once, and the store's recorded
    /// generation is checked (`sled/integrity.rs`).
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Ok(Store(Arc::new(SledStore::open(path)?)))
    }

    /// A sled store that disappears when dropped, for tests.
    pub fn temporary() -> Result<Self, StoreError> {
        Ok(Store(Arc::new(SledStore::temporary()?)))
    }

    /// The PostgreSQL store at `url`, its schema brought up to date now: for commands, which
    /// need the database at once.
    pub async fn connect_migrated(url: &str) -> Result<Self, StoreError> {
        let store = PgStore::connect(url, None)?;
        store.migrate().await?;
        Ok(Store(Arc::new(store)))
    }

    /// The PostgreSQL store at `url`, migrated in the background and retrying until the
    /// database answers: the server starts meanwhile, and `/readyz` says it is not ready.
    /// Needs a tokio runtime.
    pub fn connect_migrating(url: &str) -> Result<Self, StoreError> {
        let store = PgStore::connect(url, None)?;
        store.keep_migrating();
        Ok(Store(Arc::new(store)))
    }

    /// As [`Store::connect_migrated`], with every table in `schema` (tests: one each).
    pub async fn connect_in_schema(url: &str, schema: &str) -> Result<Self, StoreError> {
        let store = PgStore::connect(url, Some(schema))?;
        store.migrate().await?;
        Ok(Store(Arc::new(store)))
    }

    /// Completes, with the reason, once a write has failed for a reason of the store that
    /// lasts (sled: a full disk, say). Where failures pass (PostgreSQL): never.
    pub async fn failed(&self) -> String {
        match self.failures() {
            Some(watch) => watch.failed().await,
            None => std::future::pending().await,
        }
    }

    /// Why writes fail, once one has (for good).
    pub fn failure(&self) -> Option<String> {
        self.failures().and_then(FailureWatch::failure)
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod write_budget_tests;
