//! Housekeeping: purging expired sign-ups, counts for metrics, readiness.

use sled::Transactional;

use super::pending::remove_id;
use super::{PendingSignup, Store, StoreError, decode};

impl Store {
    /// Whether the store answers reads and writes (for `/readyz`).
    pub fn is_ready(&self) -> bool {
        self.db.insert("readyz", &[1u8][..]).is_ok() && self.db.get("readyz").is_ok()
    }

    /// Deletes pending sign-ups whose link expired at or before `now`; returns how many.
    pub fn purge_expired(&self, now: u64) -> Result<usize, StoreError> {
        self.watching(|| {
            let mut purged = 0;
            for entry in self.pending.iter() {
                let (id, bytes) = entry?;
                let signup: PendingSignup = decode("pending", &bytes)?;
                if signup.expires_at > now {
                    continue;
                }
                let removed =
                    (&self.pending, &self.pending_by_email).transaction(|(pending, by_email)| {
                        if pending.remove(&id)?.is_none() {
                            return Ok(false);
                        }
                        remove_id(by_email, signup.email.as_bytes(), &id)?;
                        Ok(true)
                    });
                if removed.map_err(StoreError::from)? {
                    purged += 1;
                }
            }
            Ok(purged)
        })
    }

    /// How many sign-ups wait for their link (walks the tree: for metrics, not hot paths).
    pub fn pending_count(&self) -> usize {
        self.pending.len()
    }
}
