//! The registry in sled: `registrations` (mailbox → record), the sign-up index `signups`
//! (sign-up id → mailbox) and the reservations `usernames` (UPN → mailbox). Forgetting an
//! address also removes its reset record and its account's life.

use async_trait::async_trait;
use sled::Transactional;

use super::pending::ids_in;
use super::{SledStore, abort, decode, encode};
use crate::domain::Mailbox;
use crate::store::{
    Forgotten, Imported, Lease, Listed, RecordKind, Registration, RegistryKey, RegistryStore,
    StoreError,
};

#[async_trait]
impl RegistryStore for SledStore {
    async fn is_registered(&self, email: &Mailbox) -> Result<bool, StoreError> {
        Ok(self
            .registrations
            .contains_key(RegistryKey::from(email).as_bytes())?)
    }

    async fn registration(&self, email: &RegistryKey) -> Result<Option<Registration>, StoreError> {
        self.registrations
            .get(email.as_bytes())?
            .map(|bytes| decode(RecordKind::Registration, &bytes))
            .transpose()
    }

    async fn registration_by_signup(
        &self,
        signup_id: &str,
    ) -> Result<Option<Registration>, StoreError> {
        let Some(email) = self.signups.get(signup_id)? else {
            return Ok(None);
        };
        self.registrations
            .get(email)?
            .map(|bytes| decode(RecordKind::Registration, &bytes))
            .transpose()
    }

    async fn registrations(&self) -> Result<Listed<Registration>, StoreError> {
        Ok(self
            .registrations
            .iter()
            .map(|entry| {
                entry
                    .map_err(StoreError::from)
                    .and_then(|(_, bytes)| decode(RecordKind::Registration, &bytes))
            })
            .collect())
    }

    async fn save_registration(&self, registration: &Registration) -> Result<(), StoreError> {
        let result = async {
            self.registrations
                .insert(registration.email.as_bytes(), encode(registration))?;
            self.flush_to_disk().await
        }
        .await;
        self.watched(result)
    }

    /// One process holds the store: the registration as it is, under the store's lock.
    async fn lease(
        &self,
        email: &RegistryKey,
    ) -> Result<(Lease, Option<Registration>), StoreError> {
        Ok((Lease::StoreLock, self.registration(email).await?))
    }

    async fn reserve_username(&self, registration: &Registration) -> Result<bool, StoreError> {
        let upn = registration.reserved_upn().unwrap_or_default();
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
                    let saved: Registration =
                        decode(RecordKind::Registration, &bytes).or_else(abort)?;
                    if let Some(earlier) = saved.reserved_upn()
                        && earlier != upn
                        && usernames.get(earlier.as_bytes())?.as_deref() == Some(email)
                    {
                        usernames.remove(earlier.as_bytes())?;
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

    async fn reserved_usernames(&self, nickname: &str) -> Result<Vec<String>, StoreError> {
        self.usernames
            .scan_prefix(nickname.to_lowercase().as_bytes())
            .keys()
            .map(|key| Ok(String::from_utf8_lossy(&key?).into_owned()))
            .collect()
    }

    async fn import_registered(
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

    async fn forget(&self, email: &RegistryKey) -> Result<Forgotten, StoreError> {
        self.watching(|| {
            let trees = (
                &self.pending,
                &self.pending_by_email,
                &self.registrations,
                &self.signups,
                &self.usernames,
                &self.resets,
                &self.lifecycle,
            );
            let forgotten = trees.transaction(
                |(pending, by_email, registrations, signups, usernames, resets, lifecycle)| {
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
                            decode(RecordKind::Registration, &bytes).or_else(abort)?;
                        signups.remove(registration.signup_id.as_bytes())?;
                        if let Some(upn) = registration.reserved_upn()
                            && usernames.get(upn.as_bytes())?.as_deref() == Some(email.as_bytes())
                        {
                            usernames.remove(upn.as_bytes())?;
                        }
                        forgotten.registration = Some(registration);
                    }
                    resets.remove(email.as_bytes())?;
                    lifecycle.remove(email.as_bytes())?;
                    Ok(forgotten)
                },
            )?;
            Ok(forgotten)
        })
    }
}
