//! Why provisioning stopped, and why a confirm (or an operator's retry) made no account.

use crate::directory::DirectoryError;
use crate::domain::VoucherRefusal;
use crate::mail::MailError;
use crate::signup::links::LinkError;
use crate::store::StoreError;

/// Why provisioning stopped. The registration stays at the failed step.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error("this registration is being provisioned by another request")]
    InProgress,
    #[error("the stored name no longer gives a username")]
    Name,
    #[error("directory: {0}")]
    Directory(#[from] DirectoryError),
    #[error("mail: {0}")]
    Mail(#[from] MailError),
    #[error("store: {0}")]
    Store(StoreError),
    #[error("no random numbers available")]
    Random,
    #[error("the address of the registration is not valid")]
    Address,
}

impl ProvisionError {
    /// A short label for metrics: where provisioning stopped.
    pub fn reason(&self) -> &'static str {
        match self {
            ProvisionError::InProgress => "busy",
            ProvisionError::Name => "name",
            ProvisionError::Directory(DirectoryError::Unavailable(_)) => "directory_unavailable",
            ProvisionError::Directory(_) => "directory",
            ProvisionError::Mail(_) => "mail",
            ProvisionError::Store(_) => "store",
            ProvisionError::Random => "secret",
            ProvisionError::Address => "address",
        }
    }

    /// Whether another run may get further: the directory busy, SMTP down, the store or
    /// another run in the way. The rest (a missing licence, a name Graph refuses) needs
    /// somebody to change something first.
    pub fn is_retriable(&self) -> bool {
        match self {
            ProvisionError::Directory(DirectoryError::Unavailable(_))
            | ProvisionError::Mail(_)
            | ProvisionError::Store(_)
            | ProvisionError::Random
            | ProvisionError::InProgress => true,
            ProvisionError::Directory(_) | ProvisionError::Name | ProvisionError::Address => false,
        }
    }

    /// Whether the person waiting at the button is told "it is being created" rather than
    /// "try again": only when Graph is busy or another run has the registration.
    pub(super) fn waits_in_queue(&self) -> bool {
        matches!(
            self,
            ProvisionError::Directory(DirectoryError::Unavailable(_)) | ProvisionError::InProgress
        )
    }
}

impl From<StoreError> for ProvisionError {
    fn from(err: StoreError) -> Self {
        match err {
            // Another instance took the registration over (this one paused past its lease).
            StoreError::Busy => ProvisionError::InProgress,
            err => ProvisionError::Store(err),
        }
    }
}

/// Why confirming (or an operator's retry) did not produce an account.
#[derive(Debug, thiserror::Error)]
pub enum ConfirmError {
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error(transparent)]
    Provision(#[from] ProvisionError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The voucher does not admit the sign-up (any more): nothing was claimed; confirming
    /// with another voucher may.
    #[error("voucher: {0}")]
    Voucher(VoucherRefusal),
}
