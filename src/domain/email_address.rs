use std::fmt;

/// A syntactically valid e-mail address, trimmed and lower-cased, so `ST1@x` and `st1@x` are
/// one address. Quoted local parts and comments are refused: they are other spellings of a
/// plain address (`"st1"@x`, `st1(x)@x`), and the registry must see one spelling per mailbox.
/// Keys and limits use [`Mailbox`], which also drops a sub-address tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailAddress(String);

/// Why a string is not an e-mail address we accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailAddressError {
    #[error("the e-mail address is empty")]
    Empty,
    #[error(
        "the e-mail address is longer than {} characters",
        EmailAddress::MAX_CHARS
    )]
    TooLong,
    /// `"st20"@uni.example`: valid in RFC 5322, but another spelling of a plain address.
    #[error("the e-mail address has a quoted local part")]
    Quoted,
    /// `st20(x)@uni.example`: an RFC 5322 comment, which mail systems ignore.
    #[error("the e-mail address has a comment in parentheses")]
    Comment,
    #[error("not an e-mail address")]
    Syntax,
}

impl EmailAddress {
    /// Longest address accepted (the original's column size).
    pub const MAX_CHARS: usize = 190;

    /// Trims and lower-cases `raw` and checks it is a plain, routable address.
    pub fn parse(raw: &str) -> Result<Self, EmailAddressError> {
        let normalized = raw.trim().to_lowercase();
        if normalized.is_empty() {
            return Err(EmailAddressError::Empty);
        }
        if normalized.chars().count() > Self::MAX_CHARS {
            return Err(EmailAddressError::TooLong);
        }
        // Outside a quoted string, neither a quote nor a parenthesised text is anything but
        // these forms (or garbage), so they are recognised before the full syntax check.
        if normalized.contains('"') {
            return Err(EmailAddressError::Quoted);
        }
        if normalized
            .find('(')
            .is_some_and(|open| normalized[open..].contains(')'))
        {
            return Err(EmailAddressError::Comment);
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

/// `EMAIL_SUBADDRESS_SEPARATOR`: the character that starts a sub-address tag in a local part
/// (`st20+x@` is delivered to `st20@`), or none when the mail system has no sub-addressing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubaddressSeparator(Option<char>);

/// The configured separator cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubaddressSeparatorError {
    #[error(
        "`{0}` is more than one character: give the one character that starts a tag, such as `+`, or an empty string to turn sub-addressing off"
    )]
    NotOneCharacter(String),
    #[error(
        "`{0}` cannot start a tag: use a symbol that may appear in an address other than `.`, such as `+` or `-`"
    )]
    NotASymbol(char),
}

impl SubaddressSeparator {
    /// Exchange Online's plus addressing, the default.
    pub const PLUS: SubaddressSeparator = SubaddressSeparator(Some('+'));
    /// No sub-addressing: `+` is part of the address like any other character.
    pub const OFF: SubaddressSeparator = SubaddressSeparator(None);

    /// One symbol of RFC 5322's `atext` other than `.`, or an empty string for [`Self::OFF`].
    /// A letter, a digit or a dot would cut ordinary addresses apart (`first.last`).
    pub fn parse(raw: &str) -> Result<Self, SubaddressSeparatorError> {
        let mut chars = raw.chars();
        let (Some(separator), None) = (chars.next(), chars.next()) else {
            if raw.is_empty() {
                return Ok(Self::OFF);
            }
            return Err(SubaddressSeparatorError::NotOneCharacter(raw.to_owned()));
        };
        if "!#$%&'*+-/=?^_`{|}~".contains(separator) {
            Ok(SubaddressSeparator(Some(separator)))
        } else {
            Err(SubaddressSeparatorError::NotASymbol(separator))
        }
    }

    /// The separator, if sub-addressing is on.
    pub fn as_char(self) -> Option<char> {
        self.0
    }
}

impl Default for SubaddressSeparator {
    fn default() -> Self {
        Self::PLUS
    }
}

/// The mailbox an address delivers to: the address with its sub-address tag removed. It is
/// the one form used for the duplicate check, the filter, the store's keys, the mail limit
/// and the verification mail, so `st20@x`, `ST20+a@x` and `st20+b@x` are one person.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mailbox(EmailAddress);

