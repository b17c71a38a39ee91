//! The registry in PostgreSQL: table `registrations` (the record, with its mailbox, sign-up
//! id and provisioning lease in columns) and `usernames` (UPN → mailbox, removed with its
//! registration). A registration's lease keeps other instances from provisioning it.

use std::sync::Arc;

use async_trait::async_trait;
use tokio_postgres::GenericClient;

use super::{PgStore, decode, json, lease_secs};
use crate::domain::Mailbox;
use crate::store::lease::LeaseHolder;
use crate::store::{
    Forgotten, Imported, Lease, Listed, RecordKind, Registration, RegistryKey, RegistryStore,
    RowLease, StoreError,
};

/// Row leases: taken by [`RegistryStore::lease`] and by the queue's next entry.
#[async_trait]
impl LeaseHolder for PgStore {
    async fn renew(&self, email: &RegistryKey) -> Result<(), StoreError> {
        self.take_lease(email).await.map(drop)
    }

    async fn release(&self, email: &RegistryKey) -> Result<(), StoreError> {
        self.pool
            .get()
            .await?
            .execute(
                "UPDATE registrations SET lease_holder = NULL, lease_until = NULL
                 WHERE email = $1 AND lease_holder = $2",
                &[&email.as_str(), &&*self.holder],
            )
            .await?;
        Ok(())
    }
}

impl PgStore {
    /// Takes (or renews) this instance's lease on `email` and reads the registration as it
    /// is now; [`StoreError::Busy`] while another instance holds it.
    async fn take_lease(&self, email: &RegistryKey) -> Result<Option<Registration>, StoreError> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                "UPDATE registrations
                 SET lease_holder = $2, lease_until = now() + make_interval(secs => $3)
                 WHERE email = $1
                   AND (lease_holder IS NULL OR lease_holder = $2 OR lease_until < now())
                 RETURNING record",
                &[&email.as_str(), &&*self.holder, &lease_secs()],
            )
            .await?;
        if let Some(row) = row {
            return Ok(Some(decode(RecordKind::Registration, row.get(0))?));
        }
        let exists = client
            .query_opt(
                "SELECT 1 FROM registrations WHERE email = $1",
                &[&email.as_str()],
            )
            .await?
            .is_some();
        if exists {
            Err(StoreError::Busy)
        } else {
            Ok(None)
        }
    }

    async fn one_registration(
        &self,
        query: &str,
        key: &str,
    ) -> Result<Option<Registration>, StoreError> {
        let row = self.pool.get().await?.query_opt(query, &[&key]).await?;
        row.map(|row| decode(RecordKind::Registration, row.get(0)))
            .transpose()
    }
}

#[async_trait]
impl RegistryStore for PgStore {
    async fn is_registered(&self, email: &Mailbox) -> Result<bool, StoreError> {
        Ok(self
            .registration(&RegistryKey::from(email))
            .await?
            .is_some())
    }

    async fn registration(&self, email: &RegistryKey) -> Result<Option<Registration>, StoreError> {
        self.one_registration(
            "SELECT record FROM registrations WHERE email = $1",
            email.as_str(),
        )
        .await
    }

    async fn registration_by_signup(
        &self,
        signup_id: &str,
    ) -> Result<Option<Registration>, StoreError> {
        self.one_registration(
            "SELECT record FROM registrations WHERE signup_id = $1 AND signup_id <> ''",
            signup_id,
        )
        .await
    }

    async fn registrations(&self) -> Result<Listed<Registration>, StoreError> {
        self.all(
            "SELECT record FROM registrations ORDER BY email COLLATE \"C\"",
            RecordKind::Registration,
        )
        .await
    }

