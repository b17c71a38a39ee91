//! A voucher's code: 80 random bits that a person can read off a sheet of paper, say over
//! the phone and type, so made of symbols that cannot be mistaken for one another.

use std::fmt;

use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The 32 symbols of a code: digits and upper-case letters without `0`/`O`, `1`/`I`, so
/// no two look alike in print or in handwriting (`L` stays: without `1` nothing is like
/// it). 32 symbols carry 5 bits each.
const ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// A voucher code, as `7KQ4-MX2C-9HPR-TWZE` shows it: 16 symbols of [`ALPHABET`] (80 random
/// bits) in four groups. Typed in any letter case, with or without the hyphens or spaces
/// between the groups, it is the same code. Its `Debug` form shows only the first group, so
/// a code that reaches a log line by accident is not whole there.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VoucherCode(String);

/// Why a text is not a voucher code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VoucherCodeError {
    #[error("the voucher code is empty")]
    Empty,
    #[error("a voucher code has {} characters, not {found}", VoucherCode::SYMBOLS)]
    Length { found: usize },
    #[error("a voucher code has no {0:?}")]
    Symbol(char),
    #[error("no random numbers available for a voucher code")]
    Random,
}

impl VoucherCode {
    /// Symbols in a code: 16 × 5 = 80 bits.
    pub const SYMBOLS: usize = 16;
    /// Symbols per group when shown.
    const GROUP: usize = 4;
    /// The longest input worth reading: the grouped form with generous spacing.
    const MAX_INPUT: usize = 64;

    /// Reads a code as a person typed it: letter case, hyphens and white space do not count.
    pub fn parse(raw: &str) -> Result<Self, VoucherCodeError> {
        if raw.chars().count() > Self::MAX_INPUT {
            return Err(VoucherCodeError::Length {
                found: raw.chars().count(),
            });
        }
        let symbols: String = raw
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if symbols.is_empty() {
            return Err(VoucherCodeError::Empty);
        }
        if let Some(bad) = symbols
            .chars()
            .find(|c| !c.is_ascii() || !ALPHABET.contains(&(*c as u8)))
        {
            return Err(VoucherCodeError::Symbol(bad));
        }
        if symbols.len() != Self::SYMBOLS {
            return Err(VoucherCodeError::Length {
                found: symbols.len(),
            });
        }
        Ok(VoucherCode(symbols))
    }

    /// A new code from the system's random numbers.
    pub fn generate() -> Result<Self, VoucherCodeError> {
        let mut bytes = [0u8; 10];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| VoucherCodeError::Random)?;
        Ok(Self::from_bits(bytes))
    }

    /// The code whose 80 bits are `bytes`, five bits a symbol.
    fn from_bits(bytes: [u8; 10]) -> Self {
        let bits = bytes
            .iter()
            .fold(0u128, |bits, byte| (bits << 8) | u128::from(*byte));
        let symbols = (0..Self::SYMBOLS)
            .rev()
            .map(|i| char::from(ALPHABET[((bits >> (5 * i)) & 31) as usize]))
            .collect();
        VoucherCode(symbols)
    }

    /// The 16 symbols without separators: how the store keys the voucher.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first group and an ellipsis (`7KQ4…`): enough to tell vouchers apart in a log or
    /// a listing for operators, far too little to use (16 of 80 bits).
    pub fn redacted(&self) -> String {
        format!("{}…", &self.0[..Self::GROUP])
    }
}

impl fmt::Display for VoucherCode {
    /// The grouped form people read and type: `7KQ4-MX2C-9HPR-TWZE`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, group) in self.0.as_bytes().chunks(Self::GROUP).enumerate() {
            if i > 0 {
                f.write_str("-")?;
            }
            f.write_str(std::str::from_utf8(group).map_err(|_| fmt::Error)?)?;
        }
        Ok(())
    }
}

impl fmt::Debug for VoucherCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VoucherCode({})", self.redacted())
    }
}

