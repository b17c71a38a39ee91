//! The audit log in PostgreSQL: table `audit_log`, one row per line, `seq` from its
//! identity. A line's number is drawn and written into its record in the one statement
//! that inserts it, so the column and the record never disagree.

use async_trait::async_trait;
use tokio_postgres::types::Json;

use super::{PgStore, decode, json};
use crate::domain::AuditEntry;
use crate::store::{AuditLog, AuditQuery, Listed, RecordKind, StoreError};

/// Newest first; the order is put in by [`order`].
const SELECT: &str = "SELECT record FROM audit_log
     WHERE ($1::bigint IS NULL OR at >= $1)
       AND ($2::bigint IS NULL OR seq < $2)
       AND ($3::text IS NULL OR lower(operator) = lower($3)
            OR lower(record->'actor'->>'object_id') = lower($3))
       AND ($4::text IS NULL OR action = $4)
     ORDER BY seq {order}
     LIMIT $5";

fn order(oldest_first: bool) -> String {
    SELECT.replace("{order}", if oldest_first { "ASC" } else { "DESC" })
}

#[async_trait]
impl AuditLog for PgStore {
    async fn append_audit(&self, entry: &AuditEntry) -> Result<u64, StoreError> {
        let row = self
            .pool
            .get()
            .await?
            .query_one(
                "WITH next AS (
                     SELECT nextval(pg_get_serial_sequence('audit_log', 'seq')) AS seq
                 )
                 INSERT INTO audit_log (seq, at, operator, action, record)
                 SELECT seq, $1, $2, $3, jsonb_set($4, '{seq}', to_jsonb(seq)) FROM next
                 RETURNING seq",
                &[
                    &(entry.at as i64),
                    &entry.actor.upn,
                    &entry.action.name(),
                    &json(entry),
                ],
            )
            .await?;
        Ok(row.get::<_, i64>(0) as u64)
    }

    async fn audit_entries(&self, query: &AuditQuery) -> Result<Listed<AuditEntry>, StoreError> {
        let since = query.since.map(|at| at as i64);
        let before = query.before.map(|seq| seq as i64);
        let operator = query.operator.as_deref().map(str::trim);
        let action = query.action.map(|action| action.name());
        let limit = query.limit.map(|limit| limit as i64);
        let rows = self
            .pool
            .get()
            .await?
            .query(
                &order(query.oldest_first),
                &[&since, &before, &operator, &action, &limit],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| decode(RecordKind::Audit, row.get::<_, Json<serde_json::Value>>(0)))
            .collect())
    }
}
