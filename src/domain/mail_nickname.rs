use std::fmt;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::PersonName;

/// The `first.last` mail nickname and UPN local part derived from a person's name, holding
/// only characters Microsoft Graph accepts there, with no leading, trailing or doubled dots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailNickname(String);

/// The name leaves too little to build a username from; says which of the two names gave
/// nothing usable, so the form can mark each of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the name gives fewer than {} usable characters for a username",
    MailNickname::MIN_CHARS
)]
pub struct NicknameError {
    first_unusable: bool,
    last_unusable: bool,
}

impl NicknameError {
    /// The first name gave no letter or digit for the username (or neither name did, yet
    /// together they are too short: then both are to blame).
    pub fn first_name_unusable(&self) -> bool {
        self.first_unusable
    }

    /// The family name gave no letter or digit for the username (or, as above, both).
    pub fn last_name_unusable(&self) -> bool {
        self.last_unusable
    }
}

/// A rule of PRODUCT.md §3 that a nickname, or one of its numbered forms, breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BrokenNicknameRule {
    #[error("{local:?} has {len} characters, not {min}..={max}")]
    Length {
        local: String,
        len: usize,
        min: usize,
        max: usize,
    },
    #[error("{local:?} holds {c:?}, which Graph refuses in a mail nickname or UPN")]
    Character { local: String, c: char },
    #[error("{local:?} has a leading, trailing or doubled dot")]
    Dots { local: String },
    #[error("{local:?} ends in a hyphen or an apostrophe")]
    TrailingPunctuation { local: String },
}

impl MailNickname {
    pub const MIN_CHARS: usize = 3;
    /// Graph's limit for a mail nickname and a UPN's local part.
    pub const GRAPH_MAX_CHARS: usize = 64;
    /// The highest collision number the free-username searches try (`first.last.1000`);
    /// past it they give up with an error rather than count on.
    pub const MAX_COLLISION_NUMBER: u32 = 1000;
    /// Graph's 64 characters less room for the longest collision suffix, `.1000`.
    pub const MAX_CHARS: usize =
        Self::GRAPH_MAX_CHARS - (Self::MAX_COLLISION_NUMBER.ilog10() as usize + 2);

    /// Derives the nickname as the original did: lower case, German umlauts spelled out,
    /// other diacritics stripped, remaining non-ASCII dropped, spaces become dots. Cut to
    /// [`MAX_CHARS`](Self::MAX_CHARS), it never ends in `.`, `-` or `'`.
    pub fn derive(first: &PersonName, last: &PersonName) -> Result<Self, NicknameError> {
        let (first, last) = (usable(first.as_str()), usable(last.as_str()));
        let mut nickname = [first.as_str(), last.as_str()]
            .into_iter()
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(".");
        // Only ASCII is left, so the byte index is a character index.
        nickname.truncate(Self::MAX_CHARS);
        // A trailing `-` or `'`, left by the cut (`anna-maria.o'…`) or typed, looks broken.
        let nickname = nickname.trim_end_matches(['.', '-', '\'']).to_owned();
        if nickname.chars().count() < Self::MIN_CHARS {
            let gives_nothing = |part: &str| !part.chars().any(|c| c.is_ascii_alphanumeric());
            let (first_unusable, last_unusable) = (gives_nothing(&first), gives_nothing(&last));
            let both = first_unusable == last_unusable;
            return Err(NicknameError {
                first_unusable: first_unusable || both,
                last_unusable: last_unusable || both,
            });
        }
        Ok(MailNickname(nickname))
    }

