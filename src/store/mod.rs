//! The only module that touches sled. This file holds the [`Store`] handle (opening,
//! flushing, watching for failures), its errors and the record codec; what is stored has a
//! file each: `pending.rs` (sign-ups waiting for their link), `registry.rs` (used addresses,
//! the sign-up index, username reservations) and `housekeeping.rs` (purge, counts,
//! readiness). No `sled::Tree` leaves this module.
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
mod housekeeping;
mod key;
mod pending;
mod queue;
mod registry;
mod reset;

use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionError};
use tokio::sync::watch;

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

/// The embedded store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    /// Set by the first write that fails for a reason of the store, not of the request.
    failure: Arc<watch::Sender<Option<String>>>,
    db: sled::Db,
    pending: sled::Tree,
    pending_by_email: sled::Tree,
    registrations: sled::Tree,
    signups: sled::Tree,
    usernames: sled::Tree,
    /// The provisioning queue (`queue.rs`).
    queue: queue::QueueTrees,
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("records are plain data and always serialize")
}

fn decode<T: for<'de> Deserialize<'de>>(tree: &'static str, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|source| StoreError::Corrupt { tree, source })
}

fn abort<T>(err: StoreError) -> Result<T, ConflictableTransactionError<StoreError>> {
    Err(ConflictableTransactionError::Abort(err))
}

impl Store {
    /// Opens (or creates) the store directory and reads every record once, so damage is
    /// reported now, with what to do, rather than by whichever request or housekeeping pass
    /// first reads the damaged part (sled reads pages lazily).
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let db = sled::Config::new()
            .path(path)
            .mode(sled::Mode::LowSpace)
            .open()?;
        db.checksum()?;
        Self::from_db(db)
    }

    /// A store that disappears when dropped, for tests.
    pub fn temporary() -> Result<Self, StoreError> {
        Self::from_db(sled::Config::new().temporary(true).open()?)
    }

    fn from_db(db: sled::Db) -> Result<Self, StoreError> {
        Ok(Store {
            pending: db.open_tree("pending")?,
            pending_by_email: db.open_tree("pending_by_email")?,
            registrations: db.open_tree("registrations")?,
            signups: db.open_tree("signups")?,
            usernames: db.open_tree("usernames")?,
            queue: queue::QueueTrees::open(&db)?,
            db,
            failure: Arc::new(watch::Sender::new(None)),
        })
    }

    /// Passes `result` on, noting a failure of the store itself. sled refuses every write
    /// after one has failed (a full disk, say) until the store is opened again, so such a
    /// failure is for good; see [`Store::failed`].
    fn watched<T>(&self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        if let Err(err @ (StoreError::NoSpace | StoreError::NotWritable(_) | StoreError::Sled(_))) =
            &result
        {
            let reason = err.to_string();
            self.failure.send_if_modified(|failure| {
                let first = failure.is_none();
                if first {
                    *failure = Some(reason);
                }
                first
            });
        }
        result
    }

    /// Writes everything to disk without holding a runtime worker. Not sled's `flush_async`:
    /// in 0.34 several at once can deadlock for good (spacejam/sled#1308), which eight people
    /// confirming together did in the benchmark. sled flushes the whole store either way.
    async fn flush_to_disk(&self) -> Result<(), StoreError> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || db.flush())
            .await
            .map_err(|err| StoreError::FlushAborted(err.to_string()))??;
        Ok(())
    }

    /// Every tree, for transactions that span them all.
    fn all_trees(
        &self,
    ) -> (
        &sled::Tree,
        &sled::Tree,
        &sled::Tree,
        &sled::Tree,
        &sled::Tree,
    ) {
        (
            &self.pending,
            &self.pending_by_email,
            &self.registrations,
            &self.signups,
            &self.usernames,
        )
    }

    fn watching<T>(&self, write: impl FnOnce() -> Result<T, StoreError>) -> Result<T, StoreError> {
        self.watched(write())
    }

    /// Completes, with the reason, once a write has failed for a reason of the store.
    pub async fn failed(&self) -> String {
        let mut failure = self.failure.subscribe();
        // The guard `wait_for` returns must not live across an await.
        let reason = match failure.wait_for(Option::is_some).await {
            Ok(reason) => reason.clone(),
            Err(_) => None,
        };
        match reason {
            Some(reason) => reason,
            // The sender lives as long as this store does.
            None => std::future::pending().await,
        }
    }

    /// Why writes fail, once one has.
    pub fn failure(&self) -> Option<String> {
        self.failure.borrow().clone()
    }

    /// Writes everything to disk (for commands that exit right after).
    pub fn flush_blocking(&self) -> Result<(), StoreError> {
        self.watching(|| {
            self.db.flush()?;
            Ok(())
        })
    }

    pub async fn flush(&self) -> Result<(), StoreError> {
        let result = async {
            self.flush_to_disk().await?;
            Ok::<_, StoreError>(())
        }
        .await;
        self.watched(result)
    }
}

#[cfg(test)]
mod tests;
