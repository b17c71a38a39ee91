//! The sled backend's handle: opening, flushing, watching for failures, and the record
//! codec. What is stored has a file each beside this one (`pending.rs`, `registry.rs`,
//! `reset.rs`, `queue.rs`, `housekeeping.rs`, `backup.rs`). No `sled::Tree` leaves the store module.

use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sled::transaction::ConflictableTransactionError;
use tokio::sync::watch;

use super::StoreError;

/// The embedded store (sled): one process, one directory. Cheap to clone.
/// How long opening waits for the store's lock (see [`SledStore::open_db`]).
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

#[derive(Debug, Clone)]
pub struct SledStore {
    /// Set by the first write that fails for a reason of the store, not of the request.
    pub(super) failure: Arc<watch::Sender<Option<String>>>,
    pub(super) db: sled::Db,
    pub(super) pending: sled::Tree,
    pub(super) pending_by_email: sled::Tree,
    pub(super) registrations: sled::Tree,
    pub(super) signups: sled::Tree,
    pub(super) usernames: sled::Tree,
    /// The provisioning queue (`queue.rs`): sequence number → entry, and address → its
    /// sequence number.
    pub(super) queue: sled::Tree,
    pub(super) queue_index: sled::Tree,
}

pub(super) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("records are plain data and always serialize")
}

pub(super) fn decode<T: for<'de> Deserialize<'de>>(
    tree: &'static str,
    bytes: &[u8],
) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|source| StoreError::Corrupt { tree, source })
}

pub(super) fn abort<T>(err: StoreError) -> Result<T, ConflictableTransactionError<StoreError>> {
    Err(ConflictableTransactionError::Abort(err))
}

impl SledStore {
    /// Opens (or creates) the store directory and reads every record once, so damage is
    /// reported now, with what to do, rather than by whichever request or housekeeping pass
    /// first reads the damaged part (sled reads pages lazily).
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let db = Self::open_db(path)?;
        db.checksum()?;
        Self::from_db(db)
    }

    /// Opens sled, waiting up to [`LOCK_WAIT`] for the lock. sled's background jobs (log
    /// writes, truncations on its thread pool) keep the files, and with them the lock, for a
    /// moment after the last handle is dropped; a store closed just before in this process
    /// (`store copy`, a test) is then free again. A store another process holds stays
    /// locked and is refused after the wait.
    fn open_db(path: &Path) -> Result<sled::Db, StoreError> {
        let config = sled::Config::new().path(path).mode(sled::Mode::LowSpace);
        let started = std::time::Instant::now();
        loop {
            match config.open().map_err(StoreError::from) {
                Err(StoreError::Locked) if started.elapsed() < LOCK_WAIT => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                opened => return opened,
            }
        }
    }

    /// A store that disappears when dropped, for tests.
    pub fn temporary() -> Result<Self, StoreError> {
        Self::from_db(sled::Config::new().temporary(true).open()?)
    }

    fn from_db(db: sled::Db) -> Result<Self, StoreError> {
        Ok(SledStore {
            pending: db.open_tree("pending")?,
            pending_by_email: db.open_tree("pending_by_email")?,
            registrations: db.open_tree("registrations")?,
            signups: db.open_tree("signups")?,
            usernames: db.open_tree("usernames")?,
            queue: db.open_tree("queue")?,
            queue_index: db.open_tree("queue_index")?,
            db,
            failure: Arc::new(watch::Sender::new(None)),
        })
    }

    /// Passes `result` on, noting a failure of the store itself. sled refuses every write
    /// after one has failed (a full disk, say) until the store is opened again, so such a
    /// failure is for good; see [`Store::failed`].
    pub(super) fn watched<T>(&self, result: Result<T, StoreError>) -> Result<T, StoreError> {
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
    pub(super) async fn flush_to_disk(&self) -> Result<(), StoreError> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || db.flush())
            .await
            .map_err(|err| StoreError::FlushAborted(err.to_string()))??;
        Ok(())
    }

    /// Every tree, for transactions that span them all.
    pub(super) fn all_trees(
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

    pub(super) fn watching<T>(
        &self,
        write: impl FnOnce() -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
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

    /// A transaction's outcome made durable: flushed to disk when it committed, and any
    /// failure watched (see [`SledStore::watched`]).
    pub(super) async fn durably<T>(
        &self,
        committed: Result<T, sled::transaction::TransactionError<StoreError>>,
    ) -> Result<T, StoreError> {
        let result = async {
            let value = committed.map_err(StoreError::from)?;
            self.flush_to_disk().await?;
            Ok(value)
        }
        .await;
        self.watched(result)
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
