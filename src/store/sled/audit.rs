//! The audit log in sled: tree `audit` (big-endian line number → [`AuditEntry`]), so
//! iteration is the order written. Lines are only ever added.

use async_trait::async_trait;

use super::{SledStore, decode, encode};
use crate::domain::AuditEntry;
use crate::store::{AuditLog, AuditQuery, Listed, RecordKind, StoreError};

/// The line number a key holds (0 for a key that is none).
pub(super) fn seq_of(key: &[u8]) -> u64 {
    key.try_into().map_or(0, u64::from_be_bytes)
}

#[async_trait]
impl AuditLog for SledStore {
    async fn append_audit(&self, entry: &AuditEntry) -> Result<u64, StoreError> {
        let result = async {
            let seq = self.insert_next_audit(entry)?;
            self.flush_to_disk().await?;
            Ok(seq)
        }
        .await;
        self.watched(result)
    }

    async fn audit_entries(&self, query: &AuditQuery) -> Result<Listed<AuditEntry>, StoreError> {
        let limit = query.limit.unwrap_or(usize::MAX);
        let upper = query.before.unwrap_or(u64::MAX).to_be_bytes();
        let range = self.audit.range(..upper);
        let entries: Box<dyn Iterator<Item = _>> = if query.oldest_first {
            Box::new(range)
        } else {
            Box::new(range.rev())
        };
        let mut listed = Vec::new();
        for entry in entries {
            if listed.len() >= limit {
                break;
            }
            let (_, bytes) = entry?;
            match decode::<AuditEntry>(RecordKind::Audit, &bytes) {
                Ok(entry) if !query.matches(&entry) => {}
                decoded => listed.push(decoded),
            }
        }
        Ok(listed)
    }
}

impl SledStore {
    /// Writes `entry` under the number after the last one. Writers racing for a number
    /// each take the next free one: the insert succeeds only where no line is yet.
    fn insert_next_audit(&self, entry: &AuditEntry) -> Result<u64, StoreError> {
        loop {
            let seq = match self.audit.last()? {
                Some((key, _)) => seq_of(&key).saturating_add(1),
                None => 1,
            };
            let numbered = AuditEntry {
                seq,
                ..entry.clone()
            };
            let key = seq.to_be_bytes();
            let swapped =
                self.audit
                    .compare_and_swap(key, None::<&[u8]>, Some(encode(&numbered)))?;
            if swapped.is_ok() {
                return Ok(seq);
            }
        }
    }
}
