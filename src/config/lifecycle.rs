//! The accounts' lifecycle keys: `ACCOUNT_LIFETIME_DAYS`, `REVERIFY_AFTER_DAYS`,
//! `REVERIFY_GRACE_DAYS`, `DELETE_AFTER_DAYS`, `LIFECYCLE_WARN_DAYS` and
//! `LIFECYCLE_RUN_HOUR`.

use super::{ConfigError, Getter, Settings};
use crate::directory::MailboxTagger;
use crate::lifecycle::LifecycleSettings;

/// The longest a number of days may be: a hundred years.
const MAX_DAYS: i64 = 36_500;

/// The lifecycle's numbers, read once; the rest comes from the other settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LifecycleKeys {
    pub lifetime_days: u32,
    pub reverify_after_days: u32,
    pub reverify_grace_days: u32,
    pub delete_after_days: u32,
    pub warn_days: u32,
    pub run_hour: u8,
}

impl Getter<'_> {
    pub(super) fn lifecycle(&self) -> Result<LifecycleKeys, ConfigError> {
        let days = |key, min| self.int_in(key, min, MAX_DAYS).map(|days| days as u32);
        Ok(LifecycleKeys {
            lifetime_days: days("ACCOUNT_LIFETIME_DAYS", 0)?,
            reverify_after_days: days("REVERIFY_AFTER_DAYS", 0)?,
            reverify_grace_days: days("REVERIFY_GRACE_DAYS", 1)?,
            delete_after_days: days("DELETE_AFTER_DAYS", 0)?,
            warn_days: days("LIFECYCLE_WARN_DAYS", 0)?,
            run_hour: self.int_in("LIFECYCLE_RUN_HOUR", 0, 23)? as u8,
        })
    }
}

impl Settings {
    /// What the accounts' lifecycle needs.
    pub fn lifecycle_settings(&self) -> LifecycleSettings {
        let keys = self.lifecycle;
        LifecycleSettings {
            lifetime_days: keys.lifetime_days,
            reverify_after_days: keys.reverify_after_days,
            reverify_grace_days: keys.reverify_grace_days,
            delete_after_days: keys.delete_after_days,
            warn_days: keys.warn_days,
            run_hour: keys.run_hour,
            support_email: self.support_email.clone(),
            mailbox_tags: MailboxTagger::new(&self.mailbox_tag_secret),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::tests::load;

    #[test]
    fn accounts_live_for_ever_and_are_never_asked_again_by_default() {
        let dir = tempfile::tempdir().unwrap();
        let (settings, _) = load(dir.path(), &[("MODE", "debug")]).unwrap();
        let lifecycle = settings.lifecycle_settings();
        assert_eq!(
            (lifecycle.lifetime_days, lifecycle.reverify_after_days),
            (0, 0)
        );
        assert_eq!(
            (
                lifecycle.reverify_grace_days,
                lifecycle.delete_after_days,
                lifecycle.warn_days,
                lifecycle.run_hour
            ),
            (30, 30, 14, 3)
        );
    }

    #[test]
    fn the_lifecycle_keys_are_read_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let env = [
            ("MODE", "debug"),
            ("ACCOUNT_LIFETIME_DAYS", "365"),
            ("REVERIFY_AFTER_DAYS", "180"),
            ("REVERIFY_GRACE_DAYS", "21"),
            ("DELETE_AFTER_DAYS", "0"),
            ("LIFECYCLE_WARN_DAYS", "7"),
            ("LIFECYCLE_RUN_HOUR", "23"),
        ];
        let (settings, warnings) = load(dir.path(), &env).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        let lifecycle = settings.lifecycle_settings();
        assert_eq!(
            [
                lifecycle.lifetime_days,
                lifecycle.reverify_after_days,
                lifecycle.reverify_grace_days,
                lifecycle.delete_after_days,
                lifecycle.warn_days,
            ],
            [365, 180, 21, 0, 7]
        );
        assert_eq!(lifecycle.run_hour, 23);
        for (key, value) in [
            ("LIFECYCLE_RUN_HOUR", "24"),
            ("REVERIFY_GRACE_DAYS", "0"),
            ("ACCOUNT_LIFETIME_DAYS", "-1"),
            ("DELETE_AFTER_DAYS", "a month"),
        ] {
            let err = load(dir.path(), &[("MODE", "debug"), (key, value)])
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with(&format!("{key} from")),
                "{key}={value}: {err}"
            );
        }
    }
}
