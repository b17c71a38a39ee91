use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use secrecy::SecretString;

use super::{
    AccountControl, AccountState, Directory, DirectoryError, DirectoryUser, FreeName, GrantOutcome,
    Grants, LicenceChange, LicenceSeats, MailboxTag, NameQuery, NewUser, OwnGrants, PassRequest,
    TemporaryAccessPass,
};
use crate::domain::MailNickname;

/// Seats the simulated tenant has of every SKU: enough never to run out in a debug session.
const SIMULATED_SEATS: i64 = 1_000;

/// `DEBUG_DONT_CONNECT_TO_API`: a directory in memory that logs what it would do. It never
/// talks to the network and is only used when the configuration asks for it.
#[derive(Debug)]
pub struct SimulatedDirectory {
    domain: String,
    skus: Vec<String>,
    users: Mutex<BTreeMap<String, DirectoryUser>>,
    /// What ending accounts changed (`AccountControl`).
    accounts: Mutex<Accounts>,
}

/// The simulated users' state beyond what they were created with.
#[derive(Debug, Default)]
struct Accounts {
    /// Object ids of users that may not sign in.
    disabled: BTreeSet<String>,
    /// Licences by object id, as changed since the create (the simulated grant keeps none).
    licences: BTreeMap<String, Vec<String>>,
    /// Deleted users by UPN, restorable.
    deleted: BTreeMap<String, DirectoryUser>,
}

impl SimulatedDirectory {
    pub fn new(domain: &str) -> Self {
        SimulatedDirectory {
            domain: domain.to_owned(),
            skus: Vec::new(),
            users: Mutex::new(BTreeMap::new()),
            accounts: Mutex::new(Accounts::default()),
        }
    }

    fn accounts(&self) -> std::sync::MutexGuard<'_, Accounts> {
        // As `users`: every change is one insert or remove.
        self.accounts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The UPN of the user with `object_id`, if there is one.
    fn upn_of(&self, object_id: &str) -> Option<String> {
        let users = self.users();
        users
            .values()
            .find(|user| user.object_id == object_id)
            .map(|user| user.user_principal_name.clone())
    }

    /// The SKUs it pretends to assign (`GRAPH_API_LICENSE_SKUS`), each with
    /// [`SIMULATED_SEATS`] seats of which every user created takes one.
    pub fn with_licence_skus(mut self, skus: Vec<String>) -> Self {
        self.skus = skus;
        self
    }

