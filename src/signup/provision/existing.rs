//! A mailbox whose account the directory has already (a user carrying its tag) although
//! the store did not know it — a new, restored or damaged store: nothing is created, the
//! registration records that user and is done, and the person is told.

use super::{ProvisionError, Provisioning};
use crate::directory::DirectoryUser;
use crate::domain::Step;
use crate::store::Registration;

impl Provisioning {
    /// The directory has this mailbox's account (a user with its tag): the store had lost
    /// it (a new, restored or damaged store). Nothing is created; the registration records
    /// the user and is done, so it never creates one, and the person is told.
    pub(super) async fn record_existing(
        &self,
        registration: &mut Registration,
        user: DirectoryUser,
    ) -> Result<(), ProvisionError> {
        tracing::warn!(
            signup = %registration.signup_id,
            object_id = %user.object_id,
            "this mailbox's account exists in the directory (found by its mailbox tag) although the store did not know it: nothing is created, the registration records it"
        );
        registration.object_id = Some(user.object_id);
        registration.upn = Some(user.user_principal_name);
        registration.existing_account = true;
        registration.step = Step::Done;
        registration.last_error = None;
        registration.updated_at = self.now();
        // The name moves to this registration, unless another one holds it (then the
        // directory's user keeps the name taken anyway).
        if !self.context.store.reserve_username(registration).await? {
            self.context.store.save_registration(registration).await?;
        }
        Ok(())
    }
}
