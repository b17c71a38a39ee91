use std::fmt;

/// A syntactically valid e-mail address, trimmed and lower-cased: the form used for the
/// duplicate check, the filter and storage, so `ST1@x` and `st1@x` are the same person.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailAddress(String);

/// Why a string is not an e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailAddressError {
    #[error("the e-mail address is empty")]
    Empty,
    #[error(
        "the e-mail address is longer than {} characters",
        EmailAddress::MAX_CHARS
    )]
    TooLong,
    #[error("not an e-mail address")]
    Syntax,
}

impl EmailAddress {
    /// Longest address accepted (the original's column size).
    pub const MAX_CHARS: usize = 190;

    pub fn parse(raw: &str) -> Result<Self, EmailAddressError> {
        let normalized = raw.trim().to_lowercase();
        if normalized.is_empty() {
            return Err(EmailAddressError::Empty);
        }
        if normalized.chars().count() > Self::MAX_CHARS {
            return Err(EmailAddressError::TooLong);
        }
        // lettre's parser follows RFC 5321/5322 for the local part and checks the domain;
        // we additionally insist on a dot-separated domain, as a sign-up address must be routable.
        let address: lettre::Address = normalized.parse().map_err(|_| EmailAddressError::Syntax)?;
        let domain = address.domain();
        if !domain.contains('.')
            || domain.starts_with('[')
            || normalized.chars().any(char::is_whitespace)
        {
            return Err(EmailAddressError::Syntax);
        }
        Ok(EmailAddress(normalized))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for EmailAddress {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_trimmed_and_lower_cased() {
        let address = EmailAddress::parse("  ST123@Uni.Example.EDU ").unwrap();
        assert_eq!(address.as_str(), "st123@uni.example.edu");
    }

    #[test]
    fn empty_input_is_rejected() {
        assert_eq!(EmailAddress::parse("   "), Err(EmailAddressError::Empty));
    }

    #[test]
    fn an_address_of_190_characters_is_accepted_and_191_rejected() {
        let local = "a".repeat(60);
        // DNS labels have at most 63 characters, so the long domain has several.
        let domain_190 = format!(
            "{}.{}.{}.org",
            "b".repeat(50),
            "c".repeat(50),
            "d".repeat(190 - 60 - 1 - 50 - 50 - 2 - 4)
        );
        let ok = format!("{local}@{domain_190}");
        assert_eq!(ok.chars().count(), 190);
        assert!(EmailAddress::parse(&ok).is_ok(), "{ok}");
        let too_long = format!("{local}a@{domain_190}");
        assert_eq!(
            EmailAddress::parse(&too_long),
            Err(EmailAddressError::TooLong)
        );
    }

    #[test]
    fn malformed_addresses_are_rejected() {
        for raw in [
            "plainaddress",
            "@example.org",
            "a@",
            "a@@example.org",
            "a b@example.org",
            "a@localhost",
            "a@[127.0.0.1]",
            "a@exa mple.org",
            "a\r\nBcc: x@y.org@example.org",
        ] {
            assert_eq!(
                EmailAddress::parse(raw),
                Err(EmailAddressError::Syntax),
                "{raw:?} should be rejected"
            );
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Address-like input in mixed case and with surrounding whitespace, long enough to
        /// cross the limit, and now and then any text at all.
        fn raw_address() -> impl Strategy<Value = String> {
            prop_oneof![
                4 => "[ \t\u{a0}]{0,2}[A-Za-z0-9._%+'ÄÖÜßİ-]{1,70}@([A-Za-z0-9-]{1,63}\\.){1,3}[A-Za-z]{2,10}[ \t\u{a0}]{0,2}",
                1 => any::<String>(),
            ]
        }

        proptest! {
            #[test]
            fn parsed_addresses_are_trimmed_lower_case_short_and_a_fixed_point(
                raw in raw_address(),
            ) {
                if let Ok(address) = EmailAddress::parse(&raw) {
                    let s = address.as_str();
                    prop_assert_eq!(s, s.trim());
                    prop_assert_eq!(s.to_owned(), s.to_lowercase());
                    prop_assert!(s.chars().count() <= EmailAddress::MAX_CHARS);
                    prop_assert_eq!(EmailAddress::parse(s), Ok(address.clone()));
                }
            }
        }
    }
}