impl Mailbox {
    /// Parses `raw` as [`EmailAddress::parse`] does and drops everything from the first
    /// `separator` to the `@`. A tag that leaves no local part (`+x@uni.example`), or one
    /// whose mailbox is no address (`a.+x@…`), is [`EmailAddressError::Syntax`].
    pub fn parse(raw: &str, separator: SubaddressSeparator) -> Result<Self, EmailAddressError> {
        let address = EmailAddress::parse(raw)?;
        let Some(separator) = separator.as_char() else {
            return Ok(Mailbox(address));
        };
        // Local parts are unquoted here, so the only `@` is the one before the domain.
        let Some((local, domain)) = address.as_str().split_once('@') else {
            return Err(EmailAddressError::Syntax);
        };
        match local.split_once(separator) {
            None => Ok(Mailbox(address)),
            Some(("", _)) => Err(EmailAddressError::Syntax),
            Some((mailbox, _tag)) => {
                EmailAddress::parse(&format!("{mailbox}@{domain}")).map(Mailbox)
            }
        }
    }

    /// [`Mailbox::parse`], but reading a quoted local part that needs no quotes
    /// (`"st20"@x`) as the plain one (`st20@x`), which RFC 5322 makes the same mailbox. For
    /// addresses recorded before quoted forms were refused (`emails import`).
    pub fn parse_recorded(
        raw: &str,
        separator: SubaddressSeparator,
    ) -> Result<Self, EmailAddressError> {
        match Self::parse(raw, separator) {
            Err(EmailAddressError::Quoted) => {
                let unquoted = raw
                    .trim()
                    .rsplit_once('@')
                    .and_then(|(local, domain)| {
                        let inner = local.strip_prefix('"')?.strip_suffix('"')?;
                        Some(format!("{inner}@{domain}"))
                    })
                    .ok_or(EmailAddressError::Quoted)?;
                Self::parse(&unquoted, separator).map_err(|_| EmailAddressError::Quoted)
            }
            other => other,
        }
    }

    /// The mailbox as text: the store's key and the filter's input.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The mailbox as an address, to send mail to.
    pub fn address(&self) -> &EmailAddress {
        &self.0
    }
}

impl AsRef<str> for Mailbox {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Mailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
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

