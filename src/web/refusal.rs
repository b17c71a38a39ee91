//! How every refusal and failure of a flow is answered, decided once per error: its status,
//! what the person is told, when to come back (`Retry-After`) and what the operator reads in
//! the log. Pages and the JSON API both ask the error, so an error has one status everywhere.
//!
//! Field errors are the one thing the two word differently: a page shows each next to its
//! field (422, the form again), while the API keeps the original's `400` and its three
//! messages (`web::api`).

use std::time::Duration;

use poem::Response;
use poem::http::{HeaderValue, StatusCode, header};
use tracing::Level;

use crate::i18n::{Tr, n_};
use crate::limits::retry_after_secs;
use crate::signup::form::{Field, FieldError};
use crate::signup::{
    ConfirmError, FlowError, LinkError, ProvisionError, ResetError, ResetRequestError, SubmitError,
};

/// An error as the person and the operator see it.
pub trait Refusal: std::fmt::Display {
    /// The HTTP status, the same on a page and in the API.
    fn status(&self) -> StatusCode;
    /// What the person is told: a message id translated, or a sentence with its count.
    fn message(&self, tr: &Tr) -> String;
    /// How long to wait before trying again (a 429).
    fn retry_after(&self) -> Option<Duration> {
        None
    }
    /// The log line's level and text; `None` for what the person can fix themselves.
    fn log_line(&self) -> Option<(Level, &'static str)> {
        None
    }
}

/// Writes `refusal`'s log line, if it has one, with the error's own text (never a secret:
/// no error here holds a password, a token or an address).
pub fn log(refusal: &impl Refusal) {
    let Some((level, what)) = refusal.log_line() else {
        return;
    };
    match level {
        Level::ERROR => tracing::error!(error = %refusal, "{what}"),
        Level::WARN => tracing::warn!(error = %refusal, "{what}"),
        _ => tracing::info!(error = %refusal, "{what}"),
    }
}

/// `response`, which answers `refusal` with its status, logged and with its `Retry-After`.
pub fn answered(refusal: &impl Refusal, mut response: Response) -> Response {
    log(refusal);
    if let Some(wait) = refusal.retry_after() {
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(retry_after_secs(wait)),
        );
    }
    response
}

/// Too many posts from one client (`RATE_LIMIT_PER_IP_PER_HOUR`); counted by `AppState`.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("too many requests from this client; retry in {0:?}")]
pub struct ClientLimited(pub Duration);

impl Refusal for ClientLimited {
    fn status(&self) -> StatusCode {
        StatusCode::TOO_MANY_REQUESTS
    }

    fn message(&self, tr: &Tr) -> String {
        limited_message(tr, self.0, false)
    }

    fn retry_after(&self) -> Option<Duration> {
        Some(self.0)
    }
}

/// The address check could not ask the store.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct CheckFailed(pub FlowError);

