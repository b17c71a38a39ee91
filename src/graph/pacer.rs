//! One write budget for every Graph request of this process, the inline confirms' and the
//! queue worker's alike: a token bucket refilled at `GRAPH_API_WRITES_PER_MINUTE`, and one
//! pause that a 429 with `Retry-After` starts for everybody. Microsoft counts directory
//! writes per application and tenant (about 3 000 per 150 s); a sign-up costs 2 + G writes
//! (the user, the licences, one per group; a `$batch` counts its parts).
//!
//! Waiting writers are served in the order they asked: each takes its tokens at once, going
//! into debt if need be, and sleeps until the debt is paid back. Nobody polls.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use crate::metrics::Metrics;

/// The shared budget. Cheap to clone; clones share it.
#[derive(Debug, Clone)]
pub struct Pacer(Arc<Mutex<Bucket>>);

#[derive(Debug)]
struct Bucket {
    /// Tokens per second.
    rate: f64,
    /// The most tokens saved up: one second's worth, so no burst can push a window of
    /// Microsoft's past the limit the rate keeps to.
    capacity: f64,
    /// May be negative: writes admitted ahead, each waiting for its turn.
    tokens: f64,
    refilled: Instant,
    /// No request goes out before this (Graph's `Retry-After`).
    paused_until: Option<Instant>,
    metrics: Option<Metrics>,
    /// Times of the writes in the last minute.
    recent: VecDeque<Instant>,
}

impl Pacer {
    /// A budget of `per_minute` writes per minute (at least one).
    pub fn new(per_minute: u32) -> Self {
        let rate = f64::from(per_minute.max(1)) / 60.0;
        let capacity = rate.max(1.0);
        Pacer(Arc::new(Mutex::new(Bucket {
            rate,
            capacity,
            tokens: capacity,
            refilled: Instant::now(),
            paused_until: None,
            metrics: None,
            recent: VecDeque::new(),
        })))
    }

    /// Counts writes and pauses into `metrics`.
    pub fn with_metrics(self, metrics: Metrics) -> Self {
        self.bucket().metrics = Some(metrics);
        self
    }

    fn bucket(&self) -> std::sync::MutexGuard<'_, Bucket> {
        // Every change leaves the bucket consistent: a panic cannot half-change it.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until a request with `writes` writes (0 for a read) may go out: after any
    /// pause, and once the budget has its tokens. When that would take longer than `limit`,
    /// nothing is taken and the answer is how long it would take, so the caller can give
    /// the step up (and the queue try again later) instead of waiting past its deadline.
    pub async fn admit(&self, writes: u32, limit: Duration) -> Result<(), Duration> {
        let started = Instant::now();
        let wait = self.reserve(writes, limit)?;
        tokio::time::sleep(wait).await;
        // A 429 may have paused everybody while this writer waited for its turn.
        loop {
            let paused = self.pause_left();
            if paused.is_zero() {
                break;
            }
            let spent = started.elapsed();
            if spent + paused > limit {
                return Err(paused);
            }
            tokio::time::sleep(paused).await;
        }
        Ok(())
    }

    /// Takes `writes` tokens, returning how long to wait for them, or how long it would be.
    fn reserve(&self, writes: u32, limit: Duration) -> Result<Duration, Duration> {
        let mut bucket = self.bucket();
        let now = Instant::now();
        bucket.refill(now);
        let paused = bucket
            .paused_until
            .map_or(Duration::ZERO, |until| until.saturating_duration_since(now));
        let needed = f64::from(writes);
        let short = (needed - bucket.tokens).max(0.0);
        let wait = paused.max(Duration::from_secs_f64(short / bucket.rate));
        if wait > limit {
            return Err(wait);
        }
        bucket.tokens -= needed;
        if writes > 0 {
            let at = now + wait;
            for _ in 0..writes {
                bucket.recent.push_back(at);
            }
            if let Some(metrics) = &bucket.metrics {
                metrics.graph_writes(writes);
            }
        }
        Ok(wait)
    }

