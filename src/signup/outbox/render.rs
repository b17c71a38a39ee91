//! An outbox mail's text, made when it is sent from what the store says then.

use super::Outbox;
use crate::mail::OutgoingMail;
use crate::metrics::ResetOutcome;
use crate::signup::FlowError;
use crate::store::{MailAbout, OutboxMail};

/// A mail ready to send, with what the metrics call it.
pub(super) struct Rendered {
    pub(super) mail: OutgoingMail,
    /// The kind for the mail metrics.
    pub(super) kind: &'static str,
    /// What a reset request came to, counted once the mail is sent.
    pub(super) reset: Option<ResetOutcome>,
}

impl Outbox {
    /// The mail `letter` stands for, or `None` when nothing is owed any more (the sign-up
    /// was confirmed, expired or forgotten; the address has no account).
    pub(super) async fn render(&self, letter: &OutboxMail) -> Result<Option<Rendered>, FlowError> {
        let tr = self.context.tr_for(&letter.lang);
        match &letter.about {
            MailAbout::Verification { signup_id } => {
                let mail = self.flow.verification_mail(signup_id, &tr).await?;
                Ok(mail.map(|mail| Rendered {
                    mail,
                    kind: "verification",
                    reset: None,
                }))
            }
            MailAbout::ResetRequest { email } => {
                let answer = self.resets.answer_for(email, &tr).await?;
                Ok(answer.map(|(mail, kind, outcome)| Rendered {
                    mail,
                    kind,
                    reset: Some(outcome),
                }))
            }
        }
    }
}
