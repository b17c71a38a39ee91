//! What the worker shares with the confirm button: the people waiting at it, the runs in
//! progress, and whether a run has a person to show its password to.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::{Notify, oneshot};

use crate::signup::provision::{ProvisionError, Provisioned};
use crate::store::RegistryKey;

/// Hands a run's result to the person waiting at the confirm button.
pub(super) type Waiter = oneshot::Sender<Result<Provisioned, ProvisionError>>;

/// The worker's shared state.
#[derive(Debug, Default)]
pub(in crate::signup::provision) struct QueueState {
    /// The people waiting at the confirm button, by address.
    waiters: Mutex<HashMap<RegistryKey, Waiter>>,
    /// Entries the worker runs now.
    running: Mutex<HashSet<RegistryKey>>,
    /// When the log last said that a SKU has no free seat (Unix seconds), per SKU: once a
    /// minute at most.
    seat_warned: Mutex<HashMap<String, u64>>,
    pub(super) wake: Notify,
}

impl QueueState {
    pub(super) fn waiters(&self) -> MutexGuard<'_, HashMap<RegistryKey, Waiter>> {
        // Every change is one insert or remove: a panic cannot leave the map half-changed.
        self.waiters.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn running(&self) -> MutexGuard<'_, HashSet<RegistryKey>> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the log should say now (`now`, Unix seconds) that `sku` has no free seat:
    /// when it has not said so for that SKU within `every` seconds.
    pub(super) fn seat_warning_due(&self, sku: &str, now: u64, every: u64) -> bool {
        let mut warned = self
            .seat_warned
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match warned.get(sku) {
            Some(at) if now < at.saturating_add(every) => false,
            _ => {
                warned.insert(sku.to_owned(), now);
                true
            }
        }
    }
}

/// Whether the person is there to see a password on the page.
pub(in crate::signup::provision) enum Presence<'a> {
    /// Nobody waits (an operator's retry).
    Absent,
    /// The worker's run: a person may be waiting at the confirm button.
    Queue {
        state: &'a QueueState,
        email: &'a RegistryKey,
        claimed: Option<Waiter>,
    },
}

impl Presence<'_> {
    /// Whether somebody will see this run's result; from then on they wait for it.
    pub(in crate::signup::provision) fn claim(&mut self) -> bool {
        match self {
            Presence::Absent => false,
            Presence::Queue {
                state,
                email,
                claimed,
            } => {
                if claimed.is_none() {
                    *claimed = state.waiters().remove(*email);
                }
                claimed.as_ref().is_some_and(|waiter| !waiter.is_closed())
            }
        }
    }

    /// The person waiting for the result, claimed or not, if they still wait.
    pub(super) fn into_waiter(self) -> Option<Waiter> {
        match self {
            Presence::Absent => None,
            Presence::Queue {
                state,
                email,
                claimed,
            } => claimed
                .or_else(|| state.waiters().remove(email))
                .filter(|waiter| !waiter.is_closed()),
        }
    }
}
