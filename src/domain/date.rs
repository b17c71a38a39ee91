//! A calendar day (UTC), as operators write one on the command line: `2027-03-31`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A day of the proleptic Gregorian calendar, counted in UTC. Shown and stored as
/// `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date {
    /// Days since 1970-01-01.
    days: i64,
}

/// Why a text is not a date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error("`{0}` is not a date: write it as YYYY-MM-DD, e.g. 2027-03-31")]
    Format(String),
    #[error("`{0}` is not a day of the calendar")]
    NoSuchDay(String),
}

const SECONDS_PER_DAY: i64 = 86_400;

impl Date {
    /// Reads `YYYY-MM-DD` (years 1970 to 9999).
    pub fn parse(raw: &str) -> Result<Self, DateError> {
        let raw = raw.trim();
        let format = || DateError::Format(raw.to_owned());
        let parts: Vec<&str> = raw.split('-').collect();
        let [year, month, day] = parts.as_slice() else {
            return Err(format());
        };
        let number = |text: &str, digits: usize| -> Result<i64, DateError> {
            if text.len() != digits || !text.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format());
            }
            text.parse().map_err(|_| format())
        };
        let (year, month, day) = (number(year, 4)?, number(month, 2)?, number(day, 2)?);
        if year < 1970 || !(1..=12).contains(&month) || day < 1 || day > days_in(year, month) {
            return Err(DateError::NoSuchDay(raw.to_owned()));
        }
        Ok(Date {
            days: days_from_civil(year, month, day),
        })
    }

    /// The day (UTC) in which the Unix time `seconds` falls.
    pub fn of_unix(seconds: u64) -> Self {
        Date {
            days: i64::try_from(seconds).unwrap_or(i64::MAX) / SECONDS_PER_DAY,
        }
    }

    /// The first second of the day (Unix time).
    pub fn start_unix(self) -> u64 {
        u64::try_from(self.days * SECONDS_PER_DAY).unwrap_or(0)
    }

    /// The first second after the day: a voucher valid until this date is valid before it.
    pub fn end_unix(self) -> u64 {
        self.add_days(1).start_unix()
    }

    /// The day `days` later.
    pub fn add_days(self, days: u32) -> Self {
        Date {
            days: self.days + i64::from(days),
        }
    }

    /// (year, month, day).
    fn civil(self) -> (i64, i64, i64) {
        civil_from_days(self.days)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day) = self.civil();
        write!(f, "{year:04}-{month:02}-{day:02}")
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Date::parse(&raw).map_err(serde::de::Error::custom)
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a civil date (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The civil date of a day count (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_days_have_their_unix_times() {
        let cases = [
            ("1970-01-01", 0),
            ("2000-02-29", 951_782_400),
            ("2027-03-31", 1_806_451_200),
        ];
        for (text, seconds) in cases {
            let date = Date::parse(text).unwrap();
            assert_eq!(date.start_unix(), seconds, "{text}");
            assert_eq!(date.end_unix(), seconds + 86_400, "{text}");
            assert_eq!(date.to_string(), text);
            assert_eq!(Date::of_unix(seconds + 86_399), date);
        }
    }

    #[test]
    fn every_day_of_four_centuries_reads_back() {
        let mut date = Date::parse("1970-01-01").unwrap();
        for _ in 0..146_097 {
            assert_eq!(Date::parse(&date.to_string()).unwrap(), date);
            date = date.add_days(1);
        }
        assert_eq!(date.to_string(), "2370-01-01");
    }

    #[test]
    fn each_rejection_rule() {
        for bad in [
            "",
            "2027",
            "2027-3-31",
            "27-03-31",
            "2027/03/31",
            "2027-03-31T00",
        ] {
            assert!(
                matches!(Date::parse(bad), Err(DateError::Format(_))),
                "{bad}"
            );
        }
        for impossible in [
            "2027-02-29",
            "2027-13-01",
            "2027-04-31",
            "2027-00-10",
            "1969-12-31",
        ] {
            assert!(
                matches!(Date::parse(impossible), Err(DateError::NoSuchDay(_))),
                "{impossible}"
            );
        }
        assert!(Date::parse("2028-02-29").is_ok());
    }

    #[test]
    fn stored_as_text() {
        let date = Date::parse("2027-03-31").unwrap();
        assert_eq!(serde_json::to_string(&date).unwrap(), r#""2027-03-31""#);
        assert_eq!(
            serde_json::from_str::<Date>(r#""2027-03-31""#).unwrap(),
            date
        );
    }
}
