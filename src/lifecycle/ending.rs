//! One account's ending, step by step: disable the user, remove its licences, tell the
//! person, and (once `DELETE_AFTER_DAYS` have passed) delete it. Each step is saved before
//! the next starts. The user is read once before any write: a step whose write went through
//! before a crash, but whose save did not, finds its work done (the user disabled, the
//! licences gone, the user deleted) and only saves it — so each write happens once.

use super::{Lifecycle, LifecycleError, LifecycleSettings};
use crate::directory::{AccountState, LicenceChange};
use crate::domain::{AuditAction, Day, EmailAddress, EndReason, EndStep};
use crate::mail::{EndedBecause, MailError, account_ended_mail};
use crate::store::{AccountLife, Ending, Registration};

impl Lifecycle {
    /// Moves the account's ending on, starting it for `reason` if it has not started: up to
    /// the person being told, or, with `delete`, up to the user's deletion. Returns the
    /// step reached.
    pub(super) async fn end(
        &self,
        registration: &Registration,
        life: &mut AccountLife,
        reason: EndReason,
        delete: bool,
        now: u64,
    ) -> Result<EndStep, LifecycleError> {
        if life.ending.is_none() {
            life.ending = Some(Ending {
                reason,
                step: EndStep::Started,
                started_at: now,
                disabled_at: None,
                removed_licences: Vec::new(),
                deleted_at: None,
            });
            life.reverify = None;
            self.save(life, now).await?;
        }
        let target = if delete {
            EndStep::Deleted
        } else {
            EndStep::Told
        };
        let Some(mut user) = self.our_user(registration).await? else {
            return self.user_gone(registration, life, now).await;
        };
        while let Some(step) = life.ending.as_ref().map(|ending| ending.step)
            && step < target
        {
            self.step(registration, life, &mut user, step, now).await?;
        }
        Ok(life.ending.as_ref().map_or(EndStep::Started, |e| e.step))
    }

    /// Does the step after `step` and saves it.
    async fn step(
        &self,
        registration: &Registration,
        life: &mut AccountLife,
        user: &mut AccountState,
        step: EndStep,
        now: u64,
    ) -> Result<(), LifecycleError> {
        let id = user.object_id.clone();
        let (next, change) = match step {
            EndStep::Started => {
                if user.enabled && !self.directory.set_enabled(&id, false).await? {
                    return Err(LifecycleError::Gone(user.user_principal_name.clone()));
                }
                user.enabled = false;
                let ending = ending_of(life);
                ending.disabled_at = Some(now);
                ending.removed_licences = user.licences.clone();
                (EndStep::Disabled, Some(AuditAction::Disable))
            }
            EndStep::Disabled => {
                let remove = std::mem::take(&mut user.licences);
                if !remove.is_empty() {
                    let change = LicenceChange {
                        add: &[],
                        remove: &remove,
                    };
                    self.directory.change_licences(&id, change).await?;
                }
                let removed = &mut ending_of(life).removed_licences;
                for sku in remove {
                    if !removed.contains(&sku) {
                        removed.push(sku);
                    }
                }
                (EndStep::LicencesRemoved, Some(AuditAction::RemoveLicences))
            }
            EndStep::LicencesRemoved => {
                self.tell_ended(registration, ending_of(life)).await?;
                (EndStep::Told, None)
            }
            EndStep::Told | EndStep::Deleted => {
                self.directory.delete_user(&id).await?;
                ending_of(life).deleted_at = Some(now);
                (EndStep::Deleted, Some(AuditAction::Delete))
            }
        };
        ending_of(life).step = next;
        self.save(life, now).await?;
        if let Some(action) = change {
            let reason = ending_of(life).reason;
            self.audit_step(registration, action, reason, now).await?;
        }
        Ok(())
    }

    /// The user is not in the directory: deleted by this server before a crash let it save
    /// so, or by somebody else. Either way there is nothing left to delete.
    async fn user_gone(
        &self,
        registration: &Registration,
        life: &mut AccountLife,
        now: u64,
    ) -> Result<EndStep, LifecycleError> {
        let ending = ending_of(life);
        if ending.step < EndStep::Told {
            return Err(LifecycleError::Gone(upn(registration)));
        }
        if ending.step == EndStep::Told {
            ending.step = EndStep::Deleted;
            ending.deleted_at = Some(now);
            self.save(life, now).await?;
            let reason = ending_of(life).reason;
            self.audit_step(registration, AuditAction::Delete, reason, now)
                .await?;
        }
        Ok(EndStep::Deleted)
    }

    /// Mails the person that the account is disabled, unless the mailbox is known to be
    /// gone; a mailbox that refuses it now is gone too, which is no failure.
    async fn tell_ended(
        &self,
        registration: &Registration,
        ending: &Ending,
    ) -> Result<(), LifecycleError> {
        let because = match ending.reason {
            EndReason::MailboxGone => return Ok(()),
            EndReason::Expired => EndedBecause::TimeUp,
            EndReason::Unverified => EndedBecause::NoAnswer,
        };
        let Ok(to) = EmailAddress::parse(registration.email.as_str()) else {
            return Ok(());
        };
        let disabled_at = ending.disabled_at.unwrap_or(ending.started_at);
        let deleted_on =
            Day::of(disabled_at + LifecycleSettings::secs(self.settings.delete_after_days));
        let tr = self.tr_for(&registration.lang);
        let mail = account_ended_mail(
            &tr,
            &to,
            &upn(registration),
            because,
            &deleted_on.to_string(),
            &self.settings.support_email,
        );
        match self.mailer.send(mail).await {
            Ok(()) => {
                self.metrics.mail("account_ended", true);
                Ok(())
            }
            Err(MailError::Refused(_)) => Ok(()),
            Err(err) => {
                self.metrics.mail("account_ended", false);
                Err(LifecycleError::Mail(err.to_string()))
            }
        }
    }

    /// The user of the registration, read with its state, if the directory has it, and
    /// only if it carries the mailbox's tag under the recorded object id: a user this server
    /// did not make for this mailbox is never touched.
    pub(super) async fn our_user(
        &self,
        registration: &Registration,
    ) -> Result<Option<AccountState>, LifecycleError> {
        let Some(object_id) = registration.object_id.as_deref() else {
            return Err(LifecycleError::NoAccount(registration.email.to_string()));
        };
        let Some(user) = self.directory.account(object_id).await? else {
            return Ok(None);
        };
        let tag = self.settings.mailbox_tags.tag(registration.email.as_str());
        let tagged = user.tag.as_deref().is_some_and(|held| tag.matches(held));
        if !tagged || user.object_id != object_id {
            return Err(LifecycleError::NotOurs(user.user_principal_name));
        }
        Ok(Some(user))
    }

    /// Saves `life` if nobody saved it since it was read; a successful step clears the last
    /// failure.
    pub(super) async fn save(
        &self,
        life: &mut AccountLife,
        now: u64,
    ) -> Result<(), LifecycleError> {
        life.updated_at = now;
        life.last_error = None;
        if self.store.save_life(life).await? {
            Ok(())
        } else {
            Err(LifecycleError::Changed(life.email.to_string()))
        }
    }
}

/// The ending in progress; only called once one is.
fn ending_of(life: &mut AccountLife) -> &mut Ending {
    life.ending
        .as_mut()
        .expect("an ending's steps run only once it is started and saved")
}

/// The registration's username, for messages.
pub(super) fn upn(registration: &Registration) -> String {
    registration
        .upn
        .clone()
        .unwrap_or_else(|| registration.email.to_string())
}
