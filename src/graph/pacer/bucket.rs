//! The budget kept in this process: a token bucket, the pause this process knows of, and the
//! writes of the last minute. With a shared budget (PostgreSQL) only the pause and the
//! counts are used here; the tokens are the database's.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use crate::metrics::Metrics;

#[derive(Debug)]
pub(super) struct Bucket {
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
    pub(super) metrics: Option<Metrics>,
    /// Times of the writes in the last minute.
    recent: VecDeque<Instant>,
}

impl Bucket {
    /// A bucket of `per_minute` writes a minute (at least one), full.
    pub(super) fn new(per_minute: u32) -> Self {
        let rate = f64::from(per_minute.max(1)) / 60.0;
        let capacity = rate.max(1.0);
        Bucket {
            rate,
            capacity,
            tokens: capacity,
            refilled: Instant::now(),
            paused_until: None,
            metrics: None,
            recent: VecDeque::new(),
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.capacity);
        self.refilled = now;
    }

    /// The pause in force: this process's, or `others` (announced by other instances).
    fn paused_until(&self, others: Option<Instant>) -> Option<Instant> {
        self.paused_until.max(others)
    }

    /// How long the pause in force lasts still.
    pub(super) fn pause_left(&self, others: Option<Instant>) -> Duration {
        self.paused_until(others).map_or(Duration::ZERO, |until| {
            until.saturating_duration_since(Instant::now())
        })
    }

    /// Takes `writes` tokens, returning how long to wait for them and any pause, or how
    /// long it would be when that is longer than `limit` (then nothing is taken).
    pub(super) fn reserve(
        &mut self,
        writes: u32,
        limit: Duration,
        others: Option<Instant>,
    ) -> Result<Duration, Duration> {
        let now = Instant::now();
        self.refill(now);
        let paused = self.pause_left(others);
        let needed = f64::from(writes);
        let short = (needed - self.tokens).max(0.0);
        let wait = paused.max(Duration::from_secs_f64(short / self.rate));
        if wait > limit {
            return Err(wait);
        }
        self.tokens -= needed;
        self.count(writes, wait);
        Ok(wait)
    }

    /// Counts `writes` admitted to go out after `wait`.
    pub(super) fn count(&mut self, writes: u32, wait: Duration) {
        if writes == 0 {
            return;
        }
        let at = Instant::now() + wait;
        for _ in 0..writes {
            self.recent.push_back(at);
        }
        if let Some(metrics) = &self.metrics {
            metrics.graph_writes(writes);
        }
    }

    /// Graph answered 429 with `Retry-After`: nobody sends anything until then. Whether
    /// that lengthens the pause in force (`others` included).
    pub(super) fn pause(&mut self, retry_after: Duration, others: Option<Instant>) -> bool {
        let now = Instant::now();
        let until = now + retry_after;
        let current = self.paused_until(others).filter(|current| *current > now);
        if current.is_some_and(|current| current >= until) {
            return false;
        }
        let added = until - current.unwrap_or(now);
        self.paused_until = Some(until);
        // The window Graph counts is full: start again from an empty bucket.
        self.refill(now);
        self.tokens = self.tokens.min(0.0);
        if let Some(metrics) = &self.metrics {
            metrics.throttle_paused(added.as_secs_f64());
        }
        true
    }

    /// A pause learnt from the shared budget's answer: held here too, counted there.
    pub(super) fn note_pause(&mut self, paused_for: Duration) {
        if paused_for.is_zero() {
            return;
        }
        let until = Instant::now() + paused_for;
        self.paused_until = self.paused_until.max(Some(until));
    }

    /// Writes sent (or admitted) in the last minute.
    pub(super) fn writes_last_minute(&mut self) -> usize {
        let now = Instant::now();
        while self
            .recent
            .front()
            .is_some_and(|at| now.saturating_duration_since(*at) > Duration::from_secs(60))
        {
            self.recent.pop_front();
        }
        self.recent.len()
    }
}
