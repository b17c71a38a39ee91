//! The lifecycle's mails before an end: the warning, and the question whether the mailbox is
//! still the person's. Each is sent, then recorded: a crash in between sends it again on the
//! next run (only the newest re-verification link works), never loses it.

use super::ending::upn;
use super::{Lifecycle, LifecycleError, LifecycleSettings, plan};
use crate::domain::{Day, EmailAddress};
use crate::mail::{MailError, ending_soon_mail, reverify_mail};
use crate::store::{AccountLife, Registration, Reverification};

/// What became of an action (for a mail: of the mail to the account's mailbox).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    Done,
    /// The mailbox refused the mail for good: it no longer exists.
    MailboxGone,
    /// Nothing was done: this process cannot make the mail (no link maker).
    Skipped,
}

impl Lifecycle {
    /// Warns of the account's end, once per end.
    pub(super) async fn warn(
        &self,
        registration: &Registration,
        life: &mut AccountLife,
        now: u64,
    ) -> Result<Outcome, LifecycleError> {
        let Some(end) = plan::end_of(registration, Some(life), &self.settings) else {
            return Ok(Outcome::Skipped);
        };
        let tr = self.tr_for(&registration.lang);
        let mail = ending_soon_mail(
            &tr,
            &recipient(registration)?,
            &upn(registration),
            &Day::of(end).to_string(),
            &self.settings.support_email,
        );
        let sent = self.send("lifecycle_warning", mail).await?;
        life.warned_for = Some(end);
        self.save(life, now).await?;
        Ok(sent)
    }

    /// Asks the mailbox whether it is still the person's; the answer is due
    /// `REVERIFY_GRACE_DAYS` from now.
    pub(super) async fn reverify(
        &self,
        registration: &Registration,
        life: &mut AccountLife,
        now: u64,
    ) -> Result<Outcome, LifecycleError> {
        let Some(links) = &self.links else {
            return Ok(Outcome::Skipped);
        };
        let answer_by = now + LifecycleSettings::secs(self.settings.reverify_grace_days);
        let link = links
            .link(&registration.email, now, answer_by)
            .map_err(LifecycleError::Mail)?;
        let tr = self.tr_for(&registration.lang);
        let mail = reverify_mail(
            &tr,
            &recipient(registration)?,
            &upn(registration),
            &link,
            &Day::of(answer_by).to_string(),
            &self.settings.support_email,
        );
        let sent = self.send("reverify", mail).await?;
        if sent == Outcome::Done {
            life.reverify = Some(Reverification {
                sent_at: now,
                answer_by,
            });
            self.save(life, now).await?;
        }
        Ok(sent)
    }

    async fn send(
        &self,
        kind: &'static str,
        mail: crate::mail::OutgoingMail,
    ) -> Result<Outcome, LifecycleError> {
        match self.mailer.send(mail).await {
            Ok(()) => {
                self.metrics.mail(kind, true);
                Ok(Outcome::Done)
            }
            Err(MailError::Refused(_)) => Ok(Outcome::MailboxGone),
            Err(err) => {
                self.metrics.mail(kind, false);
                Err(LifecycleError::Mail(err.to_string()))
            }
        }
    }
}

/// The registration's mailbox as an address to mail.
fn recipient(registration: &Registration) -> Result<EmailAddress, LifecycleError> {
    EmailAddress::parse(registration.email.as_str()).map_err(|err| {
        LifecycleError::Mail(format!("{} cannot be mailed: {err}", registration.email))
    })
}
