//! Pending sign-ups, registrations, usernames, housekeeping and mail counts in PostgreSQL:
//! the same answers as the sled store's methods of the same names.

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio_postgres::GenericClient;
use tokio_postgres::types::Json;

use super::{LEASE, PgStore};
use crate::domain::{Mailbox, Step};
use crate::store::{
    Claim, Forgotten, Imported, Lookup, PendingSignup, Purged, Registration, RegistryKey,
    StoreError,
};

fn json<T: Serialize>(value: &T) -> Json<serde_json::Value> {
    Json(serde_json::to_value(value).expect("records are plain data and always serialize"))
}

fn decode<T: DeserializeOwned>(
    tree: &'static str,
    Json(value): Json<serde_json::Value>,
) -> Result<T, StoreError> {
    serde_json::from_value(value).map_err(|source| StoreError::Corrupt { tree, source })
}

fn lease_secs() -> f64 {
    LEASE.as_secs_f64()
}

/// What a link whose sign-up is no longer pending finds (as the sled store's).
async fn earlier_claim(client: &impl GenericClient, signup_id: &str) -> Result<Claim, StoreError> {
    let row = client
        .query_opt(
            "SELECT record FROM registrations WHERE signup_id = $1 AND signup_id <> ''",
            &[&signup_id],
        )
        .await?;
    let Some(row) = row else {
        return Ok(Claim::Unknown);
    };
    let registration: Registration = decode("registrations", row.get(0))?;
    Ok(if registration.step == Step::Done {
        Claim::AlreadyDone(registration)
    } else {
        Claim::Resume(registration)
    })
}

impl PgStore {
    pub fn insert_pending(&self, signup: &PendingSignup) -> Result<(), StoreError> {
        let pool = self.pool.clone();
        let signup = signup.clone();
        self.block(async move {
            let client = pool.get().await?;
            // One statement: no registration can slip in between the check and the insert.
            let inserted = client
                .execute(
                    "INSERT INTO pending (id, email, nonce, expires_at, record)
                     SELECT $1, $2, $3, $4, $5
                     WHERE NOT EXISTS (SELECT 1 FROM registrations WHERE email = $2)",
                    &[
                        &signup.id,
                        &signup.email.as_str(),
                        &signup.nonce,
                        &(signup.expires_at as i64),
                        &json(&signup),
                    ],
                )
                .await?;
            if inserted == 0 {
                return Err(StoreError::AlreadyRegistered);
            }
            Ok(())
        })
    }

    pub fn latest_expiry(&self, email: &RegistryKey) -> Result<Option<u64>, StoreError> {
        let pool = self.pool.clone();
        let email = email.as_str().to_owned();
        self.block(async move {
            let row = pool
                .get()
                .await?
                .query_one(
                    "SELECT max(expires_at) FROM pending WHERE email = $1",
                    &[&email],
                )
                .await?;
            Ok(row.get::<_, Option<i64>>(0).map(|at| at as u64))
        })
    }

