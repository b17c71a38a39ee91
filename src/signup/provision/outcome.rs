//! What a provisioning run came to.

use secrecy::SecretString;

use crate::store::Registration;

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
        }
    }
}
