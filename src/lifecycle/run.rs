//! A lifecycle run: everything due by a day, for every account, one run at a time over the
//! store (across instances). What a run does is what `lifecycle plan` lists for that day.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use tokio::task::JoinSet;

use super::mails::Outcome;
use super::plan::{self, Action, Due};
use super::{Lifecycle, LifecycleError};
use crate::domain::{Day, EndReason};
use crate::store::{AccountLife, LEASE_RENEWAL, Registration, RegistryKey};

/// How many accounts a run moves on at once: as many as the mailer keeps connections
/// (`mail/smtp`), since each account's mail waits for the mail server's answer.
const ACCOUNTS_AT_ONCE: usize = 4;

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunReport {
    /// What was due when it started, by action.
    pub due: BTreeMap<&'static str, usize>,
    /// Actions done, by action.
    pub done: BTreeMap<&'static str, usize>,
    /// Accounts whose mailbox refused a mail for good.
    pub mailbox_gone: usize,
    /// Actions left due because this process cannot do them (re-verification links).
    pub not_sent: BTreeMap<&'static str, usize>,
    /// Actions that failed: the account's UPN, the action and why. They stay due.
    pub failed: Vec<(String, &'static str, String)>,
}

impl Lifecycle {
    /// Everything due by `as_of` (Unix seconds), as `lifecycle plan` lists it.
    pub async fn plan(&self, as_of: u64) -> Result<Vec<Due>, LifecycleError> {
        let (accounts, _) = self.accounts().await?;
        Ok(accounts
            .iter()
            .flat_map(|(registration, life)| {
                plan::due(registration, life.as_ref(), &self.settings, as_of)
            })
            .collect())
    }

    /// Does everything due by `now`. `daily`: the server's run for that day, which happens
    /// once per day among all instances (`Ok(None)` when it has, or is running elsewhere);
    /// without it, [`LifecycleError::AlreadyRunning`] when another run holds the store.
    pub async fn run(
        &self,
        now: u64,
        daily: Option<Day>,
    ) -> Result<Option<RunReport>, LifecycleError> {
        let Some(lease) = self
            .store
            .start_lifecycle_run(daily.map(Day::number))
            .await?
        else {
            return match daily {
                Some(_) => Ok(None),
                None => Err(LifecycleError::AlreadyRunning),
            };
        };
        let (accounts, unreadable) = self.accounts().await?;
        let mut report = RunReport::default();
        let work: Vec<_> = accounts
            .into_iter()
            .filter_map(|(registration, life)| {
                let due = plan::due(&registration, life.as_ref(), &self.settings, now);
                (!due.is_empty()).then_some((registration, life, due))
            })
            .collect();
        for action in Action::ALL {
            let count = work
                .iter()
                .flat_map(|(_, _, due)| due)
                .filter(|due| due.action == action)
                .count();
            self.metrics.lifecycle_due(action.name(), count);
            report.due.insert(action.name(), count);
        }
        // Several accounts at once: one account's steps wait for Graph's and the mail
        // server's answers in turn, so one at a time a run would be slower than the write
        // budget allows. Each account is still moved on by one task only.
        let this = Arc::new(self.clone());
        let mut running = JoinSet::new();
        let mut renewed = Instant::now();
        for (registration, life, due) in work {
            if renewed.elapsed() >= LEASE_RENEWAL {
                lease.renew().await?;
                renewed = Instant::now();
            }
            if running.len() >= ACCOUNTS_AT_ONCE {
                merge(&mut report, running.join_next().await);
            }
            let this = this.clone();
            running.spawn(async move { this.account(registration, life, due, now).await });
        }
        while let Some(done) = running.join_next().await {
            merge(&mut report, Some(done));
        }
        report.failed.sort();
        lease.finish(unreadable == 0).await?;
        self.metrics.lifecycle_ran(now);
        Ok(Some(report))
    }

    /// Does what is due for one account, in order; stops at its first failure, which is
    /// recorded on the account and left due. What it did, for the run's report.
    async fn account(
        &self,
        registration: Registration,
        life: Option<AccountLife>,
        due: Vec<Due>,
        now: u64,
    ) -> RunReport {
        let mut report = RunReport::default();
        let mut life = life.unwrap_or_else(|| plan::fresh_life(&registration));
        for item in due {
            let action = item.action.name();
            match self.act(&registration, &mut life, &item, now).await {
                Ok(Outcome::Done) => {
                    self.metrics.lifecycle_action(action, "done");
                    *report.done.entry(action).or_default() += 1;
                }
                Ok(Outcome::MailboxGone) => {
                    self.metrics.lifecycle_action(action, "mailbox_gone");
                    report.mailbox_gone += 1;
                }
                Ok(Outcome::Skipped) => {
                    *report.not_sent.entry(action).or_default() += 1;
                }
                Err(err) => {
                    self.metrics.lifecycle_action(action, "failed");
                    tracing::warn!(upn = %item.upn, action, error = %err, "a lifecycle action failed; it stays due");
                    report
                        .failed
                        .push((item.upn.clone(), action, err.to_string()));
                    self.record_failure(&mut life, &err, now).await;
                    break;
                }
            }
        }
        report
    }

    /// One action. A re-verification mail the mailbox refuses for good ends the account.
    async fn act(
        &self,
        registration: &Registration,
        life: &mut AccountLife,
        item: &Due,
        now: u64,
    ) -> Result<Outcome, LifecycleError> {
        let reason = item.reason.unwrap_or(EndReason::Expired);
        match item.action {
            Action::Warn => self.warn(registration, life, now).await,
            Action::Reverify => {
                let sent = self.reverify(registration, life, now).await?;
                if sent == Outcome::MailboxGone {
                    self.end(registration, life, EndReason::MailboxGone, false, now)
                        .await?;
                }
                Ok(sent)
            }
            Action::Disable => {
                // DELETE_AFTER_DAYS = 0: deleted in the run that disables it.
                let delete = self.settings.delete_after_days == 0;
                self.end(registration, life, reason, delete, now).await?;
                Ok(Outcome::Done)
            }
            Action::Delete => {
                self.end(registration, life, reason, true, now).await?;
                Ok(Outcome::Done)
            }
        }
    }

    /// Keeps the failure on the account for operators (`lifecycle plan` shows it); a save
    /// that loses to another command's is left, as that one is newer.
    async fn record_failure(&self, life: &mut AccountLife, err: &LifecycleError, now: u64) {
        if matches!(err, LifecycleError::Changed(_)) {
            return;
        }
        life.last_error = Some(err.to_string());
        life.updated_at = now;
        if let Err(store) = self.store.save_life(life).await {
            tracing::warn!(error = %store, "cannot record a lifecycle failure");
        }
    }

    /// Every registration with its life; and how many records could not be read (logged).
    async fn accounts(
        &self,
    ) -> Result<(Vec<(Registration, Option<AccountLife>)>, usize), LifecycleError> {
        let mut unreadable = 0;
        let mut lives: HashMap<RegistryKey, AccountLife> = HashMap::new();
        for life in self.store.lives().await? {
            match life {
                Ok(life) => {
                    lives.insert(life.email.clone(), life);
                }
                Err(err) => {
                    unreadable += 1;
                    tracing::error!(error = %err, "an unreadable lifecycle record is skipped");
                }
            }
        }
        let mut accounts = Vec::new();
        for registration in self.store.registrations().await? {
            match registration {
                Ok(registration) => {
                    let life = lives.remove(&registration.email);
                    accounts.push((registration, life));
                }
                Err(err) => {
                    unreadable += 1;
                    tracing::error!(error = %err, "an unreadable registration is skipped");
                }
            }
        }
        Ok((accounts, unreadable))
    }
}

/// Adds one account's report to the run's. An account's task that panicked did nothing the
/// store kept past its last saved step; it is logged, and the next run takes it up again.
fn merge(report: &mut RunReport, account: Option<Result<RunReport, tokio::task::JoinError>>) {
    let account = match account {
        Some(Ok(account)) => account,
        Some(Err(err)) => {
            tracing::error!(error = %err, "a lifecycle account's task failed; the next run takes it up again");
            return;
        }
        None => return,
    };
    for (action, count) in account.done {
        *report.done.entry(action).or_default() += count;
    }
    for (action, count) in account.not_sent {
        *report.not_sent.entry(action).or_default() += count;
    }
    report.mailbox_gone += account.mailbox_gone;
    report.failed.extend(account.failed);
}
