//! What a provisioning run came to.

use secrecy::SecretString;

use crate::directory::TemporaryAccessPass;
use crate::store::Registration;

/// The first credential a run gave the user and has not delivered yet: held in memory only.
#[derive(Debug)]
pub enum Handed {
    /// A temporary password (`CREDENTIAL` = `password`).
    Password(SecretString),
    /// A Temporary Access Pass (`CREDENTIAL` = `temporary_access_pass`).
    Pass(TemporaryAccessPass),
}

/// What the result page says about a Temporary Access Pass.
#[derive(Debug)]
pub struct PassOutcome {
    /// The pass, when it is shown on the page (`PASSWORD_DELIVERY` = `page` or `both`).
    pub shown: Option<SecretString>,
    /// When it stops working (Unix seconds).
    pub expires_at: u64,
    pub usable_once: bool,
}

/// A finished account.
#[derive(Debug)]
pub struct Provisioned {
    pub user_principal_name: String,
    pub first_name: String,
    /// Shown once on the result page (`PASSWORD_DELIVERY` = `page` or `both`).
    pub password_on_page: Option<SecretString>,
    pub password_mailed: bool,
    /// The last step, showing the password, waits for the person to confirm their link
    /// again (an operator's `signups retry` with `PASSWORD_DELIVERY` = `page`).
    pub awaiting_person: bool,
    /// Nothing was created: the directory has this mailbox's account already (a user with
    /// its tag), and the registration now records that one. No password was set.
    pub existing_account: bool,
    /// The Temporary Access Pass this run made (`CREDENTIAL` = `temporary_access_pass`).
    pub pass: Option<PassOutcome>,
}

impl Provisioned {
    /// The account a registration found in the directory by its mailbox tag.
    pub fn existing(registration: &Registration) -> Self {
        Provisioned {
            user_principal_name: registration.upn.clone().unwrap_or_default(),
            first_name: registration.first_name.clone(),
            password_on_page: None,
            password_mailed: false,
            awaiting_person: false,
            existing_account: true,
            pass: None,
        }
    }
}
