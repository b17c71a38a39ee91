//! The first credential to deliver: the password or pass this run holds, or a new one made
//! now, and its mail.

use secrecy::ExposeSecret;

use super::run::{KnownPassword, object_id};
use super::{Handed, ProvisionError, Provisioning};
use crate::mail::{PassLetter, pass_mail, password_mail};
use crate::store::Registration;

impl Provisioning {
    /// The password or pass this run made, or else a new one made now: a new password
    /// (`PATCH /users/{id}`; the one made at the create died with the process or request
    /// that made it) or, with `CREDENTIAL` = `temporary_access_pass`, a new pass (the pass
    /// step: one directory write, which replaces any pass an earlier, lost attempt made).
    pub(super) async fn known_or_new_credential(
        &self,
        registration: &mut Registration,
        known: KnownPassword,
    ) -> Result<Handed, ProvisionError> {
        if let Some(known) = known {
            return Ok(known);
        }
        let password = match self.settings.pass {
            Some(_) => None,
            None => Some(self.new_password()?),
        };
        // Saved first: a password or pass another process holds stops being current even if
        // this one dies before the directory answers.
        registration.password_version += 1;
        registration.updated_at = self.now();
        self.context.store.save_registration(registration).await?;
        let object_id = object_id(registration)?;
        match (password, &self.settings.pass) {
            (Some(password), _) => {
                self.directory.set_password(object_id, &password).await?;
                tracing::info!(signup = %registration.signup_id, "set a new temporary password: the one made at the create was not delivered");
                Ok(Handed::Password(password))
            }
            (None, Some(request)) => {
                let pass = self
                    .directory
                    .create_temporary_access_pass(object_id, request)
                    .await?;
                tracing::info!(signup = %registration.signup_id, expires_at = pass.expires_at, "made a Temporary Access Pass");
                Ok(Handed::Pass(pass))
            }
            (None, None) => Err(ProvisionError::Random),
        }
    }

    /// Mails the password or the pass to the registration's mailbox.
    pub(super) async fn mail_credential(
        &self,
        registration: &Registration,
        credential: &Handed,
    ) -> Result<(), ProvisionError> {
        let tr = self.context.tr_for(&registration.lang);
        let to = registration
            .email
            .mailbox()
            .ok_or(ProvisionError::Address)?;
        let upn = registration.upn.clone().unwrap_or_default();
        let (mail, kind) = match credential {
            Handed::Password(password) => (
                password_mail(
                    &tr,
                    to,
                    &registration.first_name,
                    &upn,
                    password.expose_secret(),
                    &self.settings.support_email,
                    self.settings.sign_in_url.as_str(),
                    self.links.urls().password_page().map(url::Url::as_str),
                ),
                "password",
            ),
            Handed::Pass(pass) => {
                let letter = PassLetter {
                    upn: &upn,
                    pass: pass.pass.expose_secret(),
                    expires_at: pass.expires_at,
                    usable_once: pass.usable_once,
                    sign_in_url: self.settings.sign_in_url.as_str(),
                    support: &self.settings.support_email,
                };
                (
                    pass_mail(&tr, to, &registration.first_name, &letter),
                    "pass",
                )
            }
        };
        let sent = self.context.mailer.send(mail).await;
        self.context.metrics.mail(kind, sent.is_ok());
        Ok(sent?)
    }
}
