//! Password reset links in use, in sled: tree `password_resets` (mailbox →
//! `{"used_through": issue time}`).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{SledStore, decode, encode};
use crate::store::{RecordKind, RegistryKey, ResetStore, StoreError, UsedResetLink};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct ResetRecord {
    /// The issue time (Unix seconds) of the newest reset link used.
    pub(super) used_through: u64,
}

pub(super) fn used_through(bytes: &[u8]) -> Result<u64, StoreError> {
    decode::<ResetRecord>(RecordKind::Reset, bytes).map(|record| record.used_through)
}

#[async_trait]
impl ResetStore for SledStore {
    async fn reset_used_through(&self, email: &RegistryKey) -> Result<Option<u64>, StoreError> {
        self.resets
            .get(email.as_bytes())?
            .map(|bytes| used_through(&bytes))
            .transpose()
    }

    async fn use_reset_link(
        &self,
        email: &RegistryKey,
        issued_at: u64,
    ) -> Result<Option<UsedResetLink>, StoreError> {
        let result = async {
            let current = self.resets.get(email.as_bytes())?;
            let previous = current.as_deref().map(used_through).transpose()?;
            if previous.is_some_and(|used| used >= issued_at) {
                return Ok(None);
            }
            let record = encode(&ResetRecord {
                used_through: issued_at,
            });
            // Another request changed the record since it was read: that one won.
            if self
                .resets
                .compare_and_swap(email.as_bytes(), current, Some(record))?
                .is_err()
            {
                return Ok(None);
            }
            self.flush_to_disk().await?;
            Ok(Some(UsedResetLink {
                email: email.clone(),
                issued_at,
                previous,
            }))
        }
        .await;
        self.watched(result)
    }

    async fn release_reset_link(&self, used: &UsedResetLink) -> Result<(), StoreError> {
        let result = async {
            let ours = encode(&ResetRecord {
                used_through: used.issued_at,
            });
            let before = used
                .previous
                .map(|used_through| sled::IVec::from(encode(&ResetRecord { used_through })));
            // A failed swap means a newer link was used: it stays used.
            let _ = self
                .resets
                .compare_and_swap(used.email.as_bytes(), Some(ours), before)?;
            self.flush_to_disk().await
        }
        .await;
        self.watched(result)
    }
}
