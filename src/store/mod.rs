//! The only module that touches sled: pending sign-ups, and the registry of used addresses
//! with each registration's provisioning state.
//!
//! Trees: `pending` (id → [`PendingSignup`]), `pending_by_email` (address → id),
//! `registrations` (address → [`Registration`]), `signups` (sign-up id → address),
//! `usernames` (lower-cased UPN → the address whose registration reserved it).
//!
//! No temporary password is ever written here, sealed or not: sled keeps superseded values
//! in its log, so anything written once may be read back from the files long after.

use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};
use tokio::sync::watch;

use crate::domain::{Mailbox, Step};

/// A sign-up waiting for its address to be verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingSignup {
    pub id: String,
    /// One-time value carried in the link; a resubmission makes a new one.
    pub nonce: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub lang: String,
    pub created_at: u64,
    pub expires_at: u64,
    pub consent_email_at: u64,
    pub consent_name_at: u64,
}

/// A used address: the registry entry that stops a second account, and the provisioning state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub email: String,
    /// The pending sign-up this came from; empty for imported addresses.
    pub signup_id: String,
    pub first_name: String,
    pub last_name: String,
    pub lang: String,
    pub consent_email_at: u64,
    pub consent_name_at: u64,
    pub claimed_at: u64,
    pub step: Step,
    pub upn: Option<String>,
    /// The directory's time (Unix seconds) when `upn` was found free: a user under `upn`
    /// created before then is not this registration's.
    #[serde(default)]
    pub upn_free_at: Option<u64>,
    pub object_id: Option<String>,
    /// Counts the temporary passwords given to the user (the create, then each new one):
    /// a password held in some process's memory is current only while this is unchanged.
    #[serde(default)]
    pub password_version: u32,
    pub updated_at: u64,
    /// The last failure, for operators (`signups list`); no secrets.
    pub last_error: Option<String>,
    /// Brought over from the original program's database (`emails import`).
    #[serde(default)]
    pub imported: bool,
}

/// What `forget` removed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Forgotten {
    pub registration: Option<Registration>,
    pub pending: usize,
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
    /// The link's sign-up was replaced by a newer submission, or never existed.
    Unknown,
    /// The link's sign-up has expired.
    Expired,
}

/// What a pending sign-up id leads to, for the read-only verify page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Pending(PendingSignup),
    Registered(Registration),
    Unknown,
}

/// A store failure. Callers show a generic error; the detail goes to the log, and the
/// failures an operator can fix say how.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the address is already registered")]
    AlreadyRegistered,
    #[error("another process has the store open, and only one may: stop the server first")]
    Locked,
    /// sled refuses every write after a failed one until the store is opened again, hence
    /// the restart.
    #[error(
        "the filesystem holding the store is full (no space left on device): free some space there, then start the server again"
    )]
    NoSpace,
    #[error(
        "the store's directory is not writable ({0}): make it writable for the user the server runs as"
    )]
    NotWritable(std::io::Error),
    /// Not a `#[source]`: the message holds sled's text already, and `{:#}` would repeat it.
    #[error("store error: {0}")]
    Sled(sled::Error),
    #[error("the flush to disk was aborted: {0}")]
    FlushAborted(String),
    #[error("corrupt record in {tree}: {source}")]
    Corrupt {
        tree: &'static str,
        source: serde_json::Error,
    },
}

impl From<sled::Error> for StoreError {
    fn from(err: sled::Error) -> Self {
        use std::io::ErrorKind;
        match err {
            sled::Error::Io(io) => match io.kind() {
                ErrorKind::StorageFull => StoreError::NoSpace,
                ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem => {
                    StoreError::NotWritable(io)
                }
                // sled reports a held lock only in the message, as an `Other` error.
                ErrorKind::Other if io.to_string().starts_with("could not acquire lock") => {
                    StoreError::Locked
                }
                _ => StoreError::Sled(sled::Error::Io(io)),
            },
            err => StoreError::Sled(err),
        }
    }
}

impl From<TransactionError<StoreError>> for StoreError {
    fn from(err: TransactionError<StoreError>) -> Self {
        match err {
            TransactionError::Abort(err) => err,
            TransactionError::Storage(err) => StoreError::from(err),
        }
    }
}

/// The embedded store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    /// Set by the first write that fails for a reason of the store, not of the request.
    failure: Arc<watch::Sender<Option<String>>>,
    db: sled::Db,
    pending: sled::Tree,
    pending_by_email: sled::Tree,
    registrations: sled::Tree,
    signups: sled::Tree,
    usernames: sled::Tree,
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("records are plain data and always serialize")
}

