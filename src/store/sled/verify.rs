//! What sled's indexes say that its records do not: `pending_by_email`, `signups` and
//! `queue_index` each against the records they index, and each record (the lifecycle's,
//! and an audit line's number, too) against its key.

use super::audit::seq_of as audit_seq_of;
use super::pending::ids_in;
use super::queue::seq_of;
use super::{SledStore, decode};
use crate::domain::AuditEntry;
use crate::store::Finding;
use crate::store::{
    AccountLife, PendingSignup, QueueEntry, RecordKind, Registration, StoreError, Voucher,
};

/// Every disagreement between sled's trees. Records that do not decode are skipped here
/// (the export reports them).
pub(super) fn index_findings(store: &SledStore) -> Result<Vec<Finding>, StoreError> {
    let mut found = Vec::new();
    pending(store, &mut found)?;
    registrations(store, &mut found)?;
    queue(store, &mut found)?;
    lifecycle(store, &mut found)?;
    audit(store, &mut found)?;
    vouchers(store, &mut found)?;
    Ok(found.into_iter().map(Finding::Index).collect())
}

fn pending(store: &SledStore, found: &mut Vec<String>) -> Result<(), StoreError> {
    for entry in store.pending.iter() {
        let (id, bytes) = entry?;
        let Ok(signup) = decode::<PendingSignup>(RecordKind::Pending, &bytes) else {
            continue;
        };
        if id.as_ref() != signup.id.as_bytes() {
            found.push(format!(
                "the pending sign-up {} is stored under {}",
                signup.id,
                lossy(&id)
            ));
        }
        let listed = store.pending_by_email.get(signup.email.as_bytes())?;
        if !listed.is_some_and(|ids| ids_in(&ids).any(|listed| listed == id.as_ref())) {
            found.push(format!(
                "the pending sign-up {} is not listed under {}",
                lossy(&id),
                signup.email
            ));
        }
    }
    for entry in store.pending_by_email.iter() {
        let (email, ids) = entry?;
        for id in ids_in(&ids) {
            if !store.pending.contains_key(id)? {
                found.push(format!(
                    "{} lists the pending sign-up {}, which is gone",
                    lossy(&email),
                    lossy(id)
                ));
            }
        }
    }
    Ok(())
}

fn registrations(store: &SledStore, found: &mut Vec<String>) -> Result<(), StoreError> {
    for entry in store.registrations.iter() {
        let (email, bytes) = entry?;
        let Ok(registration) = decode::<Registration>(RecordKind::Registration, &bytes) else {
            continue;
        };
        if email.as_ref() != registration.email.as_bytes() {
            found.push(format!(
                "the registration of {} is stored under {}",
                registration.email,
                lossy(&email)
            ));
        }
        let indexed = store.signups.get(registration.signup_id.as_bytes())?;
        if !registration.signup_id.is_empty() && indexed.as_deref() != Some(email.as_ref()) {
            found.push(format!(
                "the sign-up {} of {} is not in the sign-up index",
                registration.signup_id, registration.email
            ));
        }
    }
    for entry in store.signups.iter() {
        let (id, email) = entry?;
        if !store.registrations.contains_key(&email)? {
            found.push(format!(
                "the sign-up {} leads to {}, which has no registration",
                lossy(&id),
                lossy(&email)
            ));
        }
    }
    Ok(())
}

fn queue(store: &SledStore, found: &mut Vec<String>) -> Result<(), StoreError> {
    for entry in store.queue.iter() {
        let (key, bytes) = entry?;
        let Ok(queued) = decode::<QueueEntry>(RecordKind::QueueEntry, &bytes) else {
            continue;
        };
        let indexed = store.queue_index.get(queued.email.as_bytes())?;
        if seq_of(&key) != queued.seq || indexed.as_deref() != Some(key.as_ref()) {
            found.push(format!(
                "the queue entry {} of {} is not where its index says",
                queued.seq, queued.email
            ));
        }
    }
    for entry in store.queue_index.iter() {
        let (email, key) = entry?;
        if !store.queue.contains_key(&key)? {
            found.push(format!(
                "the queue index names an entry of {} that is gone",
                lossy(&email)
            ));
        }
    }
    Ok(())
}

fn lifecycle(store: &SledStore, found: &mut Vec<String>) -> Result<(), StoreError> {
    for entry in store.lifecycle.iter() {
        let (email, bytes) = entry?;
        let Ok(life) = decode::<AccountLife>(RecordKind::Lifecycle, &bytes) else {
            continue;
        };
        if email.as_ref() != life.email.as_bytes() {
            found.push(format!(
                "the lifecycle record of {} is stored under {}",
                life.email,
                lossy(&email)
            ));
        }
    }
    Ok(())
}

fn audit(store: &SledStore, found: &mut Vec<String>) -> Result<(), StoreError> {
    for entry in store.audit.iter() {
        let (key, bytes) = entry?;
        let Ok(line) = decode::<AuditEntry>(RecordKind::Audit, &bytes) else {
            continue;
        };
        if key.len() != 8 || audit_seq_of(&key) != line.seq {
            found.push(format!(
                "the audit line {} is stored under {}",
                line.seq,
                hex::encode(&key)
            ));
        }
    }
    Ok(())
}

/// Each voucher is stored under its own code.
fn vouchers(store: &SledStore, found: &mut Vec<String>) -> Result<(), StoreError> {
    for entry in store.vouchers.iter() {
        let (code, bytes) = entry?;
        let Ok(voucher) = decode::<Voucher>(RecordKind::Voucher, &bytes) else {
            continue;
        };
        if code.as_ref() != voucher.code.as_str().as_bytes() {
            found.push(format!(
                "the voucher {} is stored under {}",
                voucher.code.redacted(),
                lossy(&code)
            ));
        }
    }
    Ok(())
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
