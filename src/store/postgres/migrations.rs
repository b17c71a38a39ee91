//! The database's schema: the SQL in `migrations/`, applied once each and recorded in
//! `schema_migrations`, by whichever instance starts first (the others wait on a lock).
//! sled has no schema, so this is the PostgreSQL handle's alone.

use std::sync::atomic::Ordering;
use std::time::Duration;

use deadpool_postgres::Pool;

use super::PgStore;
use crate::store::Finding;
use crate::store::StoreError;

/// The embedded migrations, in order: (version, name, SQL).
pub(in crate::store) const MIGRATIONS: &[(i32, &str, &str)] = &[
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
    (
        4,
        "audit",
        include_str!("../../../migrations/0004_audit.sql"),
    ),
    (
        5,
        "lifecycle",
        include_str!("../../../migrations/0005_lifecycle.sql"),
    ),
    (
        6,
        "vouchers",
        include_str!("../../../migrations/0006_vouchers.sql"),
    ),
    (
        7,
        "queue_seat_wait",
        include_str!("../../../migrations/0007_queue_seat_wait.sql"),
    ),
    (
        8,
        "graph_budget",
        include_str!("../../../migrations/0008_graph_budget.sql"),
    ),
];

/// The newest schema version this binary knows (versions may leave gaps).
pub(in crate::store) const NEWEST: i32 = newest();

const fn newest() -> i32 {
    let mut newest = 0;
    let mut i = 0;
    while i < MIGRATIONS.len() {
        if MIGRATIONS[i].0 > newest {
            newest = MIGRATIONS[i].0;
        }
        i += 1;
    }
    newest
}

/// Any key, the same in every instance: migrations of instances starting together run one
/// after the other.
const MIGRATION_LOCK: i64 = 0x6d73_3336_3573;

impl PgStore {
    /// Applies the migrations this binary has and the database lacks; returns how many.
    pub(in crate::store) async fn migrate(&self) -> Result<usize, StoreError> {
        let applied = migrate(&self.pool).await?;
        self.migrated.store(true, Ordering::Release);
        Ok(applied)
    }

    /// Migrates in the background, retrying until the database answers: the server starts
    /// (and `/readyz` says it is not ready) while the database is away.
    pub(in crate::store) fn keep_migrating(&self) {
        let store = self.clone();
        tokio::spawn(async move {
            let mut wait = Duration::from_millis(250);
            loop {
                match store.migrate().await {
                    Ok(applied) => {
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
    }

    /// Whether the schema is the one this binary writes, changing nothing (`store verify`).
    pub(in crate::store) async fn schema_findings(&self) -> Result<Vec<Finding>, StoreError> {
        let client = self.pool.get().await?;
        let exists: bool = client
            .query_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[])
            .await?
            .get(0);
        let done: Vec<i32> = if exists {
            let rows = client
                .query("SELECT version FROM schema_migrations", &[])
                .await?;
            rows.iter().map(|row| row.get(0)).collect()
        } else {
            Vec::new()
        };
        let missing: Vec<String> = MIGRATIONS
            .iter()
            .filter(|(version, _, _)| !done.contains(version))
            .map(|(version, name, _)| format!("{version} ({name})"))
            .collect();
        let mut findings = Vec::new();
        if !missing.is_empty() {
            findings.push(Finding::Schema(format!(
                "migrations not applied: {}; `store migrate` applies them",
                missing.join(", ")
            )));
        }
        if let Some(newer) = done.iter().filter(|v| **v > NEWEST).max() {
            findings.push(Finding::Schema(format!(
                "the schema is version {newer}, newer than this program knows ({NEWEST}): verify with the newer version"
            )));
        }
        Ok(findings)
    }
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
    if let Some(newer) = done.iter().max().filter(|v| **v > NEWEST) {
        return Err(StoreError::Unavailable(format!(
            "the database's schema is version {newer}, newer than this program knows ({NEWEST}): run the newer version"
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
