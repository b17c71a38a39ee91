//! The provisioning queue in PostgreSQL: table `queue`, one row per queued registration,
//! `seq` its place. Picking the next due entry also takes its registration's lease, in one
//! statement with `FOR UPDATE SKIP LOCKED`, so of several instances' workers exactly one
//! runs it.

use std::collections::HashSet;

use async_trait::async_trait;
use tokio_postgres::Row;

use super::{PgStore, lease_secs};
use crate::store::{Listed, QueueEntry, QueueStats, QueueStore, RegistryKey, StoreError};

/// The columns a [`QueueEntry`] is read from, in [`entry`]'s order.
pub(super) const COLUMNS: &str =
    "seq, email, signup_id, queued_at, attempts, next_attempt_at, waiting_for_seat";

pub(super) fn entry(row: &Row) -> QueueEntry {
    QueueEntry {
        seq: row.get::<_, i64>(0) as u64,
        email: RegistryKey::as_recorded(row.get::<_, &str>(1)),
        signup_id: row.get(2),
        queued_at: row.get::<_, i64>(3) as u64,
        attempts: row.get::<_, i32>(4) as u32,
        next_attempt_at: row.get::<_, i64>(5) as u64,
        waiting_for_seat: row.get(6),
    }
}

#[async_trait]
impl QueueStore for PgStore {
    async fn enqueue(
        &self,
        email: &RegistryKey,
        signup_id: &str,
        now: u64,
        due_at: u64,
    ) -> Result<QueueEntry, StoreError> {
        // Queued already: the entry keeps its place, and comes due sooner if asked to.
        let row = self
            .pool
            .get()
            .await?
            .query_one(
                &format!(
                    "INSERT INTO queue (email, signup_id, queued_at, next_attempt_at)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (email) DO UPDATE
                     SET next_attempt_at = least(queue.next_attempt_at, EXCLUDED.next_attempt_at)
                     RETURNING {COLUMNS}"
                ),
                &[&email.as_str(), &signup_id, &(now as i64), &(due_at as i64)],
            )
            .await?;
        Ok(entry(&row))
    }

    /// The run that follows holds the registration's lease already.
    async fn next_due(
        &self,
        now: u64,
        running: &HashSet<RegistryKey>,
    ) -> Result<Option<QueueEntry>, StoreError> {
        let running: Vec<&str> = running.iter().map(RegistryKey::as_str).collect();
        let client = self.pool.get().await?;
        // One statement: the rows it locks are skipped by any other worker's, and re-checked
        // once locked, so no two take the same registration.
        let picked = COLUMNS
            .split(", ")
            .map(|column| format!("picked.{column}"))
            .collect::<Vec<_>>()
            .join(", ");
        let leased = client
            .query_opt(
                &format!(
                    "UPDATE registrations r
                     SET lease_holder = $2, lease_until = now() + make_interval(secs => $4)
                     FROM (
                         SELECT q.seq, q.email, q.signup_id, q.queued_at, q.attempts,
                                q.next_attempt_at, q.waiting_for_seat
                         FROM queue q JOIN registrations held ON held.email = q.email
                         WHERE q.next_attempt_at <= $1 AND NOT (q.email = ANY($3))
                           AND (held.lease_holder IS NULL OR held.lease_holder = $2
                                OR held.lease_until < now())
                         ORDER BY q.seq
                         LIMIT 1
                         FOR UPDATE OF q, held SKIP LOCKED
                     ) picked
                     WHERE r.email = picked.email
                     RETURNING {picked}"
                ),
                &[&(now as i64), &&*self.holder, &running, &lease_secs()],
            )
            .await?;
        if let Some(row) = leased {
            return Ok(Some(entry(&row)));
        }
        // An entry whose registration is gone (forgotten): the worker takes it out.
        let orphan = client
            .query_opt(
                &format!(
                    "SELECT {COLUMNS} FROM queue q
                     WHERE q.next_attempt_at <= $1 AND NOT (q.email = ANY($2))
                       AND NOT EXISTS (SELECT 1 FROM registrations r WHERE r.email = q.email)
                     ORDER BY q.seq LIMIT 1"
                ),
                &[&(now as i64), &running],
            )
            .await?;
        Ok(orphan.as_ref().map(entry))
    }

    async fn reschedule(
        &self,
        email: &RegistryKey,
        next_attempt_at: u64,
    ) -> Result<Option<QueueEntry>, StoreError> {
        let row = self
            .pool
            .get()
            .await?
            .query_opt(
                &format!(
                    "UPDATE queue SET attempts = attempts + 1, next_attempt_at = $2,
                     waiting_for_seat = NULL
                     WHERE email = $1 RETURNING {COLUMNS}"
                ),
                &[&email.as_str(), &(next_attempt_at as i64)],
            )
            .await?;
        Ok(row.as_ref().map(entry))
    }

    async fn wait_for_seat(
        &self,
        email: &RegistryKey,
        sku: &str,
        next_attempt_at: u64,
    ) -> Result<Option<QueueEntry>, StoreError> {
        let row = self
            .pool
            .get()
            .await?
            .query_opt(
                &format!(
                    "UPDATE queue SET next_attempt_at = $2, waiting_for_seat = $3
                     WHERE email = $1 RETURNING {COLUMNS}"
                ),
                &[&email.as_str(), &(next_attempt_at as i64), &sku],
            )
            .await?;
        Ok(row.as_ref().map(entry))
    }

    async fn dequeue(&self, email: &RegistryKey) -> Result<bool, StoreError> {
        let removed = self
            .pool
            .get()
            .await?
            .execute("DELETE FROM queue WHERE email = $1", &[&email.as_str()])
            .await?;
        Ok(removed > 0)
    }

    async fn queue_entry(&self, email: &RegistryKey) -> Result<Option<QueueEntry>, StoreError> {
        let row = self
            .pool
            .get()
            .await?
            .query_opt(
                &format!("SELECT {COLUMNS} FROM queue WHERE email = $1"),
                &[&email.as_str()],
            )
            .await?;
        Ok(row.as_ref().map(entry))
    }

    async fn queued(&self) -> Result<Listed<QueueEntry>, StoreError> {
        let rows = self
            .pool
            .get()
            .await?
            .query(&format!("SELECT {COLUMNS} FROM queue ORDER BY seq"), &[])
            .await?;
        Ok(rows.iter().map(|row| Ok(entry(row))).collect())
    }

    async fn queue_stats(&self) -> Result<QueueStats, StoreError> {
        let row = self
            .pool
            .get()
            .await?
            .query_one(
                "SELECT count(*), (SELECT queued_at FROM queue ORDER BY seq LIMIT 1),
                        count(*) FILTER (WHERE waiting_for_seat IS NOT NULL)
                 FROM queue",
                &[],
            )
            .await?;
        Ok(QueueStats {
            length: row.get::<_, i64>(0) as usize,
            oldest_queued_at: row.get::<_, Option<i64>>(1).map(|at| at as u64),
            waiting_for_seat: row.get::<_, i64>(2) as usize,
        })
    }
}
