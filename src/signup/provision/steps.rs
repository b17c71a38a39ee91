//! The steps, one function each, and the loop that runs them from the saved one on.

use super::queue::Presence;
use super::run::{KnownPassword, object_id};
use super::{Handed, PassOutcome, ProvisionError, Provisioned, Provisioning};
use crate::directory::Grants;
use crate::domain::{MailNickname, PersonName, Step};
use crate::metrics::SignupOutcome;
use crate::store::Registration;

/// What one run through the steps carries besides the saved registration.
struct Run<'p> {
    first: PersonName,
    last: PersonName,
    nickname: MailNickname,
    /// The user's password or pass when this process made it and has not delivered it yet.
    password: &'p mut KnownPassword,
    /// Whether this run chose the username itself (then a create it finds already made
    /// under that name was its own, with the password it sent).
    named_here: bool,
    /// The password or pass for the result page.
    on_page: Option<Handed>,
    password_mailed: bool,
    /// When the pass this run mailed stops working, and whether it works once.
    mailed_pass: Option<(u64, bool)>,
    /// Whether this run took the registration to [`Step::Done`] (counted once).
    finished_now: bool,
}

impl<'p> Run<'p> {
    fn new(
        registration: &Registration,
        password: &'p mut KnownPassword,
    ) -> Result<Self, ProvisionError> {
        let first =
            PersonName::parse(&registration.first_name).map_err(|_| ProvisionError::Name)?;
        let last = PersonName::parse(&registration.last_name).map_err(|_| ProvisionError::Name)?;
        let nickname = MailNickname::derive(&first, &last).map_err(|_| ProvisionError::Name)?;
        Ok(Run {
            first,
            last,
            nickname,
            password,
            named_here: false,
            on_page: None,
            password_mailed: false,
            mailed_pass: None,
            finished_now: false,
        })
    }

    /// Stopped before the password: an operator's retry leaves showing it to the person.
    fn awaiting_person(&self, registration: &Registration) -> Provisioned {
        Provisioned {
            user_principal_name: registration.upn.clone().unwrap_or_default(),
            first_name: registration.first_name.clone(),
            password_on_page: None,
            password_mailed: self.password_mailed,
            awaiting_person: true,
            existing_account: false,
            pass: None,
        }
    }
}

impl Provisioning {
    /// Runs the steps from the saved one on, each saving the next: one function per step.
    /// `password` is the user's password when this process set it and has not delivered it
    /// yet; it is cleared once delivered.
    pub(super) async fn run_steps(
        &self,
        registration: &mut Registration,
        password: &mut KnownPassword,
        presence: &mut Presence<'_>,
    ) -> Result<Provisioned, ProvisionError> {
        let mut run = Run::new(registration, password)?;
        let delivery = self.settings.password_delivery;
        loop {
            match registration.step {
                Step::Claimed => {
                    self.choose_username(registration, &run.nickname, &mut Vec::new())
                        .await?;
                    run.named_here = true;
                }
                Step::Creating => self.create_step(registration, &mut run).await?,
                Step::UserCreated | Step::LicencesAssigned => self.grant_step(registration).await?,
                // The password for the page is made when the person is there to see it.
                Step::GroupsAdded | Step::PasswordDelivered
                    if delivery.on_page() && !presence.claim() =>
                {
                    return Ok(run.awaiting_person(registration));
                }
                Step::GroupsAdded => self.deliver_step(registration, &mut run).await?,
                Step::PasswordDelivered => self.finish_step(registration, &mut run).await?,
                Step::Done => return Ok(self.provisioned(registration, run)),
            }
        }
    }

    /// [`Step::Creating`]: creates (or adopts) the user under the reserved name.
    async fn create_step(
        &self,
        registration: &mut Registration,
        run: &mut Run<'_>,
    ) -> Result<(), ProvisionError> {
        *run.password = self
            .create_user(
                registration,
                &run.first,
                &run.last,
                &run.nickname,
                run.named_here,
            )
            .await?;
        Ok(())
    }

    /// [`Step::UserCreated`] and [`Step::LicencesAssigned`]: the licences (unless assigned
    /// already) and the groups in one directory call, each saved as it succeeds.
    async fn grant_step(&self, registration: &mut Registration) -> Result<(), ProvisionError> {
        let wanted = Grants {
            licences: registration.step == Step::UserCreated,
            groups: true,
        };
        let own = super::voucher::own_grants(registration);
        let outcome = self
            .directory
            .grant_with(object_id(registration)?, wanted, own)
            .await;
        if wanted.licences {
            outcome.licences?;
            self.save_step(registration, Step::LicencesAssigned).await?;
        }
        outcome.groups?;
        self.save_step(registration, Step::GroupsAdded).await
    }

    /// [`Step::GroupsAdded`]: mails the password (or makes and mails the pass) when it goes
    /// by mail.
    async fn deliver_step(
        &self,
        registration: &mut Registration,
        run: &mut Run<'_>,
    ) -> Result<(), ProvisionError> {
        let by_mail = self.settings.password_delivery.by_mail();
        let current = self
            .known_or_new_credential(registration, run.password.take())
            .await?;
        let mailed = if by_mail {
            self.mail_credential(registration, &current).await
        } else {
            Ok(())
        };
        if let (Handed::Pass(pass), true, Ok(())) = (&current, by_mail, &mailed) {
            run.mailed_pass = Some((pass.expires_at, pass.usable_once));
        }
        // Kept for the page, or for the next attempt when the mail failed.
        *run.password = Some(current);
        mailed?;
        run.password_mailed = by_mail;
        self.save_step(registration, Step::PasswordDelivered).await
    }

    /// [`Step::PasswordDelivered`]: takes the password for the page when it is shown there,
    /// and finishes.
    async fn finish_step(
        &self,
        registration: &mut Registration,
        run: &mut Run<'_>,
    ) -> Result<(), ProvisionError> {
        if self.settings.password_delivery.on_page() {
            let current = self
                .known_or_new_credential(registration, run.password.take())
                .await?;
            run.on_page = Some(current);
        }
        *run.password = None;
        self.save_step(registration, Step::Done).await?;
        run.finished_now = true;
        Ok(())
    }

    /// [`Step::Done`]: the account, counted as created if this run finished it.
    fn provisioned(&self, registration: &Registration, run: Run<'_>) -> Provisioned {
        if registration.existing_account {
            return Provisioned::existing(registration);
        }
        if run.finished_now {
            self.context.metrics.signup(SignupOutcome::Created);
            if let Some(held) = &registration.voucher {
                self.context.metrics.voucher_account(&held.name);
            }
        }
        tracing::info!(signup = %registration.signup_id, "account provisioned");
        let (password_on_page, pass) = match run.on_page {
            Some(Handed::Password(password)) => (Some(password), None),
            Some(Handed::Pass(pass)) => (
                None,
                Some(PassOutcome {
                    shown: Some(pass.pass),
                    expires_at: pass.expires_at,
                    usable_once: pass.usable_once,
                }),
            ),
            None => (
                None,
                run.mailed_pass
                    .map(|(expires_at, usable_once)| PassOutcome {
                        shown: None,
                        expires_at,
                        usable_once,
                    }),
            ),
        };
        Provisioned {
            user_principal_name: registration.upn.clone().unwrap_or_default(),
            first_name: registration.first_name.clone(),
            password_on_page,
            password_mailed: run.password_mailed || self.settings.password_delivery.by_mail(),
            awaiting_person: false,
            existing_account: false,
            pass,
        }
    }
}
