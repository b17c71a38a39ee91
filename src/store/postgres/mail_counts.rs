//! Mail counts in PostgreSQL: table `mail_counts`, one counter per key and hour, so the
//! mail limits hold for every instance together.

use async_trait::async_trait;

use super::PgStore;
use crate::store::{MailCounts, StoreError};

#[async_trait]
impl MailCounts for PgStore {
    /// Counts one mail under `key` in the current hour, unless `per_hour` were counted there
    /// already: then how long until the next hour starts.
    async fn count_mail(
        &self,
        key: &str,
        per_hour: u32,
        now: u64,
    ) -> Result<Option<Result<(), std::time::Duration>>, StoreError> {
        let window = now - now % 3600;
        let counted = self
            .pool
            .get()
            .await?
            .execute(
                "INSERT INTO mail_counts (key, window_start, count) VALUES ($1, $2, 1)
                 ON CONFLICT (key, window_start) DO UPDATE SET count = mail_counts.count + 1
                 WHERE mail_counts.count < $3",
                &[&key, &(window as i64), &(per_hour.max(1) as i32)],
            )
            .await?;
        Ok(Some(if counted == 1 {
            Ok(())
        } else {
            Err(std::time::Duration::from_secs(window + 3600 - now))
        }))
    }
}