    /// Saves a registration's progress, if no other instance holds its lease; renews the
    /// lease. A run that lost it (it paused longer than the lease) gets
    /// [`StoreError::Busy`] and stops: the other instance goes on.
    async fn save_registration(&self, registration: &Registration) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        save_leased(&**client, registration, &self.holder).await
    }

    async fn lease(
        &self,
        email: &RegistryKey,
    ) -> Result<(Lease, Option<Registration>), StoreError> {
        let registration = self.take_lease(email).await?;
        let lease = RowLease::new(Arc::new(self.clone()), email.clone());
        Ok((Lease::Row(lease), registration))
    }

    async fn reserve_username(&self, registration: &Registration) -> Result<bool, StoreError> {
        let upn = registration.reserved_upn().unwrap_or_default();
        let email = registration.email.as_str();
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        // Inserted, or ours already: a row. Another's: none (and a concurrent insert of the
        // same name waits for ours to commit, then finds it taken).
        let ours = tx
            .query_opt(
                "INSERT INTO usernames (upn, email) VALUES ($1, $2)
                 ON CONFLICT (upn) DO UPDATE SET email = usernames.email
                 WHERE usernames.email = EXCLUDED.email
                 RETURNING upn",
                &[&upn, &email],
            )
            .await?;
        if ours.is_none() {
            tx.rollback().await?;
            return Ok(false);
        }
        save_leased(&*tx, registration, &self.holder).await?;
        // The reservation moves with the registration: its earlier name is freed.
        tx.execute(
            "DELETE FROM usernames WHERE email = $1 AND upn <> $2",
            &[&email, &upn],
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn reserved_usernames(&self, nickname: &str) -> Result<Vec<String>, StoreError> {
        let rows = self
            .pool
            .get()
            .await?
            .query(
                "SELECT upn FROM usernames WHERE starts_with(upn, $1) ORDER BY upn COLLATE \"C\"",
                &[&nickname.to_lowercase()],
            )
            .await?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    async fn import_registered(
        &self,
        email: &RegistryKey,
        imported: &Imported,
    ) -> Result<bool, StoreError> {
        let registration = Registration::imported(email, imported);
        let inserted = self
            .pool
            .get()
            .await?
            .execute(
                "INSERT INTO registrations (email, signup_id, record) VALUES ($1, '', $2)
                 ON CONFLICT (email) DO NOTHING",
                &[&registration.email.as_str(), &json(&registration)],
            )
            .await?;
        Ok(inserted == 1)
    }

    async fn forget(&self, email: &RegistryKey) -> Result<Forgotten, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let pending = tx
            .execute("DELETE FROM pending WHERE email = $1", &[&email.as_str()])
            .await?;
        // Its usernames go with it (ON DELETE CASCADE).
        let row = tx
            .query_opt(
                "DELETE FROM registrations WHERE email = $1 RETURNING record",
                &[&email.as_str()],
            )
            .await?;
        let registration = row
            .map(|row| decode(RecordKind::Registration, row.get(0)))
            .transpose()?;
        tx.execute(
            "DELETE FROM password_resets WHERE address = $1",
            &[&email.as_str()],
        )
        .await?;
        tx.execute("DELETE FROM lifecycle WHERE email = $1", &[&email.as_str()])
            .await?;
        tx.commit().await?;
        Ok(Forgotten {
            registration,
            pending: pending as usize,
        })
    }
}

/// Saves `registration`, renewing `holder`'s lease, unless another instance holds one.
async fn save_leased(
    client: &impl GenericClient,
    registration: &Registration,
    holder: &str,
) -> Result<(), StoreError> {
    let saved = client
        .execute(
            "INSERT INTO registrations (email, signup_id, record, lease_holder, lease_until)
             VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))
             ON CONFLICT (email) DO UPDATE
             SET record = EXCLUDED.record, lease_holder = EXCLUDED.lease_holder,
                 lease_until = EXCLUDED.lease_until
             WHERE registrations.lease_holder IS NULL
                OR registrations.lease_holder = EXCLUDED.lease_holder
                OR registrations.lease_until < now()",
            &[
                &registration.email.as_str(),
                &registration.signup_id,
                &json(registration),
                &holder,
                &lease_secs(),
            ],
        )
        .await?;
    if saved == 0 {
        return Err(StoreError::Busy);
    }
    Ok(())
}
