//! Checked decimal helpers with exact integer fast paths.
//!
//! Every fast path returns exactly what the plain [`rust_decimal`] operation
//! returns (same value, same scale) and is taken only when that is provable —
//! otherwise the `rust_decimal` operation itself runs. The fast paths exist
//! because rounding (`round_dp_with_strategy` + `rescale`) and a few
//! multiply-then-ceil steps dominated the quote path.

use rust_decimal::{Decimal, RoundingStrategy};

use crate::error::PricingError;

/// 1/100 as an exact decimal (multiplying is cheaper than dividing by 100).
pub(crate) const PCT: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

/// Largest magnitude a `Decimal` mantissa can hold, plus one (2^96).
const MANTISSA_LIMIT: u128 = 1 << 96;

/// 10^0 ..= 10^38 (the largest power of ten below 2^128).
const POW10: [u128; 39] = {
    let mut t = [1_u128; 39];
    let mut i = 1;
    while i < 39 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

fn pow10(exp: u32) -> Option<u128> {
    POW10.get(usize::try_from(exp).ok()?).copied()
}

/// `(n / d, n % d)`, using 64-bit division when both fit (the common case).
#[inline]
fn div_rem(n: u128, d: u128) -> (u128, u128) {
    match (u64::try_from(n), u64::try_from(d)) {
        (Ok(n), Ok(d)) if d != 0 => (u128::from(n / d), u128::from(n % d)),
        _ if d != 0 => (n / d, n % d),
        _ => (0, 0),
    }
}

/// Arithmetic overflow inside the engine; becomes `invalid_request`
/// ("arithmetic overflow") at the API boundary. Zero-sized, so the hot
/// `Result<Decimal, Overflow>` values stay small.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Overflow;

impl From<Overflow> for PricingError {
    fn from(_: Overflow) -> Self {
        Self::overflow()
    }
}

#[inline]
pub(crate) fn mul(a: Decimal, b: Decimal) -> Result<Decimal, Overflow> {
    a.checked_mul(b).ok_or(Overflow)
}

#[inline]
pub(crate) fn add(a: Decimal, b: Decimal) -> Result<Decimal, Overflow> {
    a.checked_add(b).ok_or(Overflow)
}

#[inline]
pub(crate) fn sub(a: Decimal, b: Decimal) -> Result<Decimal, Overflow> {
    a.checked_sub(b).ok_or(Overflow)
}

#[inline]
pub(crate) fn div(a: Decimal, b: Decimal) -> Result<Decimal, Overflow> {
    a.checked_div(b).ok_or(Overflow)
}

/// The reference definition of [`round_to`].
fn round_to_slow(d: Decimal, dp: u32) -> Decimal {
    let mut r = d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero);
    r.rescale(dp);
    if r.is_zero() {
        r.set_sign_positive(true);
    }
    r
}

/// Half away from zero to `dp` decimals, with exactly `dp` decimals; zero is
/// always positive.
pub(crate) fn round_to(d: Decimal, dp: u32) -> Decimal {
    let scale = d.scale();
    if scale == dp {
        // Already exact to `dp` decimals (sums of rounded lines, …).
        let mut r = d;
        if r.is_zero() {
            r.set_sign_positive(true);
        }
        return r;
    }
    let m = d.mantissa();
    let negative = m < 0;
    let mag = m.unsigned_abs();
    let rounded = if scale > dp {
        let Some(p) = pow10(scale - dp) else {
            return round_to_slow(d, dp);
        };
        let (q, r) = div_rem(mag, p);
        // r ≥ p/2 ⇔ 2r ≥ p (p is even), i.e. at or beyond the midpoint.
        if r * 2 >= p { q + 1 } else { q }
    } else {
        match pow10(dp - scale).and_then(|p| mag.checked_mul(p)) {
            Some(v) if v < MANTISSA_LIMIT => v,
            _ => return round_to_slow(d, dp),
        }
    };
    if rounded >= MANTISSA_LIMIT {
        return round_to_slow(d, dp);
    }
    // `rounded < 2^96` fits i128; zero comes out positive.
    let signed = i128::try_from(rounded).unwrap_or(0);
    let signed = if negative { -signed } else { signed };
    Decimal::try_from_i128_with_scale(signed, dp).unwrap_or_else(|_| round_to_slow(d, dp))
}

/// round(`num` × `factor` / `den`) half away from zero to `dp` decimals,
/// exactly: the quotient is formed on integers, so a repeating decimal is
/// never truncated before rounding. `None` when an intermediate does not fit
/// in 128 bits (no realistic catalog gets there); the caller then falls back
/// to the decimal quotient.
pub(crate) fn round_fraction(num: Decimal, den: u32, factor: Decimal, dp: u32) -> Option<Decimal> {
    if den == 0 {
        return None;
    }
    let negative = num.is_sign_negative() != factor.is_sign_negative();
    let n = num
        .mantissa()
        .unsigned_abs()
        .checked_mul(factor.mantissa().unsigned_abs())?;
    let scale = num.scale() + factor.scale();
    // value = n / (10^scale · den); wanted: round(value · 10^dp)
    let (numer, denom) = if scale >= dp {
        (n, pow10(scale - dp)?.checked_mul(u128::from(den))?)
    } else {
        (n.checked_mul(pow10(dp - scale)?)?, u128::from(den))
    };
    let (q, r) = div_rem(numer, denom);
    // 2r ≥ denom, written so that it cannot overflow.
    let q = if r >= denom - r { q + 1 } else { q };
    if q >= MANTISSA_LIMIT {
        return None;
    }
    let signed = i128::try_from(q).ok()?;
    Decimal::try_from_i128_with_scale(if negative { -signed } else { signed }, dp).ok()
}