    #[test]
    fn quoted_local_parts_are_refused_as_such() {
        for raw in [
            "\"st20\"@uni.example",
            "\"st 20\"@uni.example",
            "\"st20@x\"@uni.example",
            " \"ST20\"@Uni.Example",
        ] {
            assert_eq!(
                EmailAddress::parse(raw),
                Err(EmailAddressError::Quoted),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn comments_are_refused_as_such_wherever_they_stand() {
        for raw in [
            "st20(x)@uni.example",
            "(x)st20@uni.example",
            "st20@(x)uni.example",
            "st20@uni.example(x)",
        ] {
            assert_eq!(
                EmailAddress::parse(raw),
                Err(EmailAddressError::Comment),
                "{raw:?}"
            );
        }
        // A lone parenthesis is no comment, just not an address.
        assert_eq!(
            EmailAddress::parse("st20(@uni.example"),
            Err(EmailAddressError::Syntax)
        );
    }

    fn mailbox(raw: &str, separator: SubaddressSeparator) -> Result<String, EmailAddressError> {
        Mailbox::parse(raw, separator).map(|mailbox| mailbox.as_str().to_owned())
    }

    #[test]
    fn the_mailbox_drops_the_tag_from_the_first_separator() {
        let plus = SubaddressSeparator::PLUS;
        assert_eq!(
            mailbox("st20@uni.example", plus).as_deref(),
            Ok("st20@uni.example")
        );
        assert_eq!(
            mailbox(" ST20+x@Uni.Example", plus).as_deref(),
            Ok("st20@uni.example")
        );
        assert_eq!(
            mailbox("st20+x+y@uni.example", plus).as_deref(),
            Ok("st20@uni.example")
        );
        assert_eq!(
            mailbox("st20+@uni.example", plus).as_deref(),
            Ok("st20@uni.example")
        );
        let dash = SubaddressSeparator::parse("-").unwrap();
        assert_eq!(
            mailbox("st20-x@uni.example", dash).as_deref(),
            Ok("st20@uni.example")
        );
        assert_eq!(
            mailbox("st20+x@uni.example", dash).as_deref(),
            Ok("st20+x@uni.example")
        );
    }

    #[test]
    fn without_a_separator_the_mailbox_is_the_address() {
        let off = SubaddressSeparator::OFF;
        assert_eq!(
            mailbox("St20+X@uni.example", off).as_deref(),
            Ok("st20+x@uni.example")
        );
    }

    #[test]
    fn a_tag_must_leave_a_mailbox_that_is_an_address() {
        for raw in ["+x@uni.example", "+@uni.example", "a.+x@uni.example"] {
            assert_eq!(
                Mailbox::parse(raw, SubaddressSeparator::PLUS),
                Err(EmailAddressError::Syntax),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn the_mailbox_refuses_what_the_address_refuses() {
        assert_eq!(
            Mailbox::parse("\"st20+x\"@uni.example", SubaddressSeparator::PLUS),
            Err(EmailAddressError::Quoted)
        );
        assert_eq!(
            Mailbox::parse("st20+(x)@uni.example", SubaddressSeparator::PLUS),
            Err(EmailAddressError::Comment)
        );
    }

    #[test]
    fn a_recorded_quoted_address_is_read_as_the_plain_mailbox_when_it_needs_no_quotes() {
        let plus = SubaddressSeparator::PLUS;
        let recorded = |raw| Mailbox::parse_recorded(raw, plus).map(|m| m.as_str().to_owned());
        assert_eq!(
            recorded("\"St20+x\"@uni.example").as_deref(),
            Ok("st20@uni.example")
        );
        assert_eq!(
            recorded("st20@uni.example").as_deref(),
            Ok("st20@uni.example")
        );
        for raw in [
            "\"st 20\"@uni.example",
            "weird,\"name\"@uni.example",
            "\"a\\\"b\"@x.example",
        ] {
            assert_eq!(recorded(raw), Err(EmailAddressError::Quoted), "{raw:?}");
        }
    }

    #[test]
    fn the_separator_is_one_symbol_or_nothing() {
        assert_eq!(SubaddressSeparator::parse(""), Ok(SubaddressSeparator::OFF));
        assert_eq!(
            SubaddressSeparator::parse("+"),
            Ok(SubaddressSeparator::PLUS)
        );
        assert_eq!(SubaddressSeparator::default(), SubaddressSeparator::PLUS);
        for ok in ["-", "_", "=", "#"] {
            assert!(SubaddressSeparator::parse(ok).is_ok(), "{ok:?}");
        }
        assert_eq!(
            SubaddressSeparator::parse("+-"),
            Err(SubaddressSeparatorError::NotOneCharacter("+-".into()))
        );
        for bad in ['.', '@', 'a', '7', ' ', '"', '(', 'ä'] {
            assert_eq!(
                SubaddressSeparator::parse(&bad.to_string()),
                Err(SubaddressSeparatorError::NotASymbol(bad)),
                "{bad:?}"
            );
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Address-like input in mixed case, with surrounding whitespace, tags, quotes and
        /// parentheses, long enough to cross the limit, and now and then any text at all.
        fn raw_address() -> impl Strategy<Value = String> {
            prop_oneof![
                4 => "[ \t\u{a0}]{0,2}[A-Za-z0-9._%+'ÄÖÜßİ\"()-]{1,70}@([A-Za-z0-9-]{1,63}\\.){1,3}[A-Za-z]{2,10}[ \t\u{a0}]{0,2}",
                1 => any::<String>(),
            ]
        }

        fn separator() -> impl Strategy<Value = SubaddressSeparator> {
            prop_oneof![
                Just(SubaddressSeparator::PLUS),
                Just(SubaddressSeparator::OFF),
                Just(SubaddressSeparator(Some('-'))),
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
                    prop_assert!(!s.contains(['"', '(', ')']), "{}", s);
                    prop_assert_eq!(EmailAddress::parse(s), Ok(address.clone()));
                }
            }

            #[test]
            fn a_mailbox_has_no_tag_is_a_fixed_point_and_names_the_address_if_untagged(
                raw in raw_address(),
                separator in separator(),
            ) {
                let parsed = Mailbox::parse(&raw, separator);
                if let Ok(mailbox) = &parsed {
                    let local = mailbox.as_str().split('@').next().unwrap_or_default();
                    if let Some(separator) = separator.as_char() {
                        prop_assert!(!local.contains(separator), "{}", mailbox);
                    }
                    prop_assert_eq!(Mailbox::parse(mailbox.as_str(), separator), Ok(mailbox.clone()));
                    prop_assert_eq!(EmailAddress::parse(mailbox.as_str()), Ok(mailbox.address().clone()));
                }
                let untagged = separator.as_char().is_none_or(|separator| !raw.contains(separator));
                if untagged {
                    prop_assert_eq!(parsed.map(|m| m.address().clone()), EmailAddress::parse(&raw));
                }
            }
        }
    }
}
