//! UTC days: the store keys usage by days since 1970-01-01; people see ISO dates.

use crate::AppError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Days since 1970-01-01 (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Day(pub i64);

const SECS_PER_DAY: i64 = 86_400;

impl Day {
    /// The UTC day holding a Unix time in seconds.
    pub fn of_unix(secs: i64) -> Day {
        Day(secs.div_euclid(SECS_PER_DAY))
    }

    /// Midnight UTC at the start of the day, in Unix seconds.
    pub fn start_unix(self) -> i64 {
        self.0 * SECS_PER_DAY
    }

    /// From a civil date (proleptic Gregorian), Howard Hinnant's `days_from_civil`.
    pub fn from_ymd(year: i64, month: u32, day: u32) -> Option<Day> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        let y = if month <= 2 { year - 1 } else { year };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Some(Day(era * 146_097 + doe - 719_468))
    }

    /// The civil date (year, month, day).
    pub fn ymd(self) -> (i64, u32, u32) {
        let z = self.0 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let y = yoe + era * 400 + i64::from(m <= 2);
        (y, m, d)
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Result<Day, AppError> {
        let bad = || {
            AppError::bad_request(format!(
                "{text:?} is not a date; use YYYY-MM-DD, like 2026-03-31."
            ))
        };
        let mut parts = text.trim().splitn(3, '-');
        let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        if y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return Err(bad());
        }
        let y: i64 = y.parse().map_err(|_| bad())?;
        let m: u32 = m.parse().map_err(|_| bad())?;
        let d: u32 = d.parse().map_err(|_| bad())?;
        Day::from_ymd(y, m, d).ok_or_else(bad)
    }

    /// The first day of this day's month.
    pub fn month_start(self) -> Day {
        let (y, m, _) = self.ymd();
        Day::from_ymd(y, m, 1).unwrap_or(self)
    }

    /// The first day of the next month.
    pub fn next_month_start(self) -> Day {
        let (y, m, _) = self.ymd();
        let (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        Day::from_ymd(y, m, 1).unwrap_or(self)
    }

    /// Monday of this day's ISO week (1970-01-01 was a Thursday).
    pub fn week_start(self) -> Day {
        Day(self.0 - (self.0 + 3).rem_euclid(7))
    }
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

/// An inclusive range of UTC days; `None` ends are open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayRange {
    pub from: Option<Day>,
    pub to: Option<Day>,
}

/// The longest range analytics accept (two years and a day); longer is refused.
pub const MAX_RANGE_DAYS: i64 = 731;

impl DayRange {
    pub fn all() -> DayRange {
        DayRange::default()
    }

    pub fn between(from: Day, to: Day) -> DayRange {
        DayRange {
            from: Some(from),
            to: Some(to),
        }
    }

    /// Parses optional `YYYY-MM-DD` ends and checks the range.
    pub fn parse(from: Option<&str>, to: Option<&str>) -> Result<DayRange, AppError> {
        let from = from
            .filter(|s| !s.trim().is_empty())
            .map(Day::parse)
            .transpose()?;
        let to = to
            .filter(|s| !s.trim().is_empty())
            .map(Day::parse)
            .transpose()?;
        let range = DayRange { from, to };
        range.validate()?;
        Ok(range)
    }

    /// End before start, or more than [`MAX_RANGE_DAYS`] days, is a clear 400.
    pub fn validate(&self) -> Result<(), AppError> {
        if let (Some(from), Some(to)) = (self.from, self.to) {
            if to < from {
                return Err(AppError::bad_request(format!(
                    "The range ends ({to}) before it starts ({from})."
                )));
            }
            if to.0 - from.0 + 1 > MAX_RANGE_DAYS {
                return Err(AppError::bad_request(format!(
                    "The range spans {} days; pick at most {MAX_RANGE_DAYS} (two years).",
                    to.0 - from.0 + 1
                )));
            }
        }
        Ok(())
    }

    /// The ends as day numbers, open ends widened to the extremes (for SQL).
    pub fn bounds(&self) -> (i64, i64) {
        (
            self.from.map_or(i64::MIN / 4, |d| d.0),
            self.to.map_or(i64::MAX / 4, |d| d.0),
        )
    }
}

/// The costs page's one-click ranges, relative to today (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    Today,
    Days7,
    Days30,
    ThisMonth,
    LastMonth,
    ThisYear,
    All,
}

impl Preset {
    /// Every preset, in the order the page shows them.
    pub const ALL: [Preset; 7] = [
        Preset::Today,
        Preset::Days7,
        Preset::Days30,
        Preset::ThisMonth,
        Preset::LastMonth,
        Preset::ThisYear,
        Preset::All,
    ];

