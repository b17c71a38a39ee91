//! What the accounts' lifecycle is configured with; `config` builds it (`Settings::lifecycle`).

use crate::directory::MailboxTagger;
use crate::domain::DAY_SECS;

/// The lifecycle's settings (PRODUCT.md §9.4).
#[derive(Debug, Clone)]
pub struct LifecycleSettings {
    /// `ACCOUNT_LIFETIME_DAYS`: how long an account lives without a voucher of its own;
    /// 0: for ever.
    pub lifetime_days: u32,
    /// `REVERIFY_AFTER_DAYS`: how long after its last proof a mailbox is asked again; 0: never.
    pub reverify_after_days: u32,
    /// `REVERIFY_GRACE_DAYS`: how long the person has to answer.
    pub reverify_grace_days: u32,
    /// `DELETE_AFTER_DAYS`: how long a disabled user waits before it is deleted.
    pub delete_after_days: u32,
    /// `LIFECYCLE_WARN_DAYS`: how long before an end the person is warned; 0: not at all.
    pub warn_days: u32,
    /// `LIFECYCLE_RUN_HOUR`: the hour of the day (UTC) the server runs the lifecycle.
    pub run_hour: u8,
    /// `SUPPORT_EMAIL`, named in the mails.
    pub support_email: String,
    /// `MAILBOX_TAG_SECRET`: an account is ended only when its user carries its mailbox's tag.
    pub mailbox_tags: MailboxTagger,
}

impl LifecycleSettings {
    /// `days` in seconds.
    pub(crate) fn secs(days: u32) -> u64 {
        u64::from(days) * DAY_SECS
    }

    /// Whether mailboxes are asked again (`REVERIFY_AFTER_DAYS` is not 0).
    pub fn reverifies(&self) -> bool {
        self.reverify_after_days > 0
    }
}
