//! When and how long to wait before trying Graph again: `Retry-After` when Graph says,
//! capped exponential backoff with jitter when it does not, and never past a step's deadline.
//! [`Retrier`] is the one place that decides and waits, for the token, every request, the
//! `$batch` and the waits for replication.

use std::fmt;
use std::ops::ControlFlow;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use ring::rand::SecureRandom;
use tokio::time::Instant;

/// Retry limits of the Graph client. The defaults suit production; tests shorten them.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// The longest one directory step (one name query, one create, one grant) may take,
    /// waits and retries included. Past it, the person sees "try again later".
    pub deadline: Duration,
    /// The first wait when Graph gives no `Retry-After`; doubled on every retry.
    pub base_delay: Duration,
    /// The longest wait without `Retry-After`.
    pub max_delay: Duration,
    /// How often a request about a user just created is repeated while Graph answers 404
    /// (replication between directory replicas takes seconds).
    pub max_lag_retries: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            deadline: Duration::from_secs(30),
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(16),
            max_lag_retries: 6,
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `attempt` (1 for the first retry): Graph's `Retry-After`
    /// if given, else `base_delay · 2^(attempt-1)` capped at `max_delay`, each with up to
    /// a fifth of jitter so that parallel sign-ups do not retry in lockstep.
    pub fn wait(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        match retry_after {
            Some(wait) => wait + jitter(wait / 10),
            None => {
                let exponent = attempt.saturating_sub(1).min(16);
                let backoff = self
                    .base_delay
                    .saturating_mul(1 << exponent)
                    .min(self.max_delay);
                backoff - jitter(backoff / 5)
            }
        }
    }

    /// The deadline of a step starting now.
    pub fn start(&self) -> Deadline {
        Deadline(Instant::now() + self.deadline)
    }
}

/// The moment a step gives up.
#[derive(Debug, Clone, Copy)]
pub struct Deadline(Instant);

impl Deadline {
    pub fn remaining(&self) -> Duration {
        self.0.saturating_duration_since(Instant::now())
    }

    /// Whether waiting `wait` still leaves time for another attempt.
    pub fn allows(&self, wait: Duration) -> bool {
        wait < self.remaining()
    }
}

/// What one attempt came to, as the step judges it; [`Retrier::run`] acts on it.
#[derive(Debug)]
pub enum Attempt<T, E, W> {
    /// Finished: a result, or an answer that asking again would not change.
    Done(T),
    /// A failure that waiting does not fix: stop at once.
    GiveUp(E),
    /// Worth another attempt after a wait.
    Retry(Retry<W>),
    /// Worth another attempt at once, without a wait (a new token after Graph refused the
    /// cached one). The step must not ask for this without end.
    Again,
}

/// Why to try again, and how long Graph asked us to wait.
#[derive(Debug)]
pub struct Retry<W> {
    /// What went wrong: logged with the wait, and the step's error when no attempt is left.
    pub problem: W,
    /// Graph's `Retry-After`; without it the wait is backoff with jitter.
    pub retry_after: Option<Duration>,
    /// Replication lag (a 404 for a user just created): such retries are also counted
    /// against [`Retrier::max_lag`], because a lookup that really finds nothing should not
    /// keep the person waiting until the deadline.
    pub lag: bool,
}

impl<W> Retry<W> {
    /// Throttling (429), an outage (503/504) or a network error.
    pub fn busy(problem: W, retry_after: Option<Duration>) -> Self {
        Retry {
            problem,
            retry_after,
            lag: false,
        }
    }

    /// Replication lag.
    pub fn lagging(problem: W) -> Self {
        Retry {
            problem,
            retry_after: None,
            lag: true,
        }
    }
}

/// Why a step ended without a result.
#[derive(Debug, PartialEq, Eq)]
pub enum Stop<E, W> {
    /// An attempt gave up ([`Attempt::GiveUp`]).
    GaveUp(E),
    /// No attempt left: the next wait would pass the deadline (`out_of_time`), or the lag
    /// retries are used up. `problem` is the last attempt's.
    Exhausted {
        problem: W,
        attempts: u32,
        out_of_time: bool,
    },
}

