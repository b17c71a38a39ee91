//! Every record of the database at once: read in one snapshot for a backup or `store
//! verify`, written by a restore in one transaction into a database that holds none.

use async_trait::async_trait;
use tokio_postgres::types::Json;
use tokio_postgres::{Row, Transaction};

use super::outbox::{insert_mail, mail_of};
use super::queue::{COLUMNS as QUEUE_COLUMNS, entry};
use super::verify::index_findings;
use super::{PgStore, decode, json};
use crate::domain::AuditEntry;
use crate::store::Finding;
use crate::store::{
    BackupRecord, BackupStore, Exported, QueueEntry, RecordKind, RegistryKey, StoreError,
    Unreadable,
};

#[async_trait]
impl BackupStore for PgStore {
    async fn export(&self) -> Result<Exported, StoreError> {
        let mut client = self.pool.get().await?;
        // One snapshot for all the tables.
        let tx = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let mut exported = Exported::default();
        let records = |kind: RecordKind, rows: Vec<Row>, exported: &mut Exported| {
            for row in rows {
                match record_from(kind, row.get(1)) {
                    Ok(record) => exported.records.push(record),
                    Err(err) => exported.unreadable.push(Unreadable {
                        kind,
                        key: row.get(0),
                        error: err.to_string(),
                    }),
                }
            }
        };
        let pending = tx.query("SELECT id, record FROM pending", &[]).await?;
        records(RecordKind::Pending, pending, &mut exported);
        let registrations = tx
            .query("SELECT email, record FROM registrations", &[])
            .await?;
        records(RecordKind::Registration, registrations, &mut exported);
        for row in tx.query("SELECT upn, email FROM usernames", &[]).await? {
            exported.records.push(BackupRecord::Username {
                upn: row.get(0),
                email: RegistryKey::as_recorded(row.get(1)),
            });
        }
        let resets = "SELECT address, used_through FROM password_resets";
        for row in tx.query(resets, &[]).await? {
            exported.records.push(BackupRecord::Reset {
                email: RegistryKey::as_recorded(row.get(0)),
                used_through: row.get::<_, i64>(1) as u64,
            });
        }
        let queue = format!("SELECT {QUEUE_COLUMNS} FROM queue");
        for row in tx.query(&queue, &[]).await? {
            exported.records.push(BackupRecord::QueueEntry(entry(&row)));
        }
        let lives = tx.query("SELECT email, record FROM lifecycle", &[]).await?;
        records(RecordKind::Lifecycle, lives, &mut exported);
        let audit = tx
            .query("SELECT seq::text, record FROM audit_log", &[])
            .await?;
        records(RecordKind::Audit, audit, &mut exported);
        let vouchers = tx.query("SELECT code, record FROM vouchers", &[]).await?;
        records(RecordKind::Voucher, vouchers, &mut exported);
        let outbox = "SELECT id, record, attempts, next_attempt_at FROM outbox";
        for row in tx.query(outbox, &[]).await? {
            match mail_of(&row) {
                Ok(mail) => exported.records.push(BackupRecord::OutboxMail(mail)),
                Err(err) => exported.unreadable.push(Unreadable {
                    kind: RecordKind::OutboxMail,
                    key: row.get(0),
                    error: err.to_string(),
                }),
            }
        }
        Ok(exported)
    }

