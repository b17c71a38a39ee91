//! Pending sign-ups in sled: tree `pending` (id → record) and its index `pending_by_email`
//! (mailbox → ids, one per line).

use async_trait::async_trait;
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use super::queue::queue_in;
use super::vouchers::claimed_use;
use super::{SledStore, abort, decode, encode};
use crate::domain::VoucherRefusal;
use crate::store::{
    Claim, ClaimVoucher, Listed, Lookup, PendingSignup, PendingStore, RecordKind, Registration,
    RegistryKey, StoreError,
};

#[async_trait]
impl PendingStore for SledStore {
    async fn insert_pending(&self, signup: &PendingSignup) -> Result<(), StoreError> {
        self.watching(|| {
            let record = encode(signup);
            (&self.pending, &self.pending_by_email, &self.registrations).transaction(
                |(pending, by_email, registrations)| {
                    let email = signup.email.as_bytes();
                    if registrations.get(email)?.is_some() {
                        return abort(StoreError::AlreadyRegistered);
                    }
                    let ids = with_id(by_email.get(email)?.as_deref(), signup.id.as_bytes());
                    by_email.insert(email, ids)?;
                    pending.insert(signup.id.as_bytes(), record.as_slice())?;
                    Ok(())
                },
            )?;
            Ok(())
        })
    }

    async fn latest_expiry(&self, email: &RegistryKey) -> Result<Option<u64>, StoreError> {
        let Some(ids) = self.pending_by_email.get(email.as_bytes())? else {
            return Ok(None);
        };
        let mut latest = None;
        for id in ids_in(&ids) {
            if let Some(bytes) = self.pending.get(id)? {
                let signup: PendingSignup = decode(RecordKind::Pending, &bytes)?;
                latest = latest.max(Some(signup.expires_at));
            }
        }
        Ok(latest)
    }

    async fn lookup(&self, signup_id: &str) -> Result<Lookup, StoreError> {
        if let Some(bytes) = self.pending.get(signup_id)? {
            let signup: PendingSignup = decode(RecordKind::Pending, &bytes)?;
            if self.registrations.contains_key(signup.email.as_bytes())? {
                return Ok(Lookup::AddressTaken);
            }
            return Ok(Lookup::Pending(signup));
        }
        if let Some(email) = self.signups.get(signup_id)?
            && let Some(bytes) = self.registrations.get(&email)?
        {
            return Ok(Lookup::Registered(decode(
                RecordKind::Registration,
                &bytes,
            )?));
        }
        Ok(Lookup::Unknown)
    }

    async fn claim_with_voucher(
        &self,
        signup_id: &str,
        nonce: &str,
        now: u64,
        voucher: ClaimVoucher<'_>,
    ) -> Result<Result<Claim, VoucherRefusal>, StoreError> {
        self.watching(|| {
            let seq = self.next_queue_seq()?;
            // The claim queues the registration in the same transaction: a process killed
            // between the two would otherwise leave a claimed registration that no worker
            // knows of, finished only if the person came back. The voucher's use is taken
            // in it too, so a use is counted exactly when a registration is made.
            let trees = (
                &self.pending,
                &self.pending_by_email,
                &self.registrations,
                &self.signups,
                &self.queue,
                &self.queue_index,
                &self.vouchers,
            );
            let claim = trees.transaction(
                |(pending, by_email, registrations, signups, queue, queue_index, vouchers)| {
                    let Some(bytes) = pending.get(signup_id)? else {
                        return earlier_claim(signups, registrations, signup_id).map(Ok);
                    };
                    let signup: PendingSignup =
                        decode(RecordKind::Pending, &bytes).or_else(abort)?;
                    if signup.nonce != nonce {
                        return Ok(Ok(Claim::Unknown));
                    }
                    if signup.expires_at <= now {
                        return Ok(Ok(Claim::Expired));
                    }
                    if registrations.get(signup.email.as_bytes())?.is_some() {
                        return Ok(Ok(Claim::AddressTaken));
                    }
                    let taken = match claimed_use(vouchers, voucher, &signup, now)? {
                        Ok(taken) => taken,
                        Err(refusal) => return Ok(Err(refusal)),
                    };
                    let registration = Registration::claimed(&signup, now, taken);
                    registrations.insert(signup.email.as_bytes(), encode(&registration))?;
                    signups.insert(signup.id.as_bytes(), signup.email.as_bytes())?;
                    pending.remove(signup.id.as_bytes())?;
                    remove_id(by_email, signup.email.as_bytes(), signup.id.as_bytes())?;
                    queue_in(queue, queue_index, seq, &signup.email, &signup.id, now, now)?;
                    Ok(Ok(Claim::Claimed(registration)))
                },
            )?;
            Ok(claim)
        })
    }

    async fn pending_signups(&self) -> Result<Listed<PendingSignup>, StoreError> {
        Ok(self
            .pending
            .iter()
            .map(|entry| {
                entry
                    .map_err(StoreError::from)
                    .and_then(|(_, bytes)| decode(RecordKind::Pending, &bytes))
            })
            .collect())
    }
}

/// The ids in a `pending_by_email` value, one per line. A store written when a mailbox had
/// one pending sign-up holds a single id there, which reads the same.
pub(super) fn ids_in(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value.split(|b| *b == b'\n').filter(|id| !id.is_empty())
}

/// `value` with `id` added.
pub(super) fn with_id(value: Option<&[u8]>, id: &[u8]) -> Vec<u8> {
    let mut ids = value.map(<[u8]>::to_vec).unwrap_or_default();
    if !ids.is_empty() {
        ids.push(b'\n');
    }
    ids.extend_from_slice(id);
    ids
}

/// Takes `id` out of `email`'s list in `by_email`, and the list out when it is empty.
pub(super) fn remove_id(
    by_email: &TransactionalTree,
    email: &[u8],
    id: &[u8],
) -> Result<(), ConflictableTransactionError<StoreError>> {
    let Some(value) = by_email.get(email)? else {
        return Ok(());
    };
    let rest: Vec<&[u8]> = ids_in(&value).filter(|other| *other != id).collect();
    if rest.is_empty() {
        by_email.remove(email)?;
    } else {
        by_email.insert(email, rest.join(&b'\n'))?;
    }
    Ok(())
}

/// What a link whose sign-up is no longer pending finds: the registration it was claimed
/// into, if any.
fn earlier_claim(
    signups: &TransactionalTree,
    registrations: &TransactionalTree,
    signup_id: &str,
) -> Result<Claim, ConflictableTransactionError<StoreError>> {
    let Some(email) = signups.get(signup_id)? else {
        return Ok(Claim::Unknown);
    };
    let Some(bytes) = registrations.get(&email)? else {
        return Ok(Claim::Unknown);
    };
    let registration: Registration = decode(RecordKind::Registration, &bytes).or_else(abort)?;
    Ok(Claim::earlier(registration))
}
