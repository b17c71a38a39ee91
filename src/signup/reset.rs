//! A lost temporary password (`PASSWORD_RESET_ENABLED`): the person proves their mailbox
//! again and gets a new temporary password, with the sign-up's trust model. A request mails
//! a single-use link, but only for an account this server created (the registry holds its
//! object id); the link's page changes nothing; its button sets a new password with
//! `PATCH /users/{id}` and delivers it as `PASSWORD_DELIVERY` says. The password is made in
//! memory and never stored. A confirmed sign-up whose account was never finished has no
//! password yet: its mail links to the sign-up instead, to finish it.

use std::time::Duration;

use secrecy::SecretString;

use super::form::{self, FieldError};
use super::token::{ResetClaims, TokenError};
use super::{FlowError, LinkError, Signups, Step, password};
use crate::directory::DirectoryError;
use crate::domain::{EmailAddress, Mailbox};
use crate::graph::check::PASSWORD_ROLES;
use crate::i18n::Tr;
use crate::mail::{
    MailError, OutgoingMail, new_password_mail, password_reset_link_mail,
    password_reset_support_mail, password_reset_unfinished_mail,
};
use crate::metrics::ResetOutcome;
use crate::store::{Registration, RegistryKey, StoreError};

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
}

/// An account whose password this server may replace.
struct Account {
    upn: String,
    object_id: String,
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
        }),
        _ => None,
    }
}

impl Signups {
    /// Whether password resets are enabled (`PASSWORD_RESET_ENABLED`).
    pub fn password_reset_enabled(&self) -> bool {
        self.settings.password_reset_ttl.is_some()
    }

    /// `POST /password`: mails a reset link when the address has an account this server
    /// created, a link to finish the sign-up when its account was never finished, a note
    /// naming the support address when it has another one, and nothing when it has none.
    /// The limits count every request alike, so that neither the answer nor a 429 tells
    /// whether an account exists.
    pub async fn request_password_reset(
        &self,
        raw_email: &str,
        tr: &Tr,
    ) -> Result<Mailbox, ResetRequestError> {
        let email = form::check_email(raw_email, &self.settings.filter, self.settings.separator)
            .map_err(ResetRequestError::Invalid)?;
        self.mail_limit
            .check(&email)
            .map_err(ResetRequestError::MailboxLimited)?;
        self.all_mails_limit.check(&()).map_err(|wait| {
            self.metrics.rate_limited("mails_per_hour");
            ResetRequestError::MailCap(wait)
        })?;
        let key = RegistryKey::from(&email);
        let registration = self.store.registration(&key).await;
        let registration = registration.map_err(FlowError::from)?;
        let Some(registration) = registration else {
            self.metrics.password_reset(ResetOutcome::NoAccount);
            tracing::info!("password reset asked for an address without an account");
            return Ok(email);
        };
        let Some((mail, kind, outcome)) = self.reset_answer(&email, &registration, tr)? else {
            return Ok(email);
        };
        let sent = self.mailer.send(mail).await;
        self.metrics.mail(kind, sent.is_ok());
        sent.map_err(FlowError::from)?;
        self.metrics.password_reset(outcome);
        tracing::info!(outcome = ?outcome, "password reset mail sent");
        Ok(email)
    }