    /// The nickname with the collision number appended (`n` ≥ 2), as `first.last.2`.
    pub fn numbered(&self, n: u32) -> String {
        if n <= 1 {
            self.0.clone()
        } else {
            format!("{}.{n}", self.0)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What [`derive`](Self::derive) promises, checked against the rules themselves: for
    /// the property test and the fuzz targets, which would otherwise each restate them.
    /// Covers the numbered forms up to [`MAX_COLLISION_NUMBER`](Self::MAX_COLLISION_NUMBER).
    pub fn check(&self) -> Result<(), BrokenNicknameRule> {
        check_local_part(&self.0, Self::MAX_CHARS)?;
        for n in [2, 10, Self::MAX_COLLISION_NUMBER] {
            check_local_part(&self.numbered(n), Self::GRAPH_MAX_CHARS)?;
        }
        Ok(())
    }
}

/// Graph's rules for a mail nickname / UPN local part as PRODUCT.md §3 narrows them. The
/// characters are spelled out here rather than taken from `is_allowed`, so that a mistake
/// in the filter is caught instead of repeated.
fn check_local_part(local: &str, max: usize) -> Result<(), BrokenNicknameRule> {
    let len = local.chars().count();
    if !(MailNickname::MIN_CHARS..=max).contains(&len) {
        return Err(BrokenNicknameRule::Length {
            local: local.to_owned(),
            len,
            min: MailNickname::MIN_CHARS,
            max,
        });
    }
    let graph_accepts = |c: char| c.is_ascii_alphanumeric() || "._-'".contains(c);
    if let Some(c) = local.chars().find(|&c| !graph_accepts(c)) {
        return Err(BrokenNicknameRule::Character {
            local: local.to_owned(),
            c,
        });
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err(BrokenNicknameRule::Dots {
            local: local.to_owned(),
        });
    }
    if local.ends_with(['-', '\'']) {
        return Err(BrokenNicknameRule::TrailingPunctuation {
            local: local.to_owned(),
        });
    }
    Ok(())
}

impl fmt::Display for MailNickname {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn normalize(token: &str) -> String {
    // Composed first: `ä` may arrive as `a` + U+0308 (text copied from some systems and
    // PDFs), and must still become `ae`.
    let lowered: String = token
        .trim()
        .trim_matches(['\'', '’'])
        .to_lowercase()
        .nfc()
        .collect();
    let spelled = lowered
        .replace('ä', "ae")
        .replace('ö', "oe")
        .replace('ü', "ue")
        .replace('ß', "ss");
    spelled
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .filter(char::is_ascii)
        .collect()
}

/// What one name gives the nickname: its normalized form with whitespace as dots, only
/// the characters Graph accepts, and no leading, trailing or doubled dots.
fn usable(name: &str) -> String {
    let mut part = String::new();
    for c in normalize(name).chars() {
        let c = if c.is_whitespace() { '.' } else { c };
        if !is_allowed(c) || (c == '.' && (part.is_empty() || part.ends_with('.'))) {
            continue;
        }
        part.push(c);
    }
    part.trim_end_matches('.').to_owned()
}

/// Characters both a mail nickname and a UPN local part accept (letters, digits, `.-_'`).
fn is_allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '\'')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nick(first: &str, last: &str) -> Result<String, NicknameError> {
        MailNickname::derive(
            &PersonName::parse(first).unwrap(),
            &PersonName::parse(last).unwrap(),
        )
        .map(|n| n.as_str().to_owned())
    }

    #[test]
    fn derivation_follows_the_original() {
        let cases = [
            ("Ada", "Lovelace", "ada.lovelace"),
            ("Jörg", "Müller", "joerg.mueller"),
            ("Ärger", "Straße", "aerger.strasse"),
            ("José", "Núñez", "jose.nunez"),
            ("Anna Maria", "von Ostheim", "anna.maria.von.ostheim"),
            ("'Ada'", "O'Brien", "ada.o'brien"),
            ("Łukasz", "Żółć", "ukasz.zoc"),
            ("Li", "王", "li"),
        ];
        for (first, last, expected) in cases {
            match nick(first, last) {
                Ok(got) => assert_eq!(got, expected, "{first} {last}"),
                Err(_) => assert!(expected.len() < 3, "{first} {last} should give {expected}"),
            }
        }
    }

    #[test]
    fn decomposed_umlauts_are_spelled_out_like_composed_ones() {
        // Found by the `nickname` fuzz target: this gave `jorg.muller`.
        assert_eq!(
            nick("Jo\u{308}rg", "MU\u{308}LLER").unwrap(),
            "joerg.mueller"
        );
        assert_eq!(
            nick("A\u{308}rger", "Go\u{308}del").unwrap(),
            "aerger.goedel"
        );
    }

    #[test]
    fn compatibility_forms_give_the_nickname_of_the_plain_letters() {
        // Unfolded, these letters are non-ASCII and were dropped: no username at all.
        for (first, last) in [
            ("Ｍａｘ", "Ｍｕｓｔｅｒ"),
            ("𝐌𝐚𝐱", "𝐌𝐮𝐬𝐭𝐞𝐫"),
            ("Ⓜax", "Ⓜuster"),
        ] {
            assert_eq!(nick(first, last).unwrap(), "max.muster", "{first} {last}");
        }
        assert_eq!(nick("ｊöｒｇ", "ﬁscher").unwrap(), "joerg.fischer");
    }

    #[test]
    fn dots_are_never_leading_trailing_or_doubled() {
        assert_eq!(nick("王 Ada", "..Lovelace.").unwrap(), "ada.lovelace");
        assert_eq!(nick("A  .  B", "C").unwrap(), "a.b.c");
    }

    #[test]
    fn characters_graph_refuses_are_dropped() {
        assert_eq!(
            nick("Ada (Dr.)", "Love@lace;\"<x>\"").unwrap(),
            "ada.dr.lovelacex"
        );
    }

    #[test]
    fn names_leaving_fewer_than_three_characters_are_refused() {
        let unusable = |first_unusable, last_unusable| NicknameError {
            first_unusable,
            last_unusable,
        };
        assert_eq!(nick("李", "王"), Err(unusable(true, true)));
        assert_eq!(nick("A", "王"), Err(unusable(false, true)));
        assert_eq!(nick("王", "Li"), Err(unusable(true, false)));
        assert!(nick("A", "B").is_ok(), "a.b has three characters");
    }

    #[test]
    fn long_names_are_cut_to_leave_room_for_a_number() {
        let n = nick(&"a".repeat(64), &"b".repeat(64)).unwrap();
        assert_eq!(n.len(), MailNickname::MAX_CHARS);
        assert!(!n.ends_with('.'));
    }

    #[test]
    fn a_cut_never_ends_in_a_hyphen_dot_or_apostrophe() {
        for cut_at in 50..=MailNickname::MAX_CHARS + 1 {
            for mark in ["-", " ", "'", "-'", "' -"] {
                let first = format!("{}{mark}b", "a".repeat(cut_at));
                if first.chars().count() > PersonName::MAX_CHARS {
                    continue;
                }
                let n = nick(&first, "Lovelace").unwrap();
                assert!(!n.ends_with(['-', '.', '\'']), "{first:?} gave {n:?}");
                assert!(n.len() <= MailNickname::MAX_CHARS, "{n:?}");
            }
        }
    }

    #[test]
    fn the_highest_collision_number_still_fits_graphs_limit() {
        let n = MailNickname::derive(
            &PersonName::parse(&"a".repeat(64)).unwrap(),
            &PersonName::parse(&"b".repeat(64)).unwrap(),
        )
        .unwrap();
        assert_eq!(n.numbered(MailNickname::MAX_COLLISION_NUMBER).len(), 64);
        assert_eq!(n.check(), Ok(()));
        // A nickname one character longer would push `.1000` past 64: the check says so.
        let longer = MailNickname(format!("{}x", n.as_str()));
        assert!(longer.check().is_err());
    }

    #[test]
    fn numbering_starts_at_two() {
        let n = MailNickname::derive(
            &PersonName::parse("Ada").unwrap(),
            &PersonName::parse("Lovelace").unwrap(),
        )
        .unwrap();
        assert_eq!(n.numbered(1), "ada.lovelace");
        assert_eq!(n.numbered(2), "ada.lovelace.2");
    }

    #[test]
    fn the_check_names_each_broken_rule() {
        let broken = |s: &str| MailNickname(s.to_owned()).check();
        assert_eq!(broken("ada.lovelace"), Ok(()));
        let cases = [
            ("ab", "2 characters"),
            (&"a".repeat(60), "60 characters, not 3..=59"),
            ("ada@lovelace", "'@'"),
            ("ada.lovelacé", "'é'"),
            ("ada..lovelace", "dot"),
            (".ada", "dot"),
            ("ada.", "dot"),
            ("ada-", "hyphen"),
            ("ada'", "apostrophe"),
        ];
        for (nickname, rule) in cases {
            let err = broken(nickname).expect_err(nickname).to_string();
            assert!(err.contains(rule), "{nickname:?}: {err}");
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Mostly Latin letters, with the characters derivation treats specially.
        fn latin_char() -> impl Strategy<Value = char> {
            prop_oneof![
                4 => proptest::char::range('a', 'z'),
                2 => proptest::char::range('A', 'Z'),
                3 => proptest::sample::select(vec![
                    'ä', 'ö', 'ü', 'ß', 'Ä', 'ẞ', 'é', 'ñ', 'Ł', 'ø', 'İ', 'ﬁ', '½', '’', '\'',
                    '.', ' ', '\u{a0}', '\u{3000}', '-', '_', '@', '(', '"', '\u{308}',
                ]),
            ]
        }

        /// Words of one script each, as the names the form accepts are (a word mixing
        /// scripts is refused): mostly Latin, now and then Han, or any characters at all.
        fn raw_name() -> impl Strategy<Value = String> {
            let word = prop_oneof![
                8 => proptest::collection::vec(latin_char(), 1..16),
                1 => proptest::collection::vec(proptest::char::range('\u{4E00}', '\u{9FFF}'), 1..3),
                1 => proptest::collection::vec(any::<char>(), 1..3),
            ];
            proptest::collection::vec(word, 1..5).prop_map(|words| {
                let words: Vec<String> = words.into_iter().map(String::from_iter).collect();
                words
                    .join(" ")
                    .chars()
                    .take(PersonName::MAX_CHARS)
                    .collect()
            })
        }

        fn whitespace() -> impl Strategy<Value = String> {
            proptest::collection::vec(
                proptest::sample::select(vec![' ', '\t', '\u{a0}', '\u{2003}', '\u{3000}']),
                0..3,
            )
            .prop_map(String::from_iter)
        }

        proptest! {
            #[test]
            fn every_nickname_is_one_graph_accepts_and_stable(
                first in raw_name(),
                last in raw_name(),
                before in whitespace(),
                after in whitespace(),
            ) {
                let (Ok(first_name), Ok(last_name)) =
                    (PersonName::parse(&first), PersonName::parse(&last))
                else {
                    return Err(TestCaseError::reject("a name the form refuses"));
                };
                let derived = MailNickname::derive(&first_name, &last_name);
                if let Ok(nickname) = &derived {
                    prop_assert_eq!(nickname.check(), Ok(()));
                }
                prop_assert_eq!(&MailNickname::derive(&first_name, &last_name), &derived);
                let padded = (
                    PersonName::parse(&format!("{before}{first}{after}")).unwrap(),
                    PersonName::parse(&format!("{after}{last}{before}")).unwrap(),
                );
                prop_assert_eq!(&MailNickname::derive(&padded.0, &padded.1), &derived);
                // Canonically equivalent spellings (`ä` or `a` + U+0308) are one name.
                let spelled = |form: fn(&str) -> String| {
                    Some((PersonName::parse(&form(&first)).ok()?, PersonName::parse(&form(&last)).ok()?))
                };
                if let (Some(nfc), Some(nfd)) = (
                    spelled(|s| s.nfc().collect()),
                    spelled(|s| s.nfd().collect()),
                ) {
                    prop_assert_eq!(
                        MailNickname::derive(&nfc.0, &nfc.1),
                        MailNickname::derive(&nfd.0, &nfd.1)
                    );
                }
            }
        }
    }
}
