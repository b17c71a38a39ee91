//! Microsoft Graph's metrics: calls by endpoint and status with latency, the write budget
//! (writes, round trips to a shared budget, throttling pauses) and the provisioning queue.

use std::sync::PoisonError;
use std::time::Instant;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::{Metrics, registered};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GraphLabels {
    endpoint: &'static str,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabels {
    endpoint: &'static str,
}

/// Microsoft Graph, the write budget and the provisioning queue.
pub(super) struct GraphMetrics {
    graph_calls: Family<GraphLabels, Counter>,
    graph_latency: Family<EndpointLabels, Histogram>,
    pub(super) queue_length: Gauge,
    pub(super) queue_oldest_age: Gauge,
    paused_seconds: Counter<f64, std::sync::atomic::AtomicU64>,
    graph_writes: Counter,
    pub(super) writes_per_minute: Gauge,
    budget_round_trips: Histogram,
}

impl GraphMetrics {
    pub(super) fn register(registry: &mut Registry) -> Self {
        GraphMetrics {
            graph_calls: registered(
                registry,
                "graph_requests",
                "Microsoft Graph requests by endpoint and HTTP status (error: no answer)",
                Family::default(),
            ),
            graph_latency: registered(
                registry,
                "graph_request_duration_seconds",
                "Latency of Microsoft Graph requests",
                Family::new_with_constructor(|| {
                    Histogram::new(exponential_buckets(0.005, 2.0, 14))
                }),
            ),
            queue_length: registered(
                registry,
                "provisioning_queue_length",
                "Confirmed registrations waiting in the provisioning queue (or being provisioned)",
                Gauge::default(),
            ),
            queue_oldest_age: registered(
                registry,
                "provisioning_queue_oldest_age_seconds",
                "How long the oldest registration in the provisioning queue has waited",
                Gauge::default(),
            ),
            paused_seconds: registered(
                registry,
                "graph_throttle_paused_seconds",
                "Seconds every Graph request was held because Graph answered 429 with Retry-After",
                Counter::default(),
            ),
            graph_writes: registered(
                registry,
                "graph_writes",
                "Directory writes sent to Graph (a $batch counts its parts), paced by GRAPH_API_WRITES_PER_MINUTE",
                Counter::default(),
            ),
            writes_per_minute: registered(
                registry,
                "graph_writes_per_minute",
                "Directory writes sent to Graph in the last 60 seconds",
                Gauge::default(),
            ),
            budget_round_trips: registered(
                registry,
                "graph_budget_round_trip_seconds",
                "Round trips to the write budget shared by every instance (PostgreSQL), one per Graph write request",
                Histogram::new(exponential_buckets(0.0001, 2.0, 14)),
            ),
        }
    }
}

impl Metrics {
    /// One Graph request: `status` is the HTTP status, or `None` when no answer came.
    pub fn graph_call(&self, endpoint: &'static str, status: Option<u16>, seconds: f64) {
        let status = status.map_or_else(|| "error".to_owned(), |s| s.to_string());
        self.0
            .graph
            .graph_calls
            .get_or_create(&GraphLabels { endpoint, status })
            .inc();
        self.0
            .graph
            .graph_latency
            .get_or_create(&EndpointLabels { endpoint })
            .observe(seconds);
    }

    /// `writes` directory writes admitted by the write budget.
    pub fn graph_writes(&self, writes: u32) {
        self.0.graph.graph_writes.inc_by(u64::from(writes));
        self.0
            .recent_writes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back((Instant::now(), writes));
    }

    /// One round trip to the shared write budget took `seconds`.
    pub fn budget_round_trip(&self, seconds: f64) {
        self.0.graph.budget_round_trips.observe(seconds);
    }

    /// Every Graph request was held `seconds` longer by a 429's `Retry-After`.
    pub fn throttle_paused(&self, seconds: f64) {
        self.0.graph.paused_seconds.inc_by(seconds);
    }

    /// Seconds Graph requests were held by 429s since the server started (the console's
    /// overview).
    pub fn throttle_paused_seconds(&self) -> f64 {
        self.0.graph.paused_seconds.get()
    }
}
