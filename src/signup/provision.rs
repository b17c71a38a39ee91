//! The provisioning state machine (PRODUCT.md §4): claimed → user created → licences
//! assigned → groups added → password delivered → done. Each step is saved before the next
//! starts; a failure leaves the registration at the failed step for the next attempt.

use secrecy::SecretString;

use super::{Signups, password};
use crate::directory::{DirectoryError, Grants, NewUser};
use crate::domain::{EmailAddress, MailNickname, PersonName};
use crate::mail::{MailError, password_mail};
use crate::metrics::SignupOutcome;
use crate::store::{Registration, Step, StoreError};

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
    #[error("{0}")]
    Seal(#[from] password::SealError),
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
            ProvisionError::Seal(_) | ProvisionError::Random => "secret",
            ProvisionError::Address => "address",
        }
    }
}

/// Releases the in-flight mark when provisioning ends, however it ends.
struct InFlight<'a>(&'a Signups, String);

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

impl Signups {
    /// Runs the remaining steps of `registration`.
    /// Without `person_present` (an operator's retry) a password meant for the page is kept
    /// for the person's next confirm.
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
        let result = self.run_steps(&mut registration, person_present).await;
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

    async fn run_steps(
        &self,
        registration: &mut Registration,
        person_present: bool,
    ) -> Result<Provisioned, ProvisionError> {
        let first =
            PersonName::parse(&registration.first_name).map_err(|_| ProvisionError::Name)?;
        let last = PersonName::parse(&registration.last_name).map_err(|_| ProvisionError::Name)?;
        let nickname = MailNickname::derive(&first, &last).map_err(|_| ProvisionError::Name)?;
        let mut password_on_page = None;
        let mut password_mailed = false;
        let mut finished_now = false;
        loop {
            match registration.step {
                Step::Claimed => {
                    let password = password::generate(self.settings.password_bytes)
                        .map_err(|_| ProvisionError::Random)?;
                    registration.sealed_password =
                        Some(self.sealer.seal(&password, &registration.email)?);
                    registration.upn = Some(
                        self.directory
                            .free_user_principal_name(&nickname, &[])
                            .await?,
                    );
                    self.save_step(registration, Step::Creating).await?;
                }
                Step::Creating => {
                    self.create_user(registration, &first, &last, &nickname)
                        .await?
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
                Step::GroupsAdded => {
                    if self.settings.password_delivery.by_mail() {
                        let password = self.open_password(registration)?;
                        let tr = self.tr_for(&registration.lang);
                        let to = EmailAddress::parse(&registration.email)
                            .map_err(|_| ProvisionError::Address)?;
                        let upn = registration.upn.clone().unwrap_or_default();
                        let mail = password_mail(
                            &tr,
                            &to,
                            &registration.first_name,
                            &upn,
                            secrecy::ExposeSecret::expose_secret(&password),
                            &self.settings.support_email,
                        );
                        let sent = self.mailer.send(mail).await;
                        self.metrics.mail("password", sent.is_ok());
                        sent?;
                        password_mailed = true;
                    }
                    if !self.settings.password_delivery.on_page() {
                        registration.sealed_password = None;
                    }
                    self.save_step(registration, Step::PasswordDelivered)
                        .await?;
                }
                Step::PasswordDelivered
                    if self.settings.password_delivery.on_page() && !person_present =>
                {
                    return Ok(Provisioned {
                        user_principal_name: registration.upn.clone().unwrap_or_default(),
                        first_name: registration.first_name.clone(),
                        password_on_page: None,
                        password_mailed,
                        awaiting_person: true,
                    });
                }
                Step::PasswordDelivered => {
                    if self.settings.password_delivery.on_page() {
                        password_on_page = Some(self.open_password(registration)?);
                    }
                    registration.sealed_password = None;
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
                        password_mailed: password_mailed
                            || self.settings.password_delivery.by_mail(),
                        awaiting_person: false,
                    });
                }
            }
        }
    }

    fn open_password(&self, registration: &Registration) -> Result<SecretString, ProvisionError> {
        let sealed = registration
            .sealed_password
            .as_deref()
            .ok_or(password::SealError)?;
        Ok(self.sealer.open(sealed, &registration.email)?)
    }

    /// Creates the user under the chosen UPN. If the UPN is taken, the user is ours when the
    /// names match (an earlier attempt got through but was not recorded, e.g. a crash right
    /// after the create); otherwise a same-named person took it and the next free name is
    /// chosen. The happy path costs one round trip.
    async fn create_user(
        &self,
        registration: &mut Registration,
        first: &PersonName,
        last: &PersonName,
        nickname: &MailNickname,
    ) -> Result<(), ProvisionError> {
        // Names a create found taken: the name query may not list them yet (replication lag).
        let mut taken = Vec::new();
        for _ in 0..MAX_NAME_ATTEMPTS {
            let upn = registration.upn.clone().unwrap_or_default();
            let password = self.open_password(registration)?;
            let new_user = NewUser {
                given_name: first.as_str(),
                surname: last.as_str(),
                nickname,
                user_principal_name: &upn,
                password: &password,
            };
            let created = match self.directory.create_user(&new_user).await {
                Ok(user) => user,
                Err(DirectoryError::AlreadyExists) => match self.directory.find_user(&upn).await? {
                    Some(user)
                        if user.given_name.as_deref() == Some(first.as_str())
                            && user.surname.as_deref() == Some(last.as_str()) =>
                    {
                        tracing::info!(signup = %registration.signup_id, "adopting the user an earlier attempt created");
                        user
                    }
                    // Taken by a same-named person (or gone again): choose the next free name.
                    _ => {
                        taken.push(upn.clone());
                        registration.upn = Some(
                            self.directory
                                .free_user_principal_name(nickname, &taken)
                                .await?,
                        );
                        self.save_step(registration, Step::Creating).await?;
                        continue;
                    }
                },
                Err(err) => return Err(err.into()),
            };
            registration.object_id = Some(created.object_id);
            registration.upn = Some(created.user_principal_name);
            return self.save_step(registration, Step::UserCreated).await;
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
