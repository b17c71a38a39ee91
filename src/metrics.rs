//! Prometheus metrics (`METRICS_ENABLED`): sign-ups and password resets by outcome, Graph
//! calls by endpoint and status with latency, mails sent and failed, the number of pending
//! sign-ups, and the provisioning queue with the write budget (length, oldest age,
//! throttling pauses, writes).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SignupLabels {
    outcome: &'static str,
    reason: &'static str,
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
    rate_limited: Family<LimitLabels, Counter>,
    signups: Family<SignupLabels, Counter>,
    password_resets: Family<ResetLabels, Counter>,
    graph_calls: Family<GraphLabels, Counter>,
    graph_latency: Family<EndpointLabels, Histogram>,
    mails: Family<MailLabels, Counter>,
    pending: Gauge,
    unreadable: Counter,
    queue_length: Gauge,
    queue_oldest_age: Gauge,
    paused_seconds: Counter<f64, std::sync::atomic::AtomicU64>,
    graph_writes: Counter,
    writes_per_minute: Gauge,
    /// When the writes of the last minute were admitted.
    recent_writes: Mutex<VecDeque<(Instant, u32)>>,
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
        let signups = Family::<SignupLabels, Counter>::default();
        registry.register(
            "signups",
            "Sign-ups by outcome (started, verified, created, failed with a reason)",
            signups.clone(),
        );
        let password_resets = Family::<ResetLabels, Counter>::default();
        registry.register(
            "password_resets",
            "Password resets by outcome (link_sent, not_ours, unfinished, no_account, reset, forbidden, failed)",
            password_resets.clone(),
        );
        let graph_calls = Family::<GraphLabels, Counter>::default();
        registry.register(
            "graph_requests",
            "Microsoft Graph requests by endpoint and HTTP status (error: no answer)",
            graph_calls.clone(),
        );
        let graph_latency = Family::<EndpointLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.005, 2.0, 14))
        });
        registry.register(
            "graph_request_duration_seconds",
            "Latency of Microsoft Graph requests",
            graph_latency.clone(),
        );
        let mails = Family::<MailLabels, Counter>::default();
        registry.register(
            "mails",
            "Mails by kind (verification, password, reset_link, reset_support, reset_unfinished, new_password) and result (sent, failed)",
            mails.clone(),
        );
        let rate_limited = Family::<LimitLabels, Counter>::default();
        registry.register(
            "rate_limited",
            "Requests refused with 429, by limit (client_signups, client_checks, mails_per_hour)",
            rate_limited.clone(),
        );
        let pending = Gauge::default();
        registry.register(
            "pending_signups",
            "Sign-ups waiting for their link to be confirmed",
            pending.clone(),
        );
        let unreadable = Counter::default();
        registry.register(
            "store_unreadable_records",
            "Store records housekeeping could not read and skipped, each counted once",
            unreadable.clone(),
        );
        let queue_length = Gauge::default();
        registry.register(
            "provisioning_queue_length",
            "Confirmed registrations waiting in the provisioning queue (or being provisioned)",
            queue_length.clone(),
        );
        let queue_oldest_age = Gauge::default();
        registry.register(
            "provisioning_queue_oldest_age_seconds",
            "How long the oldest registration in the provisioning queue has waited",
            queue_oldest_age.clone(),
        );
        let paused_seconds = Counter::<f64, std::sync::atomic::AtomicU64>::default();
        registry.register(
            "graph_throttle_paused_seconds",
            "Seconds every Graph request was held because Graph answered 429 with Retry-After",
            paused_seconds.clone(),
        );
        let graph_writes = Counter::default();
        registry.register(
            "graph_writes",
            "Directory writes sent to Graph (a $batch counts its parts), paced by GRAPH_API_WRITES_PER_MINUTE",
            graph_writes.clone(),
        );
        let writes_per_minute = Gauge::default();
        registry.register(
            "graph_writes_per_minute",
            "Directory writes sent to Graph in the last 60 seconds",
            writes_per_minute.clone(),
        );
        Metrics(Arc::new(Inner {
            queue_length,
            queue_oldest_age,
            paused_seconds,
            graph_writes,
            writes_per_minute,
            recent_writes: Mutex::new(VecDeque::new()),
            registry,
            rate_limited,
            signups,
            password_resets,
            graph_calls,
            graph_latency,
            mails,
            pending,
            unreadable,
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
        self.0.signups.get_or_create(&labels).inc();
    }

    pub fn password_reset(&self, outcome: ResetOutcome) {
        let labels = ResetLabels {
            outcome: outcome.label(),
        };
        self.0.password_resets.get_or_create(&labels).inc();
    }

    /// One Graph request: `status` is the HTTP status, or `None` when no answer came.
    pub fn graph_call(&self, endpoint: &'static str, status: Option<u16>, seconds: f64) {
        let status = status.map_or_else(|| "error".to_owned(), |s| s.to_string());
        self.0
            .graph_calls
            .get_or_create(&GraphLabels { endpoint, status })
            .inc();
        self.0
            .graph_latency
            .get_or_create(&EndpointLabels { endpoint })
            .observe(seconds);
    }

    pub fn mail(&self, kind: &'static str, sent: bool) {
        let result = if sent { "sent" } else { "failed" };
        self.0
            .mails
            .get_or_create(&MailLabels { kind, result })
            .inc();
    }

    /// A request refused by `limit` (429).
    pub fn rate_limited(&self, limit: &'static str) {
        self.0
            .rate_limited
            .get_or_create(&LimitLabels { limit })
            .inc();
    }

    /// Counts a store record found unreadable (once per record).
    pub fn unreadable_record(&self) {
        self.0.unreadable.inc();
    }

    /// `writes` directory writes admitted by the write budget.
    pub fn graph_writes(&self, writes: u32) {
        self.0.graph_writes.inc_by(u64::from(writes));
        self.0
            .recent_writes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back((Instant::now(), writes));
    }

    /// Every Graph request was held `seconds` longer by a 429's `Retry-After`.
    pub fn throttle_paused(&self, seconds: f64) {
        self.0.paused_seconds.inc_by(seconds);
    }

    /// The provisioning queue as of now: its length and how long its oldest entry waits.
    pub fn queue(&self, length: usize, oldest_age_seconds: u64) {
        self.0
            .queue_length
            .set(i64::try_from(length).unwrap_or(i64::MAX));
        self.0
            .queue_oldest_age
            .set(i64::try_from(oldest_age_seconds).unwrap_or(i64::MAX));
    }

    /// The Prometheus text exposition, with the pending count as of now.
    pub fn render(&self, pending_signups: i64) -> String {
        self.0.pending.set(pending_signups);
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
        self.0.writes_per_minute.set(last_minute);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.0.registry)
            .expect("writing to a String cannot fail");
        text
    }
}
