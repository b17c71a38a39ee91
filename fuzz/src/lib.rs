//! Invariants shared by the fuzz targets, stated independently of the code under test.

/// Graph's rules for a mail nickname / UPN local part as PRODUCT.md §3 narrows them: ASCII
/// letters, digits and `.-_'`, no leading, trailing or doubled dots, `min..=max` characters.
pub fn assert_graph_local_part(local: &str, min: usize, max: usize) {
    let len = local.chars().count();
    assert!(
        (min..=max).contains(&len),
        "{local:?}: {len} characters, not {min}..={max}"
    );
    assert!(
        local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '\'')),
        "{local:?}: a character Graph refuses"
    );
    assert!(
        !local.starts_with('.') && !local.ends_with('.') && !local.contains(".."),
        "{local:?}: leading, trailing or doubled dot"
    );
}

/// A derived nickname, and its collision-numbered forms up to the largest number that keeps
/// it within Graph's 64 characters (60 + `.999`).
pub fn assert_valid_nickname(nickname: &ms365_accountcreator::domain::MailNickname) {
    assert_graph_local_part(nickname.as_str(), 3, 60);
    for n in [1, 2, 10, 999] {
        assert_graph_local_part(&nickname.numbered(n), 3, 64);
    }
}

/// The stored form of an address: trimmed, lower-case, at most 190 characters, and a fixed
/// point of parsing.
pub fn assert_normalized_email(email: &ms365_accountcreator::domain::EmailAddress) {
    use ms365_accountcreator::domain::EmailAddress;
    let s = email.as_str();
    assert_eq!(s, s.trim(), "{s:?} is not trimmed");
    assert_eq!(s, s.to_lowercase(), "{s:?} is not lower-case");
    assert!(
        s.chars().count() <= EmailAddress::MAX_CHARS,
        "{s:?} is too long"
    );
    assert_eq!(
        EmailAddress::parse(s).as_ref(),
        Ok(email),
        "{s:?} does not re-parse to itself"
    );
}
