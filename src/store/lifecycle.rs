//! What the store keeps of an account's life after its creation (PRODUCT.md §9.4): the
//! record (kind `lifecycle`, one per account the lifecycle has acted on) and the right to run
//! the lifecycle, which one instance holds at a time.

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{RegistryKey, StoreError};
use crate::domain::{EndReason, EndStep};

/// An account's life beyond its registration: its re-verification, an end an operator moved,
/// the warning before the end, and the progress of its ending. Written by the lifecycle only
/// (provisioning writes the registration), so neither overwrites the other's progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountLife {
    pub email: RegistryKey,
    /// Counts the saves: a save made from an older copy is refused, so the person's button
    /// and a run that decides at the same moment cannot undo each other
    /// ([`LifecycleStore::save_life`](super::LifecycleStore::save_life)).
    pub version: u64,
    /// When the mailbox last proved to be the person's: the confirm, or the last
    /// re-verification kept.
    pub verified_at: u64,
    /// A re-verification mail waiting for its answer.
    #[serde(default)]
    pub reverify: Option<Reverification>,
    /// The end as `lifecycle extend` moved it; it replaces the one the registration records.
    #[serde(default)]
    pub end_moved_to: Option<u64>,
    /// The end the warning mail went out for (an end moved later is warned of again).
    #[serde(default)]
    pub warned_for: Option<u64>,
    /// The ending, once decided.
    #[serde(default)]
    pub ending: Option<Ending>,
    pub updated_at: u64,
    /// The last failure, for operators; no secrets.
    #[serde(default)]
    pub last_error: Option<String>,
}

impl AccountLife {
    /// An account the lifecycle has not acted on yet: its mailbox proved at `verified_at`.
    pub fn new(email: RegistryKey, verified_at: u64) -> Self {
        AccountLife {
            email,
            version: 0,
            verified_at,
            reverify: None,
            end_moved_to: None,
            warned_for: None,
            ending: None,
            updated_at: verified_at,
            last_error: None,
        }
    }
}

/// A re-verification mail out, waiting for the person's button.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reverification {
    /// When the mail went out. Its link carries this time: only the newest mail's link works,
    /// and only until it is used.
    pub sent_at: u64,
    /// Without an answer by then, the account ends.
    pub answer_by: u64,
}

/// An account's ending, from the decision on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ending {
    pub reason: EndReason,
    pub step: EndStep,
    pub started_at: u64,
    /// When the user was disabled; it is deleted `DELETE_AFTER_DAYS` later.
    #[serde(default)]
    pub disabled_at: Option<u64>,
    /// The SKU ids of the licences removed, which `lifecycle restore` gives back.
    #[serde(default)]
    pub removed_licences: Vec<String>,
    #[serde(default)]
    pub deleted_at: Option<u64>,
}

/// The right to run the lifecycle, from
/// [`LifecycleStore::start_lifecycle_run`](super::LifecycleStore::start_lifecycle_run): one
/// run at a time over one store, across instances. Renew it while running (PostgreSQL: it
/// lapses otherwise, and another instance may start), and [`LifecycleRun::finish`] it.
#[derive(Debug)]
pub struct LifecycleRun {
    /// Taken by [`LifecycleRun::finish`]; a run dropped without it is abandoned.
    holder: Option<Arc<dyn RunHolder>>,
    /// The day a daily run is for: recorded as done when it finishes.
    day: Option<i64>,
}

/// Where the right to run is kept (each backend).
#[async_trait]
pub(in crate::store) trait RunHolder: Debug + Send + Sync {
    /// Keeps this instance's right to run.
    async fn renew_run(&self) -> Result<(), StoreError>;

    /// Gives it up; a daily run records `day` as done.
    async fn end_run(&self, day: Option<i64>) -> Result<(), StoreError>;

    /// Gives it up at once, recording nothing (a run stopped or cancelled): where the right
    /// does not lapse by itself (sled's flag), it must not stay taken.
    fn abandon_run(&self);
}

impl LifecycleRun {
    pub(in crate::store) fn new(holder: Arc<dyn RunHolder>, day: Option<i64>) -> Self {
        LifecycleRun {
            holder: Some(holder),
            day,
        }
    }

    /// Keeps the right for another lease period.
    pub async fn renew(&self) -> Result<(), StoreError> {
        match &self.holder {
            Some(holder) => holder.renew_run().await,
            None => Ok(()),
        }
    }

    /// Gives the right up; a daily run's day is recorded as done only when `completed`
    /// (one that stopped part way is run again the same day).
    pub async fn finish(mut self, completed: bool) -> Result<(), StoreError> {
        let day = self.day.filter(|_| completed);
        match self.holder.take() {
            Some(holder) => holder.end_run(day).await,
            None => Ok(()),
        }
    }
}

impl Drop for LifecycleRun {
    fn drop(&mut self) {
        if let Some(holder) = self.holder.take() {
            holder.abandon_run();
        }
    }
}
