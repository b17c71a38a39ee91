//! Prometheus metrics (`METRICS_ENABLED`): sign-ups and password resets by outcome, Graph
//! calls by endpoint and status with latency, mails sent and failed, the number of pending
//! sign-ups, the provisioning queue with the write budget (length, oldest age, throttling
//! pauses, writes), licence seats per SKU with the registrations waiting for one
//! (`seats.rs`), and the accounts' lifecycle (`lifecycle.rs`).

mod lifecycle;
mod seats;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Metric, Registry};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SignupLabels {
    outcome: &'static str,
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VoucherLabels {
    voucher: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResetLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GraphLabels {
    endpoint: &'static str,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabels {
    endpoint: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MailLabels {
    kind: &'static str,
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimitLabels {
    limit: &'static str,
}

struct Inner {
    registry: Registry,
    flow: FlowMetrics,
    graph: GraphMetrics,
    lifecycle: lifecycle::LifecycleMetrics,
    seats: seats::SeatMetrics,
    /// When the writes of the last minute were admitted.
    recent_writes: Mutex<VecDeque<(Instant, u32)>>,
}

/// What happens to sign-ups, resets and their mails.
struct FlowMetrics {
    rate_limited: Family<LimitLabels, Counter>,
    signups: Family<SignupLabels, Counter>,
    voucher_accounts: Family<VoucherLabels, Counter>,
    password_resets: Family<ResetLabels, Counter>,
    mails: Family<MailLabels, Counter>,
    pending: Gauge,
    unreadable: Counter,
}

/// Microsoft Graph, the write budget and the provisioning queue.
struct GraphMetrics {
    graph_calls: Family<GraphLabels, Counter>,
    graph_latency: Family<EndpointLabels, Histogram>,
    queue_length: Gauge,
    queue_oldest_age: Gauge,
    paused_seconds: Counter<f64, std::sync::atomic::AtomicU64>,
    graph_writes: Counter,
    writes_per_minute: Gauge,
    budget_round_trips: Histogram,
}

/// `metric`, registered under `name` with `help`.
fn registered<M: Metric + Clone>(registry: &mut Registry, name: &str, help: &str, metric: M) -> M {
    registry.register(name, help, metric.clone());
    metric
}

impl FlowMetrics {
    fn register(registry: &mut Registry) -> Self {
        FlowMetrics {
            signups: registered(
                registry,
                "signups",
                "Sign-ups by outcome (started, verified, created, failed with a reason)",
                Family::default(),
            ),
            voucher_accounts: registered(
                registry,
                "voucher_accounts",
                "Accounts created with a voucher, by the voucher's name",
                Family::default(),
            ),
            password_resets: registered(
                registry,
                "password_resets",
                "Password resets by outcome (link_sent, not_ours, unfinished, no_account, reset, forbidden, failed)",
                Family::default(),
            ),
            mails: registered(
                registry,
                "mails",
                "Mails by kind (verification, password, reset_link, reset_support, reset_unfinished, new_password) and result (sent, failed)",
                Family::default(),
            ),
            rate_limited: registered(
                registry,
                "rate_limited",
                "Requests refused with 429, by limit (client_signups, client_checks, mails_per_hour)",
                Family::default(),
            ),
            pending: registered(
                registry,
                "pending_signups",
                "Sign-ups waiting for their link to be confirmed",
                Gauge::default(),
            ),
            unreadable: registered(
                registry,
                "store_unreadable_records",
                "Store records housekeeping could not read and skipped, each counted once",
                Counter::default(),
            ),
        }
    }
}

impl GraphMetrics {
    fn register(registry: &mut Registry) -> Self {
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

/// The application's metrics. Cheap to clone; every clone counts into the same registry.
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Where a sign-up stands, for `ms365_signups_total{outcome}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignupOutcome {
    /// A verification mail was sent.
    Started,
    /// The link was confirmed and the address claimed.
    Verified,
    /// The account is complete.
    Created,
    /// Provisioning stopped; `reason` says where.
    Failed(&'static str),
}

/// What became of a password reset request or link, for
/// `ms365_password_resets_total{outcome}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetOutcome {
    /// A reset link was mailed.
    LinkSent,
    /// The account was not created here (imported): a mail names the support address.
    NotOurs,
    /// The sign-up was confirmed but its account never finished: a mail links to it.
    Unfinished,
    /// No account for the address: nothing was sent.
    NoAccount,
    /// A new temporary password was set and delivered.
    Reset,
    /// Graph refused for lack of rights (403).
    Forbidden,
    /// The directory, the mail or the store failed; the link works again.
    Failed,
}

impl ResetOutcome {
    fn label(self) -> &'static str {
        match self {
            ResetOutcome::LinkSent => "link_sent",
            ResetOutcome::NotOurs => "not_ours",
            ResetOutcome::Unfinished => "unfinished",
            ResetOutcome::NoAccount => "no_account",
            ResetOutcome::Reset => "reset",
            ResetOutcome::Forbidden => "forbidden",
            ResetOutcome::Failed => "failed",
        }
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("ms365");
        let flow = FlowMetrics::register(&mut registry);
        let graph = GraphMetrics::register(&mut registry);
        let lifecycle = lifecycle::LifecycleMetrics::register(&mut registry);
        let seats = seats::SeatMetrics::register(&mut registry);
        Metrics(Arc::new(Inner {
            registry,
            flow,
            graph,
            lifecycle,
            seats,
            recent_writes: Mutex::new(VecDeque::new()),
        }))
    }

    pub fn signup(&self, outcome: SignupOutcome) {
        let labels = match outcome {
            SignupOutcome::Started => SignupLabels {
                outcome: "started",
                reason: "",
            },
            SignupOutcome::Verified => SignupLabels {
                outcome: "verified",
                reason: "",
            },
            SignupOutcome::Created => SignupLabels {
                outcome: "created",
                reason: "",
            },
            SignupOutcome::Failed(reason) => SignupLabels {
                outcome: "failed",
                reason,
            },
        };
        self.0.flow.signups.get_or_create(&labels).inc();
    }

    /// An account created with the voucher named `name` (its name for operators, never
    /// its code).
    pub fn voucher_account(&self, name: &str) {
        let labels = VoucherLabels {
            voucher: name.to_owned(),
        };
        self.0.flow.voucher_accounts.get_or_create(&labels).inc();
    }

    pub fn password_reset(&self, outcome: ResetOutcome) {
        let labels = ResetLabels {
            outcome: outcome.label(),
        };
        self.0.flow.password_resets.get_or_create(&labels).inc();
    }

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

    pub fn mail(&self, kind: &'static str, sent: bool) {
        let result = if sent { "sent" } else { "failed" };
        self.0
            .flow
            .mails
            .get_or_create(&MailLabels { kind, result })
            .inc();
    }

    /// A request refused by `limit` (429).
    pub fn rate_limited(&self, limit: &'static str) {
        self.0
            .flow
            .rate_limited
            .get_or_create(&LimitLabels { limit })
            .inc();
    }

    /// Counts a store record found unreadable (once per record).
    pub fn unreadable_record(&self) {
        self.0.flow.unreadable.inc();
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

    /// The provisioning queue as of now: its length and how long its oldest entry waits.
    pub fn queue(&self, length: usize, oldest_age_seconds: u64) {
        self.0
            .graph
            .queue_length
            .set(i64::try_from(length).unwrap_or(i64::MAX));
        self.0
            .graph
            .queue_oldest_age
            .set(i64::try_from(oldest_age_seconds).unwrap_or(i64::MAX));
    }

    /// The Prometheus text exposition, with the pending count as of now.
    pub fn render(&self, pending_signups: i64) -> String {
        self.0.flow.pending.set(pending_signups);
        let last_minute = {
            let mut recent = self
                .0
                .recent_writes
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            while recent
                .front()
                .is_some_and(|(at, _)| at.elapsed() > Duration::from_secs(60))
            {
                recent.pop_front();
            }
            recent.iter().map(|(_, n)| i64::from(*n)).sum()
        };
        self.0.graph.writes_per_minute.set(last_minute);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.0.registry)
            .expect("writing to a String cannot fail");
        text
    }
}
