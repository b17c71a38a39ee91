//! The PostgreSQL backend (`DATABASE_URL`): one database shared by several instances. The
//! guarantees the sled store keeps inside one process hold here across processes, each by a
//! single conditional statement or a transaction, never by a read and a later write:
//! - one registration per mailbox: the primary key of `registrations`;
//! - a link claimed once: `DELETE FROM pending … RETURNING` takes the pending row, and the
//!   registration's insert fails on the mailbox's key if another sign-up took it first;
//! - one instance provisions a registration at a time: a lease on its row, taken and kept by
//!   `UPDATE … WHERE lease is free or ours`, renewed by every step it saves;
//! - one owner per username: the primary key of `usernames`;
//! - the mail limits: counters per key and hour in `mail_counts`;
//! - a reset link used once: `INSERT … ON CONFLICT DO UPDATE … WHERE` the stored link is
//!   older (`resets.rs`);
//! - queued work run by one worker: the worker takes the first due entry with
//!   `FOR UPDATE SKIP LOCKED` and the registration's lease in the same statement
//!   (`queue.rs`).
//!
//! The queries run on a small runtime of their own (see [`io`]); the store's synchronous
//! methods wait for them there.

mod backup;
mod queue;
mod records;
mod resets;

use std::future::Future;
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio::runtime::Handle;

use super::StoreError;

/// How long a registration stays with the instance provisioning it without a sign of life:
/// then another may take it over (the first died, or lost the database). The holder renews
/// it every [`LEASE_RENEWAL`] while it works, so a slow Graph call does not lose it.
const LEASE: Duration = Duration::from_secs(15);

/// How often an instance renews the lease of a registration it is provisioning.
pub const LEASE_RENEWAL: Duration = Duration::from_secs(5);

/// The embedded migrations, in order: (version, name, SQL).
pub(super) const MIGRATIONS: &[(i32, &str, &str)] = &[
    (
        1,
        "store",
        include_str!("../../../migrations/0001_store.sql"),
    ),
    (
        2,
        "password_resets",
        include_str!("../../../migrations/0002_password_resets.sql"),
    ),
    (
        3,
        "queue",
        include_str!("../../../migrations/0003_queue.sql"),
    ),
];

/// Any key, the same in every instance: migrations of instances starting together run one
/// after the other.
const MIGRATION_LOCK: i64 = 0x6d73_3336_3573;

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
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(err: tokio_postgres::Error) -> Self {
        // The driver's own text is short ("db error"); the server's message is its source.
        let detail = match err.as_db_error() {
            Some(db) => format!("{}: {}", db.code().code(), db.message()),
            None => match std::error::Error::source(&err) {
                Some(source) => format!("{err}: {source}"),
                None => err.to_string(),
            },
        };
        StoreError::Postgres(detail)
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(err: deadpool_postgres::PoolError) -> Self {
        match err {
            deadpool_postgres::PoolError::Backend(err) => StoreError::from(err),
            err => StoreError::Postgres(format!("no database connection: {err}")),
        }
    }
}

/// The runtime the database work runs on, started once per process. The store's callers
/// call its synchronous methods from anywhere: from `spawn_blocking`, but also straight from
/// a request's task on a runtime worker, where `Handle::block_on` would panic. So every query
/// is spawned here, where the pool's connections live too, and the caller waits for the
/// answer; the async methods await it instead of blocking.
fn io() -> Result<&'static Handle, StoreError> {
    static RUNTIME: OnceLock<Handle> = OnceLock::new();
    if let Some(handle) = RUNTIME.get() {
        return Ok(handle);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("postgres")
        .enable_all()
        .build()
        .map_err(|err| StoreError::Postgres(format!("cannot start the database runtime: {err}")))?;
    let handle = runtime.handle().clone();
    std::thread::Builder::new()
        .name("postgres-runtime".into())
        .spawn(move || runtime.block_on(std::future::pending::<()>()))
        .map_err(|err| StoreError::Postgres(format!("cannot start the database runtime: {err}")))?;
    Ok(RUNTIME.get_or_init(|| handle))
}

