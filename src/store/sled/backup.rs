//! Every record of a sled store at once: read for a backup or `store verify`, written by a
//! restore (into an empty store, its indexes rebuilt from the records).

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::pending::with_id;
use super::resets::{ResetRecord, used_through};
use super::verify::index_findings;
use super::{SledStore, decode, encode};
use crate::store::Finding;
use crate::store::{
    BackupRecord, BackupStore, Exported, RecordKind, RegistryKey, StoreError, Unreadable,
};

#[async_trait]
impl BackupStore for SledStore {
    async fn export(&self) -> Result<Exported, StoreError> {
        let mut exported = Exported::default();
        let trees = [
            (&self.pending, RecordKind::Pending),
            (&self.registrations, RecordKind::Registration),
            (&self.usernames, RecordKind::Username),
            (&self.queue, RecordKind::QueueEntry),
            (&self.resets, RecordKind::Reset),
            (&self.lifecycle, RecordKind::Lifecycle),
            (&self.audit, RecordKind::Audit),
            (&self.vouchers, RecordKind::Voucher),
        ];
        for (tree, kind) in trees {
            for entry in tree.iter() {
                let (key, value) = entry?;
                match record(kind, &key, &value) {
                    Ok(record) => exported.records.push(record),
                    Err(err) => exported.unreadable.push(Unreadable {
                        kind,
                        key: String::from_utf8_lossy(&key).into_owned(),
                        error: err.to_string(),
                    }),
                }
            }
        }
        Ok(exported)
    }

    async fn import(&self, records: &[BackupRecord]) -> Result<Result<(), usize>, StoreError> {
        let present = self.record_count();
        if present > 0 {
            return Ok(Err(present));
        }
        self.watching(|| {
            let mut by_email: BTreeMap<&str, Vec<u8>> = BTreeMap::new();
            for record in records {
                self.insert(record)?;
                if let BackupRecord::Pending(signup) = record {
                    let ids = by_email.remove(signup.email.as_str());
                    let ids = with_id(ids.as_deref(), signup.id.as_bytes());
                    by_email.insert(signup.email.as_str(), ids);
                }
            }
            for (email, ids) in by_email {
                self.pending_by_email.insert(email.as_bytes(), ids)?;
            }
            Ok(())
        })?;
        Ok(Ok(()))
    }

    async fn index_findings(&self) -> Result<Vec<Finding>, StoreError> {
        index_findings(self)
    }
}

impl SledStore {
    /// Records and index entries in the store's trees (sled's default tree holds neither).
    fn record_count(&self) -> usize {
        [
            &self.pending,
            &self.pending_by_email,
            &self.registrations,
            &self.signups,
            &self.usernames,
            &self.resets,
            &self.queue,
            &self.queue_index,
            &self.lifecycle,
            &self.audit,
            &self.vouchers,
        ]
        .iter()
        .map(|tree| tree.len())
        .sum()
    }

    /// Writes one restored record and its index entries (but `pending_by_email`, which
    /// gathers a mailbox's sign-ups).
    fn insert(&self, record: &BackupRecord) -> Result<(), StoreError> {
        match record {
            BackupRecord::Pending(signup) => {
                self.pending.insert(signup.id.as_bytes(), encode(signup))?;
            }
            BackupRecord::Registration(registration) => {
                let email = registration.email.as_bytes();
                self.registrations.insert(email, encode(registration))?;
                if !registration.signup_id.is_empty() {
                    self.signups
                        .insert(registration.signup_id.as_bytes(), email)?;
                }
            }
            BackupRecord::Username { upn, email } => {
                self.usernames.insert(upn.as_bytes(), email.as_bytes())?;
            }
            BackupRecord::QueueEntry(entry) => {
                let key = entry.seq.to_be_bytes();
                self.queue.insert(key, encode(entry))?;
                self.queue_index.insert(entry.email.as_bytes(), &key)?;
            }
            BackupRecord::Reset {
                email,
                used_through,
            } => {
                let used_through = *used_through;
                self.resets
                    .insert(email.as_bytes(), encode(&ResetRecord { used_through }))?;
            }
            BackupRecord::Lifecycle(life) => {
                self.lifecycle.insert(life.email.as_bytes(), encode(life))?;
            }
            BackupRecord::Audit(entry) => {
                self.audit.insert(entry.seq.to_be_bytes(), encode(entry))?;
            }
            BackupRecord::Voucher(voucher) => {
                self.vouchers
                    .insert(voucher.code.as_str(), encode(voucher))?;
            }
        }
        Ok(())
    }
}

/// The record of `kind` stored under `key` as `value`.
fn record(kind: RecordKind, key: &[u8], value: &[u8]) -> Result<BackupRecord, StoreError> {
    let text = |bytes: &[u8]| {
        String::from_utf8(bytes.to_vec())
            .map_err(|_| StoreError::corrupt(kind)(serde::de::Error::custom("not UTF-8 text")))
    };
    Ok(match kind {
        RecordKind::Pending => BackupRecord::Pending(decode(kind, value)?),
        RecordKind::Registration => BackupRecord::Registration(decode(kind, value)?),
        RecordKind::Username => BackupRecord::Username {
            upn: text(key)?,
            email: RegistryKey::as_recorded(&text(value)?),
        },
        RecordKind::QueueEntry => BackupRecord::QueueEntry(decode(kind, value)?),
        RecordKind::Reset => BackupRecord::Reset {
            email: RegistryKey::as_recorded(&text(key)?),
            used_through: used_through(value)?,
        },
        RecordKind::Lifecycle => BackupRecord::Lifecycle(decode(kind, value)?),
        RecordKind::Audit => BackupRecord::Audit(decode(kind, value)?),
        RecordKind::Voucher => BackupRecord::Voucher(decode(kind, value)?),
    })
}
