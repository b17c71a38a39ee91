//! The provisioning state machine (PRODUCT.md §4): claimed → user created → licences
//! assigned → groups added → password delivered → done. Each step is saved before the next
//! starts; a failure leaves the registration at the failed step for the next attempt.
//! This file guards a run and records its failure; `steps.rs` runs the steps, one function
//! each; `user.rs` names and creates the user; `existing.rs` records a mailbox's account
//! found in the directory by its tag instead.

mod existing;
mod steps;
mod user;

use std::collections::HashMap;

use secrecy::SecretString;

use super::queue::Presence;
use super::{Signups, Step, password};
use crate::directory::DirectoryError;
use crate::mail::MailError;
use crate::metrics::SignupOutcome;
use crate::store::{Lease, Registration, RegistryKey, StoreError};

/// A finished account.
#[derive(Debug)]
pub struct Provisioned {
    pub user_principal_name: String,
    pub first_name: String,
    /// Shown once on the result page (`PASSWORD_DELIVERY` = `page` or `both`).
    pub password_on_page: Option<SecretString>,
    pub password_mailed: bool,
    /// The last step, showing the password, waits for the person to confirm their link
    /// again (an operator's `signups retry` with `PASSWORD_DELIVERY` = `page`).
    pub awaiting_person: bool,
    /// Nothing was created: the directory has this mailbox's account already (a user with
    /// its tag), and the registration now records that one. No password was set.
    pub existing_account: bool,
}

/// Why provisioning stopped. The registration stays at the failed step.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error("this registration is being provisioned by another request")]
    InProgress,
    #[error("the stored name no longer gives a username")]
    Name,
    #[error("directory: {0}")]
    Directory(#[from] DirectoryError),
    #[error("mail: {0}")]
    Mail(#[from] MailError),
    #[error("store: {0}")]
    Store(StoreError),
    #[error("no random numbers available")]
    Random,
    #[error("the address of the registration is not valid")]
    Address,
}

impl ProvisionError {
    /// A short label for metrics: where provisioning stopped.
    pub fn reason(&self) -> &'static str {
        match self {
            ProvisionError::InProgress => "busy",
            ProvisionError::Name => "name",
            ProvisionError::Directory(crate::directory::DirectoryError::Unavailable(_)) => {
                "directory_unavailable"
            }
            ProvisionError::Directory(_) => "directory",
            ProvisionError::Mail(_) => "mail",
            ProvisionError::Store(_) => "store",
            ProvisionError::Random => "secret",
            ProvisionError::Address => "address",
        }
    }
}

impl From<StoreError> for ProvisionError {
    fn from(err: StoreError) -> Self {
        match err {
            // Another instance took the registration over (this one paused past its lease).
            StoreError::Busy => ProvisionError::InProgress,
            err => ProvisionError::Store(err),
        }
    }
}

/// Releases the in-flight mark when provisioning ends, however it ends.
struct InFlight<'a>(&'a Signups, RegistryKey);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0
            .in_flight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&self.1);
    }
}

/// The password this run set on the user, when it knows it. Passwords are never stored: a run
/// that resumes after the create (a crash, a failed step) sets a new one before delivering.
type KnownPassword = Option<SecretString>;

impl Signups {
    /// Runs the remaining steps of `registration`.
    /// Unless `presence` claims a person waiting for this run (an operator's retry, or the
    /// queue with nobody at the button), a password meant for the page is not made until
    /// the person confirms their link again.
    pub(super) async fn provision(
        &self,
        mut registration: Registration,
        presence: &mut Presence<'_>,
    ) -> Result<Provisioned, ProvisionError> {
        let _guard = {
            let mut in_flight = self
                .in_flight
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if !in_flight.insert(registration.email.clone()) {
                return Err(ProvisionError::InProgress);
            }
            InFlight(self, registration.email.clone())
        };
        // Another request may have finished steps since this copy was read. With several
        // instances on one database, this also takes the registration's lease: while another
        // instance provisions it, this one answers "in progress" as for a second request here.
        let (lease, current) = self.store.lease(&registration.email).await?;
        if let Some(current) = current {
            registration = current;
        }
        // Current only if no other attempt (another instance sharing the store) has set a
        // newer password since.
        let mut password = match self.undelivered().remove(&registration.email) {
            Some((version, password)) if version == registration.password_version => Some(password),
            _ => None,
        };
        let result = {
            let steps = self.run_steps(&mut registration, &mut password, presence);
            tokio::select! {
                result = steps => result,
                never = keep_lease(&lease) => match never {},
            }
        };
        if let Some(password) = password {
            self.undelivered().insert(
                registration.email.clone(),
                (registration.password_version, password),
            );
        }
        let result = self.record_outcome(&mut registration, result).await;
        if let Lease::Row(lease) = lease
            && let Err(err) = lease.release().await
        {
            // The lease lapses by itself; until then other instances answer "in progress".
            tracing::warn!(signup = %registration.signup_id, error = %err, "cannot release the registration's lease");
        }
        result
    }

    /// Counts and records a failed run in the registration (for `signups list`).
    async fn record_outcome(
        &self,
        registration: &mut Registration,
        result: Result<Provisioned, ProvisionError>,
    ) -> Result<Provisioned, ProvisionError> {
        if let Err(ProvisionError::InProgress) = &result {
            // Another instance has it now: its progress is not this run's to overwrite.
            return result;
        }
        if let Err(err) = &result {
            self.metrics.signup(SignupOutcome::Failed(err.reason()));
            tracing::warn!(signup = %registration.signup_id, step = ?registration.step, error = %err, "provisioning stopped");
            registration.last_error = Some(format!("{:?}: {err}", registration.step));
            registration.updated_at = self.now();
            if let Err(save_err) = self.store.save_registration(registration).await {
                tracing::error!(signup = %registration.signup_id, error = %save_err, "cannot record the failure");
            }
        }
        result
    }

    fn undelivered(&self) -> std::sync::MutexGuard<'_, HashMap<RegistryKey, (u32, SecretString)>> {
        // Every change is one insert or remove: a panic cannot leave the map half-changed.
        self.undelivered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A fresh temporary password.
    fn new_password(&self) -> Result<SecretString, ProvisionError> {
        password::generate(self.settings.password_bytes).map_err(|_| ProvisionError::Random)
    }

    async fn save_step(
        &self,
        registration: &mut Registration,
        step: Step,
    ) -> Result<(), ProvisionError> {
        registration.step = step;
        registration.last_error = None;
        registration.updated_at = self.now();
        self.store.save_registration(registration).await?;
        tracing::info!(signup = %registration.signup_id, step = ?step, "provisioning step saved");
        Ok(())
    }
}

/// Renews a lease that lapses ([`Lease::Row`], PostgreSQL) while the steps run, so another
/// instance takes the registration over only once this one is gone; the store's lock
/// ([`Lease::StoreLock`], sled) does not lapse. Never returns.
async fn keep_lease(lease: &Lease) -> std::convert::Infallible {
    let Lease::Row(lease) = lease else {
        return std::future::pending().await;
    };
    let mut tick = tokio::time::interval(crate::store::LEASE_RENEWAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        if let Err(err) = lease.renew().await {
            // The next step's save finds out whether the lease is lost.
            tracing::warn!(error = %err, "cannot renew the registration's lease");
        }
    }
}

fn object_id(registration: &Registration) -> Result<&str, ProvisionError> {
    registration.object_id.as_deref().ok_or_else(|| {
        ProvisionError::Directory(DirectoryError::Failed("no object id recorded".into()))
    })
}