    /// The mail that answers a reset request for the address of `registration`, with its
    /// kind for the metrics; `None` when resets have no links (they are off).
    fn reset_answer(
        &self,
        email: &Mailbox,
        registration: &Registration,
        tr: &Tr,
    ) -> Result<Option<(OutgoingMail, &'static str, ResetOutcome)>, FlowError> {
        let support = &self.settings.support_email;
        if let Some(account) = account_of(registration) {
            let ttl = self.settings.password_reset_ttl.unwrap_or_default();
            let claims = ResetClaims {
                email: registration.email.as_str().to_owned(),
                object_id: account.object_id,
                issued_at: self.now(),
            };
            let token = self
                .tokens
                .sign_reset(&claims, claims.issued_at + ttl.as_secs())
                .map_err(|_| FlowError::Random)?;
            // Resets are enabled exactly when startup gave the links.
            let Some(link) = self.settings.links.password_reset(&token) else {
                return Ok(None);
            };
            let minutes = ttl.as_secs().div_ceil(60);
            let mail = password_reset_link_mail(tr, email, link.as_str(), support, minutes);
            return Ok(Some((mail, "reset_link", ResetOutcome::LinkSent)));
        }
        if is_unfinished(registration) {
            let link = self
                .link_to_claimed(&registration.signup_id)
                .map_err(|_| FlowError::Random)?;
            let hours = self.settings.token_ttl.as_secs().div_ceil(3600);
            let mail = password_reset_unfinished_mail(tr, email, link.as_str(), support, hours);
            return Ok(Some((mail, "reset_unfinished", ResetOutcome::Unfinished)));
        }
        let mail = password_reset_support_mail(tr, email, support);
        Ok(Some((mail, "reset_support", ResetOutcome::NotOurs)))
    }

    /// What a reset link leads to, changing nothing (mail scanners open every link): the
    /// username whose password the button replaces.
    pub async fn inspect_reset(&self, token: &str) -> Result<String, LinkError> {
        let (_, account) = self.reset_target(token).await?;
        Ok(account.upn)
    }

    /// The account a live reset link is for, and its claims.
    async fn reset_target(&self, token: &str) -> Result<(ResetClaims, Account), LinkError> {
        let claims = self
            .tokens
            .verify_reset(token, self.now())
            .map_err(|err| match err {
                TokenError::Expired => LinkError::Expired,
                TokenError::Invalid => LinkError::Invalid,
            })?;
        let key = RegistryKey::as_recorded(&claims.email);
        let lookup = async {
            Ok::<_, StoreError>((
                self.store.registration(&key).await?,
                self.store.reset_used_through(&key).await?,
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
    pub async fn reset_password(&self, token: &str, tr: &Tr) -> Result<PasswordReset, ResetError> {
        let (claims, account) = self.reset_target(token).await?;
        let key = RegistryKey::as_recorded(&claims.email);
        let used = self
            .store
            .use_reset_link(&key, claims.issued_at)
            .await?
            .ok_or(LinkError::Used)?;
        let result = self.set_and_deliver(&key, &account, tr).await;
        match &result {
            Ok(_) => {
                self.metrics.password_reset(ResetOutcome::Reset);
                tracing::info!(upn = %account.upn, "set a new temporary password on request");
            }
            Err(err) => {
                let outcome = match err {
                    ResetError::Forbidden(_) => ResetOutcome::Forbidden,
                    _ => ResetOutcome::Failed,
                };
                self.metrics.password_reset(outcome);
                if let Err(store_err) = self.store.release_reset_link(&used).await {
                    tracing::error!(error = %store_err, "cannot give the reset link back");
                }
            }
        }
        result
    }

    async fn set_and_deliver(
        &self,
        key: &RegistryKey,
        account: &Account,
        tr: &Tr,
    ) -> Result<PasswordReset, ResetError> {
        let password =
            password::generate(self.settings.password_bytes).map_err(|_| ResetError::Random)?;
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
            let to = EmailAddress::parse(key.as_str())
                .map_err(|_| ResetError::Mail(MailError::Build("not an address".into())))?;
            let secret = secrecy::ExposeSecret::expose_secret(&password);
            let mail = new_password_mail(
                tr,
                &to,
                &account.upn,
                secret,
                &self.settings.support_email,
                self.settings.sign_in_url.as_str(),
                self.settings.links.password_page().map(url::Url::as_str),
            );
            let sent = self.mailer.send(mail).await;
            self.metrics.mail("new_password", sent.is_ok());
            sent?;
        }
        Ok(PasswordReset {
            user_principal_name: account.upn.clone(),
            password_on_page: delivery.on_page().then_some(password),
            password_mailed: delivery.by_mail(),
        })
    }
}
