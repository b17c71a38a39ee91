//! Invariants shared by the fuzz targets, stated independently of the code under test.

/// A derived nickname, and its collision-numbered forms, keep Graph's rules; the rules are
/// `MailNickname::check`'s, which the property test uses as well.
pub fn assert_valid_nickname(nickname: &ms365_accountcreator::domain::MailNickname) {
    if let Err(broken) = nickname.check() {
        panic!("{broken}");
    }
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
