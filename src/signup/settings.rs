//! What each part of the sign-up service is configured with; `config` builds them all
//! (`Settings::signup`), each part gets its own slice.

use std::time::Duration;

use url::Url;

use crate::directory::{MailboxTagger, PassRequest};
use crate::domain::{EmailFilter, SubaddressSeparator, VoucherMode};

/// Every slice, as the configuration gives them.
#[derive(Debug, Clone)]
pub struct SignupSettings {
    pub flow: FlowSettings,
    pub provision: ProvisionSettings,
    pub reset: ResetSettings,
    /// Where the links in mails lead.
    pub links: MailLinks,
}

/// What the sign-up flow (submit, the link's page, confirm) needs.
#[derive(Debug, Clone)]
pub struct FlowSettings {
    /// `EMAIL_ADDRESS_FILTER`.
    pub filter: EmailFilter,
    /// How an entered address becomes its mailbox, the key of everything per person.
    pub separator: SubaddressSeparator,
    /// `VERIFICATION_TOKEN_TTL_MINUTES`.
    pub token_ttl: Duration,
    /// `RATE_LIMIT_MAILS_PER_ADDRESS_PER_HOUR`.
    pub mails_per_address_per_hour: u32,
    /// `RATE_LIMIT_MAILS_PER_HOUR`: verification mails in total.
    pub mails_per_hour: u32,
    /// `SUPPORT_EMAIL`.
    pub support_email: String,
    /// `VOUCHERS`.
    pub vouchers: VoucherMode,
}

/// What provisioning (the state machine and the queue worker) needs.
#[derive(Debug, Clone)]
pub struct ProvisionSettings {
    /// `GENERATED_PASSWORD_BYTES`.
    pub password_bytes: usize,
    /// `PASSWORD_DELIVERY`.
    pub password_delivery: PasswordDelivery,
    /// `SUPPORT_EMAIL`.
    pub support_email: String,
    /// `SIGN_IN_URL`, named in the password mail.
    pub sign_in_url: Url,
    /// `PROVISION_WAIT_SECONDS`: how long a confirm waits before the queue takes over.
    pub provision_wait: Duration,
    /// `MAILBOX_TAG_SECRET`: the tag written on each user, found again by the name query.
    pub mailbox_tags: MailboxTagger,
    /// `ACCOUNT_LIFETIME_DAYS`: the end recorded on each account as it is created (0: none).
    pub lifetime_days: u32,
    /// `CREDENTIAL` = `temporary_access_pass`: how the pass is made that people get instead
    /// of a temporary password; `None` for passwords.
    pub pass: Option<PassRequest>,
}

/// What password resets need.
#[derive(Debug, Clone)]
pub struct ResetSettings {
    /// `EMAIL_ADDRESS_FILTER`.
    pub filter: EmailFilter,
    /// How an entered address becomes its mailbox.
    pub separator: SubaddressSeparator,
    /// `PASSWORD_RESET_TOKEN_TTL_MINUTES`; `None` when `PASSWORD_RESET_ENABLED` is off.
    pub ttl: Option<Duration>,
    /// `GENERATED_PASSWORD_BYTES`.
    pub password_bytes: usize,
    /// `PASSWORD_DELIVERY`.
    pub password_delivery: PasswordDelivery,
    /// `SUPPORT_EMAIL`.
    pub support_email: String,
    /// `SIGN_IN_URL`, named in the new password's mail.
    pub sign_in_url: Url,
    /// `CREDENTIAL` = `temporary_access_pass`: a reset makes a new pass (this request)
    /// instead of setting a new password; `None` for passwords.
    pub pass: Option<PassRequest>,
}

/// The links the service puts into mails. It knows no paths: `startup` builds these from
/// `PUBLIC_URL` (or the bound address outside PRODUCTION) and the web layer's paths, so every
/// path is spelled in one place.
#[derive(Debug, Clone)]
pub struct MailLinks {
    /// Everything before the token, e.g. `https://signup.example.edu/verify/`.
    verify_prefix: Url,
    /// The page to ask for a password reset link (`…/password`), and its links without
    /// their token (`…/password/`).
    password: Option<(Url, Url)>,
}

impl MailLinks {
    /// `verify_prefix` is the verification link without its token.
    pub fn new(verify_prefix: Url) -> Self {
        MailLinks {
            verify_prefix,
            password: None,
        }
    }

    /// With the password reset's page and its links' prefix (`PASSWORD_RESET_ENABLED`).
    pub fn with_password_reset(mut self, page: Url, link_prefix: Url) -> Self {
        self.password = Some((page, link_prefix));
        self
    }

    /// The verification link for `token`: always from the configuration, never from a
    /// request.
    pub fn verify(&self, token: &str) -> Url {
        with_token(&self.verify_prefix, token)
    }

    /// The page where a lost temporary password is replaced, when that is enabled.
    pub fn password_page(&self) -> Option<&Url> {
        self.password.as_ref().map(|(page, _)| page)
    }

    /// The password reset link for `token`, when resets are enabled.
    pub fn password_reset(&self, token: &str) -> Option<Url> {
        self.password
            .as_ref()
            .map(|(_, prefix)| with_token(prefix, token))
    }
}

pub(super) fn with_token(prefix: &Url, token: &str) -> Url {
    let mut url = prefix.clone();
    let path = format!("{}{token}", prefix.path());
    url.set_path(&path);
    url.set_query(None);
    url
}

/// How the temporary password reaches the person (`PASSWORD_DELIVERY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordDelivery {
    Mail,
    Page,
    Both,
}

/// A `PASSWORD_DELIVERY` value that names no way of delivery.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not one of mail, page, both")]
pub struct UnknownDelivery(String);

impl PasswordDelivery {
    /// `mail`, `page` or `both`, in any letter case.
    pub fn parse(raw: &str) -> Result<Self, UnknownDelivery> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "mail" => Ok(PasswordDelivery::Mail),
            "page" => Ok(PasswordDelivery::Page),
            "both" => Ok(PasswordDelivery::Both),
            other => Err(UnknownDelivery(other.to_owned())),
        }
    }

    /// Whether the password goes out by mail.
    pub fn by_mail(self) -> bool {
        matches!(self, PasswordDelivery::Mail | PasswordDelivery::Both)
    }

    /// Whether the result page shows the password.
    pub fn on_page(self) -> bool {
        matches!(self, PasswordDelivery::Page | PasswordDelivery::Both)
    }
}
