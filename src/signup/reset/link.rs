//! A reset link: its page (read-only) and its button, which sets a new temporary password
//! and delivers it.

use super::{Account, PasswordReset, ResetError, Resets, account_of};
use crate::directory::{DirectoryError, PASSWORD_ROLES};
use crate::i18n::Tr;
use crate::mail::new_password_mail;
use crate::metrics::ResetOutcome;
use crate::signup::credential;
use crate::signup::links::LinkError;
use crate::signup::token::ResetClaims;
use crate::store::{RegistryKey, StoreError};

impl Resets {
    /// What a reset link leads to, changing nothing (mail scanners open every link): the
    /// username whose password the button replaces.
    pub async fn inspect(&self, token: &str) -> Result<String, LinkError> {
        let (_, account) = self.reset_target(token).await?;
        Ok(account.upn)
    }

    /// The account a live reset link is for, and its claims.
    async fn reset_target(&self, token: &str) -> Result<(ResetClaims, Account), LinkError> {
        let claims = self.links.open_reset(token, self.now())?;
        let key = RegistryKey::as_recorded(&claims.email);
        let lookup = async {
            Ok::<_, StoreError>((
                self.context.store.registration(&key).await?,
                self.context.store.reset_used_through(&key).await?,
            ))
        };
        let (registration, used_through) = lookup.await.map_err(|err| {
            tracing::error!(error = %err, "store lookup failed");
            LinkError::Invalid
        })?;
        // Forgotten since, or a new account under the address: not the link's account.
        let account = registration
            .as_ref()
            .and_then(account_of)
            .filter(|account| account.object_id == claims.object_id)
            .ok_or(LinkError::Unknown)?;
        if used_through.is_some_and(|used| used >= claims.issued_at) {
            return Err(LinkError::Used);
        }
        Ok((claims, account))
    }

    /// The reset link's button: marks the link used, sets a new temporary password and
    /// delivers it. When the directory or the mail fails, the link is given back.
    pub async fn reset(&self, token: &str, tr: &Tr) -> Result<PasswordReset, ResetError> {
        let (claims, account) = self.reset_target(token).await?;
        let key = RegistryKey::as_recorded(&claims.email);
        let used = self
            .context
            .store
            .use_reset_link(&key, claims.issued_at)
            .await?
            .ok_or(LinkError::Used)?;
        let result = self.set_and_deliver(&account, tr).await;
        match &result {
            Ok(_) => {
                self.context.metrics.password_reset(ResetOutcome::Reset);
                tracing::info!(upn = %account.upn, "set a new temporary password on request");
            }
            Err(err) => {
                let outcome = match err {
                    ResetError::Forbidden(_) => ResetOutcome::Forbidden,
                    _ => ResetOutcome::Failed,
                };
                self.context.metrics.password_reset(outcome);
                if let Err(store_err) = self.context.store.release_reset_link(&used).await {
                    tracing::error!(error = %store_err, "cannot give the reset link back");
                }
            }
        }
        result
    }

    async fn set_and_deliver(
        &self,
        account: &Account,
        tr: &Tr,
    ) -> Result<PasswordReset, ResetError> {
        if let Some(request) = &self.settings.pass {
            return self.pass_and_deliver(account, request, tr).await;
        }
        let password =
            credential::generate(self.settings.password_bytes).map_err(|_| ResetError::Random)?;
        match self
            .directory
            .set_password(&account.object_id, &password)
            .await
        {
            Ok(()) => {}
            Err(DirectoryError::Forbidden(detail)) => {
                let permission = PASSWORD_ROLES.join(" or ");
                tracing::error!(
                    upn = %account.upn,
                    detail = %detail,
                    "Microsoft Graph refused to set a new password: the app needs the application permission {permission} (with admin consent), and Graph never lets an app reset the password of a user who holds an administrator role"
                );
                return Err(ResetError::Forbidden(detail));
            }
            Err(err) => return Err(ResetError::Directory(err)),
        }
        let delivery = self.settings.password_delivery;
        if delivery.by_mail() {
            let to = account.mail_to()?;
            let secret = secrecy::ExposeSecret::expose_secret(&password);
            let mail = new_password_mail(
                tr,
                to,
                &account.upn,
                secret,
                &self.settings.support_email,
                self.settings.sign_in_url.as_str(),
                self.links.urls().password_page().map(url::Url::as_str),
            );
            let sent = self.context.mailer.send(mail).await;
            self.context.metrics.mail("new_password", sent.is_ok());
            sent?;
        }
        Ok(PasswordReset {
            user_principal_name: account.upn.clone(),
            password_on_page: delivery.on_page().then_some(password),
            password_mailed: delivery.by_mail(),
            pass: None,
        })
    }
}
