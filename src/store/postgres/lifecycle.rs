//! Accounts' lives in PostgreSQL: table `lifecycle` (the record, its version in a column for
//! the conditional save) and `lifecycle_runs` (one row, `daily`: the lease of the instance
//! running the lifecycle, and the last day whose daily run finished).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use async_trait::async_trait;

use super::{PgStore, decode, json, lease_secs};
use crate::store::lifecycle::RunHolder;
use crate::store::{
    AccountLife, LifecycleRun, LifecycleStore, Listed, RecordKind, RegistryKey, StoreError,
};

#[async_trait]
impl LifecycleStore for PgStore {
    async fn life(&self, email: &RegistryKey) -> Result<Option<AccountLife>, StoreError> {
        let row = self
            .pool
            .get()
            .await?
            .query_opt(
                "SELECT record FROM lifecycle WHERE email = $1",
                &[&email.as_str()],
            )
            .await?;
        row.map(|row| decode(RecordKind::Lifecycle, row.get(0)))
            .transpose()
    }

    async fn lives(&self) -> Result<Listed<AccountLife>, StoreError> {
        self.all(
            "SELECT record FROM lifecycle ORDER BY email COLLATE \"C\"",
            RecordKind::Lifecycle,
        )
        .await
    }

    /// One statement: inserted when none is stored and `version` is 0, updated only where
    /// the stored version is the one read.
    async fn save_life(&self, life: &mut AccountLife) -> Result<bool, StoreError> {
        let mut next = life.clone();
        next.version += 1;
        let saved = self
            .pool
            .get()
            .await?
            .execute(
                "INSERT INTO lifecycle (email, version, record) VALUES ($1, $2, $3)
                 ON CONFLICT (email) DO UPDATE
                 SET version = EXCLUDED.version, record = EXCLUDED.record
                 WHERE lifecycle.version = $4",
                &[
                    &next.email.as_str(),
                    &(next.version as i64),
                    &json(&next),
                    &(life.version as i64),
                ],
            )
            .await?;
        // A stored record's version is 1 or more: a first save (version 0) of a record
        // another save stored meanwhile updates nothing, as a save from an older copy does.
        if saved == 1 {
            life.version = next.version;
        }
        Ok(saved == 1)
    }

    async fn start_lifecycle_run(
        &self,
        day: Option<i64>,
    ) -> Result<Option<LifecycleRun>, StoreError> {
        if self.lifecycle_running.swap(true, Ordering::AcqRel) {
            return Ok(None);
        }
        let taken = self.take_run_lease(day).await;
        if !matches!(taken, Ok(true)) {
            self.lifecycle_running.store(false, Ordering::Release);
        }
        Ok(taken?.then(|| LifecycleRun::new(Arc::new(self.clone()), day)))
    }
}

impl PgStore {
    /// The lease on the run: free, lapsed or this instance's own (a run it dropped), and
    /// for the daily run, the day not run yet.
    async fn take_run_lease(&self, day: Option<i64>) -> Result<bool, StoreError> {
        let taken = self
            .pool
            .get()
            .await?
            .execute(
                "UPDATE lifecycle_runs
                 SET holder = $1, lease_until = now() + make_interval(secs => $2)
                 WHERE name = 'daily'
                   AND (holder IS NULL OR holder = $1 OR lease_until < now())
                   AND ($3::bigint IS NULL OR last_day IS NULL OR last_day < $3)",
                &[&&*self.holder, &lease_secs(), &day],
            )
            .await?;
        Ok(taken == 1)
    }
}

#[async_trait]
impl RunHolder for PgStore {
    async fn renew_run(&self) -> Result<(), StoreError> {
        self.pool
            .get()
            .await?
            .execute(
                "UPDATE lifecycle_runs SET lease_until = now() + make_interval(secs => $2)
                 WHERE name = 'daily' AND holder = $1",
                &[&&*self.holder, &lease_secs()],
            )
            .await?;
        Ok(())
    }

    async fn end_run(&self, day: Option<i64>) -> Result<(), StoreError> {
        let ended = async {
            self.pool
                .get()
                .await?
                .execute(
                    "UPDATE lifecycle_runs
                     SET holder = NULL, lease_until = NULL, last_day = coalesce($2, last_day)
                     WHERE name = 'daily' AND holder = $1",
                    &[&&*self.holder, &day],
                )
                .await?;
            Ok::<_, StoreError>(())
        }
        .await;
        self.lifecycle_running.store(false, Ordering::Release);
        ended?;
        Ok(())
    }

    /// The lease lapses by itself (or this instance takes it again).
    fn abandon_run(&self) {
        self.lifecycle_running.store(false, Ordering::Release);
    }
}
