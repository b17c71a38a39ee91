//! Prometheus metrics (`METRICS_ENABLED`): sign-ups and password resets by outcome, Graph
//! calls by endpoint and status with latency, mails sent and failed, the number of pending
//! sign-ups, the provisioning queue with the write budget (length, oldest age, throttling
//! pauses, writes), licence seats per SKU with the registrations waiting for one
//! (`seats.rs`), and the accounts' lifecycle (`lifecycle.rs`).

mod graph;
mod lifecycle;
mod seats;

use graph::GraphMetrics;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
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
    outbox: Gauge,
    unreadable: Counter,
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
                "Mails by kind (verification, password, reset_link, reset_support, reset_unfinished, new_password) and result (sent, failed, given_up: an outbox mail refused for good or failed too often)",
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
            outbox: registered(
                registry,
                "outbox_mails",
                "Mails waiting in the outbox to be sent (growing: the SMTP server refuses or is away)",
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

    pub fn mail(&self, kind: &'static str, sent: bool) {
        let result = if sent { "sent" } else { "failed" };
        self.0
            .flow
            .mails
            .get_or_create(&MailLabels { kind, result })
            .inc();
    }

    /// An outbox mail given up: refused for good, or failed too often.
    pub fn mail_given_up(&self, kind: &'static str) {
        let result = "given_up";
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

    /// The outbox as of now: how many mails wait in it.
    pub fn outbox(&self, waiting: usize) {
        self.0
            .flow
            .outbox
            .set(i64::try_from(waiting).unwrap_or(i64::MAX));
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