impl PgStore {
    /// A pool on the database at `url` (`postgres://user:password@host:port/database`, with
    /// `sslmode=require` for TLS, checked against the system's trusted roots). Connects
    /// lazily: nothing here waits for the database.
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, None)
    }

    /// As [`PgStore::connect`], with every table in `schema` (tests: one schema each).
    pub(crate) fn connect_with(url: &str, schema: Option<&str>) -> Result<Self, StoreError> {
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|err| StoreError::Postgres(format!("DATABASE_URL does not parse: {err}")))?;
        config.application_name("ms365-accountcreator");
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        if let Some(schema) = schema {
            config.options(format!("-c search_path={schema}"));
        }
        let target = describe(&config);
        let tls = <rustls::ClientConfig as rustls_platform_verifier::ConfigVerifierExt>::with_platform_verifier()
            .map_err(|err| StoreError::Postgres(format!("cannot set up TLS: {err}")))?;
        let manager = Manager::from_config(
            config,
            tokio_postgres_rustls::MakeRustlsConnect::new(tls),
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
            .map_err(|err| StoreError::Postgres(format!("cannot build the pool: {err}")))?;
        let holder = format!(
            "{}:{}",
            std::process::id(),
            crate::signup::password::random_id(8).map_err(|_| StoreError::Postgres(
                "no random numbers for the instance id".into()
            ))?
        );
        io()?;
        Ok(PgStore {
            pool,
            holder: holder.into(),
            migrated: Arc::new(AtomicBool::new(false)),
            target: target.into(),
        })
    }

    /// Host, port and database, for the log.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Runs `work` on the database runtime and waits for it, blocking this thread.
    fn block<T: Send + 'static>(
        &self,
        work: impl Future<Output = Result<T, StoreError>> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (answer, answered) = std::sync::mpsc::sync_channel(1);
        io()?.spawn(async move {
            // The caller waits on the other end; it is gone only if it panicked.
            let _ = answer.send(work.await);
        });
        answered
            .recv()
            .map_err(|_| StoreError::Postgres("the database task ended without an answer".into()))?
    }

    /// Runs `work` on the database runtime and awaits it.
    async fn run<T: Send + 'static>(
        &self,
        work: impl Future<Output = Result<T, StoreError>> + Send + 'static,
    ) -> Result<T, StoreError> {
        io()?
            .spawn(work)
            .await
            .map_err(|err| StoreError::Postgres(format!("the database task failed: {err}")))?
    }

    /// Applies the migrations this binary has and the database lacks; returns how many.
    pub fn migrate(&self) -> Result<usize, StoreError> {
        let pool = self.pool.clone();
        let applied = self.block(async move { migrate(&pool).await })?;
        self.migrated.store(true, Ordering::Release);
        Ok(applied)
    }

    /// Migrates in the background, retrying until the database answers: the server starts
    /// (and `/readyz` says it is not ready) while the database is away.
    pub fn keep_migrating(&self) -> Result<(), StoreError> {
        let store = self.clone();
        io()?.spawn(async move {
            let mut wait = Duration::from_millis(250);
            loop {
                match migrate(&store.pool).await {
                    Ok(applied) => {
                        store.migrated.store(true, Ordering::Release);
                        tracing::info!(database = %store.target, applied, "the database schema is current");
                        return;
                    }
                    Err(err) => {
                        tracing::warn!(database = %store.target, error = %err, retry_in = ?wait, "the database is not usable yet");
                        tokio::time::sleep(wait).await;
                        wait = (wait * 2).min(Duration::from_secs(10));
                    }
                }
            }
        });
        Ok(())
    }

    /// Whether the schema is current and the database answers now (for `/readyz`).
    pub fn is_ready(&self) -> bool {
        if !self.migrated.load(Ordering::Acquire) {
            return false;
        }
        let pool = self.pool.clone();
        self.block(async move {
            pool.get().await?.simple_query("SELECT 1").await?;
            Ok(())
        })
        .is_ok()
    }
}

/// `host:port/database` of a configuration.
pub(super) fn describe(config: &tokio_postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
        Some(tokio_postgres::config::Host::Unix(path)) => path.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let database = config.get_dbname().or(config.get_user()).unwrap_or("");
    format!("{host}:{port}/{database}")
}

async fn migrate(pool: &Pool) -> Result<usize, StoreError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version integer PRIMARY KEY,
            name text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )",
    )
    .await?;
    let done: Vec<i32> = tx
        .query("SELECT version FROM schema_migrations", &[])
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
    if let Some(newer) = done.iter().max().filter(|v| **v > MIGRATIONS.len() as i32) {
        return Err(StoreError::Postgres(format!(
            "the database's schema is version {newer}, newer than this program knows ({}): run the newer version",
            MIGRATIONS.len()
        )));
    }
    let mut applied = 0;
    for (version, name, sql) in MIGRATIONS {
        if done.contains(version) {
            continue;
        }
        tx.batch_execute(sql).await?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
            &[version, name],
        )
        .await?;
        applied += 1;
    }
    tx.commit().await?;
    Ok(applied)
}
