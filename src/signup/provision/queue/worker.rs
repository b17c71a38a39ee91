//! The worker: runs the due queue entries, a few at a time, and settles each entry by how
//! its run ended.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use super::{Presence, QueueState};
use crate::domain::Step;
use crate::signup::provision::{ProvisionError, Provisioned, Provisioning};
use crate::store::{QueueEntry, RegistryKey};

/// Registrations the worker runs at once: enough to keep the write budget busy while each
/// waits for Graph's round trips, few enough that the ones confirmed first finish first.
const CONCURRENT_RUNS: usize = 16;
/// How often the worker looks for entries whose next attempt has come, besides being woken.
const POLL: Duration = Duration::from_millis(500);
/// The wait after the first run that did not finish; doubled with every further one.
const BACKOFF_FIRST_SECS: u64 = 5;
const BACKOFF_MAX_SECS: u64 = 300;

/// Takes an entry out of the worker's running set when its run ends, however it ends.
struct Running<'a>(&'a QueueState, RegistryKey);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.running().remove(&self.1);
    }
}

impl Provisioning {
    /// The worker: runs due queue entries in confirm order, [`CONCURRENT_RUNS`] at a time,
    /// until `stop` completes. Then the runs in progress end where they are (every step they
    /// finished is saved; the next start resumes them), and this returns once they have
    /// let go of the store.
    pub async fn run_queue(self: Arc<Self>, stop: impl Future<Output = ()>) {
        let mut runs = tokio::task::JoinSet::new();
        tokio::select! {
            () = self.drain(&mut runs) => {}
            () = stop => {}
        }
        runs.shutdown().await;
    }

    async fn drain(self: &Arc<Self>, runs: &mut tokio::task::JoinSet<()>) {
        let slots = Arc::new(Semaphore::new(CONCURRENT_RUNS));
        loop {
            while runs.try_join_next().is_some() {}
            let Ok(slot) = slots.clone().acquire_owned().await else {
                return;
            };
            // A copy: the lock is not held while the store answers (a database round trip).
            let running = self.queue.running().clone();
            let next = self.context.store.next_due(self.now(), &running).await;
            match next {
                Ok(Some(entry)) => {
                    self.queue.running().insert(entry.email.clone());
                    let this = self.clone();
                    runs.spawn(async move {
                        let _running = Running(&this.queue, entry.email.clone());
                        this.run_entry(entry).await;
                        drop(slot);
                    });
                }
                Ok(None) => {
                    drop(slot);
                    tokio::select! {
                        () = self.queue.wake.notified() => {}
                        () = tokio::time::sleep(POLL) => {}
                    }
                }
                Err(err) => {
                    drop(slot);
                    tracing::error!(error = %err, "cannot read the provisioning queue");
                    tokio::time::sleep(POLL).await;
                }
            }
        }
    }

    /// One run of a queue entry, and what follows from it for the entry and the person.
    async fn run_entry(&self, entry: QueueEntry) {
        if let Some(sku) = &entry.waiting_for_seat
            && self.seat_still_taken(sku).await
        {
            // No run (no Graph write) until the seats, read once a minute, say one is free.
            self.wait_for_seat(&entry, sku).await;
            return;
        }
        let registration = match self.context.store.registration(&entry.email).await {
            Ok(Some(registration)) if registration.step != Step::Done => registration,
            // Finished meanwhile, or forgotten on request.
            Ok(_) => {
                self.queue.waiters().remove(&entry.email);
                if let Err(err) = self.context.store.dequeue(&entry.email).await {
                    tracing::error!(error = %err, "cannot take a finished registration out of the queue");
                }
                return;
            }
            Err(err) => {
                tracing::error!(signup = %entry.signup_id, error = %err, "cannot read a queued registration");
                self.reschedule(&entry).await;
                return;
            }
        };
        let mut presence = Presence::Queue {
            state: &self.queue,
            email: &entry.email,
            claimed: None,
        };
        let result = self.provision(registration, &mut presence).await;
        let waiter = presence.into_waiter();
        self.after_run(&entry, &result, waiter.is_some()).await;
        if let Some(waiter) = waiter {
            // A closed receiver: the person left just now; the mail tells them.
            let _ = waiter.send(result);
        }
    }

    /// Dequeues a finished or failed entry, reschedules one worth another run, and mails
    /// the person when nobody saw the result.
    async fn after_run(
        &self,
        entry: &QueueEntry,
        result: &Result<Provisioned, ProvisionError>,
        seen: bool,
    ) {
        match result {
            Ok(provisioned) if provisioned.existing_account => {
                self.dequeue(entry).await;
                if !seen {
                    self.mail_existing(entry, provisioned).await;
                }
            }
            Ok(provisioned) => {
                self.dequeue(entry).await;
                // By mail, the password mail has gone out: that is the "ready" mail.
                if provisioned.awaiting_person && !seen {
                    self.mail_ready(entry, provisioned).await;
                }
            }
            // Another run has it (an operator's retry): that one settles the entry.
            Err(ProvisionError::InProgress) => {}
            Err(err) if err.no_seat().is_some() => {
                self.wait_for_seat(entry, err.no_seat().unwrap_or_default())
                    .await;
            }
            Err(err) if err.is_retriable() => self.reschedule(entry).await,
            Err(err) => {
                self.dequeue(entry).await;
                tracing::error!(
                    signup = %entry.signup_id,
                    error = %err,
                    "provisioning failed for good; the person is told to contact support. Fix the cause, then `signups retry` resumes it"
                );
                if !seen {
                    self.mail_failed(entry).await;
                }
            }
        }
    }

    async fn dequeue(&self, entry: &QueueEntry) {
        if let Err(err) = self.context.store.dequeue(&entry.email).await {
            tracing::error!(signup = %entry.signup_id, error = %err, "cannot take a registration out of the queue");
        }
    }

    async fn reschedule(&self, entry: &QueueEntry) {
        let attempts = entry.attempts + 1;
        let backoff = BACKOFF_FIRST_SECS
            .saturating_mul(1 << attempts.saturating_sub(1).min(16))
            .min(BACKOFF_MAX_SECS);
        // Up to a fifth more, so that entries failed together do not return together.
        let next = self.now() + backoff + jitter_secs(backoff / 5);
        match self.context.store.reschedule(&entry.email, next).await {
            Ok(_) => {
                tracing::info!(signup = %entry.signup_id, attempts, next_attempt_in_s = next.saturating_sub(self.now()), "queued registration not finished; trying again later")
            }
            Err(err) => {
                tracing::error!(signup = %entry.signup_id, error = %err, "cannot reschedule a queued registration")
            }
        }
    }
}

/// Whole seconds up to `max`, at random.
pub(super) fn jitter_secs(max: u64) -> u64 {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 8];
    if max == 0 || ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        return 0;
    }
    u64::from_le_bytes(bytes) % (max + 1)
}
