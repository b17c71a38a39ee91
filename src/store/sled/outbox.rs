//! The outbox in sled: tree `outbox` (mail id → [`OutboxMail`]). One process holds a sled
//! store, so a lease only keeps this process's worker from taking a mail twice; a mail is
//! found by reading the tree, which holds the few mails not sent yet.

use async_trait::async_trait;
use sled::Transactional;

use super::pending::pending_in;
use super::{SledStore, decode, encode};
use crate::store::{OutboxMail, OutboxStore, PendingSignup, RecordKind, StoreError};

#[async_trait]
impl OutboxStore for SledStore {
    async fn insert_pending_mailed(
        &self,
        signup: &PendingSignup,
        mail: &OutboxMail,
    ) -> Result<(), StoreError> {
        let (record, letter) = (encode(signup), encode(mail));
        let trees = (
            &self.pending,
            &self.pending_by_email,
            &self.registrations,
            &self.outbox,
        );
        let committed = trees.transaction(|(pending, by_email, registrations, outbox)| {
            pending_in(pending, by_email, registrations, signup, &record)?;
            outbox.insert(mail.id.as_bytes(), letter.as_slice())?;
            Ok(())
        });
        self.durably(committed).await
    }

    async fn post_mail(&self, mail: &OutboxMail) -> Result<(), StoreError> {
        let result = self
            .outbox
            .insert(mail.id.as_bytes(), encode(mail))
            .map(drop)
            .map_err(StoreError::from);
        let result = self.watched(result);
        result?;
        self.watched(self.flush_to_disk().await)
    }

    async fn take_mail(
        &self,
        now: u64,
        lease_until: u64,
    ) -> Result<Option<OutboxMail>, StoreError> {
        loop {
            let mut due: Option<(sled::IVec, sled::IVec, OutboxMail)> = None;
            for entry in self.outbox.iter() {
                let (key, bytes) = entry?;
                // One unreadable mail must not stop the others; `store verify` reports it.
                let Ok(mail) = decode::<OutboxMail>(RecordKind::OutboxMail, &bytes) else {
                    continue;
                };
                let sooner = due
                    .as_ref()
                    .is_none_or(|(_, _, other)| mail.next_attempt_at < other.next_attempt_at);
                if mail.next_attempt_at <= now && sooner {
                    due = Some((key, bytes, mail));
                }
            }
            let Some((key, bytes, mail)) = due else {
                return Ok(None);
            };
            let leased = OutboxMail {
                next_attempt_at: lease_until,
                ..mail.clone()
            };
            let swapped = self
                .outbox
                .compare_and_swap(&key, Some(bytes), Some(encode(&leased)));
            // Changed meanwhile (taken, or sent and gone): look again.
            if self.watched(swapped.map_err(StoreError::from))?.is_ok() {
                return Ok(Some(mail));
            }
        }
    }

    async fn mail_done(&self, id: &str) -> Result<(), StoreError> {
        let removed = self.outbox.remove(id).map(drop).map_err(StoreError::from);
        self.watched(removed)?;
        self.watched(self.flush_to_disk().await)
    }

    async fn mail_failed(&self, id: &str, next_attempt_at: u64) -> Result<(), StoreError> {
        // Only this process's worker changes a taken mail: no other write comes between.
        let Some(bytes) = self.outbox.get(id)? else {
            return Ok(());
        };
        let mut mail: OutboxMail = decode(RecordKind::OutboxMail, &bytes)?;
        mail.attempts = mail.attempts.saturating_add(1);
        mail.next_attempt_at = next_attempt_at;
        let updated = self.outbox.insert(id, encode(&mail)).map(drop);
        self.watched(updated.map_err(StoreError::from))?;
        self.watched(self.flush_to_disk().await)
    }

    async fn outbox_length(&self) -> usize {
        self.outbox.len()
    }
}
