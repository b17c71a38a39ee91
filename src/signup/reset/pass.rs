//! A reset with Temporary Access Passes (`CREDENTIAL` = `temporary_access_pass`): the
//! button makes a new pass (which replaces the user's earlier one) instead of setting a
//! new password, and delivers it as `PASSWORD_DELIVERY` says.

use secrecy::ExposeSecret;

use super::{Account, PasswordReset, ResetError, Resets};
use crate::directory::{DirectoryError, PassRequest};
use crate::graph::PASS_ROLES;
use crate::i18n::Tr;
use crate::mail::{PassLetter, new_pass_mail};
use crate::signup::PassOutcome;

impl Resets {
    /// Makes a new pass for `account` and delivers it.
    pub(super) async fn pass_and_deliver(
        &self,
        account: &Account,
        request: &PassRequest,
        tr: &Tr,
    ) -> Result<PasswordReset, ResetError> {
        let pass = match self
            .directory
            .create_temporary_access_pass(&account.object_id, request)
            .await
        {
            Ok(pass) => pass,
            Err(DirectoryError::Forbidden(detail)) => {
                let permission = PASS_ROLES.join(" or ");
                tracing::error!(
                    upn = %account.upn,
                    detail = %detail,
                    "Microsoft Graph refused a new Temporary Access Pass: the app needs the application permission {permission} (with admin consent), and the tenant's Temporary Access Pass policy must be on (`check` tells)"
                );
                return Err(ResetError::Forbidden(detail));
            }
            Err(err) => return Err(ResetError::Directory(err)),
        };
        let delivery = self.settings.password_delivery;
        if delivery.by_mail() {
            let to = account.mail_to()?;
            let letter = PassLetter {
                upn: &account.upn,
                pass: pass.pass.expose_secret(),
                expires_at: pass.expires_at,
                usable_once: pass.usable_once,
                sign_in_url: self.settings.sign_in_url.as_str(),
                support: &self.settings.support_email,
            };
            let sent = self
                .context
                .mailer
                .send(new_pass_mail(tr, to, &letter))
                .await;
            self.context.metrics.mail("new_pass", sent.is_ok());
            sent?;
        }
        Ok(PasswordReset {
            user_principal_name: account.upn.clone(),
            password_on_page: None,
            password_mailed: delivery.by_mail(),
            pass: Some(PassOutcome {
                shown: delivery.on_page().then_some(pass.pass),
                expires_at: pass.expires_at,
                usable_once: pass.usable_once,
            }),
        })
    }
}
