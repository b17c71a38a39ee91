//! Password reset links in use: per address, the issue time of the newest reset link that
//! was used. A link issued at or before it is dead, so each link works once and using a
//! newer one kills every older one. Nothing else about a reset is stored (never a
//! password).
//!
//! Tree `password_resets`: address → [`ResetRecord`]. The API is three calls:
//! [`Store::reset_used_through`](super::Store::reset_used_through), [`Store::use_reset_link`](super::Store::use_reset_link) and
//! [`Store::release_reset_link`](super::Store::release_reset_link); this file is the sled backend's, `postgres/resets.rs` the
//! PostgreSQL one's (table `password_resets`, the same record in columns).

use serde::{Deserialize, Serialize};

use super::embedded::{SledStore, decode, encode};
use super::{RegistryKey, StoreError};

pub(super) const TREE: &str = "password_resets";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct ResetRecord {
    /// The issue time (Unix seconds) of the newest reset link used.
    pub(super) used_through: u64,
}

/// A reset link this request marked used: given back with [`Store::release_reset_link`](super::Store::release_reset_link)
/// when the password could not be changed, so the person can press the button again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsedResetLink {
    pub(super) email: RegistryKey,
    pub(super) issued_at: u64,
    /// What was recorded before.
    pub(super) previous: Option<u64>,
}

impl SledStore {
    /// The tree, opened on first use (sled hands out the open tree after that).
    fn resets(&self) -> Result<sled::Tree, StoreError> {
        Ok(self.db.open_tree(TREE)?)
    }

    /// The issue time of the newest reset link used for `email`, if any was.
    pub fn reset_used_through(&self, email: &RegistryKey) -> Result<Option<u64>, StoreError> {
        self.resets()?
            .get(email.as_bytes())?
            .map(|bytes| decode::<ResetRecord>(TREE, &bytes).map(|r| r.used_through))
            .transpose()
    }

    /// Marks the link issued at `issued_at` used, durably, unless it is dead already (a link
    /// issued at or after it was used): then `None`. Of two requests with one link, one wins.
    pub async fn use_reset_link(
        &self,
        email: &RegistryKey,
        issued_at: u64,
    ) -> Result<Option<UsedResetLink>, StoreError> {
        let result = async {
            let tree = self.resets()?;
            let current = tree.get(email.as_bytes())?;
            let previous = current
                .as_deref()
                .map(|bytes| decode::<ResetRecord>(TREE, bytes).map(|r| r.used_through))
                .transpose()?;
            if previous.is_some_and(|used| used >= issued_at) {
                return Ok(None);
            }
            let record = encode(&ResetRecord {
                used_through: issued_at,
            });
            // Another request changed the record since it was read: that one won.
            if tree
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

    /// Undoes [`Store::use_reset_link`](super::Store::use_reset_link), unless a newer link was used meanwhile.
    pub async fn release_reset_link(&self, used: &UsedResetLink) -> Result<(), StoreError> {
        let result = async {
            let tree = self.resets()?;
            let ours = encode(&ResetRecord {
                used_through: used.issued_at,
            });
            let before = used
                .previous
                .map(|used_through| sled::IVec::from(encode(&ResetRecord { used_through })));
            // A failed swap means a newer link was used: it stays used.
            let _ = tree.compare_and_swap(used.email.as_bytes(), Some(ours), before)?;
            self.flush_to_disk().await?;
            Ok(())
        }
        .await;
        self.watched(result)
    }

    /// Forgets the address's reset record (a deletion request).
    pub(super) fn forget_resets(&self, email: &RegistryKey) -> Result<(), StoreError> {
        self.resets()?.remove(email.as_bytes())?;
        Ok(())
    }
}
