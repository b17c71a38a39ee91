//! The provisioning state machine (PRODUCT.md §4): claimed → user created → licences
//! assigned → groups added → password delivered → done. Each step is saved before the next
//! starts; a failure leaves the registration at the failed step for the next attempt.

use std::collections::HashMap;

use secrecy::SecretString;

use super::Step;
use super::{Signups, password};
use crate::directory::{DirectoryError, DirectoryUser, Grants, NewUser};
use crate::domain::{EmailAddress, MailNickname, PersonName};
use crate::mail::{MailError, password_mail};
use crate::metrics::SignupOutcome;
use crate::store::{Registration, RegistryKey, StoreError};

/// A finished account.
#[derive(Debug)]
pub struct Provisioned {
    pub user_principal_name: String,
    pub first_name: String,
    /// Shown once on the result page (`PASSWORD_DELIVERY` = `page` or `both`).
    pub password_on_page: Option<SecretString>,
    pub password_mailed: bool,
    /// The last step, showing the password, waits for the person to confirm their link
    /// again (an operator's `signups retry` with `PASSWORD_DELIVERY` = `page`).
    pub awaiting_person: bool,
}

/// Why provisioning stopped. The registration stays at the failed step.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error("this registration is being provisioned by another request")]
    InProgress,
    #[error("the stored name no longer gives a username")]
    Name,
    #[error("directory: {0}")]
    Directory(#[from] DirectoryError),
    #[error("mail: {0}")]
    Mail(#[from] MailError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("no random numbers available")]
    Random,
    #[error("the address of the registration is not valid")]
    Address,
}

impl ProvisionError {
    /// A short label for metrics: where provisioning stopped.
    pub fn reason(&self) -> &'static str {
        match self {
            ProvisionError::InProgress => "busy",
            ProvisionError::Name => "name",
            ProvisionError::Directory(crate::directory::DirectoryError::Unavailable(_)) => {
                "directory_unavailable"
            }
            ProvisionError::Directory(_) => "directory",
            ProvisionError::Mail(_) => "mail",
            ProvisionError::Store(_) => "store",
            ProvisionError::Random => "secret",
            ProvisionError::Address => "address",
        }
    }
}

/// Releases the in-flight mark when provisioning ends, however it ends.
struct InFlight<'a>(&'a Signups, RegistryKey);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0
            .in_flight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&self.1);
    }
}

/// Attempts at a free name before giving up (each is a race lost to a same-named person).
const MAX_NAME_ATTEMPTS: u32 = 10;

// How a lost create is recognised. When Graph answers "already exists" to our create, the
// user under that name is either ours — an earlier attempt of this registration got through
// but its answer was lost (a timeout, or the process died right after the create) — or
// somebody else's. Three ways to tell were weighed:
// - An opaque marker on the user (employeeId, an extension attribute) would be exact, but it
//   takes a directory field institutions use for their own data and changes the original's
//   payload; a directory extension needs an extra set-up step by every operator.
// - Matching given name and surname alone (what this code did) adopts a same-named person's
//   user: two people named Lena Gleich signing up together shared one account.
// - So: the username is reserved in the store, atomically, before the create
//   (`Store::reserve_username`), so no two registrations of this server ever try the same
//   one; and with it we keep the directory's own time at which the name was found free.
//   A user is adopted only when it has the reserved name, the same names, and was created at
//   or after that moment: nobody but this registration's own create can have made it then.
//   A user an administrator or another tool made earlier fails the time check and the next
//   free name is chosen. Only the directory's clocks are compared (the `Date` of the name
//   query, the user's `createdDateTime`), never ours against theirs.

/// The password this run set on the user, when it knows it. Passwords are never stored: a run
/// that resumes after the create (a crash, a failed step) sets a new one before delivering.
type KnownPassword = Option<SecretString>;

