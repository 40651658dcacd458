//! Money: an integer count of 1e-8 USD (the seed's DECIMAL(18,8)). Never f64.

use crate::AppError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Sub};

/// An amount in units of 1e-8 USD.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Usd(pub i64);

impl Usd {
    /// Units per dollar.
    pub const SCALE: i64 = 100_000_000;
    pub const ZERO: Usd = Usd(0);

    pub fn units(self) -> i64 {
        self.0
    }

    /// Whole dollars (for literals in tests and defaults).
    pub const fn dollars(d: i64) -> Usd {
        Usd(d * Self::SCALE)
    }

    /// Parses a decimal dollar amount such as `0.30`, `2.5` or `1e-8`-free
    /// `0.00000001`, exactly; more than 8 decimals is an error, not a rounding.
    pub fn parse(text: &str) -> Result<Usd, AppError> {
        let bad = || {
            AppError::bad_request(format!(
                "{text:?} is not an amount of dollars (use digits with at most 8 decimals, like 0.30)."
            ))
        };
        let t = text.trim().trim_start_matches('$');
        let (negative, t) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t),
        };
        let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
        if whole.is_empty() && frac.is_empty() {
            return Err(bad());
        }
        if !whole.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
            || frac.len() > 8
        {
            return Err(bad());
        }
        let whole: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| bad())?
        };
        let frac_units: i64 = if frac.is_empty() {
            0
        } else {
            format!("{frac:0<8}").parse().map_err(|_| bad())?
        };
        let units = whole
            .checked_mul(Self::SCALE)
            .and_then(|w| w.checked_add(frac_units))
            .ok_or_else(bad)?;
        Ok(Usd(if negative { -units } else { units }))
    }

    /// `tokens` at `price_per_million`, rounded to the nearest unit, halves up.
    ///
    /// Exact: computed in 128-bit integers, so no token count or price can
    /// overflow or lose precision before the one rounding.
    pub fn for_tokens(tokens: i64, price_per_million: Usd) -> Usd {
        let numerator = i128::from(tokens) * i128::from(price_per_million.0);
        let million = 1_000_000_i128;
        let rounded = if numerator >= 0 {
            (numerator + million / 2) / million
        } else {
            (numerator - million / 2) / million
        };
        Usd(i64::try_from(rounded).unwrap_or(i64::MAX))
    }

    /// The share of `self` in `whole`, in percent with two decimals (for display).
    pub fn percent_of(self, whole: Usd) -> Option<f64> {
        (whole.0 != 0).then(|| (self.0 as f64) * 100.0 / (whole.0 as f64))
    }
}

impl fmt::Display for Usd {
    /// `$1.23456789` trimmed to at least 2 decimals: `$0.30`, `$0.00012345`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let scale = Self::SCALE.unsigned_abs();
        let whole = abs / scale;
        let frac = format!("{:08}", abs % scale);
        let trimmed = frac.trim_end_matches('0');
        let frac = if trimmed.len() < 2 {
            &frac[..2]
        } else {
            trimmed
        };
        write!(f, "{sign}${whole}.{frac}")
    }
}

impl Usd {
    /// The amount as a plain decimal string without `$` (for CSV and JSON consumers).
    pub fn to_decimal_string(self) -> String {
        let s = self.to_string();
        s.replacen('$', "", 1)
    }
}

impl Add for Usd {
    type Output = Usd;
    fn add(self, rhs: Usd) -> Usd {
        Usd(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign for Usd {
    fn add_assign(&mut self, rhs: Usd) {
        *self = *self + rhs;
    }
}

impl Sub for Usd {
    type Output = Usd;
    fn sub(self, rhs: Usd) -> Usd {
        Usd(self.0.saturating_sub(rhs.0))
    }
}

impl Sum for Usd {
    fn sum<I: Iterator<Item = Usd>>(iter: I) -> Usd {
        iter.fold(Usd::ZERO, Add::add)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_decimal_dollars_exactly() {
        assert_eq!(Usd::parse("0.30"), Ok(Usd(30_000_000)));
        assert_eq!(Usd::parse("$2.5"), Ok(Usd(250_000_000)));
        assert_eq!(Usd::parse("0.00000001"), Ok(Usd(1)));
        assert_eq!(Usd::parse("10"), Ok(Usd::dollars(10)));
        assert_eq!(Usd::parse(".5"), Ok(Usd(50_000_000)));
        assert_eq!(Usd::parse("-1.25"), Ok(Usd(-125_000_000)));
        for bad in [
            "",
            ".",
            "abc",
            "1.000000001",
            "1,5",
            "1e-3",
            "99999999999999999999",
        ] {
            assert!(Usd::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn token_costs_round_half_up_to_the_unit() {
        // 1 token at $0.30 / 1M = 0.0000003 $ = 30 units exactly.
        assert_eq!(
            Usd::for_tokens(1, Usd::parse("0.30").unwrap_or_default()),
            Usd(30)
        );
        // 1 token at $0.125 / 1M = 12.5 units: half rounds up.
        assert_eq!(
            Usd::for_tokens(1, Usd::parse("0.125").unwrap_or_default()),
            Usd(13)
        );
        // 3 tokens at $0.01 / 1M = 3 units; 1 token at $0.004 / 1M = 0.4 units -> 0.
        assert_eq!(
            Usd::for_tokens(3, Usd::parse("0.01").unwrap_or_default()),
            Usd(3)
        );
        assert_eq!(
            Usd::for_tokens(1, Usd::parse("0.004").unwrap_or_default()),
            Usd(0)
        );
        // A million tokens cost exactly the listed price.
        assert_eq!(
            Usd::for_tokens(1_000_000, Usd::parse("2.50").unwrap_or_default()),
            Usd(250_000_000)
        );
        // Huge counts do not overflow before rounding: 1e12 tokens at $1 / 1M = $1,000,000.
        assert_eq!(
            Usd::for_tokens(1_000_000_000_000, Usd::dollars(1)),
            Usd::dollars(1_000_000)
        );
    }

    #[test]
    fn displays_like_money() {
        assert_eq!(Usd(30_000_000).to_string(), "$0.30");
        assert_eq!(Usd(12_345).to_string(), "$0.00012345");
        assert_eq!(Usd::dollars(12).to_string(), "$12.00");
        assert_eq!(Usd(-150_000_000).to_string(), "-$1.50");
        assert_eq!(Usd(1).to_decimal_string(), "0.00000001");
        let total: Usd = [Usd(1), Usd(2), Usd(3)].into_iter().sum();
        assert_eq!(total, Usd(6));
    }
}
