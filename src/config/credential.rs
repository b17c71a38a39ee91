//! The first credential's keys: `CREDENTIAL`, `TAP_LIFETIME_MINUTES`, `TAP_USABLE_ONCE`.

use super::{ConfigError, Getter};
use crate::directory::PassRequest;
use crate::domain::{Credential, TapLifetime};

/// What a new account's first sign-in rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialSettings {
    /// `CREDENTIAL`.
    pub kind: Credential,
    /// `TAP_LIFETIME_MINUTES` and `TAP_USABLE_ONCE`: how passes are made when `kind` is
    /// [`Credential::TemporaryAccessPass`] (checked either way, so switching to passes later
    /// cannot fail start-up over a value set today).
    pub pass: PassRequest,
}

impl CredentialSettings {
    /// The pass request when new accounts get passes, else `None`.
    pub fn temporary_access_pass(&self) -> Option<PassRequest> {
        (self.kind == Credential::TemporaryAccessPass).then_some(self.pass)
    }
}

impl Getter<'_> {
    pub(super) fn credential(&self) -> Result<CredentialSettings, ConfigError> {
        let kind = self.parsed("CREDENTIAL", Credential::parse)?;
        let minutes = self.int_in("TAP_LIFETIME_MINUTES", i64::MIN, i64::MAX)?;
        let lifetime = TapLifetime::from_minutes(minutes)
            .map_err(|err| self.invalid("TAP_LIFETIME_MINUTES", err.to_string()))?;
        let usable_once = self.bool("TAP_USABLE_ONCE")?;
        Ok(CredentialSettings {
            kind,
            pass: PassRequest {
                lifetime,
                usable_once,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::config::tests::load;
    use crate::domain::Credential;

    #[test]
    fn passwords_are_the_default_and_passes_last_a_day_and_work_once() {
        let dir = tempfile::tempdir().unwrap();
        let (settings, _) = load(dir.path(), &[("MODE", "debug")]).unwrap();
        let credential = settings.credential;
        assert_eq!(credential.kind, Credential::Password);
        assert_eq!(credential.temporary_access_pass(), None);
        assert_eq!(credential.pass.lifetime.minutes(), 1440);
        assert!(credential.pass.usable_once);
    }

    #[test]
    fn passes_are_chosen_with_their_lifetime_and_use() {
        let dir = tempfile::tempdir().unwrap();
        let env = [
            ("MODE", "debug"),
            ("CREDENTIAL", "temporary_access_pass"),
            ("TAP_LIFETIME_MINUTES", "480"),
            ("TAP_USABLE_ONCE", "false"),
        ];
        let (settings, _) = load(dir.path(), &env).unwrap();
        let pass = settings.credential.temporary_access_pass().unwrap();
        assert_eq!(pass.lifetime.minutes(), 480);
        assert!(!pass.usable_once);
    }

    #[test]
    fn a_wrong_credential_or_lifetime_names_its_key_and_the_bounds() {
        let dir = tempfile::tempdir().unwrap();
        for (key, value, says) in [
            ("CREDENTIAL", "sms", "password or temporary_access_pass"),
            ("TAP_LIFETIME_MINUTES", "5", "10 to 43200 minutes"),
            ("TAP_LIFETIME_MINUTES", "50000", "10 to 43200 minutes"),
            ("TAP_USABLE_ONCE", "sometimes", "true or false"),
        ] {
            let err = load(dir.path(), &[("MODE", "debug"), (key, value)])
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(key) && err.contains(says),
                "{key}={value}: {err}"
            );
        }
    }
}