    pub fn lookup(&self, signup_id: &str) -> Result<Lookup, StoreError> {
        let pool = self.pool.clone();
        let signup_id = signup_id.to_owned();
        self.block(async move {
            let client = pool.get().await?;
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
                return Ok(Lookup::Pending(decode("pending", row.get(0))?));
            }
            Ok(match earlier_claim(&**client, &signup_id).await? {
                Claim::AlreadyDone(registration) | Claim::Resume(registration) => {
                    Lookup::Registered(registration)
                }
                _ => Lookup::Unknown,
            })
        })
    }

    pub fn claim(&self, signup_id: &str, nonce: &str, now: u64) -> Result<Claim, StoreError> {
        let pool = self.pool.clone();
        let (signup_id, nonce) = (signup_id.to_owned(), nonce.to_owned());
        let holder = self.holder.to_string();
        self.block(async move {
            let mut client = pool.get().await?;
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
                return match row {
                    Some(row) if row.get::<_, String>(0) != nonce => Ok(Claim::Unknown),
                    Some(_) => Ok(Claim::Expired),
                    None => earlier_claim(&*tx, &signup_id).await,
                };
            };
            let signup: PendingSignup = decode("pending", taken.get(0))?;
            let registration = Registration::claimed(&signup, now);
            // The claimer provisions next: it holds the lease from the start.
            let inserted = tx
                .execute(
                    "INSERT INTO registrations (email, signup_id, record, lease_holder, lease_until)
                     VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))
                     ON CONFLICT (email) DO NOTHING",
                    &[
                        &registration.email.as_str(),
                        &registration.signup_id,
                        &json(&registration),
                        &holder,
                        &lease_secs(),
                    ],
                )
                .await?;
            if inserted == 0 {
                // Another sign-up of the mailbox was confirmed first; this one stays pending
                // until it expires, as in the sled store.
                tx.rollback().await?;
                return Ok(Claim::AddressTaken);
            }
            // Queued with the claim, not after it: an instance killed right after the claim
            // leaves the registration to another's worker instead of to nobody. The confirm's
            // own enqueue then finds it queued.
            tx.execute(
                "INSERT INTO queue (email, signup_id, queued_at, next_attempt_at)
                 VALUES ($1, $2, $3, $3)
                 ON CONFLICT (email) DO UPDATE
                 SET next_attempt_at = least(queue.next_attempt_at, EXCLUDED.next_attempt_at)",
                &[
                    &registration.email.as_str(),
                    &registration.signup_id,
                    &(now as i64),
                ],
            )
            .await?;
            tx.commit().await?;
            Ok(Claim::Claimed(registration))
        })
    }

    pub fn pending_signups(&self) -> Result<Vec<Result<PendingSignup, StoreError>>, StoreError> {
        self.all(
            "SELECT record FROM pending ORDER BY id COLLATE \"C\"",
            "pending",
        )
    }

    pub fn registrations(&self) -> Result<Vec<Result<Registration, StoreError>>, StoreError> {
        self.all(
            "SELECT record FROM registrations ORDER BY email COLLATE \"C\"",
            "registrations",
        )
    }

    fn all<T: DeserializeOwned + Send + 'static>(
        &self,
        query: &'static str,
        tree: &'static str,
    ) -> Result<Vec<Result<T, StoreError>>, StoreError> {
        let pool = self.pool.clone();
        self.block(async move {
            let rows = pool.get().await?.query(query, &[]).await?;
            Ok(rows.iter().map(|row| decode(tree, row.get(0))).collect())
        })
    }

    pub fn is_registered(&self, email: &Mailbox) -> Result<bool, StoreError> {
        Ok(self.registration(&RegistryKey::from(email))?.is_some())
    }

    /// Saves a registration's progress, if no other instance holds its lease; renews the
    /// lease. A run that lost it (it paused longer than the lease) gets [`StoreError::Busy`]
    /// and stops: the other instance goes on.
    pub async fn save_registration(&self, registration: &Registration) -> Result<(), StoreError> {
        let pool = self.pool.clone();
        let registration = registration.clone();
        let holder = self.holder.to_string();
        self.run(async move {
            let client = pool.get().await?;
            save_leased(&**client, &registration, &holder).await
        })
        .await
    }

    /// Takes (or renews) this instance's lease on provisioning `email` and reads the
    /// registration as it is now; [`StoreError::Busy`] while another instance holds it.
    pub async fn lease(&self, email: &RegistryKey) -> Result<Option<Registration>, StoreError> {
        let pool = self.pool.clone();
        let email = email.as_str().to_owned();
        let holder = self.holder.to_string();
        self.run(async move {
            let client = pool.get().await?;
            let row = client
                .query_opt(
                    "UPDATE registrations
                     SET lease_holder = $2, lease_until = now() + make_interval(secs => $3)
                     WHERE email = $1
                       AND (lease_holder IS NULL OR lease_holder = $2 OR lease_until < now())
                     RETURNING record",
                    &[&email, &holder, &lease_secs()],
                )
                .await?;
            if let Some(row) = row {
                return Ok(Some(decode("registrations", row.get(0))?));
            }
            let exists = client
                .query_opt("SELECT 1 FROM registrations WHERE email = $1", &[&email])
                .await?
                .is_some();
            if exists {
                Err(StoreError::Busy)
            } else {
                Ok(None)
            }
        })
        .await
    }

    /// Gives up this instance's lease on `email`.
    pub async fn release(&self, email: &RegistryKey) -> Result<(), StoreError> {
        let pool = self.pool.clone();
        let email = email.as_str().to_owned();
        let holder = self.holder.to_string();
        self.run(async move {
            pool.get()
                .await?
                .execute(
                    "UPDATE registrations SET lease_holder = NULL, lease_until = NULL
                     WHERE email = $1 AND lease_holder = $2",
                    &[&email, &holder],
                )
                .await?;
            Ok(())
        })
        .await
    }

    pub async fn reserve_username(&self, registration: &Registration) -> Result<bool, StoreError> {
        let pool = self.pool.clone();
        let registration = registration.clone();
        let holder = self.holder.to_string();
        self.run(async move {
            let upn = registration
                .upn
                .as_deref()
                .map(str::to_lowercase)
                .unwrap_or_default();
            let email = registration.email.as_str();
            let mut client = pool.get().await?;
            let tx = client.transaction().await?;
            // Inserted, or ours already: a row. Another's: none (and a concurrent insert of
            // the same name waits for ours to commit, then finds it taken).
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
            save_leased(&*tx, &registration, &holder).await?;
            // The reservation moves with the registration: its earlier name is freed.
            tx.execute(
                "DELETE FROM usernames WHERE email = $1 AND upn <> $2",
                &[&email, &upn],
            )
            .await?;
            tx.commit().await?;
            Ok(true)
        })
        .await
    }

    pub fn reserved_usernames(&self, nickname: &str) -> Result<Vec<String>, StoreError> {
        let pool = self.pool.clone();
        let prefix = nickname.to_lowercase();
        self.block(async move {
            let rows = pool
                .get()
                .await?
                .query(
                    "SELECT upn FROM usernames WHERE starts_with(upn, $1) ORDER BY upn COLLATE \"C\"",
                    &[&prefix],
                )
                .await?;
            Ok(rows.iter().map(|row| row.get(0)).collect())
        })
    }

    pub fn registration(&self, email: &RegistryKey) -> Result<Option<Registration>, StoreError> {
        self.one_registration(
            "SELECT record FROM registrations WHERE email = $1",
            email.as_str(),
        )
    }

    pub fn registration_by_signup(
        &self,
        signup_id: &str,
    ) -> Result<Option<Registration>, StoreError> {
        self.one_registration(
            "SELECT record FROM registrations WHERE signup_id = $1 AND signup_id <> ''",
            signup_id,
        )
    }

    fn one_registration(
        &self,
        query: &'static str,
        key: &str,
    ) -> Result<Option<Registration>, StoreError> {
        let pool = self.pool.clone();
        let key = key.to_owned();
        self.block(async move {
            let row = pool.get().await?.query_opt(query, &[&key]).await?;
            row.map(|row| decode("registrations", row.get(0)))
                .transpose()
        })
    }

    pub fn import_registered(
        &self,
        email: &RegistryKey,
        imported: &Imported,
    ) -> Result<bool, StoreError> {
        let pool = self.pool.clone();
        let registration = Registration::imported(email, imported);
        self.block(async move {
            let inserted = pool
                .get()
                .await?
                .execute(
                    "INSERT INTO registrations (email, signup_id, record) VALUES ($1, '', $2)
                     ON CONFLICT (email) DO NOTHING",
                    &[&registration.email.as_str(), &json(&registration)],
                )
                .await?;
            Ok(inserted == 1)
        })
    }

    pub fn forget(&self, email: &RegistryKey) -> Result<Forgotten, StoreError> {
        let pool = self.pool.clone();
        let email = email.as_str().to_owned();
        self.block(async move {
            let mut client = pool.get().await?;
            let tx = client.transaction().await?;
            let pending = tx
                .execute("DELETE FROM pending WHERE email = $1", &[&email])
                .await?;
            // Its usernames go with it (ON DELETE CASCADE).
            let row = tx
                .query_opt(
                    "DELETE FROM registrations WHERE email = $1 RETURNING record",
                    &[&email],
                )
                .await?;
            let registration = row
                .map(|row| decode("registrations", row.get(0)))
                .transpose()?;
            tx.execute("DELETE FROM password_resets WHERE address = $1", &[&email])
                .await?;
            tx.commit().await?;
            Ok(Forgotten {
                registration,
                pending: pending as usize,
            })
        })
    }

    /// Deletes expired pending sign-ups and the mail counts of past hours. Records are JSON
    /// the database checked, so none is unreadable here.
    pub fn purge_expired(&self, now: u64) -> Result<Purged, StoreError> {
        let pool = self.pool.clone();
        self.block(async move {
            let client = pool.get().await?;
            let deleted = client
                .execute(
                    "DELETE FROM pending WHERE expires_at <= $1",
                    &[&(now as i64)],
                )
                .await?;
            client
                .execute(
                    "DELETE FROM mail_counts WHERE window_start + 3600 <= $1",
                    &[&(now as i64)],
                )
                .await?;
            Ok(Purged {
                deleted: deleted as usize,
                unreadable: Vec::new(),
            })
        })
    }

    pub fn pending_count(&self) -> usize {
        let pool = self.pool.clone();
        self.block(async move {
            let row = pool
                .get()
                .await?
                .query_one("SELECT count(*) FROM pending", &[])
                .await?;
            Ok(row.get::<_, i64>(0) as usize)
        })
        .unwrap_or(0)
    }

    /// Counts one mail under `key` in the current hour, unless `per_hour` were counted there
    /// already: then how long until the next hour starts.
    pub fn count_mail(
        &self,
        key: &str,
        per_hour: u32,
        now: u64,
    ) -> Result<Result<(), std::time::Duration>, StoreError> {
        let pool = self.pool.clone();
        let key = key.to_owned();
        let window = now - now % 3600;
        self.block(async move {
            let counted = pool
                .get()
                .await?
                .execute(
                    "INSERT INTO mail_counts (key, window_start, count) VALUES ($1, $2, 1)
                     ON CONFLICT (key, window_start) DO UPDATE SET count = mail_counts.count + 1
                     WHERE mail_counts.count < $3",
                    &[&key, &(window as i64), &(per_hour.max(1) as i32)],
                )
                .await?;
            Ok(if counted == 1 {
                Ok(())
            } else {
                Err(std::time::Duration::from_secs(window + 3600 - now))
            })
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
