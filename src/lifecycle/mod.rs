//! The accounts' lifecycle (PRODUCT.md §9.4): re-verification, ends, and ending.
//!
//! `plan.rs` decides what is due for an account on a day, from its records alone;
//! `run.rs` does it for every account, one run at a time over the store; `ending.rs` moves
//! one account's ending on step by step, each step saved before the next; `mails.rs` sends
//! the warning and the re-verification; `operator.rs` is `lifecycle extend` and `lifecycle
//! restore`; `answer.rs` is what the re-verification link's page reads of an account
//! (whose button is `Lifecycle::keep`); `audit.rs` is where each change to a user is
//! recorded.

mod answer;
mod audit;
mod ending;
mod mails;
mod operator;
pub mod plan;
mod run;
mod settings;

use std::sync::Arc;

pub use operator::{Extended, Restored};
pub use run::RunReport;
pub use settings::LifecycleSettings;

use crate::directory::{AccountControl, DirectoryError};
use crate::i18n::Catalogs;
use crate::mail::Mailer;
use crate::metrics::Metrics;
use crate::store::{RegistryKey, Store, StoreError};

/// The link of a re-verification mail: it opens the page that keeps the account. Made by
/// the sign-up links' sealer (purpose-bound, single use through `sent_at`), which the
/// lifecycle does not own.
pub trait ReverifyLinks: Send + Sync + std::fmt::Debug {
    /// The absolute link for the account of `email`, valid for the mail sent at `sent_at`
    /// until `answer_by` (Unix seconds).
    fn link(&self, email: &RegistryKey, sent_at: u64, answer_by: u64) -> Result<String, String>;
}

/// Runs the lifecycle over one store and one directory.
#[derive(Clone, Debug)]
pub struct Lifecycle {
    store: Store,
    directory: Arc<dyn AccountControl>,
    mailer: Mailer,
    catalogs: Catalogs,
    settings: LifecycleSettings,
    /// `None`: re-verification mails cannot be made here, and are left due.
    links: Option<Arc<dyn ReverifyLinks>>,
    metrics: Metrics,
}

/// Why a lifecycle command did not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    /// Another run (here or in another instance) holds the right to run.
    #[error("another lifecycle run is in progress; try again when it has finished")]
    AlreadyRunning,
    #[error("no account is registered for {0}")]
    NoAccount(String),
    /// The user in the directory does not carry this mailbox's tag: it is not one this
    /// server made for it, and is never touched.
    #[error(
        "the user {0} does not carry this mailbox's tag: it was not made by this server for this address, and is left alone"
    )]
    NotOurs(String),
    /// The user is no longer in the directory (nor in its deleted items).
    #[error("the user {0} is no longer in the directory")]
    Gone(String),
    /// The mail could not be sent (not a refusal of the mailbox): tried again next run.
    #[error("the mail could not be sent: {0}")]
    Mail(String),
    /// Another command (or the person's button) saved the account's life since it was read:
    /// nothing was written; the next run takes it up again.
    #[error("the account of {0} was changed meanwhile by another command; run again")]
    Changed(String),
    /// What the operator asked does not fit the account's state.
    #[error("{0}")]
    Refused(String),
}

impl Lifecycle {
    /// The lifecycle of `store`'s accounts, ending them in `directory` and mailing through
    /// `mailer` in the registrations' languages.
    pub fn new(
        store: Store,
        directory: Arc<dyn AccountControl>,
        mailer: Mailer,
        catalogs: Catalogs,
        settings: LifecycleSettings,
    ) -> Self {
        Lifecycle {
            store,
            directory,
            mailer,
            catalogs,
            settings,
            links: None,
            metrics: Metrics::new(),
        }
    }

    /// Re-verification mails carry links from `links`.
    pub fn with_links(mut self, links: Arc<dyn ReverifyLinks>) -> Self {
        self.links = Some(links);
        self
    }

    /// Counts what it does in `metrics` (the server's `/metrics`).
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// The settings it runs with.
    pub fn settings(&self) -> &LifecycleSettings {
        &self.settings
    }

    fn tr_for(&self, lang: &str) -> crate::i18n::Tr {
        self.catalogs
            .get(lang)
            .unwrap_or_else(|| self.catalogs.default_tr())
    }
}
