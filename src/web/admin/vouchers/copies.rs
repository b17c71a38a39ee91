//! How many cards a voucher's sheet prints: a course hands one code to many people, each
//! gets a card to take home.

use crate::store::Voucher;

/// The number of cards on a voucher's sheet, from 1 to [`Copies::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Copies(u32);

/// The `copies` field holds no number from 1 to [`Copies::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the number of copies is not a whole number from 1 to {max}", max = Copies::MAX)]
pub struct CopiesError;

impl Copies {
    /// The most cards one sheet prints: four A4 pages of twelve.
    pub const MAX: u32 = 48;
    /// The most cards a sheet prints unless asked for more: one A4 page.
    const DEFAULT_CAP: u32 = 12;

    /// The default for `voucher`: one card for each use left, at most a page of them; a
    /// page without a limit; one for a voucher with no use left (to show what it was).
    pub fn default_for(voucher: &Voucher) -> Copies {
        let left = voucher
            .terms
            .uses
            .map_or(Self::DEFAULT_CAP, |uses| uses.saturating_sub(voucher.used));
        Copies(left.clamp(1, Self::DEFAULT_CAP))
    }

    /// The posted field: absent gives `voucher`'s default; anything but a whole number
    /// from 1 to [`Copies::MAX`] is refused.
    pub fn from_field(field: Option<&str>, voucher: &Voucher) -> Result<Copies, CopiesError> {
        let Some(text) = field else {
            return Ok(Self::default_for(voucher));
        };
        text.trim()
            .parse::<u32>()
            .ok()
            .filter(|copies| (1..=Self::MAX).contains(copies))
            .map(Copies)
            .ok_or(CopiesError)
    }

    /// How many cards.
    pub fn get(self) -> u32 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{VoucherCode, VoucherTerms};

    fn voucher(uses: Option<u32>, used: u32) -> Voucher {
        let terms = VoucherTerms {
            name: "Course".into(),
            note: String::new(),
            uses,
            valid_until: None,
            licences: None,
            groups: None,
            email_filter: None,
            lifetime_days: None,
            ends_on: None,
        };
        let code = VoucherCode::generate().expect("a code");
        Voucher {
            used,
            ..Voucher::new(code, terms, 0)
        }
    }

    #[test]
    fn the_default_is_the_uses_left_at_most_a_page_and_at_least_one() {
        assert_eq!(Copies::default_for(&voucher(Some(5), 2)).get(), 3);
        assert_eq!(Copies::default_for(&voucher(Some(30), 0)).get(), 12);
        assert_eq!(Copies::default_for(&voucher(None, 100)).get(), 12);
        assert_eq!(Copies::default_for(&voucher(Some(5), 5)).get(), 1);
    }

    #[test]
    fn a_posted_number_is_taken_from_1_to_48_and_nothing_else() {
        let v = voucher(Some(5), 0);
        assert_eq!(Copies::from_field(None, &v), Ok(Copies(5)));
        assert_eq!(Copies::from_field(Some(" 48 "), &v), Ok(Copies(48)));
        assert_eq!(Copies::from_field(Some("1"), &v), Ok(Copies(1)));
        for bad in ["0", "49", "", "-1", "3.5", "many"] {
            assert_eq!(Copies::from_field(Some(bad), &v), Err(CopiesError), "{bad}");
        }
    }
}
