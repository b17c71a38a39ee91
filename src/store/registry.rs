//! The registry of used addresses: one registration per address, the sign-up index (sign-up
//! id → address) and the username reservations.

use serde::{Deserialize, Serialize};
use sled::Transactional;

use super::embedded::{SledStore, abort, decode, encode};
use super::pending::ids_in;
use super::{RegistryKey, StoreError};
use crate::domain::{Mailbox, Step};

/// A used address: the registry entry that stops a second account, and the provisioning state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub email: RegistryKey,
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
    /// The mailbox's account was found in the directory by its mailbox tag (made by an
    /// earlier registration this store lost): this one recorded it and created nothing.
    #[serde(default)]
    pub existing_account: bool,
}

/// What an import file says about an address that already has an account: the original's
/// table gives only the time, an `emails export` also the user and the consent times.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Imported {
    pub registered_at: u64,
    pub upn: Option<String>,
    pub object_id: Option<String>,
    /// When the consents were given; `registered_at` when the file does not say.
    pub consent_email_at: Option<u64>,
    pub consent_name_at: Option<u64>,
}

impl Registration {
    /// An address whose account exists already (made by the original program, or by this
    /// one before an export): nothing is left to provision, so it is at the last step.
    pub(super) fn imported(email: &RegistryKey, imported: &Imported) -> Self {
        let registered_at = imported.registered_at;
        Registration {
            email: email.clone(),
            signup_id: String::new(),
            first_name: String::new(),
            last_name: String::new(),
            lang: String::new(),
            consent_email_at: imported.consent_email_at.unwrap_or(registered_at),
            consent_name_at: imported.consent_name_at.unwrap_or(registered_at),
            claimed_at: registered_at,
            step: Step::Done,
            upn: imported.upn.clone(),
            upn_free_at: None,
            object_id: imported.object_id.clone(),
            password_version: 0,
            updated_at: registered_at,
            last_error: None,
            imported: true,
            existing_account: false,
        }
    }
}

/// What `forget` removed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Forgotten {
    pub registration: Option<Registration>,
    pub pending: usize,
}

impl SledStore {
    /// Whether the mailbox has a registration (a person's key is their mailbox).
    pub fn is_registered(&self, email: &Mailbox) -> Result<bool, StoreError> {
        Ok(self
            .registrations
            .contains_key(RegistryKey::from(email).as_bytes())?)
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

    /// The registration stored under `email`.
    pub fn registration(&self, email: &RegistryKey) -> Result<Option<Registration>, StoreError> {
        self.registrations
            .get(email.as_bytes())?
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

    /// Records an address that already has an account (from the original's database or an
    /// export), so it cannot sign up again. Returns `false` when the address was registered
    /// already.
    pub fn import_registered(
        &self,
        email: &RegistryKey,
        imported: &Imported,
    ) -> Result<bool, StoreError> {
        self.watching(|| {
            let registration = Registration::imported(email, imported);
            let inserted = self.registrations.compare_and_swap(
                email.as_bytes(),
                None as Option<&[u8]>,
                Some(encode(&registration)),
            )?;
            Ok(inserted.is_ok())
        })
    }

    /// Removes everything stored about an address (a deletion request): its registration,
    /// the sign-up index entry, every pending sign-up and its password reset record.
    pub fn forget(&self, email: &RegistryKey) -> Result<Forgotten, StoreError> {
        self.watching(|| {
            let trees = self.all_trees();
            let forgotten =
                trees.transaction(|(pending, by_email, registrations, signups, usernames)| {
                    let mut forgotten = Forgotten::default();
                    if let Some(ids) = by_email.remove(email.as_bytes())? {
                        for id in ids_in(&ids) {
                            if pending.remove(id)?.is_some() {
                                forgotten.pending += 1;
                            }
                        }
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
            self.forget_resets(email)?;
            Ok(forgotten)
        })
    }
}