impl Serialize for VoucherCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for VoucherCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        VoucherCode::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_code_is_sixteen_symbols_of_the_alphabet_shown_in_four_groups() {
        let code = VoucherCode::generate().unwrap();
        assert_eq!(code.as_str().len(), 16);
        assert!(code.as_str().bytes().all(|b| ALPHABET.contains(&b)));
        let shown = code.to_string();
        assert_eq!(shown.len(), 19);
        assert_eq!(shown.split('-').count(), 4);
        assert_eq!(VoucherCode::parse(&shown).unwrap(), code);
    }

    #[test]
    fn every_bit_reaches_the_code() {
        // 80 bits, 5 per symbol: all zero bits are the first symbol sixteen times, all one
        // bits the last, and a single bit moves exactly one symbol.
        assert_eq!(VoucherCode::from_bits([0; 10]).as_str(), "2222222222222222");
        assert_eq!(
            VoucherCode::from_bits([0xff; 10]).as_str(),
            "ZZZZZZZZZZZZZZZZ"
        );
        let mut last = [0; 10];
        last[9] = 1;
        assert_eq!(VoucherCode::from_bits(last).as_str(), "2222222222222223");
        let mut first = [0; 10];
        first[0] = 0x80;
        assert_eq!(VoucherCode::from_bits(first).as_str(), "J222222222222222");
    }

    #[test]
    fn codes_differ() {
        let codes: std::collections::HashSet<_> = (0..1000)
            .map(|_| VoucherCode::generate().unwrap())
            .collect();
        assert_eq!(codes.len(), 1000);
    }

    #[test]
    fn case_hyphens_and_spaces_do_not_count() {
        let code = VoucherCode::parse("7KQ4-MX2C-9HPR-TWZE").unwrap();
        for typed in [
            "7kq4-mx2c-9hpr-twze",
            "7KQ4MX2C9HPRTWZE",
            " 7kq4 mx2c 9hpr twze ",
            "7KQ4 - MX2C - 9HPR - TWZE",
        ] {
            assert_eq!(VoucherCode::parse(typed).unwrap(), code, "{typed}");
        }
    }

    #[test]
    fn each_rejection_rule() {
        let cases = [
            ("", VoucherCodeError::Empty),
            (" - ", VoucherCodeError::Empty),
            ("7KQ4-MX2C-9HPR", VoucherCodeError::Length { found: 12 }),
            (
                "7KQ4-MX2C-9HPR-TWZE-A",
                VoucherCodeError::Length { found: 17 },
            ),
            // Confusable symbols are not in the alphabet at all.
            ("0KQ4-MX2C-9HPR-TWZE", VoucherCodeError::Symbol('0')),
            ("OKQ4-MX2C-9HPR-TWZE", VoucherCodeError::Symbol('O')),
            ("1KQ4-MX2C-9HPR-TWZE", VoucherCodeError::Symbol('1')),
            ("iKQ4-MX2C-9HPR-TWZE", VoucherCodeError::Symbol('I')),
            ("ÄKQ4-MX2C-9HPR-TWZE", VoucherCodeError::Symbol('Ä')),
            ("7KQ4_MX2C_9HPR_TWZE", VoucherCodeError::Symbol('_')),
        ];
        for (raw, expected) in cases {
            assert_eq!(VoucherCode::parse(raw), Err(expected), "{raw:?}");
        }
        let long = "7".repeat(100);
        assert!(matches!(
            VoucherCode::parse(&long),
            Err(VoucherCodeError::Length { found: 100 })
        ));
    }

    #[test]
    fn debug_shows_only_the_first_group() {
        let code = VoucherCode::parse("7KQ4-MX2C-9HPR-TWZE").unwrap();
        assert_eq!(format!("{code:?}"), "VoucherCode(7KQ4…)");
        assert_eq!(code.redacted(), "7KQ4…");
    }

    #[test]
    fn stored_as_the_sixteen_symbols_and_read_back_checked() {
        let code = VoucherCode::parse("7kq4-mx2c-9hpr-twze").unwrap();
        assert_eq!(
            serde_json::to_string(&code).unwrap(),
            r#""7KQ4MX2C9HPRTWZE""#
        );
        let back: VoucherCode = serde_json::from_str(r#""7KQ4MX2C9HPRTWZE""#).unwrap();
        assert_eq!(back, code);
        assert!(serde_json::from_str::<VoucherCode>(r#""nope""#).is_err());
    }
}
