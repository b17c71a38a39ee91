//! The hourly mail limits every mail asked for at request time counts against:
//! `RATE_LIMIT_MAILS_PER_ADDRESS_PER_HOUR` per mailbox (no mail bombing through a form,
//! not even with a new tag for every mail) and `RATE_LIMIT_MAILS_PER_HOUR` for all
//! mailboxes together (no mass mailing to enumerable addresses from many clients). The
//! sign-up form and the reset form share them.

use std::time::Duration;

use crate::domain::Mailbox;
use crate::limits::HourlyLimit;
use crate::metrics::Metrics;
use crate::store::{Store, StoreError};

/// Which limit a mail ran into, and how long until another may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capped {
    /// `RATE_LIMIT_MAILS_PER_ADDRESS_PER_HOUR`, for this mailbox.
    Mailbox(Duration),
    /// `RATE_LIMIT_MAILS_PER_HOUR`, for the service.
    Service(Duration),
}

/// The two hourly mail limits.
#[derive(Debug)]
pub struct MailCaps {
    per_mailbox: HourlyLimit<Mailbox>,
    per_mailbox_hourly: u32,
    all: HourlyLimit<()>,
    all_hourly: u32,
    metrics: Metrics,
}

impl MailCaps {
    /// `per_mailbox` and `all` mails an hour.
    pub fn new(per_mailbox: u32, all: u32, metrics: Metrics) -> Self {
        MailCaps {
            per_mailbox: HourlyLimit::new(per_mailbox),
            per_mailbox_hourly: per_mailbox,
            all: HourlyLimit::new(all),
            all_hourly: all,
            metrics,
        }
    }

    /// Counts a verification mail to `mailbox`: in the database when instances share one
    /// (PostgreSQL), so the limits hold for all of them together, else in memory.
    pub async fn count_shared(
        &self,
        store: &Store,
        mailbox: &Mailbox,
        now: u64,
    ) -> Result<Result<(), Capped>, StoreError> {
        let key = format!("mailbox:{}", mailbox.as_str());
        let counted = store.count_mail(&key, self.per_mailbox_hourly, now).await?;
        let counted = counted.unwrap_or_else(|| self.per_mailbox.check(mailbox));
        if let Err(wait) = counted {
            return Ok(Err(Capped::Mailbox(wait)));
        }
        let counted = store.count_mail("all", self.all_hourly, now).await?;
        let counted = counted.unwrap_or_else(|| self.all.check(&()));
        Ok(counted.map_err(|wait| self.service_capped(wait)))
    }

    /// Counts a mail to `mailbox` in this process's memory.
    pub fn count_local(&self, mailbox: &Mailbox) -> Result<(), Capped> {
        self.per_mailbox.check(mailbox).map_err(Capped::Mailbox)?;
        self.all
            .check(&())
            .map_err(|wait| self.service_capped(wait))
    }

    fn service_capped(&self, wait: Duration) -> Capped {
        self.metrics.rate_limited("mails_per_hour");
        Capped::Service(wait)
    }

    /// Forgets the mailboxes whose limit has recovered (called periodically).
    pub fn prune(&self) {
        self.per_mailbox.prune();
    }
}
