//! What PostgreSQL's columns say that its records do not: each table's key and indexed
//! columns are copies of the record's fields (the statements that guard the store use the
//! columns, the answers use the records), so a copy that differs is a broken store.

use super::PgStore;
use crate::store::Finding;
use crate::store::StoreError;

/// Rows whose columns differ from their record's fields: (what is wrong, the row's key).
const CHECKS: &[(&str, &str)] = &[
    (
        "a pending sign-up's id, mailbox, nonce or expiry column differs from its record",
        "SELECT id FROM pending
         WHERE record->>'id' IS DISTINCT FROM id
            OR record->>'email' IS DISTINCT FROM email
            OR record->>'nonce' IS DISTINCT FROM nonce
            OR record->>'expires_at' IS DISTINCT FROM expires_at::text
         ORDER BY id COLLATE \"C\"",
    ),
    (
        "a registration's mailbox or sign-up id column differs from its record",
        "SELECT email FROM registrations
         WHERE record->>'email' IS DISTINCT FROM email
            OR record->>'signup_id' IS DISTINCT FROM signup_id
         ORDER BY email COLLATE \"C\"",
    ),
    (
        "an account's lifecycle record differs from its mailbox or version column",
        "SELECT email FROM lifecycle
         WHERE record->>'email' IS DISTINCT FROM email
            OR record->>'version' IS DISTINCT FROM version::text
         ORDER BY email COLLATE \"C\"",
    ),
    (
        "an audit line's number, time, operator or action column differs from its record",
        "SELECT seq::text FROM audit_log
         WHERE record->>'seq' IS DISTINCT FROM seq::text
            OR record->>'at' IS DISTINCT FROM at::text
            OR record->'actor'->>'upn' IS DISTINCT FROM operator
            OR record->>'action' IS DISTINCT FROM action
         ORDER BY seq",
    ),
    (
        "a voucher's code column differs from its record",
        "SELECT code FROM vouchers
         WHERE record->>'code' IS DISTINCT FROM code
         ORDER BY code COLLATE \"C\"",
    ),
];

/// Every row whose columns and record disagree. Records whose fields are not there (they do
/// not decode either) are reported by the export as well.
pub(super) async fn index_findings(store: &PgStore) -> Result<Vec<Finding>, StoreError> {
    let client = store.pool.get().await?;
    let mut findings = Vec::new();
    for (what, query) in CHECKS {
        for row in client.query(*query, &[]).await? {
            let key: String = row.get(0);
            findings.push(Finding::Index(format!("{what}: {key}")));
        }
    }
    Ok(findings)
}
