//! The sign-up flow (PRODUCT.md §2): the address checked inline, a submission stored as a
//! pending sign-up with its verification mail (`submit.rs`), and the link's page and its
//! confirm button (`link.rs`), which hands the claimed registration to provisioning.

mod link;
mod submit;
mod voucher;

use std::sync::Arc;
use std::time::Duration;

use super::caps::MailCaps;
use super::form::{self, FieldError, FieldErrors};
use super::{Context, FlowSettings, Links, Provisioning};
use crate::domain::{EmailFilter, Mailbox};
use crate::mail::MailError;
use crate::store::StoreError;
pub use link::LinkState;

/// A failure the person cannot fix by changing the form.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Mail(#[from] MailError),
    #[error("no random numbers available")]
    Random,
}

/// Why a submission was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("the form has errors")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Flow(#[from] FlowError),
    /// Too many submissions from this client in the last hour.
    #[error("too many submissions; retry in {0:?}")]
    RateLimited(Duration),
    /// Too many verification mails in total in the last hour (`RATE_LIMIT_MAILS_PER_HOUR`).
    #[error("too many verification mails from the service; retry in {0:?}")]
    MailCap(Duration),
    /// Too many verification mails to this mailbox in the last hour. Nothing was cancelled:
    /// the links already sent work on.
    #[error("too many mails to this mailbox; retry in {wait:?}")]
    MailboxLimited {
        /// Until another mail may go to the mailbox.
        wait: Duration,
        /// How long the mailbox's newest link stays valid.
        link_valid_for: Duration,
    },
}

/// The sign-up flow: submit, the link's page, confirm.
#[derive(Debug)]
pub struct Flow {
    context: Context,
    provisioning: Arc<Provisioning>,
    links: Arc<Links>,
    caps: Arc<MailCaps>,
    settings: FlowSettings,
}

impl Flow {
    /// The flow over its parts; confirmed sign-ups go to `provisioning`.
    pub fn new(
        context: Context,
        provisioning: Arc<Provisioning>,
        links: Arc<Links>,
        caps: Arc<MailCaps>,
        settings: FlowSettings,
    ) -> Self {
        Flow {
            context,
            provisioning,
            links,
            caps,
            settings,
        }
    }

    /// What the flow is configured with.
    pub fn settings(&self) -> &FlowSettings {
        &self.settings
    }

    /// The time now, by the service's clock.
    pub fn now(&self) -> u64 {
        self.context.now()
    }

    /// Forgets rate-limit state that has recovered (called periodically).
    pub fn prune_limits(&self) {
        self.caps.prune();
    }

    /// The inline check: syntax, filter and whether the mailbox is used already.
    pub async fn check_email(&self, raw: &str) -> Result<Result<Mailbox, FieldError>, FlowError> {
        self.check_email_under(raw, &self.settings.filter).await
    }

    /// [`Flow::check_email`] with `filter` (a voucher's, see [`Flow::filter_for`]).
    pub async fn check_email_under(
        &self,
        raw: &str,
        filter: &EmailFilter,
    ) -> Result<Result<Mailbox, FieldError>, FlowError> {
        let email = match form::check_email(raw, filter, self.settings.separator) {
            Ok(email) => email,
            Err(err) => return Ok(Err(err)),
        };
        if self.context.store.is_registered(&email).await? {
            return Ok(Err(FieldError::EmailAlreadyUsed));
        }
        Ok(Ok(email))
    }
}
