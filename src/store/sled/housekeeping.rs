//! Housekeeping: purging expired sign-ups, counts for metrics, readiness.

use sled::Transactional;

use super::embedded::{SledStore, decode};
use super::pending::remove_id;
use super::{PendingSignup, StoreError};

/// What a purge did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Purged {
    /// Expired sign-ups deleted.
    pub deleted: usize,
    /// Records that could not be read, left in place.
    pub unreadable: Vec<Unreadable>,
}

/// A record that does not decode.
#[derive(Debug, PartialEq, Eq)]
pub struct Unreadable {
    pub tree: &'static str,
    pub key: String,
    pub error: String,
}

impl SledStore {
    /// Whether the store answers reads and writes (for `/readyz`).
    pub fn is_ready(&self) -> bool {
        self.db.insert("readyz", &[1u8][..]).is_ok() && self.db.get("readyz").is_ok()
    }

    /// Deletes pending sign-ups whose link expired at or before `now`. A record that does
    /// not decode is skipped and reported, so one bad record does not stop every later pass.
    pub fn purge_expired(&self, now: u64) -> Result<Purged, StoreError> {
        self.watching(|| {
            let mut purged = Purged::default();
            for entry in self.pending.iter() {
                let (id, bytes) = entry?;
                let signup: PendingSignup = match decode("pending", &bytes) {
                    Ok(signup) => signup,
                    Err(err) => {
                        purged.unreadable.push(Unreadable {
                            tree: "pending",
                            key: String::from_utf8_lossy(&id).into_owned(),
                            error: err.to_string(),
                        });
                        continue;
                    }
                };
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
                    purged.deleted += 1;
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
