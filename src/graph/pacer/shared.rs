//! The port to a write budget kept outside this process, which every instance of a
//! deployment shares (PostgreSQL's, connected by `shared_budget.rs`): the Graph client
//! persists nothing itself.

use std::fmt::Debug;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::watch;
use tokio::time::Instant;

/// A write budget and a throttling pause shared by every instance.
#[async_trait]
pub trait SharedBudget: Debug + Send + Sync {
    /// Takes `writes` tokens of the deployment's bucket, refilled at `per_minute`, unless
    /// the wait for them (and for a pause) would be longer than `limit`.
    async fn take(
        &self,
        writes: u32,
        per_minute: u32,
        limit: Duration,
    ) -> Result<SharedTurn, BudgetUnreachable>;

    /// Graph asked for `retry_after` of quiet: every instance waits until then.
    async fn pause(&self, retry_after: Duration) -> Result<(), BudgetUnreachable>;

    /// The end of the latest pause any instance recorded, as announced.
    fn pauses(&self) -> watch::Receiver<Option<Instant>>;
}

/// The shared budget's answer to [`SharedBudget::take`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedTurn {
    /// How long until the writes may go out (the budget's debt, any pause).
    pub wait: Duration,
    /// Whether the tokens were taken: not when `wait` is longer than the limit.
    pub taken: bool,
    /// How long the shared pause lasts still (zero: none).
    pub paused_for: Duration,
}

/// The shared budget does not answer (the database is away).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BudgetUnreachable(pub String);
