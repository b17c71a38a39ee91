//! The queue worker (PRODUCT.md §2.4, §4): every confirmed registration is queued durably
//! in the store before its first step, and one worker, started with the server, runs the
//! queue in confirm order, a few registrations at a time, all writes paced by the Graph
//! client's shared budget. The confirm button waits for the run up to
//! `PROVISION_WAIT_SECONDS`; past that the person gets the waiting page and a mail follows.
//! A crash or restart loses nothing: the entries are in the store, and each registration
//! resumes at its saved step.
//!
//! The password on the page never rests on disk. A run makes the page's password only when
//! the person who pressed the button is still waiting for this very run: it claims that
//! person ([`Presence::claim`]) before it makes the password, and a claimed person waits for
//! the result instead of leaving with the waiting page. Without anybody waiting, the run
//! stops before the password and mails a link; the person opens it and presses the button,
//! and that run shows the password — the one made at the create while this process still
//! holds it, else a fresh one set with `PATCH /users/{id}` (after a restart, say).

mod mails;
mod seats;
mod state;
mod worker;

use tokio::sync::oneshot;

use super::{ConfirmError, ProvisionError, Provisioned, Provisioning};
use crate::store::{Registration, RegistryKey};
pub(super) use state::{Presence, QueueState};

/// What the confirm button came to.
#[derive(Debug)]
pub enum Confirmed {
    /// The account, made within the wait.
    Ready(Provisioned),
    /// Still being made: it waits in the queue, and a mail follows.
    Queued,
}

impl Provisioning {
    /// Queues `registration` (just claimed, or resumed by the person) to be run now, and
    /// waits for the run up to `PROVISION_WAIT_SECONDS`.
    pub(in crate::signup) async fn queue_and_wait(
        &self,
        registration: &Registration,
    ) -> Result<Confirmed, ConfirmError> {
        let email = registration.email.clone();
        let mut result = {
            let mut waiters = self.queue.waiters();
            if waiters.contains_key(&email) {
                return Err(ProvisionError::InProgress.into());
            }
            let (tx, rx) = oneshot::channel();
            waiters.insert(email.clone(), tx);
            rx
        };
        let now = self.now();
        let store = &self.context.store;
        if let Err(err) = store
            .enqueue(&email, &registration.signup_id, now, now)
            .await
        {
            self.queue.waiters().remove(&email);
            return Err(err.into());
        }
        self.queue.wake.notify_one();
        let outcome = tokio::select! {
            outcome = &mut result => outcome,
            () = tokio::time::sleep(self.settings.provision_wait) => {
                if self.queue.waiters().remove(&email).is_some() {
                    tracing::info!(signup = %registration.signup_id, "not ready within the wait; the queue finishes it");
                    return Ok(Confirmed::Queued);
                }
                // The run has claimed this person for the password, or hands its result over.
                result.await
            }
        };
        match outcome {
            Ok(Ok(provisioned)) => Ok(Confirmed::Ready(provisioned)),
            Ok(Err(err)) if err.waits_in_queue() => Ok(Confirmed::Queued),
            Ok(Err(err)) => Err(err.into()),
            // The worker stopped (the server is shutting down): the entry stays queued.
            Err(_) => Ok(Confirmed::Queued),
        }
    }

    /// The licence SKU the registration of `email` waits for a free seat of, if it does.
    pub async fn waiting_for_seat(&self, email: &RegistryKey) -> Option<String> {
        match self.context.store.queue_entry(email).await {
            Ok(Some(entry)) => entry.waiting_for_seat,
            _ => None,
        }
    }

    /// Whether the registration of `email` waits in the queue or is being run.
    pub async fn is_queued(&self, email: &RegistryKey) -> bool {
        self.queue.running().contains(email)
            || matches!(self.context.store.queue_entry(email).await, Ok(Some(_)))
    }
}
