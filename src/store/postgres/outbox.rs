//! The outbox in PostgreSQL: table `outbox`, one row per mail not sent yet. A worker takes
//! the row due longest with `FOR UPDATE SKIP LOCKED` and leases it by moving its
//! `next_attempt_at`, in one statement, so of several instances' workers one sends it.

use async_trait::async_trait;
use tokio_postgres::{GenericClient, Row};

use super::{PgStore, decode, json};
use crate::store::{OutboxMail, OutboxStore, PendingSignup, RecordKind, StoreError};

/// The mail a row holds, with the columns that change as it is tried.
pub(super) fn mail_of(row: &Row) -> Result<OutboxMail, StoreError> {
    let mut mail: OutboxMail = decode(RecordKind::OutboxMail, row.get("record"))?;
    mail.attempts = row.get::<_, i32>("attempts") as u32;
    mail.next_attempt_at = row.get::<_, i64>("next_attempt_at") as u64;
    Ok(mail)
}

/// Writes `mail` as a row, with its columns: a posted mail, or one restored from a backup.
pub(super) async fn insert_mail(
    client: &impl GenericClient,
    mail: &OutboxMail,
) -> Result<u64, StoreError> {
    let written = client
        .execute(
            "INSERT INTO outbox (id, email, attempts, next_attempt_at, record)
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &mail.id,
                &mail.email().map(|email| email.as_str()),
                &(mail.attempts as i32),
                &(mail.next_attempt_at as i64),
                &json(mail),
            ],
        )
        .await?;
    Ok(written)
}

#[async_trait]
impl OutboxStore for PgStore {
    async fn insert_pending_mailed(
        &self,
        signup: &PendingSignup,
        mail: &OutboxMail,
    ) -> Result<(), StoreError> {
        // One statement: the mail is written exactly when the sign-up is, and no
        // registration can slip in between the check and the insert.
        let inserted = self
            .pool
            .get()
            .await?
            .execute(
                "WITH signup AS (
                     INSERT INTO pending (id, email, nonce, expires_at, record)
                     SELECT $1, $2, $3, $4, $5
                     WHERE NOT EXISTS (SELECT 1 FROM registrations WHERE email = $2)
                     RETURNING id
                 )
                 INSERT INTO outbox (id, email, attempts, next_attempt_at, record)
                 SELECT $6, NULL, $7, $8, $9 FROM signup",
                &[
                    &signup.id,
                    &signup.email.as_str(),
                    &signup.nonce,
                    &(signup.expires_at as i64),
                    &json(signup),
                    &mail.id,
                    &(mail.attempts as i32),
                    &(mail.next_attempt_at as i64),
                    &json(mail),
                ],
            )
            .await?;
        if inserted == 0 {
            return Err(StoreError::AlreadyRegistered);
        }
        Ok(())
    }

    async fn post_mail(&self, mail: &OutboxMail) -> Result<(), StoreError> {
        insert_mail(&**self.pool.get().await?, mail).await?;
        Ok(())
    }

    async fn take_mail(
        &self,
        now: u64,
        lease_until: u64,
    ) -> Result<Option<OutboxMail>, StoreError> {
        // The row is locked from the pick to the update; another worker skips it, and sees
        // the lease once this commits.
        let row = self
            .pool
            .get()
            .await?
            .query_opt(
                "UPDATE outbox o SET next_attempt_at = $2
                 FROM (
                     SELECT id, next_attempt_at FROM outbox
                     WHERE next_attempt_at <= $1
                     ORDER BY next_attempt_at, id
                     LIMIT 1
                     FOR UPDATE SKIP LOCKED
                 ) picked
                 WHERE o.id = picked.id
                 RETURNING o.record, o.attempts, picked.next_attempt_at",
                &[&(now as i64), &(lease_until as i64)],
            )
            .await?;
        row.as_ref().map(mail_of).transpose()
    }

    async fn mail_done(&self, id: &str) -> Result<(), StoreError> {
        self.pool
            .get()
            .await?
            .execute("DELETE FROM outbox WHERE id = $1", &[&id])
            .await?;
        Ok(())
    }

    async fn mail_failed(&self, id: &str, next_attempt_at: u64) -> Result<(), StoreError> {
        self.pool
            .get()
            .await?
            .execute(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $2 WHERE id = $1",
                &[&id, &(next_attempt_at as i64)],
            )
            .await?;
        Ok(())
    }

    async fn outbox_length(&self) -> usize {
        let Ok(client) = self.pool.get().await else {
            return 0;
        };
        match client.query_one("SELECT count(*) FROM outbox", &[]).await {
            Ok(row) => usize::try_from(row.get::<_, i64>(0)).unwrap_or(0),
            Err(_) => 0,
        }
    }
}
