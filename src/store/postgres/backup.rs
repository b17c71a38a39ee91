//! `store backup` / `restore` / `copy` for PostgreSQL, in the sled store's format: the same
//! trees with the same keys and records, so a backup of either restores into either.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};

use tokio_postgres::types::Json;

use super::PgStore;
use crate::store::backup::{Record, read_backup, write_backup};
use crate::store::reset::{ResetRecord, TREE as RESETS};
use crate::store::{BackupError, Copied, PendingSignup, QueueEntry, Registration, StoreError};

impl PgStore {
    /// Writes every record to `out`, as the sled store's trees.
    pub fn backup(&self, out: &mut impl Write) -> Result<Copied, BackupError> {
        let pool = self.pool.clone();
        let (pending, registrations, usernames, resets, queue) = self.block(async move {
            let mut client = pool.get().await?;
            // One snapshot for all three tables.
            let tx = client
                .build_transaction()
                .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await?;
            let rows = |sql| {
                let tx = &tx;
                async move { tx.query(sql, &[]).await }
            };
            let pending = rows("SELECT id, email, record FROM pending").await?;
            let registrations = rows("SELECT email, signup_id, record FROM registrations").await?;
            let usernames = rows("SELECT upn, email FROM usernames").await?;
            let resets = rows("SELECT address, used_through FROM password_resets").await?;
            let queue = rows(
                "SELECT seq, email, signup_id, queued_at, attempts, next_attempt_at FROM queue",
            )
            .await?;
            let text = |row: &tokio_postgres::Row, at| row.get::<_, String>(at).into_bytes();
            let value = |row: &tokio_postgres::Row, at| {
                let Json(value): Json<serde_json::Value> = row.get(at);
                serde_json::to_vec(&value).expect("a JSON value always serializes")
            };
            Ok((
                pending
                    .iter()
                    .map(|row| (text(row, 0), text(row, 1), value(row, 2)))
                    .collect::<Vec<_>>(),
                registrations
                    .iter()
                    .map(|row| (text(row, 0), text(row, 1), value(row, 2)))
                    .collect::<Vec<_>>(),
                usernames
                    .iter()
                    .map(|row| (text(row, 0), text(row, 1)))
                    .collect::<Vec<_>>(),
                resets
                    .iter()
                    .map(|row| (text(row, 0), row.get::<_, i64>(1) as u64))
                    .collect::<Vec<_>>(),
                queue.iter().map(super::queue::entry).collect::<Vec<_>>(),
            ))
        })?;
        // The sled store's indexes, rebuilt: ids per mailbox, and sign-up id → mailbox.
        let mut by_email: BTreeMap<Vec<u8>, Vec<Vec<u8>>> = BTreeMap::new();
        for (id, email, _) in &pending {
            by_email.entry(email.clone()).or_default().push(id.clone());
        }
        let mut trees: BTreeMap<&str, BTreeMap<Vec<u8>, Vec<u8>>> = BTreeMap::new();
        for (id, _, record) in pending {
            trees.entry("pending").or_default().insert(id, record);
        }
        for (email, ids) in by_email {
            trees
                .entry("pending_by_email")
                .or_default()
                .insert(email, ids.join(&b'\n'));
        }
        for (email, signup_id, record) in registrations {
            if !signup_id.is_empty() {
                trees
                    .entry("signups")
                    .or_default()
                    .insert(signup_id, email.clone());
            }
            trees
                .entry("registrations")
                .or_default()
                .insert(email, record);
        }
        for (upn, email) in usernames {
            trees.entry("usernames").or_default().insert(upn, email);
        }
        for (address, used_through) in resets {
            let record = serde_json::to_vec(&ResetRecord { used_through })
                .expect("records are plain data and always serialize");
            trees.entry(RESETS).or_default().insert(address, record);
        }
        // The sled store's queue: big-endian sequence number → entry, and address → number.
        for entry in queue {
            let key = entry.seq.to_be_bytes().to_vec();
            trees
                .entry("queue_index")
                .or_default()
                .insert(entry.email.as_bytes().to_vec(), key.clone());
            let record =
                serde_json::to_vec(&entry).expect("records are plain data and always serialize");
            trees.entry("queue").or_default().insert(key, record);
        }
        let count = trees.len();
        let records: Vec<Record> = trees
            .into_iter()
            .flat_map(|(tree, records)| {
                records
                    .into_iter()
                    .map(move |(key, value)| (tree.as_bytes().to_vec(), key, value))
            })
            .collect();
        write_backup(out, count, &records)
    }

