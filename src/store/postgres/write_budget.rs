//! The Graph write budget of the whole deployment, in PostgreSQL: table `graph_budget`, one
//! row. The token bucket is kept as the moment every write admitted so far is paid for
//! (`free_at`), the pause as its end (`paused_until`), both in microseconds on the
//! database's clock, so that instances whose clocks differ agree; the answers are durations,
//! which each instance adds to its own clock. Taking tokens and recording a pause are one
//! statement each, prepared once per pooled connection: one round trip. A pause is also
//! announced with NOTIFY, so that writers already given their turn hear of it before they
//! send (`pauses.rs`).

use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::watch;
use tokio::time::Instant;

use super::PgStore;
use crate::store::{StoreError, WriteBudget, WriteTurn};

/// Takes the tokens unless the wait would be longer than the limit; `before_free_at` keeps the
/// value replaced, which RETURNING (the new row) could not give otherwise. The clock is read
/// once, before the row's lock is waited for: a stale reading only makes the answer longer.
const TAKE: &str = "UPDATE graph_budget
    SET before_free_at = free_at,
        free_at = CASE
            WHEN GREATEST(paused_until, GREATEST(free_at, clock.t - $2) + $1) - clock.t <= $3
            THEN GREATEST(free_at, clock.t - $2) + $1
            ELSE free_at END
    FROM (SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint AS t) AS clock
    RETURNING clock.t, before_free_at, free_at, paused_until";

/// Lengthens the pause (never shortens it) and, as the in-memory budget does, starts the
/// bucket empty: the window Graph counts is full. Announced to every instance listening.
const PAUSE: &str = "WITH paused AS (
        UPDATE graph_budget
        SET free_at = CASE WHEN clock.t + $1 > paused_until
                THEN GREATEST(free_at, clock.t) ELSE free_at END,
            paused_until = GREATEST(paused_until, clock.t + $1)
        FROM (SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint AS t) AS clock
        RETURNING paused_until - clock.t AS remaining
    )
    SELECT remaining, pg_notify($2, remaining::text)::text FROM paused";

#[async_trait]
impl WriteBudget for PgStore {
    async fn take_writes(
        &self,
        writes: u32,
        per_minute: u32,
        limit: Duration,
    ) -> Result<Option<WriteTurn>, StoreError> {
        let (cost, saved) = bucket_micros(writes, per_minute);
        let limit = micros(limit);
        let client = self.pool.get().await?;
        let statement = client.prepare_cached(TAKE).await?;
        let row = client
            .query_opt(&statement, &[&cost, &saved, &limit])
            .await?
            .ok_or_else(missing_row)?;
        let (now, before, free, paused): (i64, i64, i64, i64) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        // What the statement decided, from what it saw: the same arithmetic either way.
        let turn = paused.max(before.max(now - saved) + cost) - now;
        Ok(Some(WriteTurn {
            wait: duration(turn),
            taken: free != before,
            paused_for: duration(paused - now),
        }))
    }

    async fn pause_writes(&self, retry_after: Duration) -> Result<Option<Duration>, StoreError> {
        let client = self.pool.get().await?;
        let statement = client.prepare_cached(PAUSE).await?;
        let row = client
            .query_opt(&statement, &[&micros(retry_after), &self.pauses.channel()])
            .await?
            .ok_or_else(missing_row)?;
        Ok(Some(duration(row.get(0))))
    }

    fn write_pauses(&self) -> Option<watch::Receiver<Option<Instant>>> {
        Some(self.pauses.subscribe())
    }
}

/// What `writes` cost and how much the bucket saves up at most, in microseconds of the rate
/// `per_minute`: one second's worth, or one write's when that takes longer. Rounded up, so
/// that the budget is never exceeded by rounding.
fn bucket_micros(writes: u32, per_minute: u32) -> (i64, i64) {
    let per_minute = i64::from(per_minute.max(1));
    let one = (60_000_000 + per_minute - 1) / per_minute;
    (i64::from(writes) * one, one.max(1_000_000))
}

fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

/// A span in microseconds; none when it lies in the past.
fn duration(micros: i64) -> Duration {
    Duration::from_micros(u64::try_from(micros).unwrap_or(0))
}

fn missing_row() -> StoreError {
    StoreError::Unavailable(
        "the table graph_budget has lost its row: insert it again (INSERT INTO graph_budget DEFAULT VALUES)"
            .into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_round_up_and_a_second_is_saved_up_at_least() {
        assert_eq!(bucket_micros(1, 60), (1_000_000, 1_000_000));
        assert_eq!(bucket_micros(3, 330), (3 * 181_819, 1_000_000));
        assert_eq!(bucket_micros(1, 30), (2_000_000, 2_000_000));
        assert_eq!(
            bucket_micros(2, 0),
            (120_000_000, 60_000_000),
            "one a minute at least"
        );
    }
}