    async fn import(&self, records: &[BackupRecord]) -> Result<Result<(), usize>, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let row = tx
            .query_one(
                "SELECT (SELECT count(*) FROM pending) + (SELECT count(*) FROM registrations)
                    + (SELECT count(*) FROM usernames) + (SELECT count(*) FROM password_resets)
                    + (SELECT count(*) FROM queue) + (SELECT count(*) FROM lifecycle)
                    + (SELECT count(*) FROM audit_log) + (SELECT count(*) FROM vouchers)
                    + (SELECT count(*) FROM outbox)",
                &[],
            )
            .await?;
        let present: i64 = row.get(0);
        if present > 0 {
            return Ok(Err(present as usize));
        }
        // Registrations first: a username refers to its registration.
        let mut ordered: Vec<&BackupRecord> = records.iter().collect();
        ordered.sort_by_key(|record| record.kind() != RecordKind::Registration);
        for record in ordered {
            insert(&tx, record).await?;
        }
        // Entries enqueued from now on go behind the restored ones (sled counts from 0, a
        // sequence from 1: the next is set, not the last).
        tx.execute(
            "SELECT setval(pg_get_serial_sequence('queue', 'seq'), max(seq) + 1, false)
             FROM queue HAVING count(*) > 0",
            &[],
        )
        .await?;
        tx.execute(
            "SELECT setval(pg_get_serial_sequence('audit_log', 'seq'), max(seq) + 1, false)
             FROM audit_log HAVING count(*) > 0",
            &[],
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    async fn index_findings(&self) -> Result<Vec<Finding>, StoreError> {
        index_findings(self).await
    }
}

/// The record of `kind` (pending, registration, lifecycle, audit line or voucher) a row
/// holds, as a backup holds it.
fn record_from(
    kind: RecordKind,
    value: Json<serde_json::Value>,
) -> Result<BackupRecord, StoreError> {
    match kind {
        RecordKind::Pending => decode(kind, value).map(BackupRecord::Pending),
        RecordKind::Lifecycle => decode(kind, value).map(BackupRecord::Lifecycle),
        RecordKind::Audit => decode(kind, value).map(BackupRecord::Audit),
        RecordKind::Voucher => decode(kind, value).map(BackupRecord::Voucher),
        _ => decode(kind, value).map(BackupRecord::Registration),
    }
}

/// Writes one restored record.
async fn insert(tx: &Transaction<'_>, record: &BackupRecord) -> Result<(), StoreError> {
    match record {
        BackupRecord::Pending(signup) => {
            let expires_at = signup.expires_at as i64;
            tx.execute(
                "INSERT INTO pending (id, email, nonce, expires_at, record)
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    &signup.id,
                    &signup.email.as_str(),
                    &signup.nonce,
                    &expires_at,
                    &json(signup),
                ],
            )
            .await?
        }
        BackupRecord::Registration(registration) => {
            tx.execute(
                "INSERT INTO registrations (email, signup_id, record) VALUES ($1, $2, $3)",
                &[
                    &registration.email.as_str(),
                    &registration.signup_id,
                    &Json(registration),
                ],
            )
            .await?
        }
        BackupRecord::Username { upn, email } => {
            tx.execute(
                "INSERT INTO usernames (upn, email) VALUES ($1, $2)",
                &[upn, &email.as_str()],
            )
            .await?
        }
        BackupRecord::Reset {
            email,
            used_through,
        } => {
            let used_through = *used_through as i64;
            tx.execute(
                "INSERT INTO password_resets (address, used_through) VALUES ($1, $2)",
                &[&email.as_str(), &used_through],
            )
            .await?
        }
        BackupRecord::Voucher(voucher) => {
            tx.execute(
                "INSERT INTO vouchers (code, record) VALUES ($1, $2)",
                &[&voucher.code.as_str(), &json(voucher)],
            )
            .await?
        }
        BackupRecord::OutboxMail(mail) => insert_mail(tx, mail).await?,
        BackupRecord::QueueEntry(entry) => insert_queue_entry(tx, entry).await?,
        BackupRecord::Lifecycle(life) => {
            tx.execute(
                "INSERT INTO lifecycle (email, version, record) VALUES ($1, $2, $3)",
                &[&life.email.as_str(), &(life.version as i64), &Json(life)],
            )
            .await?
        }
        BackupRecord::Audit(line) => insert_audit_line(tx, line).await?,
    };
    Ok(())
}

/// A queue entry, with its columns.
async fn insert_queue_entry(tx: &Transaction<'_>, entry: &QueueEntry) -> Result<u64, StoreError> {
    let columns = (
        entry.seq as i64,
        entry.queued_at as i64,
        entry.attempts as i32,
        entry.next_attempt_at as i64,
    );
    let written = tx
        .execute(
            &format!("INSERT INTO queue ({QUEUE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"),
            &[
                &columns.0,
                &entry.email.as_str(),
                &entry.signup_id,
                &columns.1,
                &columns.2,
                &columns.3,
                &entry.waiting_for_seat,
            ],
        )
        .await?;
    Ok(written)
}

/// An audit line, with the columns the console filters by.
async fn insert_audit_line(tx: &Transaction<'_>, line: &AuditEntry) -> Result<u64, StoreError> {
    let written = tx
        .execute(
            "INSERT INTO audit_log (seq, at, operator, action, record)
         VALUES ($1, $2, $3, $4, $5)",
            &[
                &(line.seq as i64),
                &(line.at as i64),
                &line.actor.upn,
                &line.action.name(),
                &json(line),
            ],
        )
        .await?;
    Ok(written)
}
