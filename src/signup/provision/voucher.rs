//! A registration's voucher use during provisioning: what it grants replaces the
//! configured licences and groups, and a use from which no account came is given back.

use super::{ProvisionError, Provisioning};
use crate::directory::OwnGrants;
use crate::domain::Step;
use crate::store::Registration;

/// The licences and groups a registration's voucher grants instead of the configured ones.
pub(super) fn own_grants(registration: &Registration) -> OwnGrants<'_> {
    match &registration.voucher {
        Some(held) => OwnGrants {
            licences: held.licences.as_deref(),
            groups: held.groups.as_deref(),
        },
        None => OwnGrants::CONFIGURED,
    }
}

impl Provisioning {
    /// Gives the registration's voucher use back when no account came of it: the mailbox
    /// had its account already, or the creation failed for good before a user existed.
    /// A registration resumed later takes a use again (at confirm).
    pub(super) async fn give_back_voucher(
        &self,
        registration: &mut Registration,
        failure: Option<&ProvisionError>,
    ) {
        let no_account = match failure {
            None => registration.existing_account,
            Some(err) => !err.is_retriable() && registration.step <= Step::Creating,
        };
        let holds_use = registration
            .voucher
            .as_ref()
            .is_some_and(|held| !held.returned);
        if !no_account || !holds_use {
            return;
        }
        match self
            .context
            .store
            .return_voucher_use(&registration.email)
            .await
        {
            Ok(_) => {
                if let Some(held) = registration.voucher.as_mut() {
                    held.returned = true;
                    tracing::info!(signup = %registration.signup_id, voucher = %held.code.redacted(), "voucher use given back: no account was made");
                }
            }
            Err(err) => {
                tracing::error!(signup = %registration.signup_id, error = %err, "cannot give the voucher use back");
            }
        }
    }
}