impl Refusal for CheckFailed {
    fn status(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    fn message(&self, tr: &Tr) -> String {
        tr.t("Something went wrong").to_owned()
    }

    fn log_line(&self) -> Option<(Level, &'static str)> {
        Some((Level::ERROR, "address check failed"))
    }
}

impl Refusal for SubmitError {
    fn status(&self) -> StatusCode {
        match self {
            SubmitError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            SubmitError::RateLimited(_)
            | SubmitError::MailCap(_)
            | SubmitError::MailboxLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            SubmitError::Flow(FlowError::Mail(_)) => StatusCode::SERVICE_UNAVAILABLE,
            SubmitError::Flow(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn message(&self, tr: &Tr) -> String {
        match self {
            // The first field's message; a page shows every field's next to it.
            SubmitError::Invalid(errors) => errors
                .iter()
                .next()
                .map(|(field, error)| tr.t(error.msgid(field)).to_owned())
                .unwrap_or_default(),
            SubmitError::RateLimited(wait) => limited_message(tr, *wait, false),
            SubmitError::MailCap(wait) => limited_message(tr, *wait, true),
            SubmitError::MailboxLimited {
                wait,
                link_valid_for,
            } => link_already_sent(tr, *wait, *link_valid_for),
            SubmitError::Flow(FlowError::Mail(_)) => tr
                .t("We could not send the confirmation mail just now. Please try again in a few minutes.")
                .to_owned(),
            SubmitError::Flow(_) => tr
                .t("Your sign-up could not be saved just now. Please try again in a few minutes.")
                .to_owned(),
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            SubmitError::RateLimited(wait)
            | SubmitError::MailCap(wait)
            | SubmitError::MailboxLimited { wait, .. } => Some(*wait),
            SubmitError::Invalid(_) | SubmitError::Flow(_) => None,
        }
    }

    fn log_line(&self) -> Option<(Level, &'static str)> {
        match self {
            SubmitError::Flow(FlowError::Mail(_)) => {
                Some((Level::ERROR, "verification mail not sent"))
            }
            SubmitError::Flow(_) => Some((Level::ERROR, "sign-up could not be stored")),
            _ => None,
        }
    }
}

impl Refusal for ResetRequestError {
    fn status(&self) -> StatusCode {
        match self {
            ResetRequestError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ResetRequestError::MailboxLimited(_) | ResetRequestError::MailCap(_) => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ResetRequestError::Flow(FlowError::Mail(_)) => StatusCode::SERVICE_UNAVAILABLE,
            ResetRequestError::Flow(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn message(&self, tr: &Tr) -> String {
        match self {
            ResetRequestError::Invalid(error) => tr.t(error.msgid(Field::Email)).to_owned(),
            // Counted for every request, account or not: it says nothing about one.
            ResetRequestError::MailboxLimited(wait) => limited_message(tr, *wait, false),
            ResetRequestError::MailCap(wait) => limited_message(tr, *wait, true),
            ResetRequestError::Flow(FlowError::Mail(_)) => tr
                .t("We could not send the mail just now. Please try again in a few minutes.")
                .to_owned(),
            ResetRequestError::Flow(_) => tr
                .t("Something went wrong. Please try again in a few minutes.")
                .to_owned(),
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            ResetRequestError::MailboxLimited(wait) | ResetRequestError::MailCap(wait) => {
                Some(*wait)
            }
            ResetRequestError::Invalid(_) | ResetRequestError::Flow(_) => None,
        }
    }

    fn log_line(&self) -> Option<(Level, &'static str)> {
        match self {
            ResetRequestError::Flow(FlowError::Mail(_)) => {
                Some((Level::ERROR, "password reset mail not sent"))
            }
            ResetRequestError::Flow(_) => Some((Level::ERROR, "password reset request failed")),
            _ => None,
        }
    }
}

impl Refusal for LinkError {
    /// `AddressTaken` is 409, not 410: the link is not gone, it lost to another sign-up of
    /// the same address, which now has the account (a conflict with the registry's state).
    /// Only sign-up links can meet it; a reset link belongs to an existing account.
    fn status(&self) -> StatusCode {
        match self {
            LinkError::Expired | LinkError::Unknown | LinkError::Used => StatusCode::GONE,
            LinkError::Invalid => StatusCode::NOT_FOUND,
            LinkError::AddressTaken => StatusCode::CONFLICT,
        }
    }

    /// The heading of the link's page; each page adds what to do next.
    fn message(&self, tr: &Tr) -> String {
        let msgid = match self {
            LinkError::Expired => n_("This link has expired"),
            LinkError::Invalid => n_("This link is not valid"),
            LinkError::Unknown => n_("This link is no longer valid"),
            LinkError::Used => n_("This link has already been used"),
            LinkError::AddressTaken => n_("This address is already registered"),
        };
        tr.t(msgid).to_owned()
    }
}

impl Refusal for ConfirmError {
    fn status(&self) -> StatusCode {
        match self {
            ConfirmError::Link(err) => err.status(),
            ConfirmError::Provision(ProvisionError::InProgress) => StatusCode::CONFLICT,
            ConfirmError::Provision(_) | ConfirmError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
            ConfirmError::Voucher(_) => StatusCode::CONFLICT,
        }
    }

    fn message(&self, tr: &Tr) -> String {
        match self {
            ConfirmError::Link(err) => err.message(tr),
            ConfirmError::Provision(ProvisionError::InProgress) => tr
                .t("Your account is being created right now. Please wait a moment and press the button again.")
                .to_owned(),
            ConfirmError::Provision(_) | ConfirmError::Store(_) => tr
                .t("Something went wrong while creating your account. Nothing is lost: please try again in a few minutes.")
                .to_owned(),
            ConfirmError::Voucher(refusal) => tr
                .t(FieldError::from(*refusal).msgid(Field::Voucher))
                .to_owned(),
        }
    }

    fn log_line(&self) -> Option<(Level, &'static str)> {
        match self {
            ConfirmError::Link(_)
            | ConfirmError::Provision(ProvisionError::InProgress)
            | ConfirmError::Voucher(_) => None,
            ConfirmError::Provision(_) => Some((
                Level::ERROR,
                "account creation stopped; confirming again resumes",
            )),
            ConfirmError::Store(_) => Some((Level::ERROR, "store failed while confirming")),
        }
    }
}

impl Refusal for ResetError {
    fn status(&self) -> StatusCode {
        match self {
            ResetError::Link(err) => err.status(),
            ResetError::Forbidden(_) => StatusCode::FORBIDDEN,
            ResetError::Directory(_)
            | ResetError::Mail(_)
            | ResetError::Store(_)
            | ResetError::Random => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn message(&self, tr: &Tr) -> String {
        let msgid = match self {
            ResetError::Link(err) => return err.message(tr),
            ResetError::Forbidden(_) => n_(
                "The password of this account cannot be replaced here. Your current password is unchanged.",
            ),
            ResetError::Mail(_) => n_(
                "The mail with your new password could not be sent. Your link still works: please press the button again in a few minutes to get another new password.",
            ),
            ResetError::Directory(_) | ResetError::Store(_) | ResetError::Random => n_(
                "Something went wrong while setting your new password. Nothing has changed, and your link still works: please try again in a few minutes.",
            ),
        };
        tr.t(msgid).to_owned()
    }

    fn log_line(&self) -> Option<(Level, &'static str)> {
        match self {
            ResetError::Link(_) | ResetError::Forbidden(_) => None,
            ResetError::Mail(_) => Some((
                Level::ERROR,
                "the new temporary password could not be mailed",
            )),
            ResetError::Directory(_) | ResetError::Store(_) | ResetError::Random => {
                Some((Level::ERROR, "no new temporary password"))
            }
        }
    }
}

/// The 429 message of a limit: the per-client and per-mailbox limits ("too many attempts"),
/// or `RATE_LIMIT_MAILS_PER_HOUR`, which is nobody's fault, with the minutes in the plural
/// form the language needs.
fn limited_message(tr: &Tr, wait: Duration, mail_cap: bool) -> String {
    let minutes = wait.as_secs().div_ceil(60).max(1);
    if mail_cap {
        // Translators: {count} is a number of minutes, at least 1.
        tr.nf(
            "So many people are signing up just now that we have paused sending mails. Please try again in {count} minute.",
            "So many people are signing up just now that we have paused sending mails. Please try again in {count} minutes.",
            minutes,
            &[],
        )
    } else {
        // Translators: {count} is a number of minutes, at least 1.
        tr.nf(
            "Too many attempts. Please try again in {count} minute.",
            "Too many attempts. Please try again in {count} minutes.",
            minutes,
            &[],
        )
    }
}

/// The mailbox limit is reached: the links already sent still work, so say so, and for how
/// long the newest does.
fn link_already_sent(tr: &Tr, wait: Duration, link_valid_for: Duration) -> String {
    let hours = link_valid_for.as_secs().div_ceil(3600).max(1);
    let minutes = wait.as_secs().div_ceil(60).max(1);
    // Translators: {count} is the number of hours the link already sent stays valid.
    let valid = tr.nf(
        "A confirmation link has already been sent to this address and stays valid for {count} more hour: please use it.",
        "A confirmation link has already been sent to this address and stays valid for {count} more hours: please use it.",
        hours,
        &[],
    );
    // Translators: {count} is a number of minutes, at least 1.
    let again = tr.nf(
        "You can ask for another link in {count} minute.",
        "You can ask for another link in {count} minutes.",
        minutes,
        &[],
    );
    format!("{valid} {again}")
}

#[cfg(test)]
mod tests;
