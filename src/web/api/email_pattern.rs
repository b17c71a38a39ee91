//! The `email` property's patterns in the OpenAPI document: the address syntax the service
//! takes, and `EMAIL_ADDRESS_FILTER` — both as they apply to the address as typed.
//!
//! Three dialects meet here. The filter is Rust `regex`, matched whole against the mailbox
//! (the address lower-cased, without its sub-address tag); a JSON Schema `pattern` is
//! ECMA-262, unanchored, and matched against the string as sent; schemathesis draws values
//! with Python's `re`. So a filter is translated, not copied: it is parsed, every character
//! it can match becomes the set of ASCII characters that lower-case to one, the tag is let in
//! before its `@`, and the result is written with only what the three read alike (classes of
//! ASCII characters, groups, alternatives, counted repetition, `^` and `$`), anchored.
//! Addresses outside ASCII are not described (`format: email` refuses them too); a filter
//! that does not translate is not published, and the field's description says so.

use regex_syntax::hir::{Class, Hir, HirKind, Look};

use crate::domain::{EmailFilter, SubaddressSeparator};

/// Why a filter is not published.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Untranslatable {
    #[error("it does not parse")]
    Syntax,
    #[error("it names characters outside ASCII")]
    NonAscii,
    #[error("it uses an assertion other than `^` and `$`")]
    Assertion,
    #[error("a sub-address tag is allowed, and its `@` is not a plain character of its own")]
    NoAt,
    #[error("no address can match it")]
    MatchesNothing,
}

/// A set of ASCII characters.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Chars([bool; 128]);

impl Chars {
    const NONE: Chars = Chars([false; 128]);

    fn of(chars: &str) -> Chars {
        let mut set = Chars::NONE;
        for c in chars.bytes().filter(u8::is_ascii) {
            set.0[usize::from(c)] = true;
        }
        set
    }

    fn union(mut self, other: Chars) -> Chars {
        for (mine, theirs) in self.0.iter_mut().zip(other.0) {
            *mine |= theirs;
        }
        self
    }

    fn without(mut self, c: char) -> Chars {
        if c.is_ascii() {
            self.0[c as usize] = false;
        }
        self
    }

    /// The characters of a typed address that stand for one of these in its mailbox, which
    /// is lower-cased.
    fn as_typed(self) -> Chars {
        let mut typed = Chars::NONE;
        for c in 0..128u8 {
            typed.0[usize::from(c)] = self.0[usize::from(c.to_ascii_lowercase())];
        }
        typed
    }

    fn is_empty(&self) -> bool {
        !self.0.contains(&true)
    }

    /// The set as a class (or a single character), in the syntax all three dialects share.
    fn written(&self) -> String {
        let members: Vec<u8> = (0..128u8).filter(|c| self.0[usize::from(*c)]).collect();
        if let [only] = members[..] {
            return escaped(only);
        }
        let mut class = String::from("[");
        let mut i = 0;
        while i < members.len() {
            let start = members[i];
            let mut end = start;
            while i + 1 < members.len() && members[i + 1] == end + 1 {
                i += 1;
                end += 1;
            }
            class.push_str(&escaped(start));
            if end > start + 1 {
                class.push('-');
            }
            if end > start {
                class.push_str(&escaped(end));
            }
            i += 1;
        }
        class.push(']');
        class
    }
}

/// One character, written so that every dialect reads it literally, in a class or not: a
/// backslash only before syntax characters (ECMA-262's `u` mode allows no other), `\xHH` for
/// what is not printable.
fn escaped(c: u8) -> String {
    match c {
        b'^' | b'$' | b'\\' | b'.' | b'*' | b'+' | b'?' | b'(' | b')' | b'[' | b']' | b'{'
        | b'}' | b'|' | b'/' | b'-' => format!("\\{}", char::from(c)),
        0x21..=0x7e => char::from(c).to_string(),
        _ => format!("\\x{c:02x}"),
    }
}

