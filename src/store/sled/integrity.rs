//! The store's generation, kept twice: in sled (the default tree's `store_generation`) and in
//! a small file beside sled's (`generation` in the store directory). sled 0.34 treats a
//! damaged message in its log as the end of the log: it opens the state before it, drops
//! everything after, and reports nothing (`bench/findings.md`). A number kept only inside
//! sled goes back with the rest, so it cannot see that; the file outside the log can.
//!
//! A checkpoint raises the generation in sled, flushes, and only then writes the file
//! (written beside, synced, renamed, the directory synced): the file never names a
//! generation sled has not made durable. Opening refuses a store whose sled generation is
//! below the file's. Checkpoints happen about every [`CHECKPOINT_EVERY`] while the store is
//! written (a thread of the store's), when it is closed (a clean shutdown) and when its last
//! handle is dropped, so after a SIGTERM every record is covered and after a SIGKILL all but
//! at most the last second's writes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::store::StoreError;

/// The file beside sled's, in the store directory.
pub(super) const FILE: &str = "generation";

/// The key in sled's default tree.
const KEY: &[u8] = b"store_generation";

/// How often a written store records its generation.
pub(super) const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

#[derive(Serialize, Deserialize)]
struct Recorded {
    generation: u64,
}

/// The generation's keeper for one open store.
#[derive(Debug)]
pub(in crate::store) struct Integrity {
    dir: PathBuf,
    /// Written since the last checkpoint.
    written: AtomicBool,
    /// One checkpoint at a time.
    checkpointing: Mutex<()>,
    /// Dropped with the store: the checkpoint thread ends at once.
    stop: Mutex<Option<SyncSender<()>>>,
}

/// Whether the store in `dir` is at least as new as its file says: [`StoreError::Damaged`]
/// says what is wrong when it is not.
pub(super) fn check(dir: &Path, db: &sled::Db) -> Result<(), StoreError> {
    let file = dir.join(FILE);
    let damaged = |what: String| Err(StoreError::Damaged { what });
    match (read_file(&file)?, stored(db)?) {
        // A new store, or one a version without the file wrote: the first checkpoint
        // writes it.
        (None, None) => Ok(()),
        (None, Some(stored)) => damaged(format!(
            "its generation file {} is missing, though the store is at generation {stored}: it was deleted, or the directory was put together from parts",
            file.display()
        )),
        (Some(recorded), stored) if stored.unwrap_or(0) < recorded => damaged(format!(
            "it holds generation {} of its writes, but generation {recorded} was written before (recorded in {}): sled lost the writes after a damaged spot in its log, or an older copy of the store was put in its place",
            stored.unwrap_or(0),
            file.display()
        )),
        (Some(_), _) => Ok(()),
    }
}

/// The generation the file records; `None` when there is none.
fn read_file(file: &Path) -> Result<Option<u64>, StoreError> {
    match std::fs::read(file) {
        Ok(bytes) => serde_json::from_slice::<Recorded>(&bytes)
            .map(|recorded| Some(recorded.generation))
            .map_err(|err| StoreError::Damaged {
                what: format!(
                    "its generation file {} does not read: {err}",
                    file.display()
                ),
            }),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(StoreError::from(sled::Error::Io(err))),
    }
}

/// The generation sled holds.
fn stored(db: &sled::Db) -> Result<Option<u64>, StoreError> {
    db.get(KEY)?
        .map(|bytes| {
            <[u8; 8]>::try_from(bytes.as_ref())
                .map(u64::from_be_bytes)
                .map_err(|_| StoreError::Damaged {
                    what: "its generation in sled does not read".to_owned(),
                })
        })
        .transpose()
}

impl Integrity {
    pub(super) fn new(dir: &Path) -> Self {
        Integrity {
            dir: dir.to_owned(),
            written: AtomicBool::new(false),
            checkpointing: Mutex::new(()),
            stop: Mutex::new(None),
        }
    }

    pub(super) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Keeps `stop` until the store is dropped: the checkpoint thread ends with it.
    pub(super) fn stop_with(&self, stop: SyncSender<()>) {
        *self
            .stop
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(stop);
    }

    /// Notes a write: the next checkpoint records it.
    pub(super) fn written(&self) {
        self.written.store(true, Ordering::Release);
    }

    /// A checkpoint, if the store was written since the last one.
    pub(super) fn checkpoint_if_written(&self, db: &sled::Db) -> Result<(), StoreError> {
        if self.written.swap(false, Ordering::AcqRel) {
            if let Err(err) = self.checkpoint(db) {
                self.written.store(true, Ordering::Release);
                return Err(err);
            }
        }
        Ok(())
    }

    /// Raises the generation in sled, makes it durable, then records it in the file.
    fn checkpoint(&self, db: &sled::Db) -> Result<(), StoreError> {
        let _one = self
            .checkpointing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let recorded = read_file(&self.dir.join(FILE))?;
        if recorded.is_none() {
            // The file exists before sled ever holds a generation, so a store with a
            // generation and no file is one whose file went missing.
            self.write_file(0)?;
        }
        let stored = stored(db)?;
        let next = stored.max(recorded).unwrap_or(0) + 1;
        db.insert(KEY, &next.to_be_bytes())?;
        db.flush()?;
        self.write_file(next)
    }

    /// Writes the file beside, syncs it, renames it over the old one and syncs the directory.
    fn write_file(&self, generation: u64) -> Result<(), StoreError> {
        let file = self.dir.join(FILE);
        let partial = self.dir.join(format!("{FILE}.partial"));
        let io = |err: std::io::Error| StoreError::from(sled::Error::Io(err));
        let mut out = std::fs::File::create(&partial).map_err(io)?;
        serde_json::to_writer(&mut out, &Recorded { generation })
            .map_err(|err| io(std::io::Error::other(err)))?;
        out.write_all(b"\n").map_err(io)?;
        out.sync_all().map_err(io)?;
        std::fs::rename(&partial, &file).map_err(io)?;
        std::fs::File::open(&self.dir)
            .and_then(|dir| dir.sync_all())
            .map_err(io)
    }
}
