use std::fmt;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;
use unicode_properties::{GeneralCategory, GeneralCategoryGroup, UnicodeGeneralCategory};
use unicode_security::general_security_profile::IdentifierType;
use unicode_security::{GeneralSecurityProfile, MixedScript};

/// A first or family name as PRODUCT.md §3 allows it: NFKC-folded and trimmed, 1–64
/// characters, at least one letter, and nothing that hides or disguises text (control,
/// format, filler characters, stacks of combining marks, words mixing scripts). It becomes
/// Entra's displayName, so what it shows must be what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

/// Why a name is not accepted: one variant per rule, so the form can say which.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PersonNameError {
    #[error("the name is empty")]
    Empty,
    #[error("the name is longer than {} characters", PersonName::MAX_CHARS)]
    TooLong,
    /// Control characters and line or paragraph separators.
    #[error("the name contains control characters")]
    ControlCharacters,
    /// Unicode category Cf: zero-width characters, direction marks, the soft hyphen, tag
    /// characters and the like, which are invisible or reorder what is shown.
    #[error("the name contains format characters")]
    FormatCharacters,
    /// Fillers (Hangul U+3164 …) and the other default-ignorable code points, which render
    /// as nothing, and unassigned code points.
    #[error("the name contains filler or default-ignorable characters")]
    Fillers,
    #[error(
        "the name stacks more than {} combining marks on one character",
        PersonName::MAX_COMBINING_RUN
    )]
    TooManyCombiningMarks,
    #[error("the name contains no letter")]
    NoLetter,
    /// A word whose letters come from scripts that are not used together (Latin with
    /// Cyrillic, say): the way one name is dressed up as another.
    #[error("a word of the name mixes scripts")]
    MixedScripts,
}

impl PersonName {
    pub const MAX_CHARS: usize = 64;
    /// The most combining marks allowed in a row (counted decomposed, so `ễ` is `e` and two
    /// marks). Vietnamese and Yoruba stack two, pointed Hebrew and Tibetan three; one more
    /// is margin. Text stacked to spill over the lines around it uses dozens.
    pub const MAX_COMBINING_RUN: usize = 4;

    /// Folds the name to NFKC, trims it and checks it against every rule, in the order the
    /// variants of [`PersonNameError`] list them; the first rule broken is the one reported.
    ///
    /// The folding turns compatibility forms of letters — fullwidth `Ｍａｘ`, mathematical
    /// `𝐌𝐚𝐱`, circled `Ⓜax`, ligatures — into the letters people mean (`Max`), so that the
    /// display name and the nickname hold what a reader sees. The rules judge the folded
    /// name: one that folds into something refused is refused.
    pub fn parse(raw: &str) -> Result<Self, PersonNameError> {
        let folded: String = raw.nfkc().collect();
        let trimmed = folded.trim();
        if trimmed.is_empty() {
            return Err(PersonNameError::Empty);
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(PersonNameError::TooLong);
        }
        let category = |c: char| c.general_category();
        // Control characters (CR/LF among them) could split mail headers.
        if trimmed.chars().any(|c| {
            matches!(
                category(c),
                GeneralCategory::Control
                    | GeneralCategory::LineSeparator
                    | GeneralCategory::ParagraphSeparator
            )
        }) {
            return Err(PersonNameError::ControlCharacters);
        }
        if trimmed
            .chars()
            .any(|c| category(c) == GeneralCategory::Format)
        {
            return Err(PersonNameError::FormatCharacters);
        }
        // Unassigned code points go too: Unicode reserves some as default-ignorable, and
        // what a later version puts in the others is unknown.
        if trimmed.chars().any(|c| {
            c.identifier_type() == Some(IdentifierType::Default_Ignorable)
                || category(c) == GeneralCategory::Unassigned
        }) {
            return Err(PersonNameError::Fillers);
        }
        if longest_combining_run(trimmed) > Self::MAX_COMBINING_RUN {
            return Err(PersonNameError::TooManyCombiningMarks);
        }
        if !trimmed
            .chars()
            .any(|c| c.general_category_group() == GeneralCategoryGroup::Letter)
        {
            return Err(PersonNameError::NoLetter);
        }
        // Per word: `Ada 李` is two scripts in two words, as real names can be; only a word
        // whose resolved script set is empty is mixed. Common and Inherited characters
        // (digits, `'`, `-`, accents) go with any script, and Han with Kana or Hangul is
        // one writing system (UTS #39).
        if trimmed
            .split_whitespace()
            .any(|word| !word.is_single_script())
        {
            return Err(PersonNameError::MixedScripts);
        }
        Ok(PersonName(trimmed.to_owned()))
    }

