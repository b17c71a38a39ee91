//! The provisioning queue: confirmed registrations waiting for (or in) their run, in the
//! order they were confirmed. The registration itself keeps its step (`registry.rs`); an
//! entry says only that it is owed a run, when the next one is due and how many were made.
//!
//! Trees: `queue` (big-endian sequence number from sled's `generate_id` → [`QueueEntry`], so
//! iteration is confirm order) and `queue_index` (address → its sequence number). The API is
//! small on purpose (enqueue, next due, reschedule, remove, list, stats), so that another
//! backend can offer the same.

use serde::{Deserialize, Serialize};
use sled::Transactional;

use super::{RegistryKey, Store, StoreError, decode, encode};

/// The two trees of the queue.
#[derive(Debug, Clone)]
pub(super) struct QueueTrees {
    entries: sled::Tree,
    index: sled::Tree,
}

impl QueueTrees {
    pub(super) fn open(db: &sled::Db) -> Result<Self, sled::Error> {
        Ok(QueueTrees {
            entries: db.open_tree("queue")?,
            index: db.open_tree("queue_index")?,
        })
    }
}

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

impl Store {
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
        // After `store restore` sled counts ids from 0 again: never behind the queue's end.
        let after_last = match self.queue.entries.last()? {
            Some((key, _)) => seq_of(&key).saturating_add(1),
            None => 0,
        };
        let seq = self.db.generate_id()?.max(after_last);
        let trees = (&self.queue.entries, &self.queue.index);
        let result = trees.transaction(|(entries, index)| {
            if let Some(existing) = index.get(email.as_bytes())? {
                if let Some(bytes) = entries.get(&existing)? {
                    let mut entry: QueueEntry = decode("queue", &bytes).or_else(super::abort)?;
                    if due_at < entry.next_attempt_at {
                        entry.next_attempt_at = due_at;
                        entries.insert(&existing, encode(&entry))?;
                    }
                    return Ok(entry);
                }
            }
            // Two enqueues right after a restore may start from the same number.
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
        });
        let result = async {
            let entry = result.map_err(StoreError::from)?;
            self.flush_to_disk().await?;
            Ok(entry)
        }
        .await;
        self.watched(result)
    }

    /// The first entry in confirm order that is due at `now` and that `skip` does not
    /// exclude (the ones running already).
    pub fn next_due(
        &self,
        now: u64,
        skip: impl Fn(&RegistryKey) -> bool,
    ) -> Result<Option<QueueEntry>, StoreError> {
        for entry in self.queue.entries.iter().values() {
            let entry: QueueEntry = decode("queue", &entry?)?;
            if entry.next_attempt_at <= now && !skip(&entry.email) {
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
        let trees = (&self.queue.entries, &self.queue.index);
        let result = trees.transaction(|(entries, index)| {
            let Some(key) = index.get(email.as_bytes())? else {
                return Ok(None);
            };
            let Some(bytes) = entries.get(&key)? else {
                return Ok(None);
            };
            let mut entry: QueueEntry = decode("queue", &bytes).or_else(super::abort)?;
            entry.attempts += 1;
            entry.next_attempt_at = next_attempt_at;
            entries.insert(&key, encode(&entry))?;
            Ok(Some(entry))
        });
        let result = async {
            let entry = result.map_err(StoreError::from)?;
            self.flush_to_disk().await?;
            Ok(entry)
        }
        .await;
        self.watched(result)
    }

    /// Takes the registration of `email` out of the queue (finished, failed for good, or
    /// forgotten). Returns whether it was queued.
    pub fn dequeue(&self, email: &RegistryKey) -> Result<bool, StoreError> {
        self.watching(|| {
            let trees = (&self.queue.entries, &self.queue.index);
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
        let Some(key) = self.queue.index.get(email.as_bytes())? else {
            return Ok(None);
        };
        self.queue
            .entries
            .get(&key)?
            .map(|bytes| decode("queue", &bytes))
            .transpose()
    }

    /// Every queue entry, in confirm order.
    pub fn queued(&self) -> impl Iterator<Item = Result<QueueEntry, StoreError>> + '_ {
        self.queue.entries.iter().values().map(|bytes| {
            bytes
                .map_err(StoreError::from)
                .and_then(|bytes| decode("queue", &bytes))
        })
    }

    /// The queue's length and its oldest entry's time (for metrics).
    pub fn queue_stats(&self) -> Result<QueueStats, StoreError> {
        let oldest = match self.queue.entries.first()? {
            Some((_, bytes)) => Some(decode::<QueueEntry>("queue", &bytes)?.queued_at),
            None => None,
        };
        Ok(QueueStats {
            length: self.queue.entries.len(),
            oldest_queued_at: oldest,
        })
    }
}

/// The sequence number a `queue` key holds.
fn seq_of(key: &[u8]) -> u64 {
    key.try_into().map_or(0, u64::from_be_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(email: &str) -> RegistryKey {
        RegistryKey::as_recorded(email)
    }

    #[tokio::test]
    async fn entries_come_out_in_confirm_order_when_due() {
        let store = Store::temporary().unwrap();
        for (i, email) in ["c@x.example", "a@x.example", "b@x.example"]
            .iter()
            .enumerate()
        {
            store
                .enqueue(&key(email), &format!("id{i}"), 100, 100)
                .await
                .unwrap();
        }
        let order: Vec<String> = store
            .queued()
            .map(|entry| entry.unwrap().email.to_string())
            .collect();
        assert_eq!(order, ["c@x.example", "a@x.example", "b@x.example"]);

        let first = store.next_due(100, |_| false).unwrap().unwrap();
        assert_eq!(first.email, key("c@x.example"));
        let skipping = store
            .next_due(100, |email| *email == key("c@x.example"))
            .unwrap()
            .unwrap();
        assert_eq!(skipping.email, key("a@x.example"));
        assert!(
            store.next_due(99, |_| false).unwrap().is_none(),
            "none due yet"
        );
    }

    #[tokio::test]
    async fn a_second_enqueue_keeps_the_place_and_a_reschedule_counts_an_attempt() {
        let store = Store::temporary().unwrap();
        store
            .enqueue(&key("a@x.example"), "a", 100, 100)
            .await
            .unwrap();
        store
            .enqueue(&key("b@x.example"), "b", 101, 101)
            .await
            .unwrap();
        let later = store
            .reschedule(&key("a@x.example"), 500)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((later.attempts, later.next_attempt_at), (1, 500));
        assert_eq!(
            store.next_due(200, |_| false).unwrap().unwrap().email,
            key("b@x.example"),
            "a waits for its next attempt"
        );

        let again = store
            .enqueue(&key("a@x.example"), "a", 200, 200)
            .await
            .unwrap();
        assert_eq!((again.seq, again.next_attempt_at), (later.seq, 200));
        assert_eq!(
            store.next_due(200, |_| false).unwrap().unwrap().email,
            key("a@x.example"),
            "first in confirm order again"
        );
        assert_eq!(
            store.queue_stats().unwrap(),
            QueueStats {
                length: 2,
                oldest_queued_at: Some(100)
            }
        );
    }

    #[tokio::test]
    async fn entries_added_after_a_restore_queue_up_behind_the_restored_ones() {
        let old = Store::temporary().unwrap();
        for i in 0..3 {
            old.enqueue(&key(&format!("old{i}@x.example")), "o", 1, 1)
                .await
                .unwrap();
        }
        let mut file = Vec::new();
        old.backup(&mut file).unwrap();
        let new = Store::temporary().unwrap();
        new.restore(file.as_slice()).unwrap();

        new.enqueue(&key("new@x.example"), "n", 2, 2).await.unwrap();

        let order: Vec<String> = new
            .queued()
            .map(|entry| entry.unwrap().email.to_string())
            .collect();
        assert_eq!(
            order,
            [
                "old0@x.example",
                "old1@x.example",
                "old2@x.example",
                "new@x.example"
            ]
        );
    }

    #[tokio::test]
    async fn a_dequeued_registration_is_gone_and_rescheduling_it_does_nothing() {
        let store = Store::temporary().unwrap();
        store
            .enqueue(&key("a@x.example"), "a", 100, 100)
            .await
            .unwrap();
        assert!(store.dequeue(&key("a@x.example")).unwrap());
        assert!(!store.dequeue(&key("a@x.example")).unwrap());
        assert!(store.queue_entry(&key("a@x.example")).unwrap().is_none());
        assert!(
            store
                .reschedule(&key("a@x.example"), 5)
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(store.queue_stats().unwrap(), QueueStats::default());
    }
}
