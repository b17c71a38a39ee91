//! Mail counts: sled keeps none. One process holds a sled store, and it counts its mails in
//! memory (`limits::HourlyLimit`), which the answer says.

use async_trait::async_trait;

use super::SledStore;
use crate::store::{MailCounts, StoreError};

#[async_trait]
impl MailCounts for SledStore {
    async fn count_mail(
        &self,
        _key: &str,
        _per_hour: u32,
        _now: u64,
    ) -> Result<Option<Result<(), std::time::Duration>>, StoreError> {
        Ok(None)
    }
}
