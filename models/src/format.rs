//! How numbers read wherever people see them (the dashboard's pages, the
//! bot): one place, so "$8.45" is the same everywhere (issue 16).
//!
//! - Money: cents from a dollar up (`$8.45`, `$12,345.68`), four significant
//!   digits below a dollar (`$0.002816`, `$0.50`); the exact value, all eight
//!   decimals, is [`Usd`]'s `Display` (`$8.44869104`), for titles and CSV.
//! - Counts: grouped (`12,737,946`), or compact for cards (`12.7M`).
//! - Shares: `42.1%`, `<0.1%` for a tiny non-zero share.

use crate::Usd;

/// Units of [`Usd`] in one dollar.
const DOLLAR: u64 = 100_000_000;
/// Units in one cent.
const CENT: u64 = 1_000_000;

/// Money as people read it (see the module's documentation).
pub fn money(amount: Usd) -> String {
    let sign = if amount.units() < 0 { "-" } else { "" };
    let abs = amount.units().unsigned_abs();
    if abs == 0 {
        return "$0.00".to_owned();
    }
    if abs < DOLLAR {
        // Four significant digits, rounded half up, in whole units.
        let digits = abs.ilog10() + 1;
        let drop = digits.saturating_sub(4);
        let step = 10u64.pow(drop);
        let rounded = (abs + step / 2) / step * step;
        if rounded < DOLLAR {
            let decimals = format!("{rounded:08}");
            let trimmed = decimals.trim_end_matches('0');
            let shown = if trimmed.len() < 2 {
                &decimals[..2]
            } else {
                trimmed
            };
            return format!("{sign}$0.{shown}");
        }
    }
    let cents = (abs + CENT / 2) / CENT;
    format!("{sign}${}.{:02}", grouped(cents / 100), cents % 100)
}

/// A count with its thousands grouped: `12,737,946`.
pub fn integer(n: i64) -> String {
    let sign = if n < 0 { "-" } else { "" };
    format!("{sign}{}", grouped(n.unsigned_abs()))
}

/// A count for a card: `950`, `12.7k`, `12.7M`, `3.1B` (one decimal, none when
/// it is zero); the exact value belongs in the title ([`integer`]).
pub fn compact(n: i64) -> String {
    let sign = if n < 0 { "-" } else { "" };
    let abs = n.unsigned_abs();
    if abs < 1_000 {
        return format!("{sign}{abs}");
    }
    let units = [(1_000_000_000u64, "B"), (1_000_000, "M"), (1_000, "k")];
    let mut chosen = units.len() - 1;
    for (i, (size, _)) in units.iter().enumerate() {
        if abs >= *size {
            chosen = i;
            break;
        }
    }
    // Tenths of the unit, rounded half up; 999,950 reads 1M, not 1000k.
    let (size, mut suffix) = units[chosen];
    let mut tenths = (abs * 10 + size / 2) / size;
    if tenths >= 10_000 && chosen > 0 {
        let (bigger, bigger_suffix) = units[chosen - 1];
        tenths = (abs * 10 + bigger / 2) / bigger;
        suffix = bigger_suffix;
    }
    if tenths.is_multiple_of(10) {
        format!("{sign}{}{suffix}", grouped(tenths / 10))
    } else {
        format!("{sign}{}.{}{suffix}", grouped(tenths / 10), tenths % 10)
    }
}

/// `part`'s share of `whole`: `42.1%`; `<0.1%` when it is not zero but
/// rounds to it; `–` when the whole is zero.
pub fn percent(part: f64, whole: f64) -> String {
    if whole == 0.0 || !part.is_finite() || !whole.is_finite() {
        return "–".to_owned();
    }
    let share = part * 100.0 / whole;
    if share != 0.0 && share.abs() < 0.05 {
        return "<0.1%".to_owned();
    }
    let text = format!("{share:.1}");
    format!("{}%", text.strip_suffix(".0").unwrap_or(&text))
}

