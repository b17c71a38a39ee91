//! One store's numbers, its markdown row and its verdict; and where an account's time goes.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::api::fake_graph::{Endpoint, FakeGraph};
use crate::{REGISTRATIONS, SLACK, WRITES_PER_DISABLE, WRITES_PER_MINUTE};

/// One store's run.
pub(crate) struct Row {
    pub store: &'static str,
    pub due: BTreeMap<String, usize>,
    pub writes_by_endpoint: Vec<(&'static str, usize)>,
    pub writes: usize,
    pub reads: usize,
    pub throttled: usize,
    pub disabled: usize,
    pub seats_freed: i64,
    pub mails: usize,
    pub done: usize,
    pub failed: usize,
    pub plan: Duration,
    pub run: Duration,
}

impl Row {
    fn due_total(&self) -> usize {
        self.due.values().sum()
    }

    /// The writes the due actions need: a disable two, a delete one, mails none.
    fn expected_writes(&self) -> usize {
        let of = |action: &str| self.due.get(action).copied().unwrap_or_default();
        of("disable") * WRITES_PER_DISABLE + of("delete")
    }

    /// The time the budget needs for the writes at least (GRAPH_API_WRITES_PER_MINUTE).
    fn floor(&self) -> Duration {
        Duration::from_secs_f64(self.writes as f64 * 60.0 / f64::from(WRITES_PER_MINUTE))
    }

    /// Faster than this, the writes went past the budget: the floor less the one second's
    /// worth the budget may save up.
    fn fastest_paced(&self) -> Duration {
        self.floor().saturating_sub(Duration::from_secs(1))
    }

    fn over_floor(&self) -> f64 {
        self.run.as_secs_f64() / self.floor().as_secs_f64().max(f64::EPSILON) - 1.0
    }

    fn verdict(&self) -> String {
        let mut missed = Vec::new();
        if self.writes != self.expected_writes() {
            missed.push("writes ≠ due actions' writes");
        }
        if self.done != self.due_total() || self.failed > 0 {
            missed.push("actions not done");
        }
        if self.disabled != self.due.get("disable").copied().unwrap_or_default() {
            missed.push("users disabled ≠ due");
        }
        if self.throttled > 0 {
            missed.push("429s");
        }
        if self.run < self.fastest_paced() {
            missed.push("faster than the budget: not paced");
        }
        if self.over_floor() > SLACK {
            missed.push("more than 15 % over the floor");
        }
        if missed.is_empty() {
            "met".into()
        } else {
            format!("**missed**: {}", missed.join(", "))
        }
    }

    pub(crate) fn markdown(&self) -> String {
        let due: Vec<String> = self.due.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let writes: Vec<String> = self
            .writes_by_endpoint
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(name, n)| format!("{name} {n}"))
            .collect();
        format!(
            "| {} | {REGISTRATIONS} | {} ({}) | {} / {} | {} ({}) | {} | {} | {} | {} | {} | {:.1} s | {:.1} s | {:+.1} % | {:.2} s | {} |",
            self.store,
            self.due_total(),
            due.join(", "),
            self.done,
            self.failed,
            self.writes,
            writes.join(", "),
            self.reads,
            self.throttled,
            self.disabled,
            self.seats_freed,
            self.mails,
            self.run.as_secs_f64(),
            self.floor().as_secs_f64(),
            self.over_floor() * 100.0,
            self.plan.as_secs_f64(),
            self.verdict(),
        )
    }
}

/// The median time between one request of the run and the next, by the pair of endpoints:
/// where an account's time goes (printed to standard error).
pub(crate) fn gaps(fake: &FakeGraph) {
    let log: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|(_, endpoint, _)| *endpoint != Endpoint::Token)
        .collect();
    let mut by_pair: BTreeMap<String, Vec<Duration>> = BTreeMap::new();
    for pair in log.windows(2) {
        let name = format!("{:?} → {:?}", pair[0].1, pair[1].1);
        by_pair
            .entry(name)
            .or_default()
            .push(pair[1].0.saturating_duration_since(pair[0].0));
    }
    for (pair, mut gaps) in by_pair {
        gaps.sort();
        let median = gaps[gaps.len() / 2];
        let p90 = gaps[gaps.len() * 9 / 10];
        eprintln!(
            ">> {pair}: {} times, median {median:?}, p90 {p90:?}",
            gaps.len()
        );
    }
}
