//! Housekeeping in PostgreSQL: readiness, purging expired sign-ups and past hours' mail
//! counts, counts. Every write is committed when it returns, and a failed one passes: the
//! next request tries again.

use std::sync::atomic::Ordering;

use async_trait::async_trait;

use super::PgStore;
use crate::store::{Durability, FailureWatch, Housekeeping, Purged, StoreError};

#[async_trait]
impl Housekeeping for PgStore {
    fn describe(&self) -> String {
        self.describe_target()
    }

    /// Whether the schema is current and the database answers now.
    async fn is_ready(&self) -> bool {
        if !self.migrated.load(Ordering::Acquire) {
            return false;
        }
        match self.pool.get().await {
            Ok(client) => client.simple_query("SELECT 1").await.is_ok(),
            Err(_) => false,
        }
    }

    /// Records are JSON the database checked, so none is unreadable here.
    async fn purge_expired(&self, now: u64) -> Result<Purged, StoreError> {
        let client = self.pool.get().await?;
        let deleted = client
            .execute(
                "DELETE FROM pending WHERE expires_at <= $1",
                &[&(now as i64)],
            )
            .await?;
        client
            .execute(
                "DELETE FROM mail_counts WHERE window_start + 3600 <= $1",
                &[&(now as i64)],
            )
            .await?;
        Ok(Purged {
            deleted: deleted as usize,
            unreadable: Vec::new(),
        })
    }

    async fn pending_count(&self) -> usize {
        let counted = async {
            let row = self
                .pool
                .get()
                .await?
                .query_one("SELECT count(*) FROM pending", &[])
                .await?;
            Ok::<_, StoreError>(row.get::<_, i64>(0) as usize)
        };
        counted.await.unwrap_or(0)
    }

    async fn flush(&self) -> Result<Durability, StoreError> {
        Ok(Durability::Committed)
    }

    async fn close(&self) -> Result<Durability, StoreError> {
        Ok(Durability::Committed)
    }

    fn failures(&self) -> Option<&FailureWatch> {
        None
    }
}
