//! The accounts' lifecycle, once a day: from `LIFECYCLE_RUN_HOUR` (UTC) on, each check asks
//! the store for that day's run, which it grants once per day among all instances (on
//! PostgreSQL a lease on one row; a run that stops part way is run again the same day).

use std::time::Duration;

use crate::domain::{DAY_SECS, Day};
use crate::lifecycle::Lifecycle;
use crate::signup::Clock;

/// Checks every `every` whether the day's run is due, and runs it.
pub(super) async fn run(
    lifecycle: Lifecycle,
    clock: Clock,
    every: Duration,
    stop: impl Future<Output = ()>,
) {
    let mut tick = tokio::time::interval(every);
    let mut stop = std::pin::pin!(stop);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = &mut stop => return,
        }
        let now = clock();
        if !due(now, lifecycle.settings().run_hour) {
            continue;
        }
        let day = Day::of(now);
        // A run is not cut off half way by a stop: each account's step is saved as it goes,
        // but the stop waits for the run, as it waits for the queue worker's registration.
        match lifecycle.run(now, Some(day)).await {
            Ok(Some(report)) => tracing::info!(
                day = %day,
                due = ?report.due,
                done = ?report.done,
                failed = report.failed.len(),
                "the daily lifecycle run finished"
            ),
            Ok(None) => {}
            Err(err) => {
                tracing::error!(day = %day, error = %err, "the daily lifecycle run failed; it is tried again")
            }
        }
    }
}

/// Whether the day's run hour has come at `now` (Unix seconds).
fn due(now: u64, run_hour: u8) -> bool {
    now % DAY_SECS >= u64::from(run_hour) * 3_600
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_run_is_due_from_its_hour_to_the_end_of_the_day() {
        let midnight = 1_800_000_000 - 1_800_000_000 % DAY_SECS;
        assert!(!due(midnight + 2 * 3_600 + 3_599, 3));
        assert!(due(midnight + 3 * 3_600, 3));
        assert!(due(midnight + DAY_SECS - 1, 3));
        assert!(due(midnight, 0));
    }
}
