//! What a new account's first sign-in rests on (`CREDENTIAL`), and how long a Temporary
//! Access Pass lasts (`TAP_LIFETIME_MINUTES`).

use std::fmt;

/// Where people register their own sign-in methods with a pass (Microsoft's short link to
/// "Security info"): the third step of the first sign-in, on the page and in the mail.
pub const SECURITY_INFO_URL: &str = "https://aka.ms/mysecurityinfo";

/// The first credential a person gets (`CREDENTIAL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Credential {
    /// A temporary password that must be changed at the first sign-in.
    #[default]
    Password,
    /// A Temporary Access Pass: time-limited, optionally one-time; with it the person signs
    /// in without a password and registers their own methods. The user still gets a random
    /// password at creation (Graph requires one), which nobody ever learns.
    TemporaryAccessPass,
}

/// A `CREDENTIAL` value that names no credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a credential: use password or temporary_access_pass")]
pub struct UnknownCredential(String);

impl Credential {
    /// `password` or `temporary_access_pass` (any case, `-` for `_`, `tap` for short).
    pub fn parse(raw: &str) -> Result<Self, UnknownCredential> {
        let normalised = raw.trim().to_ascii_lowercase().replace('-', "_");
        match normalised.as_str() {
            "password" => Ok(Credential::Password),
            "temporary_access_pass" | "tap" => Ok(Credential::TemporaryAccessPass),
            _ => Err(UnknownCredential(raw.to_owned())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Credential::Password => "password",
            Credential::TemporaryAccessPass => "temporary_access_pass",
        }
    }
}

impl fmt::Display for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How long a Temporary Access Pass works, in minutes: within what Entra accepts at all
/// (10 minutes to 30 days). The tenant's policy narrows it further (by default to 1–8
/// hours); `check` compares the two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TapLifetime(u32);

/// A lifetime Entra never accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0} minutes is outside what Entra accepts for a Temporary Access Pass ({min} to {max} minutes)", min = TapLifetime::MIN, max = TapLifetime::MAX)]
pub struct TapLifetimeError(i64);

impl TapLifetime {
    /// The shortest lifetime Entra allows.
    pub const MIN: u32 = 10;
    /// The longest lifetime Entra allows: 30 days.
    pub const MAX: u32 = 43_200;

    pub fn from_minutes(minutes: i64) -> Result<Self, TapLifetimeError> {
        u32::try_from(minutes)
            .ok()
            .filter(|m| (Self::MIN..=Self::MAX).contains(m))
            .map(TapLifetime)
            .ok_or(TapLifetimeError(minutes))
    }

    pub fn minutes(self) -> u32 {
        self.0
    }

    pub fn seconds(self) -> u64 {
        u64::from(self.0) * 60
    }
}

impl fmt::Display for TapLifetime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} minutes", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_parse_in_any_spelling() {
        for (raw, want) in [
            ("password", Credential::Password),
            (" Password ", Credential::Password),
            ("temporary_access_pass", Credential::TemporaryAccessPass),
            ("Temporary-Access-Pass", Credential::TemporaryAccessPass),
            ("TAP", Credential::TemporaryAccessPass),
        ] {
            assert_eq!(Credential::parse(raw), Ok(want), "{raw}");
            assert_eq!(Credential::parse(want.as_str()), Ok(want));
        }
    }

    #[test]
    fn unknown_credentials_are_refused_with_the_choices() {
        for raw in ["", "sms", "passkey", "temporary access pass"] {
            let err = Credential::parse(raw).unwrap_err().to_string();
            assert!(err.contains("temporary_access_pass"), "{err}");
        }
    }

    #[test]
    fn lifetimes_outside_what_entra_accepts_are_refused() {
        for bad in [-1, 0, 9, 43_201, i64::MAX] {
            let err = TapLifetime::from_minutes(bad).unwrap_err().to_string();
            assert!(err.contains("10 to 43200"), "{err}");
        }
    }

    #[test]
    fn lifetimes_within_the_bounds_are_kept() {
        for good in [10, 60, 1440, 43_200] {
            let lifetime = TapLifetime::from_minutes(good).unwrap();
            assert_eq!(i64::from(lifetime.minutes()), good);
            assert_eq!(lifetime.seconds(), good as u64 * 60);
        }
    }
}
