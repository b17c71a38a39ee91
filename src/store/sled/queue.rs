//! The provisioning queue in sled: confirmed registrations waiting for (or in) their run,
//! in the order they were confirmed. The registration itself keeps its step
//! (`registry.rs`); an entry says only that it is owed a run, when the next one is due and
//! how many were made.
//!
//! Trees: `queue` (big-endian sequence number from sled's `generate_id` → entry, so
//! iteration is confirm order) and `queue_index` (mailbox → its sequence number).

use std::collections::HashSet;

use async_trait::async_trait;
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use super::{SledStore, abort, decode, encode};
use crate::store::{
    Listed, QueueEntry, QueueStats, QueueStore, RecordKind, RegistryKey, StoreError,
};

#[async_trait]
impl QueueStore for SledStore {
    async fn enqueue(
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

    async fn next_due(
        &self,
        now: u64,
        running: &HashSet<RegistryKey>,
    ) -> Result<Option<QueueEntry>, StoreError> {
        for entry in self.queue.iter().values() {
            let entry: QueueEntry = decode(RecordKind::QueueEntry, &entry?)?;
            if entry.next_attempt_at <= now && !running.contains(&entry.email) {
                return Ok(Some(entry));
            }
        }
        Ok(None)
    }

    async fn reschedule(
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
            let mut entry: QueueEntry = decode(RecordKind::QueueEntry, &bytes).or_else(abort)?;
            entry.attempts += 1;
            entry.next_attempt_at = next_attempt_at;
            entry.waiting_for_seat = None;
            entries.insert(&key, encode(&entry))?;
            Ok(Some(entry))
        });
        self.durably(result).await
    }

    async fn wait_for_seat(
        &self,
        email: &RegistryKey,
        sku: &str,
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
            let mut entry: QueueEntry = decode(RecordKind::QueueEntry, &bytes).or_else(abort)?;
            entry.next_attempt_at = next_attempt_at;
            entry.waiting_for_seat = Some(sku.to_owned());
            entries.insert(&key, encode(&entry))?;
            Ok(Some(entry))
        });
        self.durably(result).await
    }

    async fn dequeue(&self, email: &RegistryKey) -> Result<bool, StoreError> {
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

    async fn queue_entry(&self, email: &RegistryKey) -> Result<Option<QueueEntry>, StoreError> {
        let Some(key) = self.queue_index.get(email.as_bytes())? else {
            return Ok(None);
        };
        self.queue
            .get(&key)?
            .map(|bytes| decode(RecordKind::QueueEntry, &bytes))
            .transpose()
    }

    async fn queued(&self) -> Result<Listed<QueueEntry>, StoreError> {
        Ok(self
            .queue
            .iter()
            .values()
            .map(|bytes| {
                bytes
                    .map_err(StoreError::from)
                    .and_then(|bytes| decode(RecordKind::QueueEntry, &bytes))
            })
            .collect())
    }

    /// Counting walks the tree: on a blocking thread. An entry that does not decode counts
    /// as not waiting for a seat (`store verify` reports it).
    async fn queue_stats(&self) -> Result<QueueStats, StoreError> {
        let oldest = match self.queue.first()? {
            Some((_, bytes)) => {
                Some(decode::<QueueEntry>(RecordKind::QueueEntry, &bytes)?.queued_at)
            }
            None => None,
        };
        let queue = self.queue.clone();
        let (length, waiting_for_seat) = tokio::task::spawn_blocking(move || {
            let mut counts = (0, 0);
            for bytes in queue.iter().values() {
                counts.0 += 1;
                let waiting = bytes
                    .ok()
                    .and_then(|bytes| decode::<QueueEntry>(RecordKind::QueueEntry, &bytes).ok());
                if waiting.is_some_and(|entry| entry.waiting_for_seat.is_some()) {
                    counts.1 += 1;
                }
            }
            counts
        })
        .await
        .map_err(|err| StoreError::Unavailable(format!("the count was aborted: {err}")))?;
        Ok(QueueStats {
            length,
            oldest_queued_at: oldest,
            waiting_for_seat,
        })
    }
}

/// The sequence number a `queue` key holds.
pub(super) fn seq_of(key: &[u8]) -> u64 {
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
        let mut entry: QueueEntry = decode(RecordKind::QueueEntry, &bytes).or_else(abort)?;
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
        waiting_for_seat: None,
    };
    let key = seq.to_be_bytes();
    entries.insert(&key, encode(&entry))?;
    index.insert(email.as_bytes(), &key)?;
    Ok(entry)
}
