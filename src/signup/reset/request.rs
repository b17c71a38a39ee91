//! `POST /password`: a reset link (or what else fits the address's registration) mailed
//! through the outbox, with the same answer in the same time whether or not the address
//! has an account.

use super::{ResetRequestError, Resets, account_of, is_unfinished};
use crate::domain::Mailbox;
use crate::i18n::Tr;
use crate::mail::{
    OutgoingMail, password_reset_link_mail, password_reset_support_mail,
    password_reset_unfinished_mail,
};
use crate::metrics::ResetOutcome;
use crate::signup::FlowError;
use crate::signup::caps::Capped;
use crate::signup::form;
use crate::signup::outbox::letter;
use crate::signup::token::ResetClaims;
use crate::store::{MailAbout, Registration, RegistryKey};

impl Resets {
    /// `POST /password`: mails a reset link when the address has an account this server
    /// created, a link to finish the sign-up when its account was never finished, a note
    /// naming the support address when it has another one, and nothing when it has none.
    /// The limits count every request alike, so that neither the answer nor a 429 tells
    /// whether an account exists; the mail is decided and sent by the outbox.
    pub async fn request(&self, raw_email: &str, tr: &Tr) -> Result<Mailbox, ResetRequestError> {
        let email = form::check_email(raw_email, &self.settings.filter, self.settings.separator)
            .map_err(ResetRequestError::Invalid)?;
        self.caps
            .count_local(&email)
            .map_err(|capped| match capped {
                Capped::Mailbox(wait) => ResetRequestError::MailboxLimited(wait),
                Capped::Service(wait) => ResetRequestError::MailCap(wait),
            })?;
        // The answer is in the outbox for every address alike, account or not: what it
        // says is made when it is sent, so nothing on the request path depends on the
        // address (PRODUCT.md §9.1).
        let about = MailAbout::ResetRequest {
            email: RegistryKey::from(&email),
        };
        let letter = letter(about, tr.lang(), self.now()).ok_or(FlowError::Random)?;
        let posted = self.context.store.post_mail(&letter).await;
        posted.map_err(FlowError::from)?;
        self.bell.ring();
        tracing::info!(mail = %letter.id, "password reset request answered; its mail is in the outbox");
        Ok(email)
    }

    /// The mail that answers a reset request for `key`, made when the outbox sends it, with
    /// its kind for the metrics; `None` when nothing is owed (no account, or resets off).
    pub(in crate::signup) async fn answer_for(
        &self,
        key: &RegistryKey,
        tr: &Tr,
    ) -> Result<Option<(OutgoingMail, &'static str, ResetOutcome)>, FlowError> {
        let registration = self.context.store.registration(key).await?;
        let Some(registration) = registration else {
            self.context.metrics.password_reset(ResetOutcome::NoAccount);
            tracing::info!("password reset asked for an address without an account");
            return Ok(None);
        };
        let Some(email) = registration.email.mailbox() else {
            tracing::info!("password reset asked for a recorded address that is no mailbox");
            return Ok(None);
        };
        self.answer(email, &registration, tr)
    }

    /// The mail that answers a reset request for the address of `registration`, with its
    /// kind for the metrics; `None` when resets have no links (they are off).
    fn answer(
        &self,
        email: &Mailbox,
        registration: &Registration,
        tr: &Tr,
    ) -> Result<Option<(OutgoingMail, &'static str, ResetOutcome)>, FlowError> {
        let support = &self.settings.support_email;
        let pass = self.settings.pass.is_some();
        if let Some(account) = account_of(registration) {
            let ttl = self.settings.ttl.unwrap_or_default();
            let claims = ResetClaims {
                email: registration.email.as_str().to_owned(),
                object_id: account.object_id,
                issued_at: self.now(),
            };
            let link = self
                .links
                .reset(&claims, ttl)
                .map_err(|_| FlowError::Random)?;
            // Resets are enabled exactly when startup gave the links.
            let Some(link) = link else {
                return Ok(None);
            };
            let minutes = ttl.as_secs().div_ceil(60);
            let mail = password_reset_link_mail(tr, email, link.as_str(), support, minutes, pass);
            return Ok(Some((mail, "reset_link", ResetOutcome::LinkSent)));
        }
        if is_unfinished(registration) {
            let link = self
                .links
                .to_claimed(&registration.signup_id, self.now())
                .map_err(|_| FlowError::Random)?;
            let hours = self.links.verification_ttl().as_secs().div_ceil(3600);
            let mail =
                password_reset_unfinished_mail(tr, email, link.as_str(), support, hours, pass);
            return Ok(Some((mail, "reset_unfinished", ResetOutcome::Unfinished)));
        }
        let mail = password_reset_support_mail(tr, email, support, pass);
        Ok(Some((mail, "reset_support", ResetOutcome::NotOurs)))
    }
}