    fn users(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, DirectoryUser>> {
        // A panic elsewhere cannot leave the map half-written: every change is one insert.
        self.users
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait::async_trait]
impl Directory for SimulatedDirectory {
    fn domain(&self) -> &str {
        &self.domain
    }

    async fn free_user_principal_name(
        &self,
        nickname: &MailNickname,
        known_taken: &[String],
        tag: &MailboxTag,
    ) -> Result<NameQuery, DirectoryError> {
        let users = self.users();
        let tagged = users
            .values()
            .find(|user| user.tag.as_deref().is_some_and(|held| tag.matches(held)));
        if let Some(user) = tagged {
            return Ok(NameQuery::Tagged(user.clone()));
        }
        let free = (1..=MailNickname::MAX_COLLISION_NUMBER)
            .map(|n| format!("{}@{}", nickname.numbered(n), self.domain))
            .find(|upn| !users.contains_key(upn) && !known_taken.contains(upn))
            .ok_or_else(|| {
                DirectoryError::Failed(format!(
                    "every username from {nickname} to {nickname}.{} is taken",
                    MailNickname::MAX_COLLISION_NUMBER
                ))
            })?;
        Ok(NameQuery::Free(FreeName {
            user_principal_name: free,
            as_of: unix_now(),
        }))
    }

    async fn find_user(&self, key: &str) -> Result<Option<DirectoryUser>, DirectoryError> {
        let users = self.users();
        let by_id = || users.values().find(|user| user.object_id == key);
        Ok(users.get(key).or_else(by_id).cloned())
    }

    async fn create_user(&self, user: &NewUser<'_>) -> Result<DirectoryUser, DirectoryError> {
        let mut users = self.users();
        if users.contains_key(user.user_principal_name) {
            return Err(DirectoryError::AlreadyExists);
        }
        let created = DirectoryUser {
            object_id: format!("simulated-{:08}", users.len() + 1),
            user_principal_name: user.user_principal_name.to_owned(),
            given_name: Some(user.given_name.to_owned()),
            surname: Some(user.surname.to_owned()),
            created_at: Some(unix_now()),
            tag: Some(user.tag.as_str().to_owned()),
        };
        tracing::info!(upn = %created.user_principal_name, "simulated directory: would create user");
        users.insert(created.user_principal_name.clone(), created.clone());
        Ok(created)
    }

    async fn set_password(
        &self,
        object_id: &str,
        _password: &SecretString,
    ) -> Result<(), DirectoryError> {
        tracing::info!(
            object_id,
            "simulated directory: would set a new temporary password"
        );
        Ok(())
    }

    async fn grant_with(
        &self,
        object_id: &str,
        wanted: Grants,
        own: OwnGrants<'_>,
    ) -> GrantOutcome {
        tracing::info!(
            object_id,
            licences = wanted.licences,
            groups = wanted.groups,
            own_licences = ?own.licences,
            own_groups = ?own.groups,
            "simulated directory: would assign licences and groups"
        );
        GrantOutcome {
            licences: Ok(()),
            groups: Ok(()),
        }
    }

    async fn set_tag(&self, object_id: &str, tag: &MailboxTag) -> Result<(), DirectoryError> {
        let mut users = self.users();
        let user = users
            .values_mut()
            .find(|user| user.object_id == object_id)
            .ok_or_else(|| DirectoryError::Failed(format!("no user {object_id}")))?;
        user.tag = Some(tag.as_str().to_owned());
        tracing::info!(
            object_id,
            "simulated directory: would write the mailbox tag"
        );
        Ok(())
    }

    async fn create_temporary_access_pass(
        &self,
        object_id: &str,
        request: &PassRequest,
    ) -> Result<TemporaryAccessPass, DirectoryError> {
        let pass = simulated_pass().ok_or_else(|| {
            DirectoryError::Failed("no random numbers for a simulated pass".into())
        })?;
        tracing::info!(
            object_id,
            "simulated directory: would create a Temporary Access Pass"
        );
        Ok(TemporaryAccessPass {
            pass,
            expires_at: unix_now() + request.lifetime.seconds(),
            usable_once: request.usable_once,
        })
    }

    fn licence_skus(&self) -> &[String] {
        &self.skus
    }

    async fn licence_seats(&self, skus: &[String]) -> Result<Vec<LicenceSeats>, DirectoryError> {
        let consumed = i64::try_from(self.users().len()).unwrap_or(i64::MAX);
        Ok(skus
            .iter()
            .map(|sku| LicenceSeats {
                sku_id: sku.clone(),
                part_number: "SIMULATED".into(),
                prepaid: SIMULATED_SEATS,
                consumed,
            })
            .collect())
    }
}

/// Eight characters as Entra's passes have by default, from letters and digits that are
/// hard to confuse; `None` when the system has no random numbers.
fn simulated_pass() -> Option<SecretString> {
    use ring::rand::SecureRandom;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 8];
    ring::rand::SystemRandom::new().fill(&mut bytes).ok()?;
    let pass: String = bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect();
    Some(SecretString::from(pass))
}

#[async_trait::async_trait]
impl AccountControl for SimulatedDirectory {
    async fn account(&self, object_id: &str) -> Result<Option<AccountState>, DirectoryError> {
        let users = self.users();
        let Some(user) = users.values().find(|user| user.object_id == object_id) else {
            return Ok(None);
        };
        let accounts = self.accounts();
        Ok(Some(AccountState {
            object_id: user.object_id.clone(),
            user_principal_name: user.user_principal_name.clone(),
            enabled: !accounts.disabled.contains(object_id),
            licences: accounts
                .licences
                .get(object_id)
                .cloned()
                .unwrap_or_default(),
            tag: user.tag.clone(),
        }))
    }

    async fn set_enabled(&self, object_id: &str, enabled: bool) -> Result<bool, DirectoryError> {
        if self.upn_of(object_id).is_none() {
            return Ok(false);
        }
        let mut accounts = self.accounts();
        if enabled {
            accounts.disabled.remove(object_id);
        } else {
            accounts.disabled.insert(object_id.to_owned());
        }
        tracing::info!(
            object_id,
            enabled,
            "simulated directory: would set whether the user may sign in"
        );
        Ok(true)
    }

    async fn change_licences(
        &self,
        object_id: &str,
        change: LicenceChange<'_>,
    ) -> Result<bool, DirectoryError> {
        if self.upn_of(object_id).is_none() {
            return Ok(false);
        }
        let mut accounts = self.accounts();
        let licences = accounts.licences.entry(object_id.to_owned()).or_default();
        licences.retain(|sku| !change.remove.contains(sku));
        for sku in change.add {
            if !licences.contains(sku) {
                licences.push(sku.clone());
            }
        }
        tracing::info!(
            object_id,
            "simulated directory: would change the user's licences"
        );
        Ok(true)
    }

    async fn delete_user(&self, object_id: &str) -> Result<bool, DirectoryError> {
        let Some(upn) = self.upn_of(object_id) else {
            return Ok(false);
        };
        let removed = self.users().remove(&upn);
        if let Some(user) = removed {
            self.accounts().deleted.insert(upn, user);
        }
        tracing::info!(object_id, "simulated directory: would delete the user");
        Ok(true)
    }

    async fn restore_user(&self, object_id: &str) -> Result<bool, DirectoryError> {
        let restored = {
            let mut accounts = self.accounts();
            let upn = accounts
                .deleted
                .iter()
                .find(|(_, user)| user.object_id == object_id)
                .map(|(upn, _)| upn.clone());
            upn.and_then(|upn| accounts.deleted.remove(&upn))
        };
        let Some(user) = restored else {
            return Ok(false);
        };
        self.users().insert(user.user_principal_name.clone(), user);
        tracing::info!(
            object_id,
            "simulated directory: would restore the deleted user"
        );
        Ok(true)
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
