//! Pending sign-ups: stored at submission, under a random id the link carries, until the
//! link is confirmed (claimed) or expires.

use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use super::embedded::{SledStore, abort, decode, encode};
use super::queue::queue_in;
use super::{Registration, RegistryKey, StoreError};
use crate::domain::Step;

/// A sign-up waiting for its address to be verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingSignup {
    pub id: String,
    /// One-time value carried in the link.
    pub nonce: String,
    /// The person's mailbox.
    pub email: RegistryKey,
    pub first_name: String,
    pub last_name: String,
    pub lang: String,
    pub created_at: u64,
    pub expires_at: u64,
    pub consent_email_at: u64,
    pub consent_name_at: u64,
}

/// What claiming a pending sign-up found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This call took the address; provisioning starts.
    Claimed(Registration),
    /// The sign-up was claimed before and is not finished: resume it.
    Resume(Registration),
    /// The sign-up was completed before: the link is used up.
    AlreadyDone(Registration),
    /// The address was registered by another sign-up (or imported).
    AddressTaken,
    /// The link's sign-up was purged, forgotten, or never existed.
    Unknown,
    /// The link's sign-up has expired.
    Expired,
}

/// What a pending sign-up id leads to, for the read-only verify page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Pending(PendingSignup),
    Registered(Registration),
    /// Still pending, but another link for the same mailbox was confirmed first.
    AddressTaken,
    Unknown,
}

impl Registration {
    /// The registration a confirmed sign-up becomes: provisioning starts at its first step.
    pub(super) fn claimed(signup: &PendingSignup, now: u64) -> Self {
        Registration {
            email: signup.email.clone(),
            signup_id: signup.id.clone(),
            first_name: signup.first_name.clone(),
            last_name: signup.last_name.clone(),
            lang: signup.lang.clone(),
            consent_email_at: signup.consent_email_at,
            consent_name_at: signup.consent_name_at,
            claimed_at: now,
            step: Step::Claimed,
            upn: None,
            upn_free_at: None,
            object_id: None,
            password_version: 0,
            updated_at: now,
            last_error: None,
            imported: false,
            existing_account: false,
        }
    }
}

impl SledStore {
    /// Stores a pending sign-up beside any others for the same mailbox: each has its own
    /// link, and a new one cancels none (else anyone could cancel a person's link by
    /// submitting their address). Refuses an address that is already registered.
    pub fn insert_pending(&self, signup: &PendingSignup) -> Result<(), StoreError> {
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

    /// When the mailbox's last pending link expires, if it has one (for "a link was
    /// already sent").
    pub fn latest_expiry(&self, email: &RegistryKey) -> Result<Option<u64>, StoreError> {
        let Some(ids) = self.pending_by_email.get(email.as_bytes())? else {
            return Ok(None);
        };
        let mut latest = None;
        for id in ids_in(&ids) {
            if let Some(bytes) = self.pending.get(id)? {
                let signup: PendingSignup = decode("pending", &bytes)?;
                latest = latest.max(Some(signup.expires_at));
            }
        }
        Ok(latest)
    }

    /// What a link's sign-up id leads to, without changing anything.
    pub fn lookup(&self, signup_id: &str) -> Result<Lookup, StoreError> {
        if let Some(bytes) = self.pending.get(signup_id)? {
            let signup: PendingSignup = decode("pending", &bytes)?;
            if self.registrations.contains_key(signup.email.as_bytes())? {
                return Ok(Lookup::AddressTaken);
            }
            return Ok(Lookup::Pending(signup));
        }
        if let Some(email) = self.signups.get(signup_id)? {
            if let Some(bytes) = self.registrations.get(&email)? {
                return Ok(Lookup::Registered(decode("registrations", &bytes)?));
            }
        }
        Ok(Lookup::Unknown)
    }

    /// Takes the address for the sign-up `signup_id` if `nonce` matches, atomically: of any
    /// number of concurrent claims for one address exactly one gets [`Claim::Claimed`]. The
    /// mailbox's other pending sign-ups stay until they expire, answering
    /// [`Claim::AddressTaken`].
    pub fn claim(&self, signup_id: &str, nonce: &str, now: u64) -> Result<Claim, StoreError> {
        self.watching(|| {
            let seq = self.next_queue_seq()?;
            let (queue, queue_index) = self.queue_trees();
            // The claim queues the registration in the same transaction: a process killed
            // between the two would otherwise leave a claimed registration that no worker
            // knows of, finished only if the person came back.
            let trees = (
                &self.pending,
                &self.pending_by_email,
                &self.registrations,
                &self.signups,
                queue,
                queue_index,
            );
            let claim = trees.transaction(
                |(pending, by_email, registrations, signups, queue, queue_index)| {
                    let Some(bytes) = pending.get(signup_id)? else {
                        return earlier_claim(signups, registrations, signup_id);
                    };
                    let signup: PendingSignup = decode("pending", &bytes).or_else(abort)?;
                    if signup.nonce != nonce {
                        return Ok(Claim::Unknown);
                    }
                    if signup.expires_at <= now {
                        return Ok(Claim::Expired);
                    }
                    if registrations.get(signup.email.as_bytes())?.is_some() {
                        return Ok(Claim::AddressTaken);
                    }
                    let registration = Registration::claimed(&signup, now);
                    registrations.insert(signup.email.as_bytes(), encode(&registration))?;
                    signups.insert(signup.id.as_bytes(), signup.email.as_bytes())?;
                    pending.remove(signup.id.as_bytes())?;
                    remove_id(by_email, signup.email.as_bytes(), signup.id.as_bytes())?;
                    queue_in(queue, queue_index, seq, &signup.email, &signup.id, now, now)?;
                    Ok(Claim::Claimed(registration))
                },
            )?;
            Ok(claim)
        })
    }

    /// Every pending sign-up, in id order.
    pub fn pending_signups(&self) -> impl Iterator<Item = Result<PendingSignup, StoreError>> + '_ {
        self.pending.iter().map(|entry| {
            entry
                .map_err(StoreError::from)
                .and_then(|(_, bytes)| decode("pending", &bytes))
        })
    }
}

/// The ids in a `pending_by_email` value, one per line. A store written when a mailbox had
/// one pending sign-up holds a single id there, which reads the same.
pub(super) fn ids_in(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value.split(|b| *b == b'\n').filter(|id| !id.is_empty())
}

/// `value` with `id` added.
fn with_id(value: Option<&[u8]>, id: &[u8]) -> Vec<u8> {
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
/// into, if any. The store tells only whether that registration reached its last step (the
/// link is used up); where provisioning resumes is for `signup` to decide.
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
    let registration: Registration = decode("registrations", &bytes).or_else(abort)?;
    Ok(if registration.step == Step::Done {
        Claim::AlreadyDone(registration)
    } else {
        Claim::Resume(registration)
    })
}
