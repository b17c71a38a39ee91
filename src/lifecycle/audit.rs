//! What the lifecycle changes, in the operators' audit log: each directory change of an
//! ending (actor: the lifecycle) and each `extend` and `restore` (actor: whoever asked).
//!
//! An ending's line is written after its step is saved. A run killed between the write and
//! the save finds the step done when it resumes, saves it and writes the line then, so no
//! change goes unrecorded; only a kill between the save and the line loses a line.

use super::{Lifecycle, LifecycleError};
use crate::domain::{AuditAction, AuditActor, AuditEntry, AuditSource, EndReason};
use crate::store::Registration;

/// One line's who, what and from where; the account and the time come with it.
pub(super) struct Line {
    pub actor: AuditActor,
    pub action: AuditAction,
    pub detail: String,
    /// The client address of whoever asked (the console's operator), if any.
    pub client: Option<String>,
}

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
        let line = Line {
            actor,
            action,
            detail,
            client: None,
        };
        self.audit_line(registration, line, now).await
    }

    /// Writes `line` about the account of `registration`.
    pub(super) async fn audit_line(
        &self,
        registration: &Registration,
        line: Line,
        now: u64,
    ) -> Result<(), LifecycleError> {
        let subject = match (&registration.upn, &registration.object_id) {
            (Some(upn), Some(id)) => Some(format!("{upn} ({id})")),
            (upn, _) => upn.clone(),
        };
        let entry = AuditEntry {
            seq: 0,
            at: now,
            actor: line.actor,
            action: line.action,
            subject,
            detail: Some(line.detail),
            client: line.client,
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
