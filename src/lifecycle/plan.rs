//! What is due for one account on a given day, decided from its registration, its life and
//! the settings alone: no store, no directory, no clock. `lifecycle plan` lists it, `lifecycle
//! run` does it, and both agree because both ask this.

use serde::Serialize;

use super::LifecycleSettings;
use crate::domain::{AccountEnd, EndReason, EndStep, Step};
use crate::store::{AccountLife, Registration, RegistryKey};

/// What the lifecycle does to an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Mail a link that asks whether the mailbox is still the person's.
    Reverify,
    /// Mail a warning before an end no re-verification can prevent.
    Warn,
    /// Disable the user, remove its licences and mail the person.
    Disable,
    /// Delete the disabled user.
    Delete,
}

impl Action {
    /// Every action, in the order a run takes them.
    pub const ALL: [Action; 4] = [
        Action::Reverify,
        Action::Warn,
        Action::Disable,
        Action::Delete,
    ];

    /// The name listings, metrics and the audit log use.
    pub fn name(self) -> &'static str {
        match self {
            Action::Reverify => "reverify",
            Action::Warn => "warn",
            Action::Disable => "disable",
            Action::Delete => "delete",
        }
    }
}

/// One action due for one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub email: RegistryKey,
    pub upn: String,
    pub object_id: String,
    pub action: Action,
    /// When it fell (or falls) due, Unix seconds.
    pub at: u64,
    /// Why the account ends (disable, delete).
    pub reason: Option<EndReason>,
    /// Where its ending stands, once started.
    pub step: Option<EndStep>,
    /// The last failure recorded for the account.
    pub last_error: Option<String>,
}

/// The account's end: moved by an operator, else recorded at its creation, else (made
/// before ends were recorded) `ACCOUNT_LIFETIME_DAYS` after its creation.
pub fn end_of(
    registration: &Registration,
    life: Option<&AccountLife>,
    settings: &LifecycleSettings,
) -> Option<u64> {
    if let Some(moved) = life.and_then(|life| life.end_moved_to) {
        return Some(moved);
    }
    registration
        .end
        .unwrap_or_else(|| AccountEnd::after_days(registration.claimed_at, settings.lifetime_days))
        .time()
}

/// The life of an account the lifecycle has not acted on yet: proven at its confirm.
pub fn fresh_life(registration: &Registration) -> AccountLife {
    AccountLife::new(registration.email.clone(), registration.claimed_at)
}

/// Whether the lifecycle looks after this registration: an account this server made (or
/// found by its tag, or was given its user by an import) that exists.
pub fn has_account(registration: &Registration) -> bool {
    registration.step == Step::Done
        && registration.object_id.is_some()
        && registration.upn.is_some()
}

/// What is due for the account of `registration` by `as_of` (Unix seconds), in the order a
/// run does it: nothing, one action, or a warning and a re-verification.
pub fn due(
    registration: &Registration,
    life: Option<&AccountLife>,
    settings: &LifecycleSettings,
    as_of: u64,
) -> Vec<Due> {
    if !has_account(registration) {
        return Vec::new();
    }
    let fresh;
    let life = match life {
        Some(life) => life,
        None => {
            fresh = fresh_life(registration);
            &fresh
        }
    };
    let item = |action, at, reason| Due {
        email: registration.email.clone(),
        upn: registration.upn.clone().unwrap_or_default(),
        object_id: registration.object_id.clone().unwrap_or_default(),
        action,
        at,
        reason,
        step: life.ending.as_ref().map(|ending| ending.step),
        last_error: life.last_error.clone(),
    };
    if let Some(ending) = &life.ending {
        return ending_due(ending, settings, as_of)
            .map(|(action, at)| item(action, at, Some(ending.reason)))
            .into_iter()
            .collect();
    }
    let end = end_of(registration, Some(life), settings);
    if let Some(end) = end.filter(|end| *end <= as_of) {
        return vec![item(Action::Disable, end, Some(EndReason::Expired))];
    }
    if let Some(pending) = life.reverify.filter(|pending| pending.answer_by <= as_of) {
        return vec![item(
            Action::Disable,
            pending.answer_by,
            Some(EndReason::Unverified),
        )];
    }
    let mut due = Vec::new();
    if let Some(at) = warning_due(end, life, settings, as_of) {
        due.push(item(Action::Warn, at, None));
    }
    if let Some(at) = reverify_due(end, life, settings, as_of) {
        due.push(item(Action::Reverify, at, None));
    }
    due
}

/// An ending in progress: finish disabling, or delete once `DELETE_AFTER_DAYS` have passed.
fn ending_due(
    ending: &crate::store::Ending,
    settings: &LifecycleSettings,
    as_of: u64,
) -> Option<(Action, u64)> {
    match ending.step {
        EndStep::Started | EndStep::Disabled | EndStep::LicencesRemoved => {
            Some((Action::Disable, ending.started_at))
        }
        EndStep::Told => {
            let disabled_at = ending.disabled_at.unwrap_or(ending.started_at);
            let at = disabled_at + LifecycleSettings::secs(settings.delete_after_days);
            (at <= as_of).then_some((Action::Delete, at))
        }
        EndStep::Deleted => None,
    }
}

/// The warning before `end`, once it is `LIFECYCLE_WARN_DAYS` away, unless sent for it.
fn warning_due(
    end: Option<u64>,
    life: &AccountLife,
    settings: &LifecycleSettings,
    as_of: u64,
) -> Option<u64> {
    let end = end?;
    if settings.warn_days == 0 || life.warned_for == Some(end) {
        return None;
    }
    let at = end.saturating_sub(LifecycleSettings::secs(settings.warn_days));
    (at <= as_of).then_some(at)
}

/// The next re-verification, `REVERIFY_AFTER_DAYS` after the last proof, unless one is out
/// already or the account ends before an answer would be due anyway.
fn reverify_due(
    end: Option<u64>,
    life: &AccountLife,
    settings: &LifecycleSettings,
    as_of: u64,
) -> Option<u64> {
    if !settings.reverifies() || life.reverify.is_some() {
        return None;
    }
    let at = life.verified_at + LifecycleSettings::secs(settings.reverify_after_days);
    let answer_by = as_of + LifecycleSettings::secs(settings.reverify_grace_days);
    if end.is_some_and(|end| end <= answer_by) {
        return None;
    }
    (at <= as_of).then_some(at)
}

#[cfg(test)]
mod tests;
