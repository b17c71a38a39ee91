//! The Graph write budget: sled keeps none. One process holds a sled store, and its Graph
//! client keeps the budget and the pause in memory (`graph::Pacer`), which the answers say.

use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::watch;
use tokio::time::Instant;

use super::SledStore;
use crate::store::{StoreError, WriteBudget, WriteTurn};

#[async_trait]
impl WriteBudget for SledStore {
    async fn take_writes(
        &self,
        _writes: u32,
        _per_minute: u32,
        _limit: Duration,
    ) -> Result<Option<WriteTurn>, StoreError> {
        Ok(None)
    }

    async fn pause_writes(&self, _retry_after: Duration) -> Result<Option<Duration>, StoreError> {
        Ok(None)
    }

    fn write_pauses(&self) -> Option<watch::Receiver<Option<Instant>>> {
        None
    }
}
