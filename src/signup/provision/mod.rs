//! Provisioning (PRODUCT.md §4): the state machine that takes a claimed registration to an
//! account — claimed → user created → licences assigned → groups added → password delivered
//! → done — and the queue worker that runs it. Each step is saved before the next starts; a
//! failure leaves the registration at the failed step for the next attempt.
//!
//! `run.rs` guards a run and records its failure; `steps.rs` runs the steps, one function
//! each; `user.rs` names and creates the user; `existing.rs` records a mailbox's account
//! found in the directory by its tag instead; `queue/` is the durable queue's worker and the
//! mails it sends when nobody waited for a run.

mod deliver;
mod error;
mod existing;
mod outcome;
mod queue;
mod run;
mod steps;
mod user;
mod voucher;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use super::{Context, Links, ProvisionSettings};
use crate::directory::{Directory, DirectoryError, LicenceSeats};
use crate::domain::{MailNickname, PersonName, Step};
use crate::store::RegistryKey;
pub use error::{ConfirmError, ProvisionError};
pub use outcome::{Handed, PassOutcome, Provisioned};
pub use queue::Confirmed;

/// The provisioning state machine and its queue.
pub struct Provisioning {
    context: Context,
    directory: Arc<dyn Directory>,
    links: Arc<Links>,
    settings: ProvisionSettings,
    /// Registrations being provisioned by this process: a second confirm waits its turn.
    in_flight: Mutex<HashSet<RegistryKey>>,
    /// Temporary passwords set on a user but not yet delivered, by address: kept in memory
    /// only, so that resuming after a failed step in this process (Graph busy, SMTP down)
    /// delivers the password the user has instead of setting another one.
    /// Each with the registration's `password_version` it belongs to.
    undelivered: Mutex<HashMap<RegistryKey, (u32, Handed)>>,
    /// The queue worker's people waiting at the button and runs in progress.
    queue: queue::QueueState,
}

impl std::fmt::Debug for Provisioning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provisioning")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Provisioning {
    /// Provisioning in `directory`; its mails link with `links`.
    pub fn new(
        context: Context,
        directory: Arc<dyn Directory>,
        links: Arc<Links>,
        settings: ProvisionSettings,
    ) -> Self {
        Provisioning {
            context,
            directory,
            links,
            settings,
            in_flight: Mutex::new(HashSet::new()),
            undelivered: Mutex::new(HashMap::new()),
            queue: queue::QueueState::default(),
        }
    }

    fn now(&self) -> u64 {
        self.context.now()
    }

    /// The licence seats of `skus` as the directory counts them (the console's overview).
    pub async fn licence_seats(
        &self,
        skus: &[String],
    ) -> Result<Vec<LicenceSeats>, DirectoryError> {
        self.directory.licence_seats(skus).await
    }

    /// Whether the result page shows the temporary password (`PASSWORD_DELIVERY`).
    pub fn password_on_page(&self) -> bool {
        self.settings.password_delivery.on_page()
    }

    /// The lifetime of a Temporary Access Pass in minutes, when people get one instead of a
    /// temporary password (`CREDENTIAL` = `temporary_access_pass`).
    pub fn pass_minutes(&self) -> Option<u32> {
        self.settings.pass.map(|pass| pass.lifetime.minutes())
    }

    /// The username a name would get if its nickname is free; empty when the name gives
    /// none.
    pub fn username_preview(&self, first: &str, last: &str) -> String {
        let nickname = PersonName::parse(first)
            .and_then(|first| Ok((first, PersonName::parse(last)?)))
            .ok()
            .and_then(|(first, last)| MailNickname::derive(&first, &last).ok());
        match nickname {
            Some(nickname) => format!("{nickname}@{}", self.directory.domain()),
            None => String::new(),
        }
    }

    /// `signups retry`: resumes the unfinished registration of an address.
    pub async fn retry(&self, email: &RegistryKey) -> Result<Provisioned, ConfirmError> {
        use super::LinkError;
        match self.context.store.registration(email).await? {
            Some(registration) if registration.step != Step::Done => {
                let provisioned = self
                    .provision(registration, &mut queue::Presence::Absent)
                    .await?;
                self.context.store.dequeue(email).await?;
                Ok(provisioned)
            }
            Some(_) => Err(LinkError::Used.into()),
            None => Err(LinkError::Unknown.into()),
        }
    }
}
