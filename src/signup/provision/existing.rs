//! A mailbox whose account the directory has already (a user carrying its tag) although
//! the store did not know it — a new, restored or damaged store: nothing is created, the
//! registration records that user and is done, and the person is told.

use super::{ProvisionError, Provisioned};
use crate::directory::DirectoryUser;
use crate::domain::EmailAddress;
use crate::mail::account_exists_mail;
use crate::signup::{Signups, Step};
use crate::store::{QueueEntry, Registration};

impl Provisioned {
    /// The account a registration found in the directory by its mailbox tag.
    pub fn existing(registration: &Registration) -> Self {
        Provisioned {
            user_principal_name: registration.upn.clone().unwrap_or_default(),
            first_name: registration.first_name.clone(),
            password_on_page: None,
            password_mailed: false,
            awaiting_person: false,
            existing_account: true,
        }
    }
}

impl Signups {
    /// The directory has this mailbox's account (a user with its tag): the store had lost
    /// it (a new, restored or damaged store). Nothing is created; the registration records
    /// the user and is done, so it never creates one, and the person is told.
    pub(super) async fn record_existing(
        &self,
        registration: &mut Registration,
        user: DirectoryUser,
    ) -> Result<(), ProvisionError> {
        tracing::warn!(
            signup = %registration.signup_id,
            object_id = %user.object_id,
            "this mailbox's account exists in the directory (found by its mailbox tag) although the store did not know it: nothing is created, the registration records it"
        );
        registration.object_id = Some(user.object_id);
        registration.upn = Some(user.user_principal_name);
        registration.existing_account = true;
        registration.step = Step::Done;
        registration.last_error = None;
        registration.updated_at = self.now();
        // The name moves to this registration, unless another one holds it (then the
        // directory's user keeps the name taken anyway).
        if !self.store.reserve_username(registration).await? {
            self.store.save_registration(registration).await?;
        }
        Ok(())
    }

    /// The mailbox had its account already, and nobody saw the page that says so.
    pub(in crate::signup) async fn mail_existing(
        &self,
        entry: &QueueEntry,
        provisioned: &Provisioned,
    ) {
        let registration = match self.store.registration(&entry.email).await {
            Ok(Some(registration)) => registration,
            _ => return,
        };
        let Ok(to) = EmailAddress::parse(registration.email.as_str()) else {
            return;
        };
        let tr = self.tr_for(&registration.lang);
        let mail = account_exists_mail(
            &tr,
            &to,
            &registration.first_name,
            &provisioned.user_principal_name,
            self.settings.links.password_page().map(url::Url::as_str),
            &self.settings.support_email,
        );
        let sent = self.mailer.send(mail).await;
        self.metrics.mail("existing", sent.is_ok());
        if let Err(err) = sent {
            tracing::error!(signup = %entry.signup_id, error = %err, "cannot mail that the mailbox has its account already; the person's link shows it");
        }
    }
}
