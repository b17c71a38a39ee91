//! Housekeeping in sled: readiness, purging expired sign-ups, counts, flushing, failures.

use async_trait::async_trait;
use sled::Transactional;

use super::pending::remove_id;
use super::{SledStore, decode};
use crate::store::{
    Durability, FailureWatch, Housekeeping, PendingSignup, Purged, RecordKind, StoreError,
    Unreadable,
};

#[async_trait]
impl Housekeeping for SledStore {
    fn describe(&self) -> String {
        match self.path() {
            Some(path) => format!("sled at {}", path.display()),
            None => "sled".to_owned(),
        }
    }

    async fn is_ready(&self) -> bool {
        self.db.insert("readyz", &[1u8][..]).is_ok() && self.db.get("readyz").is_ok()
    }

    /// Walks every pending sign-up: on a blocking thread, not a runtime worker.
    async fn purge_expired(&self, now: u64) -> Result<Purged, StoreError> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.purge_blocking(now))
            .await
            .map_err(|err| StoreError::Unavailable(format!("the purge was aborted: {err}")))?
    }

    /// Walks the tree: on a blocking thread, for metrics, not hot paths.
    async fn pending_count(&self) -> usize {
        let pending = self.pending.clone();
        tokio::task::spawn_blocking(move || pending.len())
            .await
            .unwrap_or(0)
    }

    async fn flush(&self) -> Result<Durability, StoreError> {
        let result = self.flush_to_disk().await;
        self.watched(result).map(|()| Durability::Flushed)
    }

    /// The checkpoint syncs files: on a blocking thread.
    async fn close(&self) -> Result<Durability, StoreError> {
        let flushed = self.flush().await?;
        if self.integrity.is_none() {
            return Ok(flushed);
        }
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.checkpoint())
            .await
            .map_err(|err| {
                StoreError::Unavailable(format!(
                    "recording the store's generation was aborted: {err}"
                ))
            })??;
        Ok(Durability::Recorded)
    }

    fn failures(&self) -> Option<&FailureWatch> {
        Some(&self.failure)
    }
}

impl SledStore {
    /// Deletes the expired pending sign-ups. A record that does not decode is skipped and
    /// reported, so one bad record does not stop every later pass.
    fn purge_blocking(&self, now: u64) -> Result<Purged, StoreError> {
        self.watching(|| {
            let mut purged = Purged::default();
            for entry in self.pending.iter() {
                let (id, bytes) = entry?;
                let signup: PendingSignup = match decode(RecordKind::Pending, &bytes) {
                    Ok(signup) => signup,
                    Err(err) => {
                        purged.unreadable.push(Unreadable {
                            kind: RecordKind::Pending,
                            key: String::from_utf8_lossy(&id).into_owned(),
                            error: err.to_string(),
                        });
                        continue;
                    }
                };
                if signup.expires_at > now {
                    continue;
                }
                let removed =
                    (&self.pending, &self.pending_by_email).transaction(|(pending, by_email)| {
                        if pending.remove(&id)?.is_none() {
                            return Ok(false);
                        }
                        remove_id(by_email, signup.email.as_bytes(), &id)?;
                        Ok(true)
                    });
                if removed.map_err(StoreError::from)? {
                    purged.deleted += 1;
                }
            }
            Ok(purged)
        })
    }
}
