//! A calendar day (UTC), as operators write and read dates: `2027-03-01`.
//!
//! Accounts end, lifecycle actions fall due, and vouchers stop on days; the store keeps
//! Unix seconds (and a voucher's days as `YYYY-MM-DD` text). This type converts between the
//! two without a calendar crate (the civil-date arithmetic is Howard Hinnant's, exact for
//! the proleptic Gregorian calendar). One type for every day: a voucher's last valid day,
//! the end date it gives accounts, a lifecycle run's `--as-of` and the day an account ends.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Seconds in a day (UTC has no leap seconds in Unix time).
pub const DAY_SECS: u64 = 86_400;

/// One day of the calendar, in UTC. Shown and stored as `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day {
    /// Days since 1970-01-01.
    days: i64,
}

/// Why a text is not a day.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DayError {
    #[error("`{0}` is not a date: write it as YYYY-MM-DD, e.g. 2027-03-01")]
    Format(String),
    #[error("`{0}` is not a day of the calendar (YYYY-MM-DD, from 1970-01-01 on)")]
    NoSuchDay(String),
}

impl Day {
    /// `YYYY-MM-DD`, a real date from 1970 on.
    pub fn parse(raw: &str) -> Result<Self, DayError> {
        let text = raw.trim();
        let format = || DayError::Format(text.to_owned());
        let mut parts = text.splitn(3, '-');
        let mut next = |digits: usize| {
            parts
                .next()
                .filter(|part| part.len() == digits && part.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|part| part.parse::<i64>().ok())
                .ok_or_else(format)
        };
        let (year, month, day) = (next(4)?, next(2)?, next(2)?);
        if year < 1970 || !(1..=12).contains(&month) || day < 1 || day > days_in(year, month) {
            return Err(DayError::NoSuchDay(text.to_owned()));
        }
        Ok(Day {
            days: days_from_civil(year, month, day),
        })
    }

    /// The day a Unix time falls on.
    pub fn of(unix: u64) -> Self {
        Day {
            days: i64::try_from(unix / DAY_SECS).unwrap_or(i64::MAX),
        }
    }

    /// Its first second (00:00:00 UTC), in Unix seconds.
    pub fn start(self) -> u64 {
        u64::try_from(self.days)
            .unwrap_or(0)
            .saturating_mul(DAY_SECS)
    }

    /// Its last second (23:59:59 UTC): what is due on this day is due by then.
    pub fn end(self) -> u64 {
        self.start() + DAY_SECS - 1
    }

    /// The first second after it: what lasts until this day (a voucher valid until it, an
    /// account whose voucher ends it on it) lasts until then.
    pub fn after(self) -> u64 {
        self.plus(1).start()
    }

    /// Days since 1970-01-01 (a day's number, e.g. for "run once a day").
    pub fn number(self) -> i64 {
        self.days
    }

    /// The day `days` later.
    pub fn plus(self, days: i64) -> Self {
        Day {
            days: self.days + days,
        }
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day) = civil_from_days(self.days);
        write!(f, "{year:04}-{month:02}-{day:02}")
    }
}

impl Serialize for Day {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Day::parse(&raw).map_err(serde::de::Error::custom)
    }
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_is_read_and_written_as_iso_8601() {
        let day = Day::parse("2027-03-01").unwrap();
        assert_eq!(day.to_string(), "2027-03-01");
        // `date -u -d 2027-03-01 +%s`
        assert_eq!(day.start(), 1_803_859_200);
        assert_eq!(day.end(), 1_803_859_200 + 86_399);
        assert_eq!(Day::of(day.end()), day);
        assert_eq!(Day::of(day.end() + 1).to_string(), "2027-03-02");
    }

    #[test]
    fn leap_days_and_month_ends_are_counted() {
        assert_eq!(
            Day::parse("2028-02-29").unwrap().plus(1).to_string(),
            "2028-03-01"
        );
        assert_eq!(
            Day::parse("2027-12-31").unwrap().plus(1).to_string(),
            "2028-01-01"
        );
        assert_eq!(Day::of(0).to_string(), "1970-01-01");
        assert_eq!(
            Day::parse(" 2000-02-29 ").unwrap().to_string(),
            "2000-02-29"
        );
    }

    #[test]
    fn anything_but_a_real_date_is_refused_with_the_format() {
        for bad in [
            "",
            "2027-3-1",
            "01.03.2027",
            "2027-02-29",
            "2100-02-29",
            "2027-13-01",
            "2027-04-31",
            "2027-00-10",
            "1969-12-31",
            "2027-03-01T00:00:00Z",
            "+027-03-01",
        ] {
            let err = Day::parse(bad).unwrap_err().to_string();
            assert!(err.contains("YYYY-MM-DD"), "{bad}: {err}");
        }
    }

    #[test]
    fn known_days_have_their_unix_times() {
        let cases = [
            ("1970-01-01", 0),
            ("2000-02-29", 951_782_400),
            ("2027-03-31", 1_806_451_200),
        ];
        for (text, seconds) in cases {
            let day = Day::parse(text).unwrap();
            assert_eq!(day.start(), seconds, "{text}");
            assert_eq!(day.after(), seconds + 86_400, "{text}");
            assert_eq!(day.to_string(), text);
            assert_eq!(Day::of(seconds + 86_399), day);
        }
    }

    #[test]
    fn a_wrong_shape_and_an_impossible_day_are_told_apart() {
        for bad in [
            "",
            "2027",
            "2027-3-31",
            "27-03-31",
            "2027/03/31",
            "2027-03-31T00",
        ] {
            assert!(matches!(Day::parse(bad), Err(DayError::Format(_))), "{bad}");
        }
        for impossible in [
            "2027-02-29",
            "2027-13-01",
            "2027-04-31",
            "2027-00-10",
            "1969-12-31",
        ] {
            assert!(
                matches!(Day::parse(impossible), Err(DayError::NoSuchDay(_))),
                "{impossible}"
            );
        }
    }

    #[test]
    fn stored_as_text() {
        let day = Day::parse("2027-03-31").unwrap();
        assert_eq!(serde_json::to_string(&day).unwrap(), r#""2027-03-31""#);
        assert_eq!(serde_json::from_str::<Day>(r#""2027-03-31""#).unwrap(), day);
        assert!(serde_json::from_str::<Day>(r#""2027-02-30""#).is_err());
    }

    #[test]
    fn every_day_of_four_centuries_goes_there_and_back() {
        let first = Day::parse("1970-01-01").unwrap();
        for n in 0..146_097 {
            let day = first.plus(n);
            assert_eq!(Day::parse(&day.to_string()).unwrap(), day);
        }
    }
}
