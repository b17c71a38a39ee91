//! What the lifecycle changes, in the operators' audit log: each directory change of an
//! ending (actor: the lifecycle) and each `extend` and `restore` (actor: whoever asked).
//!
//! An ending's line is written after its step is saved. A run killed between the write and
//! the save finds the step done when it resumes, saves it and writes the line then, so no
//! change goes unrecorded; only a kill between the save and the line loses a line.

use super::{Lifecycle, LifecycleError};
use crate::domain::{AuditAction, AuditActor, AuditEntry, AuditSource, EndReason};
use crate::store::Registration;

/// The lifecycle itself, as the audit log names it.
pub(super) fn lifecycle_actor() -> AuditActor {
    AuditActor {
        upn: "lifecycle".to_owned(),
        object_id: None,
        source: AuditSource::Lifecycle,
    }
}

impl Lifecycle {
    /// Writes the audit line of `action` on the account of `registration`, by `actor`:
    /// the account named by its username and object id, never by its address.
    pub(super) async fn audit(
        &self,
        registration: &Registration,
        actor: AuditActor,
        action: AuditAction,
        detail: String,
        now: u64,
    ) -> Result<(), LifecycleError> {
        let subject = match (&registration.upn, &registration.object_id) {
            (Some(upn), Some(id)) => Some(format!("{upn} ({id})")),
            (upn, _) => upn.clone(),
        };
        let entry = AuditEntry {
            seq: 0,
            at: now,
            actor,
            action,
            subject,
            detail: Some(detail),
            client: None,
        };
        self.store.append_audit(&entry).await?;
        Ok(())
    }

    /// The line of an ending's step.
    pub(super) async fn audit_step(
        &self,
        registration: &Registration,
        action: AuditAction,
        reason: EndReason,
        now: u64,
    ) -> Result<(), LifecycleError> {
        let detail = format!("reason: {}", reason.name());
        self.audit(registration, lifecycle_actor(), action, detail, now)
            .await
    }
}
