//! The sled backend: one process, one directory. This file is the handle — opening,
//! flushing, watching for failures, the record codec —; what it stores has a file each
//! (`pending.rs`, `registry.rs`, `queue.rs`, `resets.rs`, `lifecycle.rs`, `audit.rs`, `vouchers.rs`,
//! `housekeeping.rs`, `backup.rs`, `verify.rs`, and `mail_counts.rs` and `write_budget.rs`,
//! which say that sled keeps neither mail counts nor the Graph write budget), and
//! `integrity.rs` keeps the generation that tells a rolled-back store from a healthy one.
//!
//! Trees: `pending` (id → [`PendingSignup`](crate::store::PendingSignup)),
//! `pending_by_email` (mailbox → its pending sign-ups' ids, one per line), `registrations`
//! (mailbox → [`Registration`](crate::store::Registration)), `signups` (sign-up id →
//! mailbox), `usernames` (lower-cased UPN → the mailbox whose registration reserved it),
//! `password_resets` (mailbox → the newest reset link used), `queue` (big-endian sequence
//! number → [`QueueEntry`](crate::store::QueueEntry)), `queue_index` (mailbox → its
//! sequence number), `lifecycle` (mailbox → [`AccountLife`](crate::store::AccountLife)),
//! `lifecycle_runs` (the last day the daily lifecycle run finished), `audit` (big-endian
//! line number → [`AuditEntry`](crate::domain::AuditEntry)) and `vouchers` (code →
//! [`Voucher`](crate::store::Voucher)). sled's default tree holds the readiness probe's
//! scratch key and the store's generation.

mod audit;
mod backup;
mod error;
mod housekeeping;
mod integrity;
mod lifecycle;
mod mail_counts;
mod pending;
mod queue;
mod registry;
mod resets;
#[cfg(test)]
mod tests;
mod verify;
mod vouchers;
mod write_budget;

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::RecvTimeoutError;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sled::transaction::ConflictableTransactionError;

use self::integrity::Integrity;
use super::Finding;
use super::{FailureWatch, RecordKind, StoreError};

/// How long opening waits for the store's lock (see [`SledStore::open_db`]).
const LOCK_WAIT: Duration = Duration::from_secs(2);

/// The embedded store. Cheap to clone: every clone is the same handle.
#[derive(Debug, Clone)]
pub struct SledStore(Arc<Handle>);

impl Deref for SledStore {
    type Target = Handle;

    fn deref(&self) -> &Handle {
        &self.0
    }
}

/// The open store: sled and its trees.
#[derive(Debug)]
pub struct Handle {
    /// Set by the first write that fails for a reason of the store, not of the request.
    failure: FailureWatch,
    /// The store's directory and its recorded generation; `None` for a temporary store
    /// and for `store verify`, which writes nothing.
    integrity: Option<Integrity>,
    db: sled::Db,
    pending: sled::Tree,
    pending_by_email: sled::Tree,
    registrations: sled::Tree,
    signups: sled::Tree,
    usernames: sled::Tree,
    resets: sled::Tree,
    queue: sled::Tree,
    queue_index: sled::Tree,
    lifecycle: sled::Tree,
    lifecycle_runs: sled::Tree,
    /// A lifecycle run holds the right to run (`lifecycle.rs`).
    running: AtomicBool,
    audit: sled::Tree,
    vouchers: sled::Tree,
}

/// A store opened for `store verify`: what opening it found wrong, and the store when its
/// records can be read.
pub struct Inspected {
    pub store: Option<SledStore>,
    pub findings: Vec<Finding>,
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("records are plain data and always serialize")
}

fn decode<T: for<'de> Deserialize<'de>>(kind: RecordKind, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(StoreError::corrupt(kind))
}

fn abort<T>(err: StoreError) -> Result<T, ConflictableTransactionError<StoreError>> {
    Err(ConflictableTransactionError::Abort(err))
}

