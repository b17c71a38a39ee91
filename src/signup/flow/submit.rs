//! A submission: checked, counted against the mail caps, stored as a pending sign-up, and
//! its verification mail sent.

use std::time::Duration;

use super::{Flow, FlowError, SubmitError};
use crate::domain::Mailbox;
use crate::i18n::Tr;
use crate::ids::random_id;
use crate::mail::verification_mail;
use crate::metrics::SignupOutcome;
use crate::signup::caps::Capped;
use crate::signup::form::{Field, FieldError, FieldErrors, SignupForm, ValidSignup};
use crate::store::{PendingSignup, RegistryKey, StoreError, Voucher};

/// The mailbox has its account already.
fn already_used() -> SubmitError {
    let mut errors = FieldErrors::default();
    errors.add(Field::Email, FieldError::EmailAlreadyUsed);
    SubmitError::Invalid(errors)
}

impl Flow {
    /// Validates a submission, stores it as pending under its mailbox (beside any earlier
    /// ones, which keep working) and sends the verification mail to that mailbox in `tr`'s
    /// language. Returns the mailbox.
    pub async fn submit(&self, form: &SignupForm, tr: &Tr) -> Result<Mailbox, SubmitError> {
        let (valid, voucher) = self.checked(form).await?;
        let store = &self.context.store;
        if store
            .is_registered(&valid.email)
            .await
            .map_err(FlowError::from)?
        {
            return Err(already_used());
        }
        let now = self.now();
        self.count_mail(&valid.email, now).await?;
        let mut pending = self.pending(&valid, tr, now)?;
        pending.voucher = voucher.map(|voucher| voucher.code);
        match store.insert_pending(&pending).await {
            Err(StoreError::AlreadyRegistered) => return Err(already_used()),
            other => other.map_err(FlowError::from)?,
        }
        // On disk before the mail goes out: a link in a mailbox must never lead nowhere after
        // a crash. Concurrent submissions share sled's flushes (group commit).
        store.flush().await.map_err(FlowError::from)?;
        tracing::info!(signup = %pending.id, "pending sign-up stored");
        let link = self
            .links
            .verification(&pending.id, &pending.nonce, now, pending.expires_at)
            .map_err(|_| FlowError::Random)?;
        let mail = verification_mail(
            tr,
            &valid.email,
            link.as_str(),
            &self.settings.support_email,
            self.settings.token_ttl.as_secs().div_ceil(3600),
        );
        let sent = self.context.mailer.send(mail).await;
        self.context.metrics.mail("verification", sent.is_ok());
        sent.map_err(FlowError::from)?;
        self.context.metrics.signup(SignupOutcome::Started);
        tracing::info!(signup = %pending.id, "verification mail sent");
        Ok(valid.email)
    }

    /// Every check that needs no mail: the voucher (in the store), then the form with the
    /// voucher's address filter; all errors at once.
    async fn checked(
        &self,
        form: &SignupForm,
    ) -> Result<(ValidSignup, Option<Voucher>), SubmitError> {
        let voucher = self.check_voucher(&form.voucher).await?;
        let filter = self.filter_for(voucher.as_ref().ok().and_then(Option::as_ref));
        let valid = form.validate(&filter, self.settings.separator);
        match (valid, voucher) {
            (Ok(valid), Ok(voucher)) => Ok((valid, voucher)),
            (valid, voucher) => {
                let mut errors = valid.err().unwrap_or_default();
                if let Err(error) = voucher {
                    errors.add(Field::Voucher, error);
                }
                Err(SubmitError::Invalid(errors))
            }
        }
    }

    /// Counts the verification mail against the caps; a mailbox over its limit is told how
    /// long its newest link still works.
    async fn count_mail(&self, mailbox: &Mailbox, now: u64) -> Result<(), SubmitError> {
        let store = &self.context.store;
        let counted = self.caps.count_shared(store, mailbox, now).await;
        match counted.map_err(FlowError::from)? {
            Ok(()) => Ok(()),
            Err(Capped::Service(wait)) => Err(SubmitError::MailCap(wait)),
            Err(Capped::Mailbox(wait)) => {
                let key = RegistryKey::from(mailbox);
                let expires_at = store.latest_expiry(&key).await.map_err(FlowError::from)?;
                // No pending link left (forgotten meanwhile): say how long a new one would last.
                let link_valid_for = expires_at.map_or(self.settings.token_ttl, |at| {
                    Duration::from_secs(at.saturating_sub(now))
                });
                Err(SubmitError::MailboxLimited {
                    wait,
                    link_valid_for,
                })
            }
        }
    }

    /// The pending sign-up a valid submission becomes, with a fresh id and nonce.
    fn pending(&self, valid: &ValidSignup, tr: &Tr, now: u64) -> Result<PendingSignup, FlowError> {
        Ok(PendingSignup {
            id: random_id(16).map_err(|_| FlowError::Random)?,
            nonce: random_id(16).map_err(|_| FlowError::Random)?,
            email: RegistryKey::from(&valid.email),
            first_name: valid.first_name.as_str().to_owned(),
            last_name: valid.last_name.as_str().to_owned(),
            lang: tr.lang().to_owned(),
            created_at: now,
            expires_at: now + self.settings.token_ttl.as_secs(),
            consent_email_at: now,
            consent_name_at: now,
            voucher: None,
        })
    }
}
