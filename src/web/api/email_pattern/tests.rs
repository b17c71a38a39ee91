//! The published patterns say exactly what the service decides: checked against the
//! service's own parsing and filter, with the `regex` crate reading the patterns (they keep
//! to the syntax Rust, ECMA-262 and Python's `re` read alike).

use proptest::prelude::*;
use regex::Regex;

use super::*;
use crate::domain::Mailbox;

const PLUS: SubaddressSeparator = SubaddressSeparator::PLUS;

fn compiled(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|err| panic!("{pattern}: {err}"))
}

fn translated(
    filter: &str,
    separator: SubaddressSeparator,
) -> Result<Option<String>, Untranslatable> {
    super::filter(&EmailFilter::parse(filter).unwrap(), separator)
}

/// Whether the service takes `address` (its syntax, then `filter` on its mailbox).
fn taken(address: &str, filter: &EmailFilter, separator: SubaddressSeparator) -> bool {
    Mailbox::parse(address, separator).is_ok_and(|mailbox| filter.is_match(&mailbox))
}

#[test]
fn the_syntax_takes_what_the_service_takes() {
    let syntax = compiled(&syntax(PLUS));
    for address in [
        "ada@uni.example",
        "Ada.Lovelace@Uni.Example",
        "st42+tag@stud.uni.example",
        "a++@x.de",
        "a+.b@x.de",
        "o'neil@x.de",
        "x@1.2.3.4",
    ] {
        assert!(syntax.is_match(address), "{address}");
        assert!(Mailbox::parse(address, PLUS).is_ok(), "{address}");
    }
    for address in [
        "+tag@x.de",
        "a.+b@x.de",
        ".a@x.de",
        "a..b@x.de",
        "a.@x.de",
        "\"a b\"@x.de",
        "a(c)@x.de",
        "a@x",
        "a@[1.2.3.4]",
        "a@-x.de",
        "a@x-.de",
        "a@x..de",
        "a b@x.de",
        "a@b@x.de",
    ] {
        assert!(!syntax.is_match(address), "{address}");
        assert!(Mailbox::parse(address, PLUS).is_err(), "{address}");
    }
    // The service trims what surrounds an address; the schema (and `format: email`) says
    // an address has nothing around it.
    assert!(!syntax.is_match(" a@x.de\n"));
    assert!(Mailbox::parse(" a@x.de\n", PLUS).is_ok());
    // Nor does it describe domain labels that are not host names, as `format: email` does.
    assert!(!syntax.is_match("a@x_y.de"));
    assert!(Mailbox::parse("a@x_y.de", PLUS).is_ok());
}

#[test]
fn without_sub_addressing_a_separator_is_an_ordinary_character() {
    let syntax = compiled(&syntax(SubaddressSeparator::OFF));
    assert!(syntax.is_match("+tag@x.de"));
    assert!(Mailbox::parse("+tag@x.de", SubaddressSeparator::OFF).is_ok());
}

#[test]
fn a_filter_is_anchored_ignores_case_and_lets_the_tag_in() {
    let pattern = translated(r"st[0-9]+@stud\.uni\.example", PLUS)
        .unwrap()
        .unwrap();
    let published = compiled(&pattern);
    for address in [
        "st42@stud.uni.example",
        "ST42@Stud.Uni.Example",
        "st4+x.y@stud.uni.example",
    ] {
        assert!(published.is_match(address), "{pattern} {address}");
    }
    for address in [
        "xst42@stud.uni.example",
        "st42@stud.uni.example.evil.org",
        "st@stud.uni.example",
        "st42@studXuni.example",
    ] {
        assert!(!published.is_match(address), "{pattern} {address}");
    }
}

#[test]
fn filters_that_do_not_translate_say_why() {
    let cases = [
        (r".*\.edu", PLUS, Untranslatable::NoAt),
        (r"(?:a|b@x)@y\.de", PLUS, Untranslatable::NoAt),
        (r"\bst@x\.de", PLUS, Untranslatable::Assertion),
        (r"(?m)^st@x\.de", PLUS, Untranslatable::Assertion),
        (r".*@universität\.de", PLUS, Untranslatable::NonAscii),
        (r"a\+b@x\.de", PLUS, Untranslatable::MatchesNothing),
        (r"ADA@x\.de", PLUS, Untranslatable::MatchesNothing),
    ];
    for (filter, separator, why) in cases {
        assert_eq!(translated(filter, separator), Err(why), "{filter}");
    }
    // Without sub-addressing no `@` needs finding.
    assert!(translated(r".*\.edu", SubaddressSeparator::OFF).is_ok_and(|p| p.is_some()));
    assert_eq!(translated(".*", PLUS), Ok(None), "nothing to publish");
}

/// Filters an operator might write, each with every kind of node the translation knows.
const FILTERS: &[&str] = &[
    r"st[0-9]+@stud\.uni\.example",
    r".*@uni\.example",
    r"(?i)ADA@X\.ORG|b[a-c]*@y\.org",
    r"[a-z]+\.[a-z]+@(?:stud\.)?uni\.example",
    r"(st|ma)[0-9]{2,4}@uni\.example",
    r"^a.*@x\.de$",
    r"[^s].{0,3}@(x|y)\.de",
    r"\w+@[[:alpha:]]\.de",
    r"(?-u:\w)+@x\.de",
];

fn address() -> impl Strategy<Value = String> {
    let local = "[a-cmstA-CST0-9._+!-]{1,8}";
    let domains = prop::sample::select(vec![
        "uni.example",
        "stud.uni.example",
        "Uni.Example",
        "x.org",
        "y.org",
        "x.de",
        "Y.de",
        "a.de",
        "a.edu",
    ]);
    (local, domains).prop_map(|(local, domain)| format!("{local}@{domain}"))
}

/// Each separator's syntax, and each filter with its published pattern, compiled once.
struct Published {
    separator: SubaddressSeparator,
    syntax: Regex,
    filters: Vec<(EmailFilter, Regex)>,
}

static PUBLISHED: std::sync::LazyLock<Vec<Published>> = std::sync::LazyLock::new(|| {
    [PLUS, SubaddressSeparator::OFF]
        .into_iter()
        .map(|separator| Published {
            separator,
            syntax: compiled(&syntax(separator)),
            filters: FILTERS
                .iter()
                .map(|source| {
                    let filter = EmailFilter::parse(source).unwrap();
                    let pattern = super::filter(&filter, separator).unwrap().unwrap();
                    (filter, compiled(&pattern))
                })
                .collect(),
        })
        .collect()
});

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn the_syntax_and_a_published_filter_decide_as_the_service_does(address in address()) {
        for published in PUBLISHED.iter() {
            let separator = published.separator;
            let syntactic = published.syntax.is_match(&address);
            prop_assert_eq!(syntactic, Mailbox::parse(&address, separator).is_ok(), "{}", address);
            for (filter, pattern) in &published.filters {
                prop_assert_eq!(
                    syntactic && pattern.is_match(&address),
                    taken(&address, filter, separator),
                    "{} {} {}", filter.as_pattern(), pattern.as_str(), address
                );
            }
        }
    }
}
