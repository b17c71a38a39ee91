//! What the re-verification link's page needs to know of an account: whether the question
//! its mail asked is still open, and (once kept) until when the account stays.

use super::ending::upn;
use super::{Lifecycle, LifecycleError, LifecycleSettings, plan};
use crate::store::RegistryKey;

impl Lifecycle {
    /// The UPN of the account of `email` while the question mailed at `sent_at` is open;
    /// `None` once it is not (answered, asked anew, or the account ended).
    pub async fn open_question(
        &self,
        email: &RegistryKey,
        sent_at: u64,
    ) -> Result<Option<String>, LifecycleError> {
        let (registration, life) = self.account_of(email).await?;
        let open = life
            .reverify
            .is_some_and(|pending| pending.sent_at == sent_at)
            && life.ending.is_none();
        Ok(open.then(|| upn(&registration)))
    }

    /// Until when (Unix seconds) the account of `email` stays without anything more from
    /// the person: its next question or its end, whichever comes first; `None`: for ever.
    pub async fn kept_until(&self, email: &RegistryKey) -> Result<Option<u64>, LifecycleError> {
        let (registration, life) = self.account_of(email).await?;
        let next = self
            .settings
            .reverifies()
            .then(|| life.verified_at + LifecycleSettings::secs(self.settings.reverify_after_days));
        let end = plan::end_of(&registration, Some(&life), &self.settings);
        Ok(match (next, end) {
            (Some(next), Some(end)) => Some(next.min(end)),
            (next, end) => next.or(end),
        })
    }
}
