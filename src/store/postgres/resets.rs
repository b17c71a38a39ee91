//! Password reset links in use, in PostgreSQL: table `password_resets` (address → the issue
//! time of the newest link used, and the one it replaced). Marking a link used is one
//! conditional statement, so of any number of requests with one link, in any number of
//! instances, one wins.

use async_trait::async_trait;

use super::PgStore;
use crate::store::{RegistryKey, ResetStore, StoreError, UsedResetLink};

#[async_trait]
impl ResetStore for PgStore {
    async fn reset_used_through(&self, email: &RegistryKey) -> Result<Option<u64>, StoreError> {
        let row = self
            .pool
            .get()
            .await?
            .query_opt(
                "SELECT used_through FROM password_resets WHERE address = $1",
                &[&email.as_str()],
            )
            .await?;
        Ok(row.map(|row| row.get::<_, i64>(0) as u64))
    }

    async fn use_reset_link(
        &self,
        email: &RegistryKey,
        issued_at: u64,
    ) -> Result<Option<UsedResetLink>, StoreError> {
        // A concurrent request with the same link waits for this row's lock and then finds
        // the condition false: no row comes back to it. `used_before` keeps the value
        // replaced, which RETURNING (the new row) could not give otherwise.
        let row = self
            .pool
            .get()
            .await?
            .query_opt(
                "INSERT INTO password_resets (address, used_through, used_before)
                 VALUES ($1, $2, NULL)
                 ON CONFLICT (address) DO UPDATE
                 SET used_through = EXCLUDED.used_through,
                     used_before = password_resets.used_through
                 WHERE password_resets.used_through < EXCLUDED.used_through
                 RETURNING used_before",
                &[&email.as_str(), &(issued_at as i64)],
            )
            .await?;
        Ok(row.map(|row| UsedResetLink {
            email: email.clone(),
            issued_at,
            previous: row.get::<_, Option<i64>>(0).map(|at| at as u64),
        }))
    }

    async fn release_reset_link(&self, used: &UsedResetLink) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        let (email, ours) = (used.email.as_str(), used.issued_at as i64);
        // Only while the record is still ours: a newer link used meanwhile stays used.
        match used.previous {
            Some(previous) => {
                client
                    .execute(
                        "UPDATE password_resets SET used_through = $3, used_before = NULL
                         WHERE address = $1 AND used_through = $2",
                        &[&email, &ours, &(previous as i64)],
                    )
                    .await?
            }
            None => {
                client
                    .execute(
                        "DELETE FROM password_resets WHERE address = $1 AND used_through = $2",
                        &[&email, &ours],
                    )
                    .await?
            }
        };
        Ok(())
    }
}
