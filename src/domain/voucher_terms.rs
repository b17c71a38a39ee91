//! What an operator decides when making a voucher: its name and note, how often and how
//! long it admits, and what the accounts made with it get.

use serde::{Deserialize, Serialize};

use super::{Day, DirectoryId, EmailFilter};

/// The end of the accounts made with a voucher: a number of days after the account is
/// made, or a fixed day. The lifecycle (PRODUCT.md §9.4) ends them then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoucherEnd {
    AfterDays(u32),
    On(Day),
}

/// A voucher's terms, checked: a name, a note, and every limit and grant it may have.
/// Stored beside the code and the count of uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoucherTerms {
    /// For operators: which course, which guests.
    pub name: String,
    /// For operators, anything else.
    #[serde(default)]
    pub note: String,
    /// How many accounts it makes at most; `None`: no limit.
    pub uses: Option<u32>,
    /// The last day (UTC) it admits sign-ups; `None`: until revoked.
    pub valid_until: Option<Day>,
    /// Licences replacing `GRAPH_API_LICENSE_SKUS`; `None`: those.
    pub licences: Option<Vec<DirectoryId>>,
    /// Groups replacing `GRAPH_API_GROUPS_FOR_NEW_USERS`; `None`: those.
    pub groups: Option<Vec<DirectoryId>>,
    /// A filter replacing `EMAIL_ADDRESS_FILTER` (its source text); `None`: that one.
    pub email_filter: Option<String>,
    /// The accounts' lifetime in days; exclusive with `ends_on`.
    pub lifetime_days: Option<u32>,
    /// The day the accounts end; exclusive with `lifetime_days`.
    pub ends_on: Option<Day>,
}

/// Why terms cannot make a voucher; each message says what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VoucherTermsError {
    #[error(
        "a voucher needs a name (1 to {} characters, no line breaks)",
        VoucherTerms::MAX_NAME
    )]
    Name,
    #[error(
        "the note has more than {} characters or control characters",
        VoucherTerms::MAX_NOTE
    )]
    Note,
    #[error("a voucher's uses must be at least 1 (leave it out for no limit)")]
    NoUses,
    #[error("the address filter is not a valid regular expression: {0}")]
    Filter(String),
    #[error("give the accounts' lifetime in days or their end date, not both")]
    TwoEnds,
    #[error("an account lifetime must be at least 1 day")]
    NoLifetime,
}

impl VoucherTerms {
    /// The longest name, in characters.
    pub const MAX_NAME: usize = 100;
    /// The longest note, in characters.
    pub const MAX_NOTE: usize = 1000;

    /// Terms with `name` and nothing else limited or granted: no limit on uses or days,
    /// the configured licences, groups and filter, no end to the accounts.
    pub fn named(name: &str) -> Result<Self, VoucherTermsError> {
        VoucherTerms {
            name: name.trim().to_owned(),
            note: String::new(),
            uses: None,
            valid_until: None,
            licences: None,
            groups: None,
            email_filter: None,
            lifetime_days: None,
            ends_on: None,
        }
        .checked()
    }

    /// The terms if every rule holds: the name and note trimmed, the filter compiled once.
    pub fn checked(mut self) -> Result<Self, VoucherTermsError> {
        self.name = self.name.trim().to_owned();
        self.note = self.note.trim().to_owned();
        let count = self.name.chars().count();
        if count == 0 || count > Self::MAX_NAME || self.name.chars().any(char::is_control) {
            return Err(VoucherTermsError::Name);
        }
        let note_ok = |c: char| !c.is_control() || c == '\n';
        if self.note.chars().count() > Self::MAX_NOTE || !self.note.chars().all(note_ok) {
            return Err(VoucherTermsError::Note);
        }
        if self.uses == Some(0) {
            return Err(VoucherTermsError::NoUses);
        }
        if let Some(filter) = &self.email_filter {
            EmailFilter::parse(filter).map_err(|err| VoucherTermsError::Filter(err.to_string()))?;
        }
        match (self.lifetime_days, self.ends_on) {
            (Some(_), Some(_)) => Err(VoucherTermsError::TwoEnds),
            (Some(0), None) => Err(VoucherTermsError::NoLifetime),
            _ => Ok(self),
        }
    }

    /// The address filter that replaces `EMAIL_ADDRESS_FILTER`, when the voucher has one.
    /// `None` also for a stored filter that no longer compiles (checked when it was made).
    pub fn filter(&self) -> Option<EmailFilter> {
        self.email_filter
            .as_deref()
            .and_then(|source| EmailFilter::parse(source).ok())
    }

    /// When the accounts made with it end, if they do.
    pub fn account_end(&self) -> Option<VoucherEnd> {
        match (self.lifetime_days, self.ends_on) {
            (Some(days), _) => Some(VoucherEnd::AfterDays(days)),
            (None, Some(date)) => Some(VoucherEnd::On(date)),
            (None, None) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms() -> VoucherTerms {
        VoucherTerms::named("Exchange students 2027").unwrap()
    }

    #[test]
    fn a_name_alone_makes_terms() {
        let terms = VoucherTerms::named("  Course 42  ").unwrap();
        assert_eq!(terms.name, "Course 42");
        assert_eq!(terms.account_end(), None);
        assert!(terms.filter().is_none());
    }

    #[test]
    fn each_rejection_rule() {
        let long = "x".repeat(VoucherTerms::MAX_NAME + 1);
        let cases: Vec<(VoucherTerms, VoucherTermsError)> = vec![
            (
                VoucherTerms {
                    name: " ".into(),
                    ..terms()
                },
                VoucherTermsError::Name,
            ),
            (
                VoucherTerms {
                    name: long,
                    ..terms()
                },
                VoucherTermsError::Name,
            ),
            (
                VoucherTerms {
                    name: "a\nb".into(),
                    ..terms()
                },
                VoucherTermsError::Name,
            ),
            (
                VoucherTerms {
                    note: "bell\u{7}".into(),
                    ..terms()
                },
                VoucherTermsError::Note,
            ),
            (
                VoucherTerms {
                    uses: Some(0),
                    ..terms()
                },
                VoucherTermsError::NoUses,
            ),
            (
                VoucherTerms {
                    lifetime_days: Some(0),
                    ..terms()
                },
                VoucherTermsError::NoLifetime,
            ),
            (
                VoucherTerms {
                    lifetime_days: Some(30),
                    ends_on: Some(Day::parse("2027-03-31").unwrap()),
                    ..terms()
                },
                VoucherTermsError::TwoEnds,
            ),
        ];
        for (terms, expected) in cases {
            assert_eq!(terms.clone().checked(), Err(expected), "{terms:?}");
        }
        let broken = VoucherTerms {
            email_filter: Some("st[0-9+@x".into()),
            ..terms()
        };
        assert!(matches!(
            broken.checked(),
            Err(VoucherTermsError::Filter(_))
        ));
    }

    #[test]
    fn the_accounts_end_after_days_or_on_a_day() {
        let days = VoucherTerms {
            lifetime_days: Some(180),
            ..terms()
        };
        assert_eq!(days.account_end(), Some(VoucherEnd::AfterDays(180)));
        let date = Day::parse("2027-09-30").unwrap();
        let fixed = VoucherTerms {
            ends_on: Some(date),
            ..terms()
        };
        assert_eq!(fixed.account_end(), Some(VoucherEnd::On(date)));
    }
}