    /// The button's text.
    pub fn label(self) -> &'static str {
        match self {
            Preset::Today => "Today",
            Preset::Days7 => "7 days",
            Preset::Days30 => "30 days",
            Preset::ThisMonth => "This month",
            Preset::LastMonth => "Last month",
            Preset::ThisYear => "This year",
            Preset::All => "All",
        }
    }

    /// The days it covers (both ends included); `All` is open at both ends.
    pub fn range(self, today: Day) -> DayRange {
        let (y, _, _) = today.ymd();
        match self {
            Preset::Today => DayRange::between(today, today),
            Preset::Days7 => DayRange::between(Day(today.0 - 6), today),
            Preset::Days30 => DayRange::between(Day(today.0 - 29), today),
            Preset::ThisMonth => DayRange::between(today.month_start(), today),
            Preset::LastMonth => {
                let this = today.month_start();
                let last = Day(this.0 - 1);
                DayRange::between(last.month_start(), last)
            }
            Preset::ThisYear => DayRange::between(Day::from_ymd(y, 1, 1).unwrap_or(today), today),
            Preset::All => DayRange::all(),
        }
    }

    /// The preset a range is, if any (the first that matches: on the first of
    /// a month "This month" and "Today" are one day, and "Today" wins).
    pub fn matching(range: DayRange, today: Day) -> Option<Preset> {
        Preset::ALL.into_iter().find(|p| p.range(today) == range)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_cover_the_days_people_mean() {
        let d = |t: &str| Day::parse(t).unwrap();
        let today = d("2026-03-15");
        let r = |p: Preset| {
            let r = p.range(today);
            (r.from.map(|d| d.to_string()), r.to.map(|d| d.to_string()))
        };
        let both = |a: &str, b: &str| (Some(a.to_owned()), Some(b.to_owned()));
        assert_eq!(r(Preset::Today), both("2026-03-15", "2026-03-15"));
        assert_eq!(r(Preset::Days7), both("2026-03-09", "2026-03-15"));
        assert_eq!(r(Preset::Days30), both("2026-02-14", "2026-03-15"));
        assert_eq!(r(Preset::ThisMonth), both("2026-03-01", "2026-03-15"));
        assert_eq!(r(Preset::LastMonth), both("2026-02-01", "2026-02-28"));
        assert_eq!(r(Preset::ThisYear), both("2026-01-01", "2026-03-15"));
        assert_eq!(r(Preset::All), (None, None));
        // January's last month is December of the year before.
        let jan = Preset::LastMonth.range(d("2027-01-03"));
        assert_eq!(jan, DayRange::between(d("2026-12-01"), d("2026-12-31")));
        // A leap February.
        let mar = Preset::LastMonth.range(d("2028-03-31"));
        assert_eq!(mar, DayRange::between(d("2028-02-01"), d("2028-02-29")));
        for p in Preset::ALL {
            assert!(p.range(today).validate().is_ok(), "{p:?}");
        }
    }

    #[test]
    fn a_range_names_its_preset() {
        let today = Day::parse("2026-03-15").unwrap();
        for p in Preset::ALL {
            assert_eq!(Preset::matching(p.range(today), today), Some(p));
        }
        let first = Day::parse("2026-03-01").unwrap();
        assert_eq!(
            Preset::matching(Preset::ThisMonth.range(first), first),
            Some(Preset::Today)
        );
        let odd = DayRange::between(Day(today.0 - 3), today);
        assert_eq!(Preset::matching(odd, today), None);
    }

    #[test]
    fn civil_dates_round_trip() {
        assert_eq!(Day::from_ymd(1970, 1, 1), Some(Day(0)));
        assert_eq!(
            Day::from_ymd(2000, 3, 1).map(|d| d.to_string()).as_deref(),
            Some("2000-03-01")
        );
        for n in [-1000, -1, 0, 59, 365, 11_016, 20_000, 20_513, 100_000] {
            let (y, m, d) = Day(n).ymd();
            assert_eq!(Day::from_ymd(y, m, d), Some(Day(n)), "{n}");
        }
        assert_eq!(
            Day::from_ymd(2024, 2, 29).map(|d| d.ymd()),
            Some((2024, 2, 29))
        );
        assert_eq!(Day::from_ymd(2023, 2, 29), None);
        assert_eq!(Day::of_unix(86_399), Day(0));
        assert_eq!(Day::of_unix(-1), Day(-1));
    }

    #[test]
    fn parsing_and_ranges() {
        assert_eq!(
            Day::parse("2026-03-31").map(|d| d.to_string()).as_deref(),
            Ok("2026-03-31")
        );
        for bad in ["2026-3-31", "2026-02-30", "yesterday", "2026-03-31T00:00"] {
            assert!(Day::parse(bad).is_err(), "{bad}");
        }
        let backwards = DayRange::parse(Some("2026-03-02"), Some("2026-03-01")).unwrap_err();
        assert!(
            backwards.message().contains("before it starts"),
            "{backwards:?}"
        );
        let long = DayRange::parse(Some("2020-01-01"), Some("2026-01-01")).unwrap_err();
        assert!(long.message().contains("at most 731"), "{long:?}");
        assert!(DayRange::parse(None, Some("2026-01-01")).is_ok());
        assert_eq!(DayRange::parse(Some(""), None), Ok(DayRange::all()));
    }

    #[test]
    fn months_and_weeks() {
        let d = Day::parse("2026-12-15").unwrap_or(Day(0));
        assert_eq!(d.month_start().to_string(), "2026-12-01");
        assert_eq!(d.next_month_start().to_string(), "2027-01-01");
        // 2026-11-25 is a Wednesday; its week starts Monday 2026-11-23.
        let wed = Day::parse("2026-11-25").unwrap_or(Day(0));
        assert_eq!(wed.week_start().to_string(), "2026-11-23");
        assert_eq!(
            Day::parse("2026-11-23")
                .unwrap_or(Day(0))
                .week_start()
                .to_string(),
            "2026-11-23"
        );
    }
}
