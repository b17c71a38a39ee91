//! A provisioning run: guarded against a second run of the same registration (in this
//! process, and through the store's lease in others), its steps run, its failure recorded.

use std::collections::HashMap;

use secrecy::SecretString;

use super::queue::Presence;
use super::{Handed, ProvisionError, Provisioned, Provisioning};
use crate::directory::DirectoryError;
use crate::domain::Step;
use crate::metrics::SignupOutcome;
use crate::signup::credential;
use crate::store::{Lease, Registration, RegistryKey};

/// Releases the in-flight mark when provisioning ends, however it ends.
struct InFlight<'a>(&'a Provisioning, RegistryKey);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0
            .in_flight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&self.1);
    }
}

/// The credential this run gave the user, when it knows it. Passwords and passes are never
/// stored: a run that resumes after the create (a crash, a failed step) sets a new password
/// or makes a new pass before delivering.
pub(super) type KnownPassword = Option<Handed>;

impl Provisioning {
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
        let (lease, current) = self.context.store.lease(&registration.email).await?;
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
            self.context
                .metrics
                .signup(SignupOutcome::Failed(err.reason()));
            tracing::warn!(signup = %registration.signup_id, step = ?registration.step, error = %err, "provisioning stopped");
            registration.last_error = Some(format!("{:?}: {err}", registration.step));
            registration.updated_at = self.now();
            if let Err(save_err) = self.context.store.save_registration(registration).await {
                tracing::error!(signup = %registration.signup_id, error = %save_err, "cannot record the failure");
            }
        }
        self.give_back_voucher(registration, result.as_ref().err())
            .await;
        result
    }

    fn undelivered(&self) -> std::sync::MutexGuard<'_, HashMap<RegistryKey, (u32, Handed)>> {
        // Every change is one insert or remove: a panic cannot leave the map half-changed.
        self.undelivered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A fresh temporary password.
    pub(super) fn new_password(&self) -> Result<SecretString, ProvisionError> {
        credential::generate(self.settings.password_bytes).map_err(|_| ProvisionError::Random)
    }

    pub(super) async fn save_step(
        &self,
        registration: &mut Registration,
        step: Step,
    ) -> Result<(), ProvisionError> {
        registration.step = step;
        registration.last_error = None;
        registration.updated_at = self.now();
        self.context.store.save_registration(registration).await?;
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

pub(super) fn object_id(registration: &Registration) -> Result<&str, ProvisionError> {
    registration.object_id.as_deref().ok_or_else(|| {
        ProvisionError::Directory(DirectoryError::Failed("no object id recorded".into()))
    })
}