/// The characters of an `atext` (RFC 5322): what an unquoted local part is made of.
const ATEXT: &str =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-";
const ALNUM: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// The addresses the service takes, as typed (`EmailAddress` and `Mailbox`): an unquoted
/// local part, whose part before a sub-address tag is itself a valid local part, and a
/// domain of at least two labels of up to 63 letters, digits and hyphens, starting and
/// ending with a letter or digit. (The service also takes the other `atext` characters in
/// a label, which `format: email` refuses; the schema keeps to host names.) Lengths are
/// the schema's `maxLength` and `format`.
pub fn syntax(separator: SubaddressSeparator) -> String {
    let atext = Chars::of(ATEXT).written();
    let label = {
        let alnum = Chars::of(ALNUM).written();
        let inner = Chars::of(ALNUM).union(Chars::of("-")).written();
        format!("{alnum}(?:{inner}{{0,61}}{alnum})?")
    };
    let local = match separator.as_char() {
        Some(separator) => {
            let untagged = Chars::of(ATEXT).without(separator).written();
            let separator = escaped(separator as u8);
            format!("{untagged}+(?:\\.{untagged}+)*(?:{separator}{atext}*(?:\\.{atext}+)*)?")
        }
        None => format!("{atext}+(?:\\.{atext}+)*"),
    };
    format!("^{local}@{label}(?:\\.{label})+$")
}

/// `filter` as a pattern on the address as typed; `Ok(None)` when it lets everything
/// through (then there is nothing to publish).
pub fn filter(
    filter: &EmailFilter,
    separator: SubaddressSeparator,
) -> Result<Option<String>, Untranslatable> {
    if filter.allows_everything() {
        return Ok(None);
    }
    let hir = regex_syntax::parse(filter.as_pattern()).map_err(|_| Untranslatable::Syntax)?;
    let translated = match separator.as_char() {
        Some(separator) => with_tag(&hir, separator)?,
        None => piece(&hir, Side::Whole)?.map(|piece| piece.text),
    };
    let translated = translated.ok_or(Untranslatable::MatchesNothing)?;
    Ok(Some(format!("^(?:{translated})$")))
}

/// Which part of the address a piece of the filter matches: the local part holds no
/// sub-address separator (the tag is gone) and no `@`, the domain no `@`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Whole,
    Local(char),
    Domain,
}

impl Side {
    fn narrowed(self, set: Chars) -> Chars {
        match self {
            Side::Whole => set,
            Side::Local(separator) => set.without('@').without(separator),
            Side::Domain => set.without('@'),
        }
    }
}

/// Translated text, and whether it is one atom (a quantifier may follow it unwrapped).
struct Piece {
    text: String,
    atom: bool,
}

impl Piece {
    fn grouped(text: String) -> Piece {
        Piece { text, atom: false }
    }

    fn atomic(&self) -> String {
        if self.atom {
            self.text.clone()
        } else {
            format!("(?:{})", self.text)
        }
    }
}

/// The filter with the tag let in before each alternative's `@`: every alternative must be
/// a sequence with one literal `@` of its own, which then is the mailbox's only `@`.
fn with_tag(hir: &Hir, separator: char) -> Result<Option<String>, Untranslatable> {
    let tag = format!("(?:{}[^@]*)?", escaped(separator as u8));
    let mut branches = Vec::new();
    for branch in alternatives(hir) {
        let mut items = Vec::new();
        sequence(branch, &mut items);
        let at = items.iter().position(|item| literal_has_at(item));
        let Some(at) = at else {
            return Err(Untranslatable::NoAt);
        };
        let HirKind::Literal(literal) = items[at].kind() else {
            return Err(Untranslatable::NoAt);
        };
        let text = std::str::from_utf8(&literal.0).map_err(|_| Untranslatable::NonAscii)?;
        let Some((before, after)) = text.split_once('@') else {
            return Err(Untranslatable::NoAt);
        };
        let (local_side, domain_side) = (Side::Local(separator), Side::Domain);
        let local = pieces(&items[..at], local_side)?.zip(chars(before, local_side)?);
        let domain = pieces(&items[at + 1..], domain_side)?.zip(chars(after, domain_side)?);
        if let (Some((local, before)), Some((domain, after))) = (local, domain) {
            branches.push(format!("{local}{before}{tag}@{after}{domain}"));
        }
    }
    Ok((!branches.is_empty()).then(|| branches.join("|")))
}

fn literal_has_at(hir: &Hir) -> bool {
    matches!(hir.kind(), HirKind::Literal(literal) if literal.0.contains(&b'@'))
}

/// The alternatives of `hir`, through groups.
fn alternatives(hir: &Hir) -> Vec<&Hir> {
    match hir.kind() {
        HirKind::Alternation(branches) => branches.iter().flat_map(alternatives).collect(),
        HirKind::Capture(capture) => alternatives(&capture.sub),
        _ => vec![hir],
    }
}