impl Signups {
    /// Runs the remaining steps of `registration`.
    /// Without `person_present` (an operator's retry) a password meant for the page is not
    /// made until the person confirms their link again.
    pub(super) async fn provision(
        &self,
        mut registration: Registration,
        person_present: bool,
    ) -> Result<Provisioned, ProvisionError> {
        let _guard = {
            let mut in_flight = self
                .in_flight
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if !in_flight.insert(registration.email.clone()) {
                return Err(ProvisionError::InProgress);
            }
            InFlight(self, registration.email.clone())
        };
        // Another request may have finished steps since this copy was read.
        if let Some(current) = self.store.registration(&registration.email)? {
            registration = current;
        }
        // Current only if no other attempt (another instance sharing the store) has set a
        // newer password since.
        let mut password = match self.undelivered().remove(&registration.email) {
            Some((version, password)) if version == registration.password_version => Some(password),
            _ => None,
        };
        let result = self
            .run_steps(&mut registration, &mut password, person_present)
            .await;
        if let Some(password) = password {
            self.undelivered().insert(
                registration.email.clone(),
                (registration.password_version, password),
            );
        }
        if let Err(err) = &result {
            self.metrics.signup(SignupOutcome::Failed(err.reason()));
            tracing::warn!(signup = %registration.signup_id, step = ?registration.step, error = %err, "provisioning stopped");
            registration.last_error = Some(format!("{:?}: {err}", registration.step));
            registration.updated_at = self.now();
            if let Err(save_err) = self.store.save_registration(&registration).await {
                tracing::error!(signup = %registration.signup_id, error = %save_err, "cannot record the failure");
            }
        }
        result
    }

    fn undelivered(&self) -> std::sync::MutexGuard<'_, HashMap<RegistryKey, (u32, SecretString)>> {
        // Every change is one insert or remove: a panic cannot leave the map half-changed.
        self.undelivered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn save_step(
        &self,
        registration: &mut Registration,
        step: Step,
    ) -> Result<(), ProvisionError> {
        registration.step = step;
        registration.last_error = None;
        registration.updated_at = self.now();
        self.store.save_registration(registration).await?;
        tracing::info!(signup = %registration.signup_id, step = ?step, "provisioning step saved");
        Ok(())
    }

    /// `password` is the user's password when this process set it and has not delivered it
    /// yet; it is cleared once delivered.
    async fn run_steps(
        &self,
        registration: &mut Registration,
        password: &mut KnownPassword,
        person_present: bool,
    ) -> Result<Provisioned, ProvisionError> {
        let first =
            PersonName::parse(&registration.first_name).map_err(|_| ProvisionError::Name)?;
        let last = PersonName::parse(&registration.last_name).map_err(|_| ProvisionError::Name)?;
        let nickname = MailNickname::derive(&first, &last).map_err(|_| ProvisionError::Name)?;
        let delivery = self.settings.password_delivery;
        let mut password_on_page = None;
        let mut password_mailed = false;
        let mut finished_now = false;
        // Whether this run chose the username itself (then a create it finds already made
        // under that name was its own, with the password it sent).
        let mut named_here = false;
        loop {
            match registration.step {
                Step::Claimed => {
                    self.choose_username(registration, &nickname, &mut Vec::new())
                        .await?;
                    named_here = true;
                }
                Step::Creating => {
                    *password = self
                        .create_user(registration, &first, &last, &nickname, named_here)
                        .await?;
                }
                Step::UserCreated | Step::LicencesAssigned => {
                    let wanted = Grants {
                        licences: registration.step == Step::UserCreated,
                        groups: true,
                    };
                    let outcome = self.directory.grant(object_id(registration)?, wanted).await;
                    if wanted.licences {
                        outcome.licences?;
                        self.save_step(registration, Step::LicencesAssigned).await?;
                    }
                    outcome.groups?;
                    self.save_step(registration, Step::GroupsAdded).await?;
                }
                Step::GroupsAdded | Step::PasswordDelivered
                    if delivery.on_page() && !person_present =>
                {
                    return Ok(Provisioned {
                        user_principal_name: registration.upn.clone().unwrap_or_default(),
                        first_name: registration.first_name.clone(),
                        password_on_page: None,
                        password_mailed,
                        awaiting_person: true,
                    });
                }
                Step::GroupsAdded => {
                    let current = self
                        .known_or_new_password(registration, password.take())
                        .await?;
                    let mailed = if delivery.by_mail() {
                        self.mail_password(registration, &current).await
                    } else {
                        Ok(())
                    };
                    // Kept for the page, or for the next attempt when the mail failed.
                    *password = Some(current);
                    mailed?;
                    password_mailed = delivery.by_mail();
                    self.save_step(registration, Step::PasswordDelivered)
                        .await?;
                }
                Step::PasswordDelivered => {
                    if delivery.on_page() {
                        let current = self
                            .known_or_new_password(registration, password.take())
                            .await?;
                        password_on_page = Some(current);
                    }
                    *password = None;
                    self.save_step(registration, Step::Done).await?;
                    finished_now = true;
                }
                Step::Done => {
                    if finished_now {
                        self.metrics.signup(SignupOutcome::Created);
                    }
                    tracing::info!(signup = %registration.signup_id, "account provisioned");
                    return Ok(Provisioned {
                        user_principal_name: registration.upn.clone().unwrap_or_default(),
                        first_name: registration.first_name.clone(),
                        password_on_page,
                        password_mailed: password_mailed || delivery.by_mail(),
                        awaiting_person: false,
                    });
                }
            }
        }
    }

