//! The Graph write budget kept in the store, for every instance of a deployment together:
//! connects the Graph client's port ([`SharedBudget`]) to the store's record kind
//! ([`WriteBudget`](crate::store::WriteBudget)). Only PostgreSQL keeps one; on sled the client keeps its own.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::graph::pacer::{BudgetUnreachable, SharedBudget, SharedTurn};
use crate::store::{Store, StoreError};

/// The budget `store` shares among instances, if it keeps one. The first call on a
/// PostgreSQL store starts listening for pauses (it needs a tokio runtime).
pub fn shared_budget(store: &Store) -> Option<Arc<dyn SharedBudget>> {
    let pauses = store.write_pauses()?;
    Some(Arc::new(StoreBudget {
        store: store.clone(),
        pauses,
    }))
}

#[derive(Debug)]
struct StoreBudget {
    store: Store,
    pauses: watch::Receiver<Option<Instant>>,
}

fn unreachable(err: StoreError) -> BudgetUnreachable {
    BudgetUnreachable(err.to_string())
}

/// A store that said it keeps a budget and then keeps none: not one the server opens.
fn none_kept() -> BudgetUnreachable {
    BudgetUnreachable("the store keeps no shared write budget".into())
}

#[async_trait]
impl SharedBudget for StoreBudget {
    async fn take(
        &self,
        writes: u32,
        per_minute: u32,
        limit: Duration,
    ) -> Result<SharedTurn, BudgetUnreachable> {
        let turn = self
            .store
            .take_writes(writes, per_minute, limit)
            .await
            .map_err(unreachable)?
            .ok_or_else(none_kept)?;
        Ok(SharedTurn {
            wait: turn.wait,
            taken: turn.taken,
            paused_for: turn.paused_for,
        })
    }

    async fn pause(&self, retry_after: Duration) -> Result<(), BudgetUnreachable> {
        self.store
            .pause_writes(retry_after)
            .await
            .map_err(unreachable)?
            .ok_or_else(none_kept)?;
        Ok(())
    }

    fn pauses(&self) -> watch::Receiver<Option<Instant>> {
        self.pauses.clone()
    }
}
