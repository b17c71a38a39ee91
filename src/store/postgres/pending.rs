//! Pending sign-ups in PostgreSQL: table `pending` (the record, with its id, mailbox, nonce
//! and expiry in columns), and the claim that turns one into a registration.

use async_trait::async_trait;
use tokio_postgres::GenericClient;

use super::vouchers::claimed_use;
use super::{PgStore, decode, json, lease_secs};
use crate::domain::VoucherRefusal;
use crate::store::{
    Claim, ClaimVoucher, Listed, Lookup, PendingSignup, PendingStore, RecordKind, Registration,
    RegistryKey, StoreError,
};

/// What a link whose sign-up is no longer pending finds (as the sled store's).
async fn earlier_claim(client: &impl GenericClient, signup_id: &str) -> Result<Claim, StoreError> {
    let row = client
        .query_opt(
            "SELECT record FROM registrations WHERE signup_id = $1 AND signup_id <> ''",
            &[&signup_id],
        )
        .await?;
    match row {
        Some(row) => Ok(Claim::earlier(decode(
            RecordKind::Registration,
            row.get(0),
        )?)),
        None => Ok(Claim::Unknown),
    }
}

#[async_trait]
impl PendingStore for PgStore {
    async fn insert_pending(&self, signup: &PendingSignup) -> Result<(), StoreError> {
        // One statement: no registration can slip in between the check and the insert.
        let inserted = self
            .pool
            .get()
            .await?
            .execute(
                "INSERT INTO pending (id, email, nonce, expires_at, record)
                 SELECT $1, $2, $3, $4, $5
                 WHERE NOT EXISTS (SELECT 1 FROM registrations WHERE email = $2)",
                &[
                    &signup.id,
                    &signup.email.as_str(),
                    &signup.nonce,
                    &(signup.expires_at as i64),
                    &json(signup),
                ],
            )
            .await?;
        if inserted == 0 {
            return Err(StoreError::AlreadyRegistered);
        }
        Ok(())
    }

    async fn latest_expiry(&self, email: &RegistryKey) -> Result<Option<u64>, StoreError> {
        let row = self
            .pool
            .get()
            .await?
            .query_one(
                "SELECT max(expires_at) FROM pending WHERE email = $1",
                &[&email.as_str()],
            )
            .await?;
        Ok(row.get::<_, Option<i64>>(0).map(|at| at as u64))
    }

    async fn lookup(&self, signup_id: &str) -> Result<Lookup, StoreError> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                "SELECT p.record, EXISTS (SELECT 1 FROM registrations r WHERE r.email = p.email)
                 FROM pending p WHERE p.id = $1",
                &[&signup_id],
            )
            .await?;
        if let Some(row) = row {
            if row.get::<_, bool>(1) {
                return Ok(Lookup::AddressTaken);
            }
            return Ok(Lookup::Pending(decode(RecordKind::Pending, row.get(0))?));
        }
        Ok(match earlier_claim(&**client, signup_id).await? {
            Claim::AlreadyDone(registration) | Claim::Resume(registration) => {
                Lookup::Registered(registration)
            }
            _ => Lookup::Unknown,
        })
    }

    async fn claim_with_voucher(
        &self,
        signup_id: &str,
        nonce: &str,
        now: u64,
        voucher: ClaimVoucher<'_>,
    ) -> Result<Result<Claim, VoucherRefusal>, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        // The claim itself: of any number of concurrent ones, one deletes the row; the
        // others wait for its commit and then find it gone.
        let taken = tx
            .query_opt(
                "DELETE FROM pending WHERE id = $1 AND nonce = $2 AND expires_at > $3
                 RETURNING record",
                &[&signup_id, &nonce, &(now as i64)],
            )
            .await?;
        let Some(taken) = taken else {
            let row = tx
                .query_opt(
                    "SELECT nonce, expires_at FROM pending WHERE id = $1",
                    &[&signup_id],
                )
                .await?;
            return Ok(Ok(match row {
                Some(row) if row.get::<_, String>(0) != nonce => Claim::Unknown,
                Some(_) => Claim::Expired,
                None => earlier_claim(&*tx, signup_id).await?,
            }));
        };
        let signup: PendingSignup = decode(RecordKind::Pending, taken.get(0))?;
        // The voucher's row is locked until the commit: claims with one voucher take their
        // uses one after the other, across instances. Refused, nothing is claimed.
        let used = match claimed_use(&*tx, voucher, &signup, now).await? {
            Ok(used) => used,
            Err(refusal) => {
                tx.rollback().await?;
                return Ok(Err(refusal));
            }
        };
        let registration = Registration::claimed(&signup, now, used);
        if !self.insert_claimed(&*tx, &registration).await? {
            // Another sign-up of the mailbox was confirmed first; this one stays pending
            // until it expires, as in the sled store. The voucher's use goes back with the
            // rollback.
            tx.rollback().await?;
            return Ok(Ok(Claim::AddressTaken));
        }
        tx.commit().await?;
        Ok(Ok(Claim::Claimed(registration)))
    }

    async fn pending_signups(&self) -> Result<Listed<PendingSignup>, StoreError> {
        self.all(
            "SELECT record FROM pending ORDER BY id COLLATE \"C\"",
            RecordKind::Pending,
        )
        .await
    }
}

impl PgStore {
    /// Inserts a claimed registration, leased to this instance (the claimer provisions
    /// next), and queues it, in `tx`: `false` when the mailbox has a registration already.
    /// Queued with the claim, not after it: an instance killed right after the claim
    /// leaves the registration to another's worker instead of to nobody. The confirm's own
    /// enqueue then finds it queued.
    async fn insert_claimed(
        &self,
        tx: &impl GenericClient,
        registration: &Registration,
    ) -> Result<bool, StoreError> {
        let inserted = tx
            .execute(
                "INSERT INTO registrations (email, signup_id, record, lease_holder, lease_until)
                 VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))
                 ON CONFLICT (email) DO NOTHING",
                &[
                    &registration.email.as_str(),
                    &registration.signup_id,
                    &json(registration),
                    &&*self.holder,
                    &lease_secs(),
                ],
            )
            .await?;
        if inserted == 0 {
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO queue (email, signup_id, queued_at, next_attempt_at)
             VALUES ($1, $2, $3, $3)
             ON CONFLICT (email) DO UPDATE
             SET next_attempt_at = least(queue.next_attempt_at, EXCLUDED.next_attempt_at)",
            &[
                &registration.email.as_str(),
                &registration.signup_id,
                &(registration.claimed_at as i64),
            ],
        )
        .await?;
        Ok(true)
    }

    /// Every record a query selects (as its first column), each decoded on its own.
    pub(super) async fn all<T: serde::de::DeserializeOwned>(
        &self,
        query: &str,
        kind: RecordKind,
    ) -> Result<Listed<T>, StoreError> {
        let rows = self.pool.get().await?.query(query, &[]).await?;
        Ok(rows.iter().map(|row| decode(kind, row.get(0))).collect())
    }
}