    /// The password this run set, or else a fresh one set now (`PATCH /users/{id}`): the
    /// one made at the create died with the process or request that made it. One extra
    /// directory write, only on this resumed path.
    async fn known_or_new_password(
        &self,
        registration: &mut Registration,
        known: KnownPassword,
    ) -> Result<SecretString, ProvisionError> {
        if let Some(password) = known {
            return Ok(password);
        }
        let password = self.new_password()?;
        // Saved first: a password another process holds stops being current even if this
        // one dies before the change is answered.
        registration.password_version += 1;
        registration.updated_at = self.now();
        self.store.save_registration(registration).await?;
        self.directory
            .set_password(object_id(registration)?, &password)
            .await?;
        tracing::info!(signup = %registration.signup_id, "set a new temporary password: the one made at the create was not delivered");
        Ok(password)
    }

    fn new_password(&self) -> Result<SecretString, ProvisionError> {
        password::generate(self.settings.password_bytes).map_err(|_| ProvisionError::Random)
    }

    async fn mail_password(
        &self,
        registration: &Registration,
        password: &SecretString,
    ) -> Result<(), ProvisionError> {
        let tr = self.tr_for(&registration.lang);
        let to = EmailAddress::parse(registration.email.as_str())
            .map_err(|_| ProvisionError::Address)?;
        let upn = registration.upn.clone().unwrap_or_default();
        let mail = password_mail(
            &tr,
            &to,
            &registration.first_name,
            &upn,
            secrecy::ExposeSecret::expose_secret(password),
            &self.settings.support_email,
        );
        let sent = self.mailer.send(mail).await;
        self.metrics.mail("password", sent.is_ok());
        Ok(sent?)
    }