    /// The name as entered, folded and trimmed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The longest run of combining marks in the canonically decomposed text.
fn longest_combining_run(text: &str) -> usize {
    let (mut longest, mut run) = (0, 0);
    for c in text.nfd() {
        run = if is_combining_mark(c) { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

impl AsRef<str> for PersonName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(cases: &[&str], rule: PersonNameError) {
        for raw in cases {
            assert_eq!(PersonName::parse(raw), Err(rule.clone()), "{raw:?}");
        }
    }

    #[test]
    fn names_are_trimmed() {
        assert_eq!(PersonName::parse("  Ada ").unwrap().as_str(), "Ada");
    }

    #[test]
    fn empty_and_blank_names_are_rejected() {
        refused(&["", " \t ", "\u{3000}"], PersonNameError::Empty);
    }

    #[test]
    fn sixty_four_characters_pass_and_sixty_five_do_not() {
        assert!(PersonName::parse(&"ä".repeat(64)).is_ok());
        assert_eq!(
            PersonName::parse(&"ä".repeat(65)),
            Err(PersonNameError::TooLong)
        );
    }

    #[test]
    fn control_characters_are_rejected() {
        refused(
            &[
                "Ada\r\nBcc: x@y",
                "Ada\u{0}",
                "Ad\u{7f}a",
                "Ad\u{85}a",
                "A\u{2028}da",
            ],
            PersonNameError::ControlCharacters,
        );
    }

    #[test]
    fn format_characters_are_rejected() {
        refused(
            &[
                // zero-width space, joiner and non-joiner, byte order mark
                "Ad\u{200B}a",
                "Ad\u{200D}a",
                "Ad\u{200C}a",
                "\u{FEFF}Ada",
                // direction marks, overrides and isolates
                "Ada\u{200E}",
                "Ada\u{200F}",
                "Ada\u{061C}",
                "Ada\u{202E}",
                "\u{2066}Ada\u{2069}",
                // soft hyphen, word joiner, tag characters
                "Love\u{AD}lace",
                "Ada\u{2060}",
                "Ada\u{E0041}\u{E007F}",
            ],
            PersonNameError::FormatCharacters,
        );
    }

    #[test]
    fn fillers_and_other_ignorable_code_points_are_rejected() {
        refused(
            &[
                // the four Hangul fillers, alone (a blank-looking name) and inside a name
                "\u{3164}",
                "Ada\u{3164}",
                "\u{115F}",
                "\u{1160}Ada",
                "Ada\u{FFA0}",
                // combining grapheme joiner, a variation selector, Khmer inherent vowel
                "Ad\u{34F}a",
                "Ada\u{FE0F}",
                "Ada\u{17B4}",
                // reserved (default-ignorable) and unassigned code points, a noncharacter
                "Ada\u{FFF0}",
                "Ada\u{E0080}",
                "Ada\u{FFFF}",
            ],
            PersonNameError::Fillers,
        );
    }

    #[test]
    fn long_runs_of_combining_marks_are_rejected() {
        let run = |n| format!("Ada{}", "\u{301}".repeat(n));
        refused(
            &[&run(60), &run(PersonName::MAX_COMBINING_RUN + 1)],
            PersonNameError::TooManyCombiningMarks,
        );
        assert!(PersonName::parse(&run(PersonName::MAX_COMBINING_RUN)).is_ok());
        // Precomposed letters count as their decomposition: `ễ` is e + 2 marks, and three
        // more marks on it make 5.
        refused(
            &["Nguy\u{1EC5}\u{301}\u{301}\u{301}n"],
            PersonNameError::TooManyCombiningMarks,
        );
    }

    #[test]
    fn a_name_needs_a_letter() {
        refused(
            &["123", "!!!", "- '", "1.2", "☺"],
            PersonNameError::NoLetter,
        );
    }

    #[test]
    fn a_word_mixing_scripts_is_rejected() {
        refused(
            &[
                // Cyrillic А and а in a Latin name, Greek ο in another
                "\u{410}d\u{430}",
                "\u{410}d\u{430} Smith",
                "J\u{3BF}hn",
                "Hans-\u{420}eter",
                "李Ada",
            ],
            PersonNameError::MixedScripts,
        );
    }

    #[test]
    fn compatibility_forms_of_letters_fold_to_the_plain_letters() {
        for (raw, folded) in [
            ("Ｍａｘ", "Max"),
            ("𝐌𝐚𝐱", "Max"),
            ("Ⓜax", "Max"),
            ("𝑀𝑎𝑥", "Max"),
            ("𝕄𝕒𝕩", "Max"),
            ("\u{3000}Ｍａｘ\u{3000}", "Max"),
            ("ﬁona", "fiona"),
            ("ＭＡＸ ｍüller", "MAX müller"),
            // Already plain, or canonical only: unchanged (NFKC composes `e` + U+0301).
            ("José", "José"),
            ("Jose\u{301}", "José"),
            ("Nguyễn Đặng", "Nguyễn Đặng"),
            ("D’Angelo", "D’Angelo"),
        ] {
            assert_eq!(
                PersonName::parse(raw).map(|name| name.as_str().to_owned()),
                Ok(folded.to_owned()),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn circled_letters_alone_are_a_name_once_folded() {
        // Circled letters are symbols (So), not letters; folded they are letters.
        assert_eq!(PersonName::parse("ⒶⒷⒸ").unwrap().as_str(), "ABC");
    }

    #[test]
    fn a_name_that_folds_into_something_refused_is_refused() {
        // Mathematical letters belong to no script, so this word passed as Cyrillic; folded,
        // it is a Latin A among Cyrillic letters.
        refused(
            &["𝐀\u{431}\u{432}", "Ａ\u{431}\u{432}"],
            PersonNameError::MixedScripts,
        );
        // One character that folds into eighteen: four of them are 72.
        refused(&["\u{FDFA}".repeat(4).as_str()], PersonNameError::TooLong);
        // Halfwidth Hangul filler folds into the Hangul filler.
        refused(&["Ada\u{FFA0}"], PersonNameError::Fillers);
        refused(&["①②③", "⑴"], PersonNameError::NoLetter);
    }

    #[test]
    fn real_names_are_accepted() {
        for raw in [
            "José",
            "Ångström",
            "Seán O'Brien",
            "Nguyễn Đặng",
            // Vietnamese decomposed: two marks stacked on one letter
            "Nguye\u{302}\u{303}n",
            "Øster",
            "Łukasz",
            "Çelik",
            "Hans-Peter",
            "Anna Maria",
            "D’Angelo",
            "Jr. 3rd",
            "Ọlá\u{301}",
            // Other scripts pass here and are refused later only for giving no username.
            "Анна",
            "Ελένη",
            "李 Ada",
            "山田たろう",
            "김민준",
            "שׁ\u{5BC}\u{5B8}לוֹם",
        ] {
            let parsed = PersonName::parse(raw);
            assert!(parsed.is_ok(), "{raw:?}: {parsed:?}");
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Letters of real names, the characters the rules are about, and any character.
        fn name_char() -> impl Strategy<Value = char> {
            prop_oneof![
                6 => proptest::char::range('a', 'z'),
                2 => proptest::sample::select(vec![
                    'é', 'ñ', 'Ł', 'ø', 'ễ', ' ', '-', '\'', '\u{301}', '\u{323}', 'а', 'ο', '李',
                ]),
                2 => proptest::sample::select(vec![
                    '\u{200B}', '\u{200D}', '\u{FEFF}', '\u{200E}', '\u{200F}', '\u{061C}',
                    '\u{AD}', '\u{E0041}', '\u{3164}', '\u{115F}', '\u{FFA0}', '\u{34F}',
                    '\u{FE0F}', '\u{2028}', '\u{85}',
                ]),
                2 => any::<char>(),
            ]
        }

        fn latin_word() -> impl Strategy<Value = String> {
            proptest::collection::vec(
                prop_oneof![
                    proptest::char::range('a', 'z'),
                    proptest::char::range('A', 'Z'),
                    proptest::sample::select(vec!['é', 'ñ', 'ø', 'Ł', '\'', '-']),
                ],
                1..12,
            )
            .prop_map(String::from_iter)
        }

        /// A letter of a script that never shares a word with Latin.
        fn foreign_letter() -> impl Strategy<Value = char> {
            prop_oneof![
                proptest::char::range('\u{410}', '\u{44F}'), // Cyrillic А…я
                proptest::char::range('\u{3B1}', '\u{3C9}'), // Greek α…ω
                proptest::char::range('\u{391}', '\u{3A1}'), // Greek Α…Ρ
                proptest::char::range('\u{5D0}', '\u{5EA}'), // Hebrew א…ת
            ]
        }

        proptest! {
            #[test]
            fn no_accepted_name_holds_a_hidden_character(
                raw in proptest::collection::vec(name_char(), 1..=64).prop_map(String::from_iter)
            ) {
                if let Ok(name) = PersonName::parse(&raw) {
                    for c in name.as_str().chars() {
                        prop_assert!(
                            !matches!(
                                c.general_category(),
                                GeneralCategory::Format
                                    | GeneralCategory::Control
                                    | GeneralCategory::Unassigned
                            ),
                            "{:?} holds {:?}", name, c
                        );
                        prop_assert_ne!(c.identifier_type(), Some(IdentifierType::Default_Ignorable));
                    }
                    prop_assert!(name.as_str().chars().any(char::is_alphabetic));
                    prop_assert_eq!(name.as_str().nfkc().collect::<String>(), name.as_str(), "not folded");
                    prop_assert!(longest_combining_run(name.as_str()) <= PersonName::MAX_COMBINING_RUN);
                }
            }

            #[test]
            fn a_latin_word_with_a_letter_of_another_script_is_refused(
                word in latin_word(),
                foreign in foreign_letter(),
                at in any::<prop::sample::Index>(),
                before in proptest::option::of(latin_word()),
            ) {
                // Latin letters on both sides or one: the word keeps at least one.
                let mut chars: Vec<char> = word.chars().collect();
                if !chars.iter().any(|c| c.is_alphabetic()) {
                    chars.push('a');
                }
                chars.insert(at.index(chars.len() + 1), foreign);
                let mixed = String::from_iter(chars);
                let raw = match before {
                    Some(before) => format!("{before} {mixed}"),
                    None => mixed,
                };
                prop_assert_eq!(PersonName::parse(&raw), Err(PersonNameError::MixedScripts), "{:?}", raw);
            }
        }
    }
}