    /// Reads a whole backup from `input`, checks it is complete, then writes its records into
    /// this database, which must hold none yet, in one transaction.
    pub fn restore(&self, input: impl BufRead) -> Result<Copied, BackupError> {
        let records = read_backup(input)?;
        let mut pending = Vec::new();
        let mut registrations = Vec::new();
        let mut usernames = Vec::new();
        let mut resets = Vec::new();
        let mut queue = Vec::new();
        let mut trees = std::collections::BTreeSet::new();
        for (tree, key, value) in &records {
            let corrupt = |tree, source| BackupError::Store(StoreError::Corrupt { tree, source });
            match tree.as_slice() {
                b"pending" => pending.push(
                    serde_json::from_slice::<PendingSignup>(value)
                        .map_err(|err| corrupt("pending", err))?,
                ),
                b"registrations" => registrations.push(
                    serde_json::from_slice::<Registration>(value)
                        .map_err(|err| corrupt("registrations", err))?,
                ),
                b"usernames" => usernames.push((
                    String::from_utf8_lossy(key).into_owned(),
                    String::from_utf8_lossy(value).into_owned(),
                )),
                b"password_resets" => resets.push((
                    String::from_utf8_lossy(key).into_owned(),
                    serde_json::from_slice::<ResetRecord>(value)
                        .map_err(|err| corrupt(RESETS, err))?
                        .used_through as i64,
                )),
                b"queue" => queue.push(
                    serde_json::from_slice::<QueueEntry>(value)
                        .map_err(|err| corrupt("queue", err))?,
                ),
                // Indexes, rebuilt from the records by the tables' columns.
                b"pending_by_email" | b"signups" | b"queue_index" => {}
                other => {
                    return Err(BackupError::UnknownTree(
                        String::from_utf8_lossy(other).into_owned(),
                    ));
                }
            }
            trees.insert(tree.clone());
        }
        let pool = self.pool.clone();
        let present = self.block(async move {
            let mut client = pool.get().await?;
            let tx = client.transaction().await?;
            let row = tx
                .query_one(
                    "SELECT (SELECT count(*) FROM pending) + (SELECT count(*) FROM registrations)
                        + (SELECT count(*) FROM password_resets) + (SELECT count(*) FROM queue)",
                    &[],
                )
                .await?;
            let present: i64 = row.get(0);
            if present > 0 {
                return Ok(present as usize);
            }
            for signup in &pending {
                tx.execute(
                    "INSERT INTO pending (id, email, nonce, expires_at, record)
                     VALUES ($1, $2, $3, $4, $5)",
                    &[
                        &signup.id,
                        &signup.email.as_str(),
                        &signup.nonce,
                        &(signup.expires_at as i64),
                        &Json(signup),
                    ],
                )
                .await?;
            }
            for registration in &registrations {
                tx.execute(
                    "INSERT INTO registrations (email, signup_id, record) VALUES ($1, $2, $3)",
                    &[
                        &registration.email.as_str(),
                        &registration.signup_id,
                        &Json(registration),
                    ],
                )
                .await?;
            }
            for (upn, email) in &usernames {
                tx.execute(
                    "INSERT INTO usernames (upn, email) VALUES ($1, $2)",
                    &[upn, email],
                )
                .await?;
            }
            for (address, used_through) in &resets {
                tx.execute(
                    "INSERT INTO password_resets (address, used_through) VALUES ($1, $2)",
                    &[address, used_through],
                )
                .await?;
            }
            for entry in &queue {
                tx.execute(
                    "INSERT INTO queue (seq, email, signup_id, queued_at, attempts, next_attempt_at)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                    &[
                        &(entry.seq as i64),
                        &entry.email.as_str(),
                        &entry.signup_id,
                        &(entry.queued_at as i64),
                        &(entry.attempts as i32),
                        &(entry.next_attempt_at as i64),
                    ],
                )
                .await?;
            }
            // Entries enqueued from now on go behind the restored ones.
            tx.execute(
                "SELECT setval(pg_get_serial_sequence('queue', 'seq'), max(seq)) FROM queue
                 HAVING count(*) > 0",
                &[],
            )
            .await?;
            tx.commit().await?;
            Ok(0)
        })?;
        if present > 0 {
            return Err(BackupError::NotEmpty { records: present });
        }
        Ok(Copied {
            trees: trees.len(),
            records: records.len(),
        })
    }
}