    /// Finds a free username and reserves it for `registration` (saved at
    /// [`Step::Creating`]). Names other registrations reserved are skipped without asking
    /// the directory, so a crowd of same-named people costs one name query each.
    /// `taken` are names a create just found taken, which the query may not list yet.
    async fn choose_username(
        &self,
        registration: &mut Registration,
        nickname: &MailNickname,
        taken: &mut Vec<String>,
    ) -> Result<(), ProvisionError> {
        for _ in 0..MAX_NAME_ATTEMPTS {
            let mut skip = self.store.reserved_usernames(nickname.as_str())?;
            skip.extend(taken.iter().cloned());
            let free = self
                .directory
                .free_user_principal_name(nickname, &skip)
                .await?;
            let mut reserving = registration.clone();
            reserving.upn = Some(free.user_principal_name.clone());
            reserving.upn_free_at = Some(free.as_of);
            reserving.step = Step::Creating;
            reserving.last_error = None;
            reserving.updated_at = self.now();
            if self.store.reserve_username(&reserving).await? {
                *registration = reserving;
                tracing::info!(signup = %registration.signup_id, step = ?Step::Creating, "username reserved");
                return Ok(());
            }
            // Reserved by a same-named person a moment ago, after the store was read.
            taken.push(free.user_principal_name);
        }
        Err(
            DirectoryError::Failed("no free username found after repeated collisions".into())
                .into(),
        )
    }

    /// Whether `user`, found under the reserved name after "already exists", is the one an
    /// earlier attempt of this registration created (see the comment above `KnownPassword`).
    fn is_own_lost_create(
        registration: &Registration,
        user: &DirectoryUser,
        first: &PersonName,
        last: &PersonName,
    ) -> bool {
        let created_after_reserving = match (user.created_at, registration.upn_free_at) {
            (Some(created), Some(free_at)) => created >= free_at,
            _ => false,
        };
        created_after_reserving
            && registration
                .upn
                .as_deref()
                .is_some_and(|upn| upn.eq_ignore_ascii_case(&user.user_principal_name))
            && user.given_name.as_deref() == Some(first.as_str())
            && user.surname.as_deref() == Some(last.as_str())
    }

    /// Creates the user under the reserved username, adopts the user an earlier attempt of
    /// this registration created there, or — when somebody else has that name — reserves
    /// the next free one and tries again. Returns the user's password when this run knows
    /// it. The happy path costs one round trip.
    async fn create_user(
        &self,
        registration: &mut Registration,
        first: &PersonName,
        last: &PersonName,
        nickname: &MailNickname,
        mut named_here: bool,
    ) -> Result<KnownPassword, ProvisionError> {
        let password = self.new_password()?;
        // Names a create found taken: the name query may not list them yet (replication lag).
        let mut taken = Vec::new();
        for _ in 0..MAX_NAME_ATTEMPTS {
            let upn = registration.upn.clone().unwrap_or_default();
            let new_user = NewUser {
                given_name: first.as_str(),
                surname: last.as_str(),
                nickname,
                user_principal_name: &upn,
                password: &password,
            };
            let (user, known) = match self.directory.create_user(&new_user).await {
                Ok(user) => (user, Some(password)),
                Err(DirectoryError::AlreadyExists) => match self.directory.find_user(&upn).await? {
                    Some(user) if Self::is_own_lost_create(registration, &user, first, last) => {
                        tracing::info!(signup = %registration.signup_id, "adopting the user an earlier attempt of this registration created");
                        // Made by this run's own create (its answer lost), or by an earlier
                        // run whose password is gone.
                        (user, named_here.then_some(password))
                    }
                    // Somebody else's (an administrator's, another tool's), or gone again.
                    _ => {
                        taken.push(upn);
                        self.choose_username(registration, nickname, &mut taken)
                            .await?;
                        named_here = true;
                        continue;
                    }
                },
                Err(err) => return Err(err.into()),
            };
            registration.object_id = Some(user.object_id);
            registration.upn = Some(user.user_principal_name);
            registration.password_version += 1;
            self.save_step(registration, Step::UserCreated).await?;
            return Ok(known);
        }
        Err(
            DirectoryError::Failed("no free username found after repeated collisions".into())
                .into(),
        )
    }
}

fn object_id(registration: &Registration) -> Result<&str, ProvisionError> {
    registration.object_id.as_deref().ok_or_else(|| {
        ProvisionError::Directory(DirectoryError::Failed("no object id recorded".into()))
    })
}