/// ⌈`units` · `pct` / 100⌉ as an integer (spoilage sheets).
pub(crate) fn ceil_pct(units: u64, pct: Decimal) -> Result<u64, Overflow> {
    // `units · pct · 0.01` is exact in rust_decimal (and so equal to the
    // rational value) when the scale stays ≤ 28 and the mantissa < 2^96.
    let scale = pct.scale();
    if !pct.is_sign_negative()
        && scale <= 26
        && let Some(den) = pow10(scale + 2)
        && let Some(num) = u128::from(units).checked_mul(pct.mantissa().unsigned_abs())
        && num < MANTISSA_LIMIT
    {
        let (q, r) = div_rem(num, den);
        let c = if r == 0 { q } else { q + 1 };
        return u64::try_from(c).map_err(|_| Overflow);
    }
    let exact = mul(mul(Decimal::from(units), pct)?, PCT)?;
    u64::try_from(exact.ceil()).map_err(|_| Overflow)
}

/// `net / quantity` rounded half away from zero to 4 decimals. Uses exact
/// integer arithmetic when `net` has at most 4 decimals (every real currency).
pub(crate) fn unit_price(net: Decimal, quantity: u32) -> Result<Decimal, Overflow> {
    let q = i128::from(quantity.max(1));
    let scale = net.scale();
    // Common case: a non-negative net whose scaled mantissa fits in 64 bits.
    if scale <= 4
        && let Ok(m) = u64::try_from(net.mantissa())
        && let Some(num) = m.checked_mul(10_u64.pow(4 - scale))
    {
        let q = u64::from(quantity.max(1));
        let (quot, rem) = (num / q, num % q);
        let rounded = if rem >= q - rem { quot + 1 } else { quot };
        return Decimal::try_from_i128_with_scale(i128::from(rounded), 4).map_err(|_| Overflow);
    }
    if scale <= 4 {
        let num = net
            .mantissa()
            .checked_mul(10_i128.pow(4 - scale))
            .ok_or(Overflow)?;
        let (quot, rem) = (num / q, num % q);
        let rounded = if rem.abs() * 2 >= q {
            quot + num.signum()
        } else {
            quot
        };
        Decimal::try_from_i128_with_scale(rounded, 4).map_err(|_| Overflow)
    } else {
        Ok(round_to(div(net, Decimal::from(q))?, 4))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    /// Same value, same scale, same sign bit.
    fn same(a: Decimal, b: Decimal) -> bool {
        a.serialize() == b.serialize()
    }

    #[test]
    fn rounding_half_away_from_zero() {
        assert_eq!(round_to(Decimal::new(125, 3), 2).to_string(), "0.13");
        assert_eq!(round_to(Decimal::new(-125, 3), 2).to_string(), "-0.13");
        assert_eq!(round_to(Decimal::new(5, 1), 0).to_string(), "1");
        assert_eq!(round_to(Decimal::new(1, 0), 3).to_string(), "1.000");
        assert_eq!(round_to(Decimal::new(-1, 3), 2).to_string(), "0.00");
    }

    #[test]
    fn round_to_matches_reference() {
        let mut values: Vec<Decimal> = [
            "0",
            "-0",
            "0.000",
            "-0.000",
            "0.005",
            "-0.005",
            "0.0049999999999999999999999999",
            "1.125",
            "2.5",
            "-2.5",
            "12345678901234567890.123456789",
            "79228162514264337593543950335",
            "-79228162514264337593543950335",
            "7922816251426433759354395033.5",
            "7922816251426433759354395.0335",
            "0.0000000000000000000000000001",
            "0.5000000000000000000000000000",
            "99999999999999999999.9999",
            "9999999999999999999999999.9995",
        ]
        .iter()
        .map(|s| d(s))
        .collect();
        values.push(Decimal::MAX);
        values.push(Decimal::MIN);
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let lo = u32::try_from(seed & 0xFFFF_FFFF).unwrap_or(0);
            let mid = u32::try_from(seed >> 32).unwrap_or(0);
            let hi = if seed.is_multiple_of(3) { lo ^ mid } else { 0 };
            let mid = if seed.is_multiple_of(5) { 0 } else { mid };
            let scale = u32::try_from(seed % 29).unwrap_or(0);
            values.push(Decimal::from_parts(
                lo,
                mid,
                hi,
                seed.is_multiple_of(2),
                scale,
            ));
        }
        for v in values {
            for dp in 0..=6 {
                let (fast, slow) = (round_to(v, dp), round_to_slow(v, dp));
                assert!(same(fast, slow), "{v} dp={dp}: {fast} vs {slow}");
            }
        }
    }

    #[test]
    fn round_fraction_is_exact() {
        let rf = |n: &str, den: u32, f: &str, dp: u32| {
            round_fraction(d(n), den, d(f), dp).map(|x| x.to_string())
        };
        // 3.075 / 3 = 1.025 exactly: half away from zero gives 1.03.
        assert_eq!(rf("3.075", 3, "1.00", 2), Some("1.03".into()));
        assert_eq!(rf("3.025", 3, "3", 2), Some("3.03".into()));
        assert_eq!(rf("3.025", 3, "3", 0), Some("3".into()));
        assert_eq!(rf("1", 3, "1", 4), Some("0.3333".into()));
        assert_eq!(rf("2", 3, "1", 4), Some("0.6667".into()));
        assert_eq!(rf("0", 7, "1.5", 2), Some("0.00".into()));
        assert_eq!(rf("1", 0, "1", 2), None);
        assert_eq!(
            rf(
                "79228162514264337593543950335",
                1,
                "79228162514264337593543950335",
                2
            ),
            None
        );
        // Agrees with round_to whenever the quotient terminates.
        for (n, den, f) in [
            ("212.5", 1, "1.25"),
            ("850", 4, "0.86"),
            ("1.005", 5, "162.5"),
        ] {
            let exact =
                div(mul(d(n), d(f)).unwrap_or_default(), Decimal::from(den)).unwrap_or_default();
            for dp in 0..=4 {
                assert_eq!(
                    round_fraction(d(n), den, d(f), dp).map(|x| x.serialize()),
                    Some(round_to(exact, dp).serialize()),
                    "{n}/{den}*{f} dp={dp}"
                );
            }
        }
    }

    #[test]
    fn ceil_pct_matches_reference() {
        let reference = |units: u64, pct: Decimal| {
            mul(mul(Decimal::from(units), pct).ok()?, PCT)
                .ok()
                .and_then(|x| u64::try_from(x.ceil()).ok())
        };
        let pcts = [
            "0",
            "2",
            "2.5",
            "33.33",
            "100",
            "0.0000000000000000000000000001",
            "99.999999999999999999999999",
            "1.0000000000000000000000000001",
            "50.000",
        ];
        for p in pcts {
            for units in [
                0,
                1,
                2,
                3,
                7,
                100,
                101,
                12_345,
                u64::from(u32::MAX),
                u64::MAX,
            ] {
                let pct = d(p);
                assert_eq!(
                    ceil_pct(units, pct).ok(),
                    reference(units, pct),
                    "{units} {p}"
                );
            }
        }
    }

    /// The original definition of [`unit_price`].
    fn unit_price_reference(net: Decimal, quantity: u32) -> Option<Decimal> {
        let q = i128::from(quantity.max(1));
        let scale = net.scale();
        if scale <= 4 {
            let num = net.mantissa().checked_mul(10_i128.pow(4 - scale))?;
            let (quot, rem) = (num / q, num % q);
            let rounded = if rem.abs() * 2 >= q {
                quot + num.signum()
            } else {
                quot
            };
            Decimal::try_from_i128_with_scale(rounded, 4).ok()
        } else {
            Some(round_to_slow(div(net, Decimal::from(q)).ok()?, 4))
        }
    }

    #[test]
    fn unit_price_matches_reference() {
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        for i in 0..20_000_u32 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let lo = u32::try_from(seed & 0xFFFF_FFFF).unwrap_or(0);
            let mid = if i % 3 == 0 {
                u32::try_from(seed >> 40).unwrap_or(0)
            } else {
                0
            };
            let hi = if i % 7 == 0 { lo } else { 0 };
            let net = Decimal::from_parts(lo, mid, hi, i % 11 == 0, i % 6);
            let q = [1, 2, 3, 7, 200, 201, 4999, u32::MAX][(i % 8) as usize];
            let got = unit_price(net, q).ok();
            let want = unit_price_reference(net, q);
            assert_eq!(
                got.map(|d| d.serialize()),
                want.map(|d| d.serialize()),
                "{net} / {q}"
            );
        }
    }

    #[test]
    fn unit_prices() {
        let up = |n: i64, s: u32, q: u32| {
            unit_price(Decimal::new(n, s), q)
                .map(|d| d.to_string())
                .ok()
        };
        assert_eq!(up(4413, 2, 500), Some("0.0883".into()));
        assert_eq!(up(1, 2, 200), Some("0.0001".into())); // 0.00005 -> half away
        assert_eq!(up(1, 2, 201), Some("0.0000".into()));
        assert_eq!(up(1500, 0, 7), Some("214.2857".into()));
        assert_eq!(up(1, 0, 3), Some("0.3333".into()));
        assert_eq!(up(2, 0, 3), Some("0.6667".into()));
        assert_eq!(up(0, 2, 3), Some("0.0000".into()));
        assert_eq!(up(1, 6, 3), Some("0.0000".into()));
    }
}
