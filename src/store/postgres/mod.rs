//! The PostgreSQL backend (`DATABASE_URL`): one database shared by several instances. The
//! guarantees the sled store keeps inside one process hold here across processes, each by a
//! single conditional statement or a transaction, never by a read and a later write:
//! - one registration per mailbox: the primary key of `registrations`;
//! - a link claimed once: `DELETE FROM pending … RETURNING` takes the pending row, and the
//!   registration's insert fails on the mailbox's key if another sign-up took it first;
//! - one instance provisions a registration at a time: a lease on its row, taken and kept by
//!   `UPDATE … WHERE lease is free or ours`, renewed by every step it saves (`registry.rs`);
//! - one owner per username: the primary key of `usernames`;
//! - the mail limits: counters per key and hour in `mail_counts`;
//! - a reset link used once: `INSERT … ON CONFLICT DO UPDATE … WHERE` the stored link is
//!   older (`resets.rs`);
//! - queued work run by one worker: the worker takes the first due entry with
//!   `FOR UPDATE SKIP LOCKED` and the registration's lease in the same statement
//!   (`queue.rs`);
//! - an account's life saved from the copy last read: `UPDATE … WHERE version = …`, and one
//!   lifecycle run at a time: a lease on the row of `lifecycle_runs` (`lifecycle.rs`).
//! - each audit line its own number, in the order written: an identity column (`audit.rs`).
//! - one Graph write budget for every instance: a token bucket in one row, taken from by one
//!   conditional `UPDATE` per Graph request, and a 429's pause in the same row, announced
//!   with `NOTIFY` (`write_budget.rs`, `pauses.rs`).
//! - a voucher's uses counted exactly: the claim locks the voucher's row while it takes a
//!   use, in the transaction that makes the registration (`vouchers.rs`).
//!
//! Every query is awaited on the caller's runtime, on a pooled connection (deadpool): no
//! thread waits for the database.

mod audit;
mod backup;
mod error;
mod housekeeping;
mod lifecycle;
mod mail_counts;
pub(in crate::store) mod migrations;
mod pauses;
mod pending;
mod queue;
mod registry;
mod resets;
mod verify;
mod vouchers;
mod write_budget;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio_postgres::types::Json;

use crate::store::{RecordKind, StoreError};

/// How long a registration stays with the instance provisioning it without a sign of life:
/// then another may take it over (the first died, or lost the database). The holder renews
/// it every [`LEASE_RENEWAL`] while it works, so a slow Graph call does not lose it.
const LEASE: Duration = Duration::from_secs(15);

/// How often an instance renews the lease of a registration it is provisioning.
pub const LEASE_RENEWAL: Duration = Duration::from_secs(5);

/// A connection pool on one database. Cheap to clone.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    /// This process, as a lease holder.
    holder: Arc<str>,
    /// The schema is at the version this binary needs.
    migrated: Arc<AtomicBool>,
    /// What the log and the commands name: host, port and database, never the password.
    target: Arc<str>,
    /// This instance runs the lifecycle now (`lifecycle.rs`): its lease on the run is its
    /// own, so only this flag keeps it from starting a second run beside the first.
    lifecycle_running: Arc<AtomicBool>,
    /// Where the Graph throttling pauses of every instance are announced.
    pauses: Arc<pauses::Pauses>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

fn json<T: Serialize>(value: &T) -> Json<serde_json::Value> {
    Json(serde_json::to_value(value).expect("records are plain data and always serialize"))
}

fn decode<T: DeserializeOwned>(
    kind: RecordKind,
    Json(value): Json<serde_json::Value>,
) -> Result<T, StoreError> {
    serde_json::from_value(value).map_err(StoreError::corrupt(kind))
}

fn lease_secs() -> f64 {
    LEASE.as_secs_f64()
}

impl PgStore {
    /// A pool on the database at `url` (`postgres://user:password@host:port/database`, with
    /// `sslmode=require` for TLS, checked against the system's trusted roots), with every
    /// table in `schema` when one is given (tests: one schema each). Connects lazily:
    /// nothing here waits for the database.
    pub(in crate::store) fn connect(url: &str, schema: Option<&str>) -> Result<Self, StoreError> {
        let mut config: tokio_postgres::Config = url.parse().map_err(|err| {
            StoreError::Unavailable(format!("DATABASE_URL does not parse: {err}"))
        })?;
        config.application_name("ms365-accountcreator");
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        if let Some(schema) = schema {
            config.options(format!("-c search_path={schema}"));
        }
        let target = describe(&config);
        let tls = <rustls::ClientConfig as rustls_platform_verifier::ConfigVerifierExt>::with_platform_verifier()
            .map_err(|err| StoreError::Unavailable(format!("cannot set up TLS: {err}")))?;
        let tls = tokio_postgres_rustls::MakeRustlsConnect::new(tls);
        let pauses = pauses::Pauses::new(config.clone(), tls.clone(), schema);
        let manager = Manager::from_config(
            config,
            tls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        // Requests fail fast while the database is away, instead of queueing for ever.
        let timeout = Some(Duration::from_secs(5));
        let pool = Pool::builder(manager)
            .max_size(16)
            .runtime(Runtime::Tokio1)
            .wait_timeout(timeout)
            .create_timeout(timeout)
            .recycle_timeout(timeout)
            .build()
            .map_err(|err| StoreError::Unavailable(format!("cannot build the pool: {err}")))?;
        let instance = crate::ids::random_id(8)
            .map_err(|_| StoreError::Unavailable("no random numbers for the instance id".into()))?;
        Ok(PgStore {
            pool,
            holder: format!("{}:{instance}", std::process::id()).into(),
            migrated: Arc::new(AtomicBool::new(false)),
            target: target.into(),
            lifecycle_running: Arc::new(AtomicBool::new(false)),
            pauses: Arc::new(pauses),
        })
    }

    /// `PostgreSQL at host:port/database`, for the log.
    pub(in crate::store) fn describe_target(&self) -> String {
        format!("PostgreSQL at {}", self.target)
    }
}

/// `host:port/database` of a configuration.
pub(in crate::store) fn describe(config: &tokio_postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
        Some(tokio_postgres::config::Host::Unix(path)) => path.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let database = config.get_dbname().or(config.get_user()).unwrap_or("");
    format!("{host}:{port}/{database}")
}
