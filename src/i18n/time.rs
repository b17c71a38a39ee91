//! Moments written for people: the date and time of day in UTC, ordered and worded as the
//! language writes them (the catalogue holds the pattern).

use std::time::{Duration, UNIX_EPOCH};

use super::Tr;

impl Tr {
    /// `unix_seconds` as a date and time in UTC, e.g. `2026-12-10 14:00 UTC` in English and
    /// `10.12.2026, 14:00 UTC` in German. UTC because the server knows nobody's time
    /// zone; the page turns it into the reader's own with JavaScript.
    pub fn utc_time(&self, unix_seconds: u64) -> String {
        let moment = UNIX_EPOCH + Duration::from_secs(unix_seconds);
        // `2026-12-10T14:00:00Z`: every part at a fixed place.
        let stamp = humantime::format_rfc3339_seconds(moment).to_string();
        let part = |from: usize, to: usize| stamp.get(from..to).unwrap_or("");
        // Translators: a date and time in UTC. {year} has four digits; {month}, {day}, {hour}
        // (0–23) and {minute} two each. Reorder and add words as your language writes dates.
        self.tf(
            "{year}-{month}-{day} {hour}:{minute} UTC",
            &[
                ("year", part(0, 4)),
                ("month", part(5, 7)),
                ("day", part(8, 10)),
                ("hour", part(11, 13)),
                ("minute", part(14, 16)),
            ],
        )
    }
}

/// `unix_seconds` as RFC 3339 (`2026-12-10T14:00:00Z`), for `<time datetime>`.
pub fn rfc3339(unix_seconds: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(unix_seconds)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Catalogs;

    #[test]
    fn a_moment_is_written_in_utc_the_way_each_language_writes_dates() {
        let catalogs = Catalogs::load(None, "en").unwrap();
        // 2026-12-10T09:05:00Z
        let moment = 1_796_893_500;
        assert_eq!(
            catalogs.get("en").unwrap().utc_time(moment),
            "2026-12-10 09:05 UTC"
        );
        assert_eq!(
            catalogs.get("de").unwrap().utc_time(moment),
            "10.12.2026, 09:05 UTC"
        );
        assert_eq!(rfc3339(moment), "2026-12-10T09:05:00Z");
    }
}
