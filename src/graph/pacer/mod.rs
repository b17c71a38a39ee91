//! One write budget for every Graph request, the inline confirms' and the queue worker's
//! alike: a token bucket refilled at `GRAPH_API_WRITES_PER_MINUTE`, and one pause that a 429
//! with `Retry-After` starts for everybody. Microsoft counts directory writes per
//! application and tenant (about 3 000 per 150 s); a sign-up costs 2 + G writes (the user,
//! the licences, one per group; a `$batch` counts its parts).
//!
//! Waiting writers are served in the order they asked: each takes its tokens at once, going
//! into debt if need be, and sleeps until the debt is paid back. Nobody polls.
//!
//! The budget is this process's (`bucket.rs`, sled: one process) or the whole deployment's
//! ([`SharedBudget`], PostgreSQL: every instance together). Shared, each write request
//! takes its tokens with one round trip, the writers of all instances in one line; a 429
//! seen by any instance pauses all of them, announced at once to writers already given their
//! turn. When the shared budget does not answer, writes wait for it (fail closed, within
//! each step's deadline) rather than fall back to a budget of this process's: the instance
//! count that a share would need is in the database too, and every step's result must be
//! saved there before the next one anyway.

mod bucket;
mod shared;
#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::metrics::Metrics;
use bucket::Bucket;
pub use shared::{BudgetUnreachable, SharedBudget, SharedTurn};

/// The longest a writer waits for the shared budget's answer: past it, the budget counts as
/// unreachable for this attempt.
const SHARED_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a writer waits before asking an unreachable shared budget again.
const UNREACHABLE_RETRY: Duration = Duration::from_secs(1);

/// The budget. Cheap to clone; clones share it.
#[derive(Debug, Clone)]
pub struct Pacer {
    per_minute: u32,
    bucket: Arc<Mutex<Bucket>>,
    shared: Option<Shared>,
}

/// The deployment's budget, and the pauses announced for it.
#[derive(Debug, Clone)]
struct Shared {
    budget: Arc<dyn SharedBudget>,
    pauses: watch::Receiver<Option<Instant>>,
}

/// Why a request may not go out yet.
#[derive(Debug, thiserror::Error)]
pub enum Held {
    /// The budget's debt or a throttling pause lasts longer than the caller may wait.
    #[error("the write budget or a throttling pause holds requests for {} ms", .0.as_millis())]
    Waiting(Duration),
    /// The budget shared by every instance does not answer.
    #[error(
        "the write budget shared by every instance cannot be reached ({0}); writes wait for it"
    )]
    Unreachable(String),
}

impl Held {
    /// How long to wait before trying again.
    pub fn wait(&self) -> Duration {
        match self {
            Held::Waiting(wait) => *wait,
            Held::Unreachable(_) => UNREACHABLE_RETRY,
        }
    }
}

impl Pacer {
    /// A budget of `per_minute` writes per minute (at least one), kept in this process.
    pub fn new(per_minute: u32) -> Self {
        Pacer {
            per_minute,
            bucket: Arc::new(Mutex::new(Bucket::new(per_minute))),
            shared: None,
        }
    }

    /// Counts writes and pauses into `metrics`.
    pub fn with_metrics(self, metrics: Metrics) -> Self {
        self.bucket().metrics = Some(metrics);
        self
    }

    /// Takes the tokens from `budget`, shared by every instance, and keeps the pauses any
    /// of them records.
    pub fn shared(mut self, budget: Arc<dyn SharedBudget>) -> Self {
        let pauses = budget.pauses();
        self.shared = Some(Shared { budget, pauses });
        self
    }

    fn bucket(&self) -> MutexGuard<'_, Bucket> {
        // Every change leaves the bucket consistent: a panic cannot half-change it.
        self.bucket.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until a request with `writes` writes (0 for a read) may go out: after any
    /// pause, and once the budget has its tokens. When that would take longer than `limit`,
    /// nothing is taken and the answer is how long it would take, so the caller can give
    /// the step up (and the queue try again later) instead of waiting past its deadline.
    pub async fn admit(&self, writes: u32, limit: Duration) -> Result<(), Held> {
        let started = Instant::now();
        let wait = match &self.shared {
            Some(shared) if writes > 0 => self.take_shared(shared, writes, limit).await?,
            _ => {
                let others = self.others_pause();
                self.bucket()
                    .reserve(writes, limit, others)
                    .map_err(Held::Waiting)?
            }
        };
        tokio::time::sleep(wait).await;
        // A 429 may have paused everybody while this writer waited for its turn.
        loop {
            let paused = self.pause_left();
            if paused.is_zero() {
                break;
            }
            let spent = started.elapsed();
            if spent + paused > limit {
                return Err(Held::Waiting(paused));
            }
            tokio::time::sleep(paused).await;
        }
        Ok(())
    }

    /// Takes `writes` tokens from the shared budget: how long to wait for them.
    async fn take_shared(
        &self,
        shared: &Shared,
        writes: u32,
        limit: Duration,
    ) -> Result<Duration, Held> {
        // A pause known here already says no without asking.
        let paused = self.pause_left();
        if paused > limit {
            return Err(Held::Waiting(paused));
        }
        let asked = std::time::Instant::now();
        let answer = tokio::time::timeout(
            SHARED_TIMEOUT,
            shared.budget.take(writes, self.per_minute, limit),
        )
        .await;
        if let Some(metrics) = &self.bucket().metrics {
            metrics.budget_round_trip(asked.elapsed().as_secs_f64());
        }
        let turn = match answer {
            Ok(Ok(turn)) => turn,
            Ok(Err(err)) => return Err(Held::Unreachable(err.to_string())),
            Err(_) => {
                let secs = SHARED_TIMEOUT.as_secs();
                return Err(Held::Unreachable(format!("no answer within {secs} s")));
            }
        };
        let mut bucket = self.bucket();
        // Heard here even while the announcements are not: writers given their turn before
        // check it when their turn comes.
        bucket.note_pause(turn.paused_for);
        if !turn.taken {
            return Err(Held::Waiting(turn.wait));
        }
        bucket.count(writes, turn.wait);
        Ok(turn.wait)
    }

    /// Graph answered 429 with `Retry-After`: nobody sends anything until then, in this
    /// process at once and, shared, in every instance.
    pub async fn pause(&self, retry_after: Duration) {
        let others = self.others_pause();
        if !self.bucket().pause(retry_after, others) {
            return;
        }
        tracing::warn!(
            retry_after_ms = retry_after.as_millis() as u64,
            "Graph throttled a request: every Graph request waits until Retry-After has passed"
        );
        let Some(shared) = &self.shared else {
            return;
        };
        let problem =
            match tokio::time::timeout(SHARED_TIMEOUT, shared.budget.pause(retry_after)).await {
                Ok(Ok(())) => return,
                Ok(Err(err)) => err.to_string(),
                Err(_) => format!("no answer within {} s", SHARED_TIMEOUT.as_secs()),
            };
        tracing::warn!(
            %problem,
            "the other instances cannot be told of Graph's throttling pause: they may draw 429s meanwhile"
        );
    }

    /// How long the current pause lasts still.
    pub fn pause_left(&self) -> Duration {
        let others = self.others_pause();
        self.bucket().pause_left(others)
    }

    /// The end of the latest pause other instances announced.
    fn others_pause(&self) -> Option<Instant> {
        self.shared
            .as_ref()
            .and_then(|shared| *shared.pauses.borrow())
    }

    /// Writes sent (or admitted) by this process in the last minute.
    pub fn writes_last_minute(&self) -> usize {
        self.bucket().writes_last_minute()
    }
}
