//! Invariants shared by the fuzz targets, stated independently of the code under test.

/// A derived nickname, and its collision-numbered forms, keep Graph's rules; the rules are
/// `MailNickname::check`'s, which the property test uses as well.
pub fn assert_valid_nickname(nickname: &ms365_accountcreator::domain::MailNickname) {
    if let Err(broken) = nickname.check() {
        panic!("{broken}");
    }
}

/// An accepted name keeps PRODUCT.md §3: trimmed, 1–64 characters, a letter, no control,
/// format (Cf) or default-ignorable character, no long run of combining marks, no word
/// whose letters mix scripts, and folded to NFKC.
pub fn assert_valid_name(name: &ms365_accountcreator::domain::PersonName) {
    use ms365_accountcreator::domain::PersonName;
    use unicode_normalization::UnicodeNormalization;
    use unicode_properties::{GeneralCategory, GeneralCategoryGroup, UnicodeGeneralCategory};
    use unicode_security::general_security_profile::IdentifierType;
    use unicode_security::{GeneralSecurityProfile, MixedScript};

    let s = name.as_str();
    assert!(
        !s.is_empty() && s == s.trim(),
        "{s:?} is empty or not trimmed"
    );
    assert!(
        s.chars().count() <= PersonName::MAX_CHARS,
        "{s:?} is too long"
    );
    for c in s.chars() {
        assert!(
            !matches!(
                c.general_category(),
                GeneralCategory::Control | GeneralCategory::Format | GeneralCategory::Unassigned
            ),
            "{s:?} holds {c:?}"
        );
        assert_ne!(
            c.identifier_type(),
            Some(IdentifierType::Default_Ignorable),
            "{s:?} holds {c:?}"
        );
    }
    assert!(
        s.chars()
            .any(|c| c.general_category_group() == GeneralCategoryGroup::Letter),
        "{s:?} has no letter"
    );
    let marks = s.nfd().fold((0, 0), |(longest, run), c| {
        let run = if c.general_category_group() == GeneralCategoryGroup::Mark {
            run + 1
        } else {
            0
        };
        (usize::max(longest, run), run)
    });
    assert!(
        marks.0 <= PersonName::MAX_COMBINING_RUN,
        "{s:?} stacks {} marks",
        marks.0
    );
    for word in s.split_whitespace() {
        assert!(word.is_single_script(), "{word:?} in {s:?} mixes scripts");
    }
    // Compatibility forms (fullwidth, mathematical, circled letters) are folded away.
    assert_eq!(s.nfkc().collect::<String>(), s, "{s:?} is not NFKC");
    // Parsing the accepted name again gives it back unchanged.
    assert_eq!(PersonName::parse(s).as_ref(), Ok(name), "{s:?} is not a fixed point");
}

/// The stored form of an address, its mailbox: trimmed, lower-case, at most 190 characters,
/// unquoted, without comments or a sub-address tag, and a fixed point of parsing.
pub fn assert_normalized_email(
    email: &ms365_accountcreator::domain::Mailbox,
    separator: ms365_accountcreator::domain::SubaddressSeparator,
) {
    use ms365_accountcreator::domain::{EmailAddress, Mailbox};
    let s = email.as_str();
    assert_eq!(s, s.trim(), "{s:?} is not trimmed");
    assert_eq!(s, s.to_lowercase(), "{s:?} is not lower-case");
    assert!(
        s.chars().count() <= EmailAddress::MAX_CHARS,
        "{s:?} is too long"
    );
    assert!(
        !s.contains(['"', '(', ')']),
        "{s:?} is quoted or has a comment"
    );
    if let (Some(separator), Some((local, _))) = (separator.as_char(), s.split_once('@')) {
        assert!(!local.contains(separator), "{s:?} keeps its tag");
    }
    assert_eq!(
        Mailbox::parse(s, separator).as_ref(),
        Ok(email),
        "{s:?} does not re-parse to itself"
    );
}
