//! A lost temporary password (`PASSWORD_RESET_ENABLED`): the person proves their mailbox
//! again and gets a new temporary password, with the sign-up's trust model. A request mails
//! a single-use link, but only for an account this server created (the registry holds its
//! object id); the link's page changes nothing; its button sets a new password with
//! `PATCH /users/{id}` and delivers it as `PASSWORD_DELIVERY` says. The password is made in
//! memory and never stored. A confirmed sign-up whose account was never finished has no
//! password yet: its mail links to the sign-up instead, to finish it.
//!
//! `request.rs` answers a request; `link.rs` is the link's page and button.

mod link;
mod pass;
mod request;

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;

use super::caps::MailCaps;
use super::form::FieldError;
use super::outbox::Bell;
use super::{Context, FlowError, LinkError, Links, ResetSettings};
use crate::directory::{Directory, DirectoryError};
use crate::domain::{Mailbox, Step};
use crate::mail::MailError;
use crate::store::{Registration, StoreError};

/// Why a reset request was not taken. Whether the address has an account is never among
/// the reasons: that answer is the same either way.
#[derive(Debug, thiserror::Error)]
pub enum ResetRequestError {
    #[error("the address is not valid")]
    Invalid(FieldError),
    /// `RATE_LIMIT_MAILS_PER_ADDRESS_PER_HOUR`, counted for every request, account or not.
    #[error("too many requests for this mailbox; retry in {0:?}")]
    MailboxLimited(Duration),
    /// `RATE_LIMIT_MAILS_PER_HOUR`, counted for every request, account or not.
    #[error("too many mails from the service; retry in {0:?}")]
    MailCap(Duration),
    #[error(transparent)]
    Flow(#[from] FlowError),
}

/// Why a reset link did not give a new password.
#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    #[error(transparent)]
    Link(#[from] LinkError),
    /// Graph refused for lack of rights: only support can help.
    #[error("the directory refused: {0}")]
    Forbidden(String),
    /// The directory was busy or failed; nothing changed and the link works again.
    #[error("directory: {0}")]
    Directory(DirectoryError),
    /// The password was changed but its mail failed; the link works again (a new password
    /// is set on the next press, since this one is not kept).
    #[error("mail: {0}")]
    Mail(#[from] MailError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("no random numbers available")]
    Random,
}

/// A new temporary password was set.
#[derive(Debug)]
pub struct PasswordReset {
    pub user_principal_name: String,
    /// Shown once on the page (`PASSWORD_DELIVERY` = `page` or `both`).
    pub password_on_page: Option<SecretString>,
    pub password_mailed: bool,
    /// The new Temporary Access Pass instead of a password (`CREDENTIAL` =
    /// `temporary_access_pass`).
    pub pass: Option<crate::signup::PassOutcome>,
}

/// An account whose password this server may replace.
struct Account {
    upn: String,
    object_id: String,
    /// Where its mails go; `None` for an address recorded as no mailbox.
    mailbox: Option<Mailbox>,
}

impl Account {
    /// Where a mail with its new credential goes; an address recorded as no mailbox cannot
    /// be mailed.
    fn mail_to(&self) -> Result<&Mailbox, ResetError> {
        self.mailbox.as_ref().ok_or_else(|| {
            ResetError::Mail(MailError::Build(
                "the account's address is no mailbox".into(),
            ))
        })
    }
}

/// A sign-up of this server, confirmed, whose account was never finished: its creation
/// failed for good, or it still waits in the queue. Its own link finishes it.
fn is_unfinished(registration: &Registration) -> bool {
    registration.step != Step::Done && !registration.signup_id.is_empty()
}

/// Only a finished account this server created has both a username and an object id; an
/// imported address has no object id (unless it came from an export of this server), and an
/// unfinished one is finished by its sign-up link, not here.
fn account_of(registration: &Registration) -> Option<Account> {
    match (&registration.upn, &registration.object_id) {
        (Some(upn), Some(object_id)) if registration.step == Step::Done => Some(Account {
            upn: upn.clone(),
            object_id: object_id.clone(),
            mailbox: registration.email.mailbox().cloned(),
        }),
        _ => None,
    }
}

/// Password resets.
pub struct Resets {
    context: Context,
    directory: Arc<dyn Directory>,
    links: Arc<Links>,
    caps: Arc<MailCaps>,
    settings: ResetSettings,
    /// Wakes the outbox's worker when a request's answer waits.
    bell: Bell,
}

impl std::fmt::Debug for Resets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resets")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Resets {
    /// Resets of passwords in `directory`; requests count against `caps`, their answers go
    /// to the outbox that `bell` wakes.
    pub fn new(
        context: Context,
        directory: Arc<dyn Directory>,
        links: Arc<Links>,
        caps: Arc<MailCaps>,
        settings: ResetSettings,
        bell: Bell,
    ) -> Self {
        Resets {
            context,
            directory,
            links,
            caps,
            settings,
            bell,
        }
    }

    /// What resets are configured with.
    pub fn settings(&self) -> &ResetSettings {
        &self.settings
    }

    /// Whether password resets are enabled (`PASSWORD_RESET_ENABLED`).
    pub fn enabled(&self) -> bool {
        self.settings.ttl.is_some()
    }

    fn now(&self) -> u64 {
        self.context.now()
    }
}