    /// Graph answered 429 with `Retry-After`: nobody sends anything until then.
    pub fn pause(&self, retry_after: Duration) {
        let mut bucket = self.bucket();
        let now = Instant::now();
        let until = now + retry_after;
        let current = bucket.paused_until.filter(|current| *current > now);
        if current.is_some_and(|current| current >= until) {
            return;
        }
        let added = until - current.unwrap_or(now);
        bucket.paused_until = Some(until);
        // The window Graph counts is full: start again from an empty bucket.
        bucket.refill(now);
        bucket.tokens = bucket.tokens.min(0.0);
        if let Some(metrics) = &bucket.metrics {
            metrics.throttle_paused(added.as_secs_f64());
        }
        tracing::warn!(
            retry_after_ms = retry_after.as_millis() as u64,
            "Graph throttled a request: every Graph request waits until Retry-After has passed"
        );
    }

    /// How long the current pause lasts still.
    pub fn pause_left(&self) -> Duration {
        let bucket = self.bucket();
        bucket.paused_until.map_or(Duration::ZERO, |until| {
            until.saturating_duration_since(Instant::now())
        })
    }

    /// Writes sent (or admitted) in the last minute.
    pub fn writes_last_minute(&self) -> usize {
        let mut bucket = self.bucket();
        let now = Instant::now();
        while bucket
            .recent
            .front()
            .is_some_and(|at| now.saturating_duration_since(*at) > Duration::from_secs(60))
        {
            bucket.recent.pop_front();
        }
        bucket.recent.len()
    }
}

impl Bucket {
    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.capacity);
        self.refilled = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The clock is tokio's virtual one (`start_paused`): it jumps to the next timer whenever
    // every task waits, so the waits below are exact and no load on the machine moves them.

    const LONG: Duration = Duration::from_secs(60);

    #[tokio::test(start_paused = true)]
    async fn writes_beyond_the_budget_wait_their_turn_in_order() {
        // 600 a minute: ten a second, ten saved up.
        let pacer = Pacer::new(600);
        let started = Instant::now();
        pacer.admit(10, LONG).await.unwrap();
        assert_eq!(started.elapsed(), Duration::ZERO, "saved up");
        pacer.admit(1, LONG).await.unwrap();
        let one = started.elapsed();
        pacer.admit(2, LONG).await.unwrap();
        let three = started.elapsed();
        assert_near(one, Duration::from_millis(100));
        assert_near(three, Duration::from_millis(300));
        assert_eq!(pacer.writes_last_minute(), 13);
    }

    #[tokio::test(start_paused = true)]
    async fn reads_cost_nothing_but_wait_for_a_pause() {
        let pacer = Pacer::new(60);
        pacer.admit(1, LONG).await.unwrap();
        let started = Instant::now();
        pacer.admit(0, LONG).await.unwrap();
        assert_eq!(started.elapsed(), Duration::ZERO, "a read takes no token");
        pacer.pause(Duration::from_millis(300));
        pacer.admit(0, LONG).await.unwrap();
        assert_near(started.elapsed(), Duration::from_millis(300));
    }

    #[tokio::test(start_paused = true)]
    async fn one_pause_holds_every_writer_and_a_shorter_one_does_not_shorten_it() {
        let pacer = Pacer::new(60_000);
        pacer.pause(Duration::from_millis(400));
        pacer.pause(Duration::from_millis(100));
        let started = Instant::now();
        let writers: Vec<_> = (0..3)
            .map(|_| {
                let pacer = pacer.clone();
                tokio::spawn(async move {
                    pacer.admit(1, LONG).await.unwrap();
                    Instant::now()
                })
            })
            .collect();
        for writer in writers {
            let sent = writer.await.unwrap();
            assert!(sent - started >= Duration::from_millis(400));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_past_the_limit_takes_nothing_and_says_how_long() {
        let pacer = Pacer::new(60);
        pacer.pause(Duration::from_secs(30));
        let wait = pacer.admit(1, Duration::from_secs(10)).await.unwrap_err();
        assert_near(wait, Duration::from_secs(30));
        assert_eq!(pacer.writes_last_minute(), 0, "no tokens taken");
    }

    /// Equal but for the rounding of the token arithmetic.
    fn assert_near(actual: Duration, expected: Duration) {
        let off = actual.abs_diff(expected);
        assert!(
            off < Duration::from_millis(2),
            "{actual:?}, expected {expected:?}"
        );
    }
}