impl SledStore {
    /// Opens (or creates) the store directory, reads every record once and checks the
    /// store's generation, so damage is refused now, with what to do, rather than found by
    /// whichever request first reads the damaged part (sled reads pages lazily) — or never,
    /// when sled cut its log short at the damage and opened an older state.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let db = Self::open_db(path)?;
        read_every_record(&db)?;
        integrity::check(path, &db)?;
        let store = Self::from_db(db, Some(Integrity::new(path)))?;
        keep_checkpointing(&store.0)?;
        Ok(store)
    }

    /// Opens the store as [`SledStore::open`] does for `store verify`: damage is reported,
    /// not refused, and nothing is written.
    pub fn inspect(path: &Path) -> Result<Inspected, StoreError> {
        let unreadable = |what| Inspected {
            store: None,
            findings: vec![Finding::Damaged(what)],
        };
        let db = match Self::open_db(path) {
            Err(StoreError::Damaged { what }) => return Ok(unreadable(what)),
            opened => opened?,
        };
        match read_every_record(&db) {
            Err(StoreError::Damaged { what }) => return Ok(unreadable(what)),
            read => read?,
        }
        let findings = match integrity::check(path, &db) {
            Err(StoreError::Damaged { what }) => vec![Finding::Damaged(what)],
            checked => checked.map(|()| Vec::new())?,
        };
        let store = Some(Self::from_db(db, None)?);
        Ok(Inspected { store, findings })
    }

    /// Opens sled, waiting up to [`LOCK_WAIT`] for the lock. sled's background jobs (log
    /// writes, truncations on its thread pool) keep the files, and with them the lock, for a
    /// moment after the last handle is dropped; a store closed just before in this process
    /// (`store copy`, a test) is then free again. A store another process holds stays
    /// locked and is refused after the wait.
    fn open_db(path: &Path) -> Result<sled::Db, StoreError> {
        let config = sled::Config::new().path(path).mode(sled::Mode::LowSpace);
        let started = Instant::now();
        loop {
            match config.open().map_err(StoreError::from) {
                Err(StoreError::Locked) if started.elapsed() < LOCK_WAIT => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                opened => return opened,
            }
        }
    }

    /// A store that disappears when dropped, for tests.
    pub fn temporary() -> Result<Self, StoreError> {
        Self::from_db(sled::Config::new().temporary(true).open()?, None)
    }

    fn from_db(db: sled::Db, integrity: Option<Integrity>) -> Result<Self, StoreError> {
        Ok(SledStore(Arc::new(Handle {
            pending: db.open_tree("pending")?,
            pending_by_email: db.open_tree("pending_by_email")?,
            registrations: db.open_tree("registrations")?,
            signups: db.open_tree("signups")?,
            usernames: db.open_tree("usernames")?,
            resets: db.open_tree("password_resets")?,
            queue: db.open_tree("queue")?,
            queue_index: db.open_tree("queue_index")?,
            lifecycle: db.open_tree("lifecycle")?,
            lifecycle_runs: db.open_tree("lifecycle_runs")?,
            running: AtomicBool::new(false),
            audit: db.open_tree("audit")?,
            vouchers: db.open_tree("vouchers")?,
            db,
            failure: FailureWatch::default(),
            integrity,
        })))
    }

    /// The directory, for the log.
    fn path(&self) -> Option<PathBuf> {
        self.integrity
            .as_ref()
            .map(|integrity| integrity.dir().to_owned())
    }
}

/// Starts the thread that checkpoints the store every [`integrity::CHECKPOINT_EVERY`] while
/// it is written. It holds the store only while it checkpoints, and ends when the store is
/// dropped.
fn keep_checkpointing(handle: &Arc<Handle>) -> Result<(), StoreError> {
    let Some(integrity) = &handle.integrity else {
        return Ok(());
    };
    let (stop, stopped) = std::sync::mpsc::sync_channel::<()>(0);
    let weak: Weak<Handle> = Arc::downgrade(handle);
    std::thread::Builder::new()
        .name("store-checkpoint".into())
        .spawn(move || {
            while let Err(RecvTimeoutError::Timeout) =
                stopped.recv_timeout(integrity::CHECKPOINT_EVERY)
            {
                let Some(handle) = weak.upgrade() else { return };
                if let Err(err) = handle.checkpoint()
                    && handle.failure.note(err.to_string())
                {
                    tracing::error!(error = %err, "cannot record the store's generation");
                }
            }
        })
        .map_err(|err| {
            StoreError::Unavailable(format!("cannot start the store's checkpoint thread: {err}"))
        })?;
    integrity.stop_with(stop);
    Ok(())
}

/// Reads every key and value of every tree once: sled checks each page's checksum as it
/// reads it, so a changed byte anywhere in the live data is found here.
fn read_every_record(db: &sled::Db) -> Result<(), StoreError> {
    for name in db.tree_names() {
        for entry in db.open_tree(&name)?.iter() {
            entry?;
        }
    }
    Ok(())
}

impl Handle {
    /// Passes `result` on, noting a failure of the store itself. sled refuses every write
    /// after one has failed (a full disk, say) until the store is opened again, so such a
    /// failure is for good; see [`FailureWatch`]. Every write passes here, which also marks
    /// the store written since its last checkpoint.
    fn watched<T>(&self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        if let Some(integrity) = &self.integrity {
            integrity.written();
        }
        if let Err(
            err @ (StoreError::NoSpace | StoreError::NotWritable(_) | StoreError::Unavailable(_)),
        ) = &result
        {
            self.failure.note(err.to_string());
        }
        result
    }

    /// Records the store's generation if it was written since the last time
    /// (`integrity.rs`). Syncs files: not on a runtime worker.
    fn checkpoint(&self) -> Result<(), StoreError> {
        match &self.integrity {
            Some(integrity) => integrity.checkpoint_if_written(&self.db),
            None => Ok(()),
        }
    }

    fn watching<T>(&self, write: impl FnOnce() -> Result<T, StoreError>) -> Result<T, StoreError> {
        self.watched(write())
    }

    /// Writes everything to disk without holding a runtime worker. Not sled's `flush_async`:
    /// in 0.34 several at once can deadlock for good (spacejam/sled#1308), which eight people
    /// confirming together did in the benchmark. sled flushes the whole store either way.
    async fn flush_to_disk(&self) -> Result<(), StoreError> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || db.flush())
            .await
            .map_err(|err| {
                StoreError::Unavailable(format!("the flush to disk was aborted: {err}"))
            })??;
        Ok(())
    }

    /// A transaction's outcome made durable: flushed to disk when it committed, and any
    /// failure watched (see [`Handle::watched`]).
    async fn durably<T>(
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
}

impl Drop for Handle {
    /// The last handle of a store that was written since its last checkpoint records the
    /// state it leaves (a clean shutdown), so the next opening can tell it from an older one.
    fn drop(&mut self) {
        if let Err(err) = self.checkpoint() {
            tracing::warn!(error = %err, "cannot record the store's generation at closing");
        }
    }
}