fn decode<T: for<'de> Deserialize<'de>>(tree: &'static str, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|source| StoreError::Corrupt { tree, source })
}

fn abort<T>(err: StoreError) -> Result<T, ConflictableTransactionError<StoreError>> {
    Err(ConflictableTransactionError::Abort(err))
}

impl Store {
    /// Opens (or creates) the store directory.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::from_db(
            sled::Config::new()
                .path(path)
                .mode(sled::Mode::LowSpace)
                .open()?,
        )
    }

    /// A store that disappears when dropped, for tests.
    pub fn temporary() -> Result<Self, StoreError> {
        Self::from_db(sled::Config::new().temporary(true).open()?)
    }

    fn from_db(db: sled::Db) -> Result<Self, StoreError> {
        Ok(Store {
            pending: db.open_tree("pending")?,
            pending_by_email: db.open_tree("pending_by_email")?,
            registrations: db.open_tree("registrations")?,
            signups: db.open_tree("signups")?,
            usernames: db.open_tree("usernames")?,
            db,
            failure: Arc::new(watch::Sender::new(None)),
        })
    }

    /// Passes `result` on, noting a failure of the store itself. sled refuses every write
    /// after one has failed (a full disk, say) until the store is opened again, so such a
    /// failure is for good; see [`Store::failed`].
    fn watched<T>(&self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        if let Err(err @ (StoreError::NoSpace | StoreError::NotWritable(_) | StoreError::Sled(_))) =
            &result
        {
            let reason = err.to_string();
            self.failure.send_if_modified(|failure| {
                let first = failure.is_none();
                if first {
                    *failure = Some(reason);
                }
                first
            });
        }
        result
    }

    /// Writes everything to disk without holding a runtime worker. Not sled's `flush_async`:
    /// in 0.34 several at once can deadlock for good (spacejam/sled#1308), which eight people
    /// confirming together did in the benchmark. sled flushes the whole store either way.
    async fn flush_to_disk(&self) -> Result<(), StoreError> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || db.flush())
            .await
            .map_err(|err| StoreError::FlushAborted(err.to_string()))??;
        Ok(())
    }

    /// Every tree, for transactions that span them all.
    fn all_trees(
        &self,
    ) -> (
        &sled::Tree,
        &sled::Tree,
        &sled::Tree,
        &sled::Tree,
        &sled::Tree,
    ) {
        (
            &self.pending,
            &self.pending_by_email,
            &self.registrations,
            &self.signups,
            &self.usernames,
        )
    }

    fn watching<T>(&self, write: impl FnOnce() -> Result<T, StoreError>) -> Result<T, StoreError> {
        self.watched(write())
    }

    /// Completes, with the reason, once a write has failed for a reason of the store.
    pub async fn failed(&self) -> String {
        let mut failure = self.failure.subscribe();
        // The guard `wait_for` returns must not live across an await.
        let reason = match failure.wait_for(Option::is_some).await {
            Ok(reason) => reason.clone(),
            Err(_) => None,
        };
        match reason {
            Some(reason) => reason,
            // The sender lives as long as this store does.
            None => std::future::pending().await,
        }
    }

    /// Why writes fail, once one has.
    pub fn failure(&self) -> Option<String> {
        self.failure.borrow().clone()
    }

    /// Whether the store answers reads and writes (for `/readyz`).
    pub fn is_ready(&self) -> bool {
        self.db.insert("readyz", &[1u8][..]).is_ok() && self.db.get("readyz").is_ok()
    }

    /// Writes everything to disk (for commands that exit right after).
    pub fn flush_blocking(&self) -> Result<(), StoreError> {
        self.watching(|| {
            self.db.flush()?;
            Ok(())
        })
    }

    pub async fn flush(&self) -> Result<(), StoreError> {
        let result = async {
            self.flush_to_disk().await?;
            Ok::<_, StoreError>(())
        }
        .await;
        self.watched(result)
    }

    /// Whether the mailbox has a registration (a person's key is their mailbox).
    pub fn is_registered(&self, email: &Mailbox) -> Result<bool, StoreError> {
        Ok(self.registrations.contains_key(email.as_str())?)
    }

    /// Stores a pending sign-up, replacing an older one for the same address so its link
    /// stops working. Refuses an address that is already registered.
    pub fn insert_pending(&self, signup: &PendingSignup) -> Result<(), StoreError> {
        self.watching(|| {
            let record = encode(signup);
            (&self.pending, &self.pending_by_email, &self.registrations).transaction(
                |(pending, by_email, registrations)| {
                    if registrations.get(signup.email.as_bytes())?.is_some() {
                        return abort(StoreError::AlreadyRegistered);
                    }
                    if let Some(old_id) =
                        by_email.insert(signup.email.as_bytes(), signup.id.as_bytes())?
                    {
                        pending.remove(old_id)?;
                    }
                    pending.insert(signup.id.as_bytes(), record.as_slice())?;
                    Ok(())
                },
            )?;
            Ok(())
        })
    }

    /// What a link's sign-up id leads to, without changing anything.
    pub fn lookup(&self, signup_id: &str) -> Result<Lookup, StoreError> {
        if let Some(bytes) = self.pending.get(signup_id)? {
            return Ok(Lookup::Pending(decode("pending", &bytes)?));
        }
        if let Some(email) = self.signups.get(signup_id)? {
            if let Some(bytes) = self.registrations.get(&email)? {
                return Ok(Lookup::Registered(decode("registrations", &bytes)?));
            }
        }
        Ok(Lookup::Unknown)
    }

    /// Takes the address for the sign-up `signup_id` if `nonce` matches, atomically: of any
    /// number of concurrent claims for one address exactly one gets [`Claim::Claimed`].
    pub fn claim(&self, signup_id: &str, nonce: &str, now: u64) -> Result<Claim, StoreError> {
        self.watching(|| {
            let trees = self.all_trees();
            let claim = trees.transaction(|(pending, by_email, registrations, signups, _)| {
                let Some(bytes) = pending.get(signup_id)? else {
                    let Some(email) = signups.get(signup_id)? else {
                        return Ok(Claim::Unknown);
                    };
                    let Some(bytes) = registrations.get(&email)? else {
                        return Ok(Claim::Unknown);
                    };
                    let registration: Registration =
                        decode("registrations", &bytes).or_else(abort)?;
                    return Ok(if registration.step == Step::Done {
                        Claim::AlreadyDone(registration)
                    } else {
                        Claim::Resume(registration)
                    });
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
                let registration = Registration {
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
                };
                registrations.insert(signup.email.as_bytes(), encode(&registration))?;
                signups.insert(signup.id.as_bytes(), signup.email.as_bytes())?;
                pending.remove(signup.id.as_bytes())?;
                by_email.remove(signup.email.as_bytes())?;
                Ok(Claim::Claimed(registration))
            })?;
            Ok(claim)
        })
    }

    /// Saves a registration's progress, durably: the next provisioning step starts only
    /// after the previous one is on disk.
    pub async fn save_registration(&self, registration: &Registration) -> Result<(), StoreError> {
        let result = async {
            self.registrations
                .insert(registration.email.as_bytes(), encode(registration))?;
            self.flush_to_disk().await?;
            Ok::<_, StoreError>(())
        }
        .await;
        self.watched(result)
    }

    /// Saves `registration` with its `upn` reserved for it, durably, unless another
    /// registration reserved that username first: then nothing changes and the answer is
    /// `false`. The reservation moves with the registration (its earlier username is freed),
    /// so of two people with the same name only one ever tries to create a given username.
    pub async fn reserve_username(&self, registration: &Registration) -> Result<bool, StoreError> {
        let upn = registration
            .upn
            .as_deref()
            .map(str::to_lowercase)
            .unwrap_or_default();
        let email = registration.email.as_bytes();
        let result =
            (&self.registrations, &self.usernames).transaction(|(registrations, usernames)| {
                if usernames
                    .get(upn.as_bytes())?
                    .is_some_and(|owner| owner != email)
                {
                    return Ok(false);
                }
                if let Some(bytes) = registrations.get(email)? {
                    let saved: Registration = decode("registrations", &bytes).or_else(abort)?;
                    if let Some(earlier) = saved.upn.map(|u| u.to_lowercase()) {
                        if earlier != upn
                            && usernames.get(earlier.as_bytes())?.as_deref() == Some(email)
                        {
                            usernames.remove(earlier.as_bytes())?;
                        }
                    }
                }
                usernames.insert(upn.as_bytes(), email)?;
                registrations.insert(email, encode(registration))?;
                Ok(true)
            });
        let result = async {
            let reserved = result.map_err(StoreError::from)?;
            if reserved {
                self.flush_to_disk().await?;
            }
            Ok(reserved)
        }
        .await;
        self.watched(result)
    }

    /// The usernames reserved by any registration that start with `nickname` (lower case),
    /// so the name query can skip them.
    pub fn reserved_usernames(&self, nickname: &str) -> Result<Vec<String>, StoreError> {
        self.usernames
            .scan_prefix(nickname.to_lowercase().as_bytes())
            .keys()
            .map(|key| Ok(String::from_utf8_lossy(&key?).into_owned()))
            .collect()
    }

    pub fn registration(&self, email: &str) -> Result<Option<Registration>, StoreError> {
        self.registrations
            .get(email)?
            .map(|bytes| decode("registrations", &bytes))
            .transpose()
    }

    /// Every registration, in address order.
    pub fn registrations(&self) -> impl Iterator<Item = Result<Registration, StoreError>> + '_ {
        self.registrations.iter().map(|entry| {
            entry
                .map_err(StoreError::from)
                .and_then(|(_, bytes)| decode("registrations", &bytes))
        })
    }

    /// The registration a sign-up id led to.
    pub fn registration_by_signup(
        &self,
        signup_id: &str,
    ) -> Result<Option<Registration>, StoreError> {
        match self.signups.get(signup_id)? {
            Some(email) => self
                .registrations
                .get(email)?
                .map(|bytes| decode("registrations", &bytes))
                .transpose(),
            None => Ok(None),
        }
    }

    /// Records an address that already has an account (from the original's database), so it
    /// cannot sign up again. Returns `false` when the address was registered already.
    pub fn import_registered(&self, email: &str, registered_at: u64) -> Result<bool, StoreError> {
        self.watching(|| {
            let registration = Registration {
                email: email.to_owned(),
                signup_id: String::new(),
                first_name: String::new(),
                last_name: String::new(),
                lang: String::new(),
                consent_email_at: registered_at,
                consent_name_at: registered_at,
                claimed_at: registered_at,
                step: Step::Done,
                upn: None,
                upn_free_at: None,
                object_id: None,
                password_version: 0,
                updated_at: registered_at,
                last_error: None,
                imported: true,
            };
            let inserted = self.registrations.compare_and_swap(
                email,
                None as Option<&[u8]>,
                Some(encode(&registration)),
            )?;
            Ok(inserted.is_ok())
        })
    }

    /// Removes everything stored about an address (a deletion request): its registration,
    /// the sign-up index entry and any pending sign-up.
    pub fn forget(&self, email: &str) -> Result<Forgotten, StoreError> {
        self.watching(|| {
            let trees = self.all_trees();
            let forgotten =
                trees.transaction(|(pending, by_email, registrations, signups, usernames)| {
                    let mut forgotten = Forgotten::default();
                    if let Some(id) = by_email.remove(email.as_bytes())? {
                        pending.remove(id)?;
                        forgotten.pending += 1;
                    }
                    if let Some(bytes) = registrations.remove(email.as_bytes())? {
                        let registration: Registration =
                            decode("registrations", &bytes).or_else(abort)?;
                        signups.remove(registration.signup_id.as_bytes())?;
                        if let Some(upn) = registration.upn.as_deref().map(str::to_lowercase) {
                            if usernames.get(upn.as_bytes())?.as_deref() == Some(email.as_bytes()) {
                                usernames.remove(upn.as_bytes())?;
                            }
                        }
                        forgotten.registration = Some(registration);
                    }
                    Ok(forgotten)
                })?;
            Ok(forgotten)
        })
    }

    /// Deletes pending sign-ups whose link expired at or before `now`; returns how many.
    pub fn purge_expired(&self, now: u64) -> Result<usize, StoreError> {
        self.watching(|| {
            let mut purged = 0;
            for entry in self.pending.iter() {
                let (id, bytes) = entry?;
                let signup: PendingSignup = decode("pending", &bytes)?;
                if signup.expires_at > now {
                    continue;
                }
                // Only if it is still the address's current sign-up, so a newer one stays.
                let removed =
                    (&self.pending, &self.pending_by_email).transaction(|(pending, by_email)| {
                        if pending.remove(&id)?.is_none() {
                            return Ok(false);
                        }
                        if by_email
                            .get(signup.email.as_bytes())?
                            .is_some_and(|current| current == id)
                        {
                            by_email.remove(signup.email.as_bytes())?;
                        }
                        Ok(true)
                    });
                if removed.map_err(StoreError::from)? {
                    purged += 1;
                }
            }
            Ok(purged)
        })
    }

    /// How many sign-ups wait for their link (walks the tree: for metrics, not hot paths).
    pub fn pending_count(&self) -> usize {
        self.pending.len()
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

#[cfg(test)]
mod tests;
