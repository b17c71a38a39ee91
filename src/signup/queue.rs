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

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::{Notify, Semaphore, oneshot};

use super::{ConfirmError, ProvisionError, Provisioned, Signups, Step};
use crate::directory::DirectoryError;
use crate::domain::EmailAddress;
use crate::mail::{account_failed_mail, account_ready_mail};
use crate::store::{QueueEntry, Registration, RegistryKey};

/// Registrations the worker runs at once: enough to keep the write budget busy while each
/// waits for Graph's round trips, few enough that the ones confirmed first finish first.
const CONCURRENT_RUNS: usize = 16;
/// How often the worker looks for entries whose next attempt has come, besides being woken.
const POLL: Duration = Duration::from_millis(500);
/// The wait after the first run that did not finish; doubled with every further one.
const BACKOFF_FIRST_SECS: u64 = 5;
const BACKOFF_MAX_SECS: u64 = 300;

/// Hands a run's result to the person waiting at the confirm button.
type Waiter = oneshot::Sender<Result<Provisioned, ProvisionError>>;

/// The worker's shared state.
#[derive(Debug, Default)]
pub(super) struct QueueState {
    /// The people waiting at the confirm button, by address.
    waiters: Mutex<HashMap<RegistryKey, Waiter>>,
    /// Entries the worker runs now.
    running: Mutex<HashSet<RegistryKey>>,
    wake: Notify,
}

impl QueueState {
    fn waiters(&self) -> MutexGuard<'_, HashMap<RegistryKey, Waiter>> {
        // Every change is one insert or remove: a panic cannot leave the map half-changed.
        self.waiters.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn running(&self) -> MutexGuard<'_, HashSet<RegistryKey>> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What the confirm button came to.
#[derive(Debug)]
pub enum Confirmed {
    /// The account, made within the wait.
    Ready(Provisioned),
    /// Still being made: it waits in the queue, and a mail follows.
    Queued,
}

/// Whether the person is there to see a password on the page.
pub(super) enum Presence<'a> {
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
    pub(super) fn claim(&mut self) -> bool {
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
    fn into_waiter(self) -> Option<Waiter> {
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

impl ProvisionError {
    /// Whether another run may get further: the directory busy, SMTP down, the store or
    /// another run in the way. The rest (a missing licence, a name Graph refuses) needs
    /// somebody to change something first.
    pub fn is_retriable(&self) -> bool {
        match self {
            ProvisionError::Directory(DirectoryError::Unavailable(_))
            | ProvisionError::Mail(_)
            | ProvisionError::Store(_)
            | ProvisionError::Random
            | ProvisionError::InProgress => true,
            ProvisionError::Directory(_) | ProvisionError::Name | ProvisionError::Address => false,
        }
    }

    /// Whether the person waiting at the button is told "it is being created" rather than
    /// "try again": only when Graph is busy or another run has the registration.
    fn waits_in_queue(&self) -> bool {
        matches!(
            self,
            ProvisionError::Directory(DirectoryError::Unavailable(_)) | ProvisionError::InProgress
        )
    }
}

/// Takes an entry out of the worker's running set when its run ends, however it ends.
struct Running<'a>(&'a QueueState, RegistryKey);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.running().remove(&self.1);
    }
}

impl Signups {
    /// Queues `registration` (just claimed, or resumed by the person) to be run now, and
    /// waits for the run up to `PROVISION_WAIT_SECONDS`.
    pub(super) async fn queue_and_wait(
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
        if let Err(err) = self
            .store
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

    /// Whether the registration of `email` waits in the queue or is being run.
    pub async fn is_queued(&self, email: &RegistryKey) -> bool {
        self.queue.running().contains(email)
            || matches!(self.store.queue_entry(email).await, Ok(Some(_)))
    }

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
            let next = self.store.next_due(self.now(), &running).await;
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
        let registration = match self.store.registration(&entry.email).await {
            Ok(Some(registration)) if registration.step != Step::Done => registration,
            // Finished meanwhile, or forgotten on request.
            Ok(_) => {
                self.queue.waiters().remove(&entry.email);
                if let Err(err) = self.store.dequeue(&entry.email).await {
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
        if let Err(err) = self.store.dequeue(&entry.email).await {
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
        match self.store.reschedule(&entry.email, next).await {
            Ok(_) => {
                tracing::info!(signup = %entry.signup_id, attempts, next_attempt_in_s = next.saturating_sub(self.now()), "queued registration not finished; trying again later")
            }
            Err(err) => {
                tracing::error!(signup = %entry.signup_id, error = %err, "cannot reschedule a queued registration")
            }
        }
    }

    /// The account is ready and the password waits on the page: a mail with a fresh link.
    async fn mail_ready(&self, entry: &QueueEntry, provisioned: &Provisioned) {
        let Some((tr, to, registration)) = self.recipient(entry).await else {
            return;
        };
        let Ok(link) = self.link_to_claimed(&entry.signup_id) else {
            tracing::error!(signup = %entry.signup_id, "no random numbers for the ready mail's link; the person's link shows the account");
            return;
        };
        let mail = account_ready_mail(
            &tr,
            &to,
            &registration.first_name,
            &provisioned.user_principal_name,
            link.as_str(),
            &self.settings.support_email,
        );
        let sent = self.mailer.send(mail).await;
        self.metrics.mail("ready", sent.is_ok());
        if let Err(err) = sent {
            tracing::error!(signup = %entry.signup_id, error = %err, "cannot mail that the account is ready; the person's link shows it");
        }
    }

    async fn mail_failed(&self, entry: &QueueEntry) {
        let Some((tr, to, registration)) = self.recipient(entry).await else {
            return;
        };
        let mail = account_failed_mail(
            &tr,
            &to,
            &registration.first_name,
            &self.settings.support_email,
        );
        let sent = self.mailer.send(mail).await;
        self.metrics.mail("failed", sent.is_ok());
        if let Err(err) = sent {
            tracing::error!(signup = %entry.signup_id, error = %err, "cannot mail that the account failed");
        }
    }

    async fn recipient(
        &self,
        entry: &QueueEntry,
    ) -> Option<(crate::i18n::Tr, EmailAddress, Registration)> {
        let registration = self.store.registration(&entry.email).await.ok().flatten()?;
        let to = EmailAddress::parse(registration.email.as_str()).ok()?;
        Some((self.tr_for(&registration.lang), to, registration))
    }
}

/// Whole seconds up to `max`, at random.
fn jitter_secs(max: u64) -> u64 {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 8];
    if max == 0 || ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        return 0;
    }
    u64::from_le_bytes(bytes) % (max + 1)
}
