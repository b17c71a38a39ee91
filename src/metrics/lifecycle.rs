//! The accounts' lifecycle in `/metrics`: what a run found due, what became of each action
//! (done, failed, or the mailbox gone), and when the last run finished.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::{Metrics, registered};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabels {
    action: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    action: &'static str,
    outcome: &'static str,
}

/// The lifecycle's metrics.
pub(super) struct LifecycleMetrics {
    due: Family<ActionLabels, Gauge>,
    actions: Family<OutcomeLabels, Counter>,
    last_run: Gauge,
}

impl LifecycleMetrics {
    pub(super) fn register(registry: &mut Registry) -> Self {
        LifecycleMetrics {
            due: registered(
                registry,
                "lifecycle_due",
                "Lifecycle actions due when the last run started, by action (reverify, warn, disable, delete)",
                Family::default(),
            ),
            actions: registered(
                registry,
                "lifecycle_actions",
                "Lifecycle actions by action and outcome (done, failed, mailbox_gone)",
                Family::default(),
            ),
            last_run: registered(
                registry,
                "lifecycle_last_run_timestamp_seconds",
                "When the last lifecycle run finished (Unix seconds)",
                Gauge::default(),
            ),
        }
    }
}

impl Metrics {
    /// `count` actions of `action` were due when a lifecycle run started.
    pub fn lifecycle_due(&self, action: &'static str, count: usize) {
        self.0
            .lifecycle
            .due
            .get_or_create(&ActionLabels { action })
            .set(i64::try_from(count).unwrap_or(i64::MAX));
    }

    /// One lifecycle action ended with `outcome`.
    pub fn lifecycle_action(&self, action: &'static str, outcome: &'static str) {
        self.0
            .lifecycle
            .actions
            .get_or_create(&OutcomeLabels { action, outcome })
            .inc();
    }

    /// A lifecycle run finished at `at` (Unix seconds).
    pub fn lifecycle_ran(&self, at: u64) {
        self.0
            .lifecycle
            .last_run
            .set(i64::try_from(at).unwrap_or(i64::MAX));
    }
}
