//! What operators (and the person's button) change by hand: `lifecycle extend` moves an
//! account's end, `lifecycle restore` brings an ended account back, and keeping an account
//! answers its re-verification.

use super::audit::Line;
use super::ending::upn;
use super::{Lifecycle, LifecycleError, LifecycleSettings, plan};
use crate::directory::LicenceChange;
use crate::domain::{AuditAction, AuditActor, Day, EndStep};
use crate::store::{AccountLife, Registration, RegistryKey};

/// An end moved by `lifecycle extend`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extended {
    pub upn: String,
    /// The new end (Unix seconds).
    pub end: u64,
}

/// An account `lifecycle restore` brought back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    pub upn: String,
    /// It was deleted, and came back from the directory's deleted items.
    pub undeleted: bool,
    /// The SKU ids of the licences given back.
    pub licences: Vec<String>,
}

impl Lifecycle {
    /// Moves the end of the account of `email` `days` later (from today, if it has passed).
    pub async fn extend(
        &self,
        email: &RegistryKey,
        days: u32,
        actor: AuditActor,
        now: u64,
    ) -> Result<Extended, LifecycleError> {
        self.extend_from(email, days, actor, None, now).await
    }

    /// [`Lifecycle::extend`] asked from `client` (the console's operator's address), which
    /// its audit line records.
    pub async fn extend_from(
        &self,
        email: &RegistryKey,
        days: u32,
        actor: AuditActor,
        client: Option<String>,
        now: u64,
    ) -> Result<Extended, LifecycleError> {
        let (registration, mut life) = self.account_of(email).await?;
        let Some(end) = plan::end_of(&registration, Some(&life), &self.settings) else {
            return Err(LifecycleError::Refused(format!(
                "{} has no end to postpone",
                upn(&registration)
            )));
        };
        let end = end.max(now) + LifecycleSettings::secs(days);
        let detail = format!("end moved to {}", Day::of(end));
        let line = Line {
            actor,
            action: AuditAction::Extend,
            detail,
            client,
        };
        self.audit_line(&registration, line, now).await?;
        life.end_moved_to = Some(end);
        self.save(&mut life, now).await?;
        Ok(Extended {
            upn: upn(&registration),
            end,
        })
    }

    /// Brings back an account the lifecycle ended: out of the deleted items if it was
    /// deleted, enabled, its licences given back; its mailbox counts as proven today. An
    /// account whose end has passed would be ended again by the next run: extend it first.
    pub async fn restore(
        &self,
        email: &RegistryKey,
        actor: AuditActor,
        now: u64,
    ) -> Result<Restored, LifecycleError> {
        let (registration, mut life) = self.account_of(email).await?;
        let Some(ending) = life.ending.clone() else {
            return Err(LifecycleError::Refused(format!(
                "{} has not been ended: there is nothing to restore",
                upn(&registration)
            )));
        };
        if let Some(end) = plan::end_of(&registration, Some(&life), &self.settings)
            && end <= now
        {
            return Err(LifecycleError::Refused(format!(
                "the end of {} ({}) has passed, so the next run would end it again: `lifecycle extend` it first",
                upn(&registration),
                Day::of(end)
            )));
        }
        let object_id = registration.object_id.clone().unwrap_or_default();
        let undeleted = ending.step == EndStep::Deleted;
        let detail = "enabled, licences given back".to_owned();
        self.audit(&registration, actor, AuditAction::Restore, detail, now)
            .await?;
        if undeleted && !self.directory.restore_user(&object_id).await? {
            return Err(LifecycleError::Gone(upn(&registration)));
        }
        let Some(user) = self.our_user(&registration).await? else {
            return Err(LifecycleError::Gone(upn(&registration)));
        };
        if !user.enabled {
            self.directory.set_enabled(&object_id, true).await?;
        }
        let licences: Vec<String> = ending
            .removed_licences
            .iter()
            .filter(|sku| !user.licences.contains(sku))
            .cloned()
            .collect();
        if !licences.is_empty() {
            let change = LicenceChange {
                add: &licences,
                remove: &[],
            };
            self.directory.change_licences(&object_id, change).await?;
        }
        life.ending = None;
        life.reverify = None;
        life.verified_at = now;
        self.save(&mut life, now).await?;
        Ok(Restored {
            upn: upn(&registration),
            undeleted,
            licences,
        })
    }

    /// The person pressed the button of the re-verification mail sent at `sent_at`: the
    /// mailbox is proven again. `false`: that mail's link is no longer the account's
    /// (answered already, a newer one went out, or the account is being ended).
    pub async fn keep(
        &self,
        email: &RegistryKey,
        sent_at: u64,
        now: u64,
    ) -> Result<bool, LifecycleError> {
        let (_, mut life) = self.account_of(email).await?;
        let pending = life.reverify.filter(|pending| pending.sent_at == sent_at);
        if pending.is_none() || life.ending.is_some() {
            return Ok(false);
        }
        life.reverify = None;
        life.verified_at = now;
        self.save(&mut life, now).await?;
        Ok(true)
    }

    /// The registration of an account and its life (a fresh one if none is stored).
    pub async fn account_of(
        &self,
        email: &RegistryKey,
    ) -> Result<(Registration, AccountLife), LifecycleError> {
        let registration = self
            .store
            .registration(email)
            .await?
            .filter(plan::has_account)
            .ok_or_else(|| LifecycleError::NoAccount(email.to_string()))?;
        let life = match self.store.life(email).await? {
            Some(life) => life,
            None => plan::fresh_life(&registration),
        };
        Ok((registration, life))
    }
}
