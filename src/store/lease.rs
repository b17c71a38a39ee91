//! The right to provision a registration: the store's lock for sled, a lease on the
//! registration's row for PostgreSQL, which lapses unless renewed.

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;

use super::{RegistryKey, StoreError};

/// The right to provision a registration, from
/// [`RegistryStore::lease`](super::RegistryStore::lease).
#[derive(Debug)]
pub enum Lease {
    /// sled: this process holds the whole store (sled's lock on its directory) from
    /// opening it until it exits, so no other process provisions anything meanwhile. That
    /// lock does not lapse: there is nothing to renew or to give back.
    StoreLock,
    /// PostgreSQL: a lease on the registration's row, which lapses unless renewed every
    /// [`LEASE_RENEWAL`](super::LEASE_RENEWAL); give it back with [`RowLease::release`].
    Row(RowLease),
}

/// This instance's lease on provisioning one registration ([`Lease::Row`]): once it has
/// lapsed, another instance may take the registration over, and this one's next save
/// answers [`StoreError::Busy`].
#[derive(Debug)]
pub struct RowLease {
    holder: Arc<dyn LeaseHolder>,
    email: RegistryKey,
}

/// Where row leases are kept (the PostgreSQL store).
#[async_trait]
pub(in crate::store) trait LeaseHolder: Debug + Send + Sync {
    /// Keeps this instance's lease on `email`.
    async fn renew(&self, email: &RegistryKey) -> Result<(), StoreError>;

    /// Gives this instance's lease on `email` up.
    async fn release(&self, email: &RegistryKey) -> Result<(), StoreError>;
}

impl RowLease {
    pub(in crate::store) fn new(holder: Arc<dyn LeaseHolder>, email: RegistryKey) -> Self {
        RowLease { holder, email }
    }

    /// Keeps the lease for another lease period.
    pub async fn renew(&self) -> Result<(), StoreError> {
        self.holder.renew(&self.email).await
    }

    /// Gives the lease up, so another instance may take the registration at once.
    pub async fn release(self) -> Result<(), StoreError> {
        self.holder.release(&self.email).await
    }
}