/// How long ago `then` was, seen at `now` (Unix seconds): `just now`,
/// `5 min ago`, `3 h ago`, `yesterday`, `4 days ago`, then the date
/// (`2026-01-03`); a time in the future (a clock ahead) reads `just now`.
pub fn relative(then: i64, now: i64) -> String {
    let ago = now - then;
    if ago < 60 {
        return "just now".to_owned();
    }
    if ago < 3_600 {
        return format!("{} min ago", ago / 60);
    }
    if ago < 86_400 {
        return format!("{} h ago", ago / 3_600);
    }
    let days = crate::Day::of_unix(now).0 - crate::Day::of_unix(then).0;
    match days {
        ..=1 => "yesterday".to_owned(),
        2..=6 => format!("{days} days ago"),
        _ => crate::Day::of_unix(then).to_string(),
    }
}

/// `part`'s share of `whole` in money, as [`percent`] writes it.
pub fn share(part: Usd, whole: Usd) -> String {
    percent(part.units() as f64, whole.units() as f64)
}

fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(dollars: f64) -> Usd {
        Usd((dollars * 1e8).round() as i64)
    }

    #[test]
    fn money_reads_as_people_read_it() {
        assert_eq!(money(Usd(844_869_104)), "$8.45");
        assert_eq!(money(Usd(844_869_104)).len(), 5);
        assert_eq!(money(Usd::ZERO), "$0.00");
        assert_eq!(money(Usd(281_600)), "$0.002816");
        assert_eq!(money(Usd(281_649)), "$0.002816");
        assert_eq!(money(Usd(281_650)), "$0.002817", "half up");
        // The edges the issue names.
        assert_eq!(money(usd(0.005)), "$0.005");
        assert_eq!(money(Usd(1)), "$0.00000001");
        assert_eq!(money(usd(1e7)), "$10,000,000.00");
        // Below a dollar, at least two decimals; rounding up to a dollar reads as one.
        assert_eq!(money(usd(0.5)), "$0.50");
        assert_eq!(money(Usd(99_999_999)), "$1.00");
        assert_eq!(money(Usd(99_995_000)), "$1.00");
        assert_eq!(money(Usd(99_950_000)), "$0.9995");
        assert_eq!(money(usd(1.005)), "$1.01", "half a cent rounds up");
        assert_eq!(money(usd(12_345.678)), "$12,345.68");
        assert_eq!(money(usd(-2.5)), "-$2.50");
        assert_eq!(money(Usd(-281_600)), "-$0.002816");
        assert_eq!(money(Usd(i64::MAX)), "$92,233,720,368.55");
    }

    #[test]
    fn counts_are_grouped_or_compact() {
        assert_eq!(integer(12_737_946), "12,737,946");
        assert_eq!(integer(999), "999");
        assert_eq!(integer(1_000), "1,000");
        assert_eq!(integer(-1_234_567), "-1,234,567");
        assert_eq!(compact(950), "950");
        assert_eq!(compact(1_000), "1k");
        assert_eq!(compact(12_737_946), "12.7M");
        assert_eq!(compact(12_750), "12.8k");
        assert_eq!(compact(999_950), "1M", "not 1000k");
        assert_eq!(compact(999_949), "999.9k");
        assert_eq!(compact(3_100_000_000), "3.1B");
        assert_eq!(compact(-12_500), "-12.5k");
        assert_eq!(compact(1_500_000_000_000), "1,500B");
    }

    #[test]
    fn times_read_relative_to_now() {
        let now = 1_772_000_000; // 2026-02-25 06:13:20 UTC
        assert_eq!(relative(now, now), "just now");
        assert_eq!(relative(now + 500, now), "just now");
        assert_eq!(relative(now - 59, now), "just now");
        assert_eq!(relative(now - 60, now), "1 min ago");
        assert_eq!(relative(now - 3_599, now), "59 min ago");
        assert_eq!(relative(now - 3_600, now), "1 h ago");
        assert_eq!(relative(now - 86_399, now), "23 h ago");
        assert_eq!(relative(now - 86_400, now), "yesterday");
        assert_eq!(relative(now - 3 * 86_400, now), "3 days ago");
        assert_eq!(relative(now - 7 * 86_400, now), "2026-02-18");
    }

    #[test]
    fn shares_are_percentages() {
        assert_eq!(percent(1.0, 3.0), "33.3%");
        assert_eq!(percent(1.0, 2.0), "50%");
        assert_eq!(percent(0.0, 2.0), "0%");
        assert_eq!(percent(1.0, 10_000.0), "<0.1%");
        assert_eq!(percent(1.0, 0.0), "–");
        assert_eq!(percent(2.0, 2.0), "100%");
    }
}