/// `hir` as a flat sequence, through groups.
fn sequence<'a>(hir: &'a Hir, items: &mut Vec<&'a Hir>) {
    match hir.kind() {
        HirKind::Concat(parts) => parts.iter().for_each(|part| sequence(part, items)),
        HirKind::Capture(capture) => sequence(&capture.sub, items),
        _ => items.push(hir),
    }
}

/// A sequence of pieces; `None` when one of them matches nothing.
fn pieces(items: &[&Hir], side: Side) -> Result<Option<String>, Untranslatable> {
    let mut text = String::new();
    for item in items {
        match piece(item, side)? {
            Some(piece) => text.push_str(&piece.text),
            None => return Ok(None),
        }
    }
    Ok(Some(text))
}

/// Literal text, character by character; `None` when a character never occurs there.
fn chars(text: &str, side: Side) -> Result<Option<String>, Untranslatable> {
    let mut written = String::new();
    for c in text.chars() {
        if !c.is_ascii() {
            return Err(Untranslatable::NonAscii);
        }
        let set = side.narrowed(Chars::of(&c.to_string())).as_typed();
        if set.is_empty() {
            return Ok(None);
        }
        written.push_str(&set.written());
    }
    Ok(Some(written))
}

/// One node of the filter; `None` when it matches nothing on this side.
fn piece(hir: &Hir, side: Side) -> Result<Option<Piece>, Untranslatable> {
    Ok(match hir.kind() {
        HirKind::Empty => Some(Piece::grouped(String::new())),
        HirKind::Literal(literal) => {
            let text = std::str::from_utf8(&literal.0).map_err(|_| Untranslatable::NonAscii)?;
            if text.contains('@') && side != Side::Whole {
                return Err(Untranslatable::NoAt);
            }
            let atom = text.chars().count() == 1;
            chars(text, side)?.map(|text| Piece { text, atom })
        }
        HirKind::Class(class) => {
            let set = side.narrowed(class_chars(class)).as_typed();
            (!set.is_empty()).then(|| Piece {
                text: set.written(),
                atom: true,
            })
        }
        HirKind::Look(Look::Start) => Some(Piece::grouped("^".into())),
        HirKind::Look(Look::End) => Some(Piece::grouped("$".into())),
        HirKind::Look(_) => return Err(Untranslatable::Assertion),
        HirKind::Repetition(repetition) => match piece(&repetition.sub, side)? {
            Some(sub) => {
                let count = match (repetition.min, repetition.max) {
                    (0, None) => "*".to_owned(),
                    (1, None) => "+".to_owned(),
                    (0, Some(1)) => "?".to_owned(),
                    (min, None) => format!("{{{min},}}"),
                    (min, Some(max)) if min == max => format!("{{{min}}}"),
                    (min, Some(max)) => format!("{{{min},{max}}}"),
                };
                Some(Piece::grouped(format!("{}{count}", sub.atomic())))
            }
            None if repetition.min == 0 => Some(Piece::grouped(String::new())),
            None => None,
        },
        HirKind::Capture(capture) => piece(&capture.sub, side)?,
        HirKind::Concat(parts) => {
            let mut text = String::new();
            for part in parts {
                match piece(part, side)? {
                    // Alternatives come grouped: nothing here needs a group of its own.
                    Some(part) => text.push_str(&part.text),
                    None => return Ok(None),
                }
            }
            Some(Piece::grouped(text))
        }
        HirKind::Alternation(branches) => {
            let mut live = Vec::new();
            for branch in branches {
                if let Some(branch) = piece(branch, side)? {
                    live.push(branch.text);
                }
            }
            (!live.is_empty()).then(|| Piece {
                text: format!("(?:{})", live.join("|")),
                atom: true,
            })
        }
    })
}

/// The ASCII characters a class holds.
fn class_chars(class: &Class) -> Chars {
    let mut set = Chars::NONE;
    let mut add = |start: u32, end: u32| {
        for c in start..=end.min(127) {
            set.0[c as usize] = true;
        }
    };
    match class {
        Class::Unicode(class) => class
            .ranges()
            .iter()
            .for_each(|range| add(range.start() as u32, range.end() as u32)),
        Class::Bytes(class) => class
            .ranges()
            .iter()
            .for_each(|range| add(range.start().into(), range.end().into())),
    }
    set
}

#[cfg(test)]
mod tests;