/// One step's retries: judges each attempt's outcome, waits as [`RetryPolicy::wait`] says
/// before the next one, and never waits past the step's [`Deadline`]. [`Retrier::run`] is the
/// whole loop; a step whose attempts carry state from one to the next (the `$batch`) writes
/// the loop itself around [`Retrier::settle`].
#[derive(Debug)]
pub struct Retrier<'a> {
    operation: &'static str,
    policy: &'a RetryPolicy,
    deadline: Deadline,
    max_lag: u32,
    attempts: u32,
    lag_retries: u32,
}

impl<'a> Retrier<'a> {
    /// A step named `operation` (for the log), with the policy's lag limit.
    pub fn new(operation: &'static str, policy: &'a RetryPolicy, deadline: Deadline) -> Self {
        Retrier {
            operation,
            policy,
            deadline,
            max_lag: policy.max_lag_retries,
            attempts: 0,
            lag_retries: 0,
        }
    }

    /// At most `retries` retries for replication lag instead of the policy's.
    pub fn max_lag(mut self, retries: u32) -> Self {
        self.max_lag = retries;
        self
    }

    /// Calls `attempt` until the step ends: a result, a refusal, or no retry left.
    // Not an async closure, which could keep state between attempts: rustc cannot yet show
    // its futures `Send` ("implementation of `Send` is not general enough"), and the
    // directory's futures must be.
    pub async fn run<T, E, W, F>(mut self, mut attempt: impl FnMut() -> F) -> Result<T, Stop<E, W>>
    where
        F: Future<Output = Attempt<T, E, W>>,
        W: fmt::Display,
    {
        loop {
            if let ControlFlow::Break(end) = self.settle(attempt().await).await {
                return end;
            }
        }
    }

    /// Judges one attempt's outcome: `Break` with the step's end, or `Continue` once it is
    /// time for the next attempt.
    pub async fn settle<T, E, W: fmt::Display>(
        &mut self,
        attempt: Attempt<T, E, W>,
    ) -> ControlFlow<Result<T, Stop<E, W>>> {
        self.attempts += 1;
        let retry = match attempt {
            Attempt::Done(value) => return ControlFlow::Break(Ok(value)),
            Attempt::GiveUp(err) => return ControlFlow::Break(Err(Stop::GaveUp(err))),
            Attempt::Again => return ControlFlow::Continue(()),
            Attempt::Retry(retry) => retry,
        };
        if retry.lag {
            self.lag_retries += 1;
        }
        let wait = self.policy.wait(self.attempts, retry.retry_after);
        let out_of_time = !self.deadline.allows(wait);
        if out_of_time || self.lag_retries > self.max_lag {
            return ControlFlow::Break(Err(Stop::Exhausted {
                problem: retry.problem,
                attempts: self.attempts,
                out_of_time,
            }));
        }
        tracing::info!(
            operation = self.operation,
            problem = %retry.problem,
            wait_ms = wait.as_millis() as u64,
            "Graph is busy, unreachable or behind; waiting before trying again"
        );
        // One 429 pauses every request, not just this step's: the client tells the shared
        // pacer (`pacer/`) when it reads the answer, and every attempt, this one's next
        // included, first waits for the pacer (`call.rs`).
        tokio::time::sleep(wait).await;
        ControlFlow::Continue(())
    }
}

/// Throttling and outages are worth waiting for; anything else is an answer.
pub fn is_transient(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::TOO_MANY_REQUESTS
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT
    )
}

/// `Retry-After` in seconds (what Graph sends) or as an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after(value)
}

/// Parses a `Retry-After` value, also from a `$batch` sub-response's header map.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// A random duration up to `max`. Without randomness (never seen) there is no jitter,
/// which only makes retries less spread out.
fn jitter(max: Duration) -> Duration {
    let mut bytes = [0u8; 4];
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        return Duration::ZERO;
    }
    let fraction = f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX);
    max.mul_f64(fraction)
}

#[cfg(test)]
mod tests;
