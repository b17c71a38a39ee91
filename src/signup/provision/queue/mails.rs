//! The mails that tell a person how a run ended when nobody waited at the button for it.
//! Each goes to the registration's mailbox, typed in the record; a mail that cannot go out
//! is logged and counted as failed, never dropped silently.

use crate::domain::Mailbox;
use crate::i18n::Tr;
use crate::mail::{OutgoingMail, account_exists_mail, account_failed_mail, account_ready_mail};
use crate::signup::provision::{Provisioned, Provisioning};
use crate::store::{QueueEntry, Registration};

impl Provisioning {
    /// The account is ready and the password (or pass) waits on the page: a mail with a fresh link.
    pub(super) async fn mail_ready(&self, entry: &QueueEntry, provisioned: &Provisioned) {
        let Ok(link) = self.links.to_claimed(&entry.signup_id, self.now()) else {
            tracing::error!(signup = %entry.signup_id, "no random numbers for the ready mail's link; the person's link shows the account");
            self.context.metrics.mail("ready", false);
            return;
        };
        let support = &self.settings.support_email;
        let upn = &provisioned.user_principal_name;
        let pass = self.settings.pass.is_some();
        self.mail_after_run(entry, "ready", |tr, to, registration| {
            account_ready_mail(
                tr,
                to,
                &registration.first_name,
                upn,
                link.as_str(),
                support,
                pass,
            )
        })
        .await;
    }

    /// The account could not be made, for good: whom to ask.
    pub(super) async fn mail_failed(&self, entry: &QueueEntry) {
        let support = &self.settings.support_email;
        self.mail_after_run(entry, "failed", |tr, to, registration| {
            account_failed_mail(tr, to, &registration.first_name, support)
        })
        .await;
    }

    /// The mailbox had its account already, and nobody saw the page that says so.
    pub(super) async fn mail_existing(&self, entry: &QueueEntry, provisioned: &Provisioned) {
        let support = &self.settings.support_email;
        let upn = &provisioned.user_principal_name;
        let reset_page = self.links.urls().password_page().map(url::Url::as_str);
        let pass = self.settings.pass.is_some();
        self.mail_after_run(entry, "existing", |tr, to, registration| {
            let account = (upn.as_str(), reset_page);
            account_exists_mail(tr, to, &registration.first_name, account, support, pass)
        })
        .await;
    }

    /// Sends the mail `build` makes for the entry's registration, in its language, to its
    /// mailbox; `kind` names it in the metrics and the log.
    async fn mail_after_run(
        &self,
        entry: &QueueEntry,
        kind: &'static str,
        build: impl FnOnce(&Tr, &Mailbox, &Registration) -> OutgoingMail,
    ) {
        let signup = &entry.signup_id;
        let registration = match self.context.store.registration(&entry.email).await {
            Ok(Some(registration)) => registration,
            Ok(None) => {
                // Forgotten on request since the run: nobody is left to tell.
                tracing::info!(%signup, kind, "no mail after the run: the registration was forgotten meanwhile");
                return;
            }
            Err(err) => {
                self.context.metrics.mail(kind, false);
                tracing::error!(%signup, kind, error = %err, "cannot read the registration to mail how its run ended; the person's link shows it");
                return;
            }
        };
        let Some(to) = registration.email.mailbox() else {
            self.context.metrics.mail(kind, false);
            tracing::error!(%signup, kind, "cannot mail how the run ended: the registration's address is no mailbox (an imported or restored record); the person's link shows it");
            return;
        };
        let tr = self.context.tr_for(&registration.lang);
        let sent = self
            .context
            .mailer
            .send(build(&tr, to, &registration))
            .await;
        self.context.metrics.mail(kind, sent.is_ok());
        if let Err(err) = sent {
            tracing::error!(%signup, kind, error = %err, "cannot mail how the run ended; the person's link shows it");
        }
    }
}
