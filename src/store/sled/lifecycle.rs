//! Accounts' lives in sled: tree `lifecycle` (mailbox → [`AccountLife`]) and tree
//! `lifecycle_runs` (`daily` → the number of the last day whose run finished). One process
//! holds a sled store, so the right to run is a flag in memory.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use async_trait::async_trait;

use super::{SledStore, decode, encode};
use crate::store::lifecycle::RunHolder;
use crate::store::{
    AccountLife, LifecycleRun, LifecycleStore, Listed, RecordKind, RegistryKey, StoreError,
};

/// The key of the daily run's last finished day.
const DAILY: &[u8] = b"daily";

#[async_trait]
impl LifecycleStore for SledStore {
    async fn life(&self, email: &RegistryKey) -> Result<Option<AccountLife>, StoreError> {
        self.lifecycle
            .get(email.as_bytes())?
            .map(|bytes| decode(RecordKind::Lifecycle, &bytes))
            .transpose()
    }

    async fn lives(&self) -> Result<Listed<AccountLife>, StoreError> {
        Ok(self
            .lifecycle
            .iter()
            .map(|entry| {
                entry
                    .map_err(StoreError::from)
                    .and_then(|(_, bytes)| decode(RecordKind::Lifecycle, &bytes))
            })
            .collect())
    }

    async fn save_life(&self, life: &mut AccountLife) -> Result<bool, StoreError> {
        let result = async {
            let key = life.email.as_bytes();
            let current = self.lifecycle.get(key)?;
            let stored_version = match &current {
                Some(bytes) => decode::<AccountLife>(RecordKind::Lifecycle, bytes)?.version,
                None => 0,
            };
            if stored_version != life.version {
                return Ok(false);
            }
            let mut next = life.clone();
            next.version += 1;
            // Changed since it was read (between the two calls): the other save came first.
            if self
                .lifecycle
                .compare_and_swap(key, current, Some(encode(&next)))?
                .is_err()
            {
                return Ok(false);
            }
            self.flush_to_disk().await?;
            life.version = next.version;
            Ok(true)
        }
        .await;
        self.watched(result)
    }

    async fn start_lifecycle_run(
        &self,
        day: Option<i64>,
    ) -> Result<Option<LifecycleRun>, StoreError> {
        if let Some(day) = day {
            let done = self
                .lifecycle_runs
                .get(DAILY)?
                .and_then(|bytes| <[u8; 8]>::try_from(bytes.as_ref()).ok())
                .map(i64::from_be_bytes);
            if done.is_some_and(|done| done >= day) {
                return Ok(None);
            }
        }
        if self.running.swap(true, Ordering::AcqRel) {
            return Ok(None);
        }
        Ok(Some(LifecycleRun::new(Arc::new(self.clone()), day)))
    }
}

#[async_trait]
impl RunHolder for SledStore {
    /// The flag does not lapse: nothing to renew.
    async fn renew_run(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn end_run(&self, day: Option<i64>) -> Result<(), StoreError> {
        let result = async {
            if let Some(day) = day {
                self.lifecycle_runs.insert(DAILY, &day.to_be_bytes())?;
                self.flush_to_disk().await?;
            }
            Ok(())
        }
        .await;
        self.running.store(false, Ordering::Release);
        self.watched(result)
    }

    fn abandon_run(&self) {
        self.running.store(false, Ordering::Release);
    }
}
