//! Sending mail. With `DEBUG_DONT_SEND_MAIL` mails are kept in an in-memory outbox that
//! `/debug/mails` lists; otherwise they go over SMTP.

mod html;
mod lifecycle;
mod message;
mod messages;
mod outbox;
mod pass;
mod settings;
mod smtp;

pub use lifecycle::{EndedBecause, account_ended_mail, ending_soon_mail, reverify_mail};
pub use messages::{
    account_exists_mail, account_failed_mail, account_ready_mail, new_password_mail, password_mail,
    password_reset_link_mail, password_reset_support_mail, password_reset_unfinished_mail,
    verification_mail,
};
pub use outbox::{CapturedMail, Outbox};
pub use pass::{PassLetter, new_pass_mail, pass_mail};
pub use settings::MailSettings;
pub use smtp::{SmtpMailer, SmtpSetupError};

use crate::domain::EmailAddress;

/// A mail ready to send: the text is already translated and filled in.
#[derive(Debug, Clone)]
pub struct OutgoingMail {
    pub to: EmailAddress,
    pub subject: String,
    pub text: String,
    /// The language code of the texts (`Content-Language`, the HTML part's `lang`).
    pub lang: String,
    /// Whether the body holds a secret (a password), so a debug listing can say so.
    pub carries_secret: bool,
}

/// Why a mail was not sent. Shown to the person as a generic message; detail goes to the log.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("no SMTP transport is configured")]
    NotConfigured,
    #[error("the mail could not be sent: {0}")]
    Send(String),
    /// The mail itself cannot be built (e.g. an address lettre refuses); no server was asked.
    #[error("the mail could not be built: {0}")]
    Build(String),
    /// The recipient's mailbox is gone for good: the server refused it permanently as
    /// unknown or disabled. Sending again will not help.
    #[error("the recipient's mailbox refused the mail for good: {0}")]
    Refused(String),
}

/// Sends mails through the configured transport.
#[derive(Debug, Clone)]
pub enum Mailer {
    /// Keep mails in memory (`DEBUG_DONT_SEND_MAIL`).
    Capture(Outbox),
    /// Send over SMTP (the `MAIL_*` settings).
    Smtp(SmtpMailer),
}

impl Mailer {
    /// Sends one mail; on failure nothing was delivered (as far as the server told us).
    pub async fn send(&self, mail: OutgoingMail) -> Result<(), MailError> {
        match self {
            Mailer::Capture(outbox) => {
                tracing::info!(to_domain = mail.to.as_str().rsplit('@').next(), subject = %mail.subject, "mail kept in the debug outbox instead of being sent");
                outbox.push(mail);
                Ok(())
            }
            Mailer::Smtp(smtp) => smtp.send(&mail).await,
        }
    }

    /// The debug outbox, when mails are captured.
    pub fn outbox(&self) -> Option<&Outbox> {
        match self {
            Mailer::Capture(outbox) => Some(outbox),
            Mailer::Smtp(_) => None,
        }
    }
}
