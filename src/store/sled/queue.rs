//! The provisioning queue: confirmed registrations waiting for (or in) their run, in the
//! order they were confirmed. The registration itself keeps its step (`registry.rs`); an
//! entry says only that it is owed a run, when the next one is due and how many were made.
//!
//! Trees: `queue` (big-endian sequence number from sled's `generate_id` → [`QueueEntry`], so
//! iteration is confirm order) and `queue_index` (address → its sequence number). The API is
//! small on purpose (enqueue, next due, reschedule, remove, list, stats); this file is the
//! sled backend's, `postgres/queue.rs` the PostgreSQL one's (table `queue`).

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use super::embedded::{SledStore, abort, decode, encode};
use super::{RegistryKey, StoreError};

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
}

/// How long the queue is, and since when its oldest entry waits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Entries in the queue, running ones included.
    pub length: usize,
    /// When the oldest entry was queued (Unix seconds); `None` when the queue is empty.
    pub oldest_queued_at: Option<u64>,
}

impl SledStore {
    /// Puts the registration of `email` at the end of the queue, due at `due_at`, unless it
    /// is queued already: then its entry keeps its place and becomes due at `due_at` if that
    /// is sooner (the person is back). Durable before it returns.
    pub async fn enqueue(
        &self,
        email: &RegistryKey,
        signup_id: &str,
        now: u64,
        due_at: u64,
    ) -> Result<QueueEntry, StoreError> {
        let seq = self.next_queue_seq()?;
        let trees = (&self.queue, &self.queue_index);
        let result = trees.transaction(|(entries, index)| {
            queue_in(entries, index, seq, email, signup_id, now, due_at)
        });
        self.durably(result).await
    }

    /// The first entry in confirm order that is due at `now` and not in `running` (this
    /// process's runs).
    pub fn next_due(
        &self,
        now: u64,
        running: &HashSet<RegistryKey>,
    ) -> Result<Option<QueueEntry>, StoreError> {
        for entry in self.queue.iter().values() {
            let entry: QueueEntry = decode("queue", &entry?)?;
            if entry.next_attempt_at <= now && !running.contains(&entry.email) {
                return Ok(Some(entry));
            }
        }
        Ok(None)
    }

    /// Records a run that did not finish: one more attempt, the next one not before
    /// `next_attempt_at`. Nothing happens when the entry is gone meanwhile.
    pub async fn reschedule(
        &self,
        email: &RegistryKey,
        next_attempt_at: u64,
    ) -> Result<Option<QueueEntry>, StoreError> {
        let trees = (&self.queue, &self.queue_index);
        let result = trees.transaction(|(entries, index)| {
            let Some(key) = index.get(email.as_bytes())? else {
                return Ok(None);
            };
            let Some(bytes) = entries.get(&key)? else {
                return Ok(None);
            };
            let mut entry: QueueEntry = decode("queue", &bytes).or_else(abort)?;
            entry.attempts += 1;
            entry.next_attempt_at = next_attempt_at;
            entries.insert(&key, encode(&entry))?;
            Ok(Some(entry))
        });
        self.durably(result).await
    }

    /// Takes the registration of `email` out of the queue (finished, failed for good, or
    /// forgotten). Returns whether it was queued.
    pub fn dequeue(&self, email: &RegistryKey) -> Result<bool, StoreError> {
        self.watching(|| {
            let trees = (&self.queue, &self.queue_index);
            let removed = trees.transaction(|(entries, index)| {
                let Some(key) = index.remove(email.as_bytes())? else {
                    return Ok(false);
                };
                entries.remove(&key)?;
                Ok(true)
            })?;
            Ok(removed)
        })
    }

    /// The queue entry of `email`, if it is queued.
    pub fn queue_entry(&self, email: &RegistryKey) -> Result<Option<QueueEntry>, StoreError> {
        let Some(key) = self.queue_index.get(email.as_bytes())? else {
            return Ok(None);
        };
        self.queue
            .get(&key)?
            .map(|bytes| decode("queue", &bytes))
            .transpose()
    }

    /// Every queue entry, in confirm order.
    pub fn queued(&self) -> impl Iterator<Item = Result<QueueEntry, StoreError>> + '_ {
        self.queue.iter().values().map(|bytes| {
            bytes
                .map_err(StoreError::from)
                .and_then(|bytes| decode("queue", &bytes))
        })
    }

    /// The queue's length and its oldest entry's time (for metrics).
    pub fn queue_stats(&self) -> Result<QueueStats, StoreError> {
        let oldest = match self.queue.first()? {
            Some((_, bytes)) => Some(decode::<QueueEntry>("queue", &bytes)?.queued_at),
            None => None,
        };
        Ok(QueueStats {
            length: self.queue.len(),
            oldest_queued_at: oldest,
        })
    }
}

/// The sequence number a `queue` key holds.
fn seq_of(key: &[u8]) -> u64 {
    key.try_into().map_or(0, u64::from_be_bytes)
}

impl SledStore {
    /// A sequence number for a new entry: sled's next id, but never behind the queue's end
    /// (after `store restore` sled counts ids from 0 again).
    pub(super) fn next_queue_seq(&self) -> Result<u64, StoreError> {
        let after_last = match self.queue.last()? {
            Some((key, _)) => seq_of(&key).saturating_add(1),
            None => 0,
        };
        Ok(self.db.generate_id()?.max(after_last))
    }

    /// The queue's trees, for a transaction that queues a registration with other writes.
    pub(super) fn queue_trees(&self) -> (&sled::Tree, &sled::Tree) {
        (&self.queue, &self.queue_index)
    }
}

/// Inside a transaction: queues the registration of `email` at `seq` (or later, should two
/// enqueues after a restore start from one number), unless it is queued already: then its
/// entry keeps its place and becomes due at `due_at` if that is sooner (the person is back).
pub(super) fn queue_in(
    entries: &TransactionalTree,
    index: &TransactionalTree,
    seq: u64,
    email: &RegistryKey,
    signup_id: &str,
    now: u64,
    due_at: u64,
) -> Result<QueueEntry, ConflictableTransactionError<StoreError>> {
    if let Some(existing) = index.get(email.as_bytes())?
        && let Some(bytes) = entries.get(&existing)?
    {
        let mut entry: QueueEntry = decode("queue", &bytes).or_else(abort)?;
        if due_at < entry.next_attempt_at {
            entry.next_attempt_at = due_at;
            entries.insert(&existing, encode(&entry))?;
        }
        return Ok(entry);
    }
    let mut seq = seq;
    while entries.get(seq.to_be_bytes())?.is_some() {
        seq += 1;
    }
    let entry = QueueEntry {
        seq,
        email: email.clone(),
        signup_id: signup_id.to_owned(),
        queued_at: now,
        attempts: 0,
        next_attempt_at: due_at,
    };
    let key = seq.to_be_bytes();
    entries.insert(&key, encode(&entry))?;
    index.insert(email.as_bytes(), &key)?;
    Ok(entry)
}
