//! Hand-written JSON output for [`Quote`], byte-identical to `serde_json::to_string`
//! of the derived `Serialize` impl (which the unit tests and the vector tests check).
//!
//! Amounts are formatted from the `Decimal`'s mantissa and scale exactly like
//! `rust_decimal`'s `serde-str` serialisation; timestamps and dates like
//! `chrono` (with a fallback to `chrono` for years outside 0..=9999 and
//! sub-second times); strings with serde_json's escaping (a fast path when no
//! byte needs escaping, else serde_json itself).

use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, Timelike, Utc};
use rust_decimal::Decimal;

use crate::types::{Discount, Imposition, Line, LineKind, Quote};

/// Two ASCII digits for every value 0..100.
const PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Capacity of [`DecBuf`]: sign + "0." + 29 mantissa digits (scale ≤ 28) fits easily.
const DEC_CAP: usize = 48;

/// A formatted decimal on the stack (right-aligned in `buf`).
pub(crate) struct DecBuf {
    buf: [u8; DEC_CAP],
    start: usize,
}

impl DecBuf {
    fn bytes(&self) -> &[u8] {
        self.buf.get(self.start..).unwrap_or(&[])
    }

    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII digits, '-' and '.' are ever written.
        std::str::from_utf8(self.bytes()).unwrap_or("")
    }
}

/// Writes the decimal digits of `n` right-aligned ending at `end`; returns the start.
/// With `min_digits`, pads with leading zeros up to that many digits.
fn write_u64_rev(buf: &mut [u8], end: usize, mut n: u64, min_digits: usize) -> usize {
    let mut pos = end;
    while n >= 100 && pos >= 2 {
        let pair = usize::try_from(n % 100).unwrap_or(0) * 2;
        n /= 100;
        pos -= 2;
        if let (Some(dst), Some(src)) = (buf.get_mut(pos..pos + 2), PAIRS.get(pair..pair + 2)) {
            dst.copy_from_slice(src);
        }
    }
    if n >= 10 && pos >= 2 {
        let pair = usize::try_from(n).unwrap_or(0) * 2;
        pos -= 2;
        if let (Some(dst), Some(src)) = (buf.get_mut(pos..pos + 2), PAIRS.get(pair..pair + 2)) {
            dst.copy_from_slice(src);
        }
    } else if n > 0 && pos >= 1 {
        pos -= 1;
        if let Some(b) = buf.get_mut(pos) {
            // n < 10 here.
            *b = b'0' + u8::try_from(n).unwrap_or(0);
        }
    }
    while end - pos < min_digits && pos >= 1 {
        pos -= 1;
        if let Some(b) = buf.get_mut(pos) {
            *b = b'0';
        }
    }
    pos
}

/// Formats `d` exactly like `rust_decimal`'s `Serialize` (and `Display`): an optional
/// `-` (also for negative zero), the integer digits (`0` when there are none), and for
/// a non-zero scale a `.` followed by exactly `scale` digits.
pub(crate) fn format_decimal(d: &Decimal) -> DecBuf {
    let mut out = DecBuf {
        buf: [0; DEC_CAP],
        start: DEC_CAP,
    };
    if let Some(start) = decimal_fast(d, &mut out.buf) {
        out.start = start;
    } else {
        // Mantissa ≥ 2^64 or scale > 19: rust_decimal's own text (at most 31 bytes).
        let text = d.to_string();
        let start = DEC_CAP.saturating_sub(text.len());
        if let Some(dst) = out.buf.get_mut(start..)
            && dst.len() == text.len()
        {
            dst.copy_from_slice(text.as_bytes());
            out.start = start;
        }
    }
    out
}

/// Powers of ten that fit a `u64`.
const POW10: [u64; 20] = {
    let mut t = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// [`format_decimal`] for a mantissa below 2^64 and a scale of at most 19, written
/// right-aligned into `buf`; returns where the text starts.
#[inline]
fn decimal_fast(d: &Decimal, buf: &mut [u8; DEC_CAP]) -> Option<usize> {
    let m = u64::try_from(d.mantissa().unsigned_abs()).ok()?;
    let scale = usize::try_from(d.scale()).ok()?;
    let pow = *POW10.get(scale)?;
    let mut pos = DEC_CAP;
    if scale > 0 {
        // Exactly `scale` fraction digits, then the point.
        pos = write_u64_rev(buf, pos, m % pow, scale).saturating_sub(1);
        *buf.get_mut(pos)? = b'.';
    }
    // At least one integer digit.
    pos = write_u64_rev(buf, pos, m / pow, 1);
    if d.is_sign_negative() {
        pos = pos.checked_sub(1)?;
        *buf.get_mut(pos)? = b'-';
    }
    Some(pos)
}

/// `YYYY-MM-DD` for years 0..=9999 (as chrono writes them), `None` otherwise.
fn ymd(out: &mut [u8], date: NaiveDate) -> bool {
    let year = date.year();
    let Ok(year) = u64::try_from(year) else {
        return false;
    };
    if year > 9999 || out.len() < 10 {
        return false;
    }
    write_u64_rev(out, 4, year, 4);
    out[4] = b'-';
    write_u64_rev(out, 7, u64::from(date.month()), 2);
    out[7] = b'-';
    write_u64_rev(out, 10, u64::from(date.day()), 2);
    true
}

/// A date as chrono's `Serialize` writes it (`2026-12-02`).
pub(crate) fn with_date<R>(date: NaiveDate, f: impl FnOnce(&str) -> R) -> R {
    let mut buf = [0u8; 10];
    if ymd(&mut buf, date)
        && let Ok(s) = std::str::from_utf8(&buf)
    {
        return f(s);
    }
    f(&format!("{date:?}"))
}

/// The RFC 3339 text of `dt` as `to_rfc3339_opts(SecondsFormat::AutoSi, true)` writes it.
pub(crate) fn with_rfc3339<R>(dt: &DateTime<Utc>, f: impl FnOnce(&str) -> R) -> R {
    let naive = dt.naive_utc();
    let mut buf = [0u8; 20];
    if naive.nanosecond() == 0 && ymd(&mut buf, naive.date()) {
        buf[10] = b'T';
        write_u64_rev(&mut buf, 13, u64::from(naive.hour()), 2);
        buf[13] = b':';
        write_u64_rev(&mut buf, 16, u64::from(naive.minute()), 2);
        buf[16] = b':';
        write_u64_rev(&mut buf, 19, u64::from(naive.second()), 2);
        buf[19] = b'Z';
        if let Ok(s) = std::str::from_utf8(&buf) {
            return f(s);
        }
    }
    f(&dt.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// Position of the first `"`, `\\` or control character, eight bytes at a time.
pub(crate) fn special(bytes: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let v = u64::from_le_bytes(word);
        let quote = v ^ (LO * u64::from(b'"'));
        let backslash = v ^ (LO * u64::from(b'\\'));
        // Per expression, the lowest flagged byte is exact (false positives only above it).
        let found = (quote.wrapping_sub(LO) & !quote)
            | (backslash.wrapping_sub(LO) & !backslash)
            | (v.wrapping_sub(LO * 0x20) & !v);
        let found = found & HI;
        if found != 0 {
            return Some(offset + usize::try_from(found.trailing_zeros() / 8).unwrap_or(0));
        }
        offset += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|p| offset + p)
}

/// A JSON string literal, escaped exactly as serde_json escapes it.
fn push_str_lit(out: &mut Vec<u8>, s: &str) {
    // serde_json escapes exactly `"`, `\\` and control characters.
    if special(s.as_bytes()).is_some() {
        let _ = serde_json::to_writer(&mut *out, s);
    } else {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    }
}

fn push_dec_lit(out: &mut Vec<u8>, d: &Decimal) {
    out.push(b'"');
    out.extend_from_slice(format_decimal(d).bytes());
    out.push(b'"');
}

fn push_u64(out: &mut Vec<u8>, n: u64) {
    let mut buf = [0u8; 20];
    let start = write_u64_rev(&mut buf, 20, n, 1);
    out.extend_from_slice(buf.get(start..).unwrap_or(&[]));
}

fn kind_name(kind: LineKind) -> &'static str {
    match kind {
        LineKind::Paper => "paper",
        LineKind::Print => "print",
        LineKind::Finishing => "finishing",
        LineKind::Setup => "setup",
        LineKind::MinimumCharge => "minimum_charge",
        LineKind::Material => "material",
        LineKind::Base => "base",
        LineKind::Option => "option",
        LineKind::Binding => "binding",
    }
}

fn push_line(out: &mut Vec<u8>, line: &Line) {
    out.extend_from_slice(b"{\"kind\":\"");
    out.extend_from_slice(kind_name(line.kind).as_bytes());
    out.push(b'"');
    if let Some(id) = &line.id {
        out.extend_from_slice(b",\"id\":");
        push_str_lit(out, id);
    }
    out.extend_from_slice(b",\"label\":");
    push_str_lit(out, &line.label);
    out.extend_from_slice(b",\"amount\":");
    push_dec_lit(out, &line.amount);
    out.push(b'}');
}

fn push_discount(out: &mut Vec<u8>, d: &Discount) {
    out.extend_from_slice(match d.kind {
        crate::types::DiscountKind::Group => b"{\"kind\":\"group\",\"id\":",
        crate::types::DiscountKind::Coupon => b"{\"kind\":\"coupon\",\"id\":",
    });
    push_str_lit(out, &d.id);
    out.extend_from_slice(b",\"amount\":");
    push_dec_lit(out, &d.amount);
    out.push(b'}');
}

fn push_imposition(out: &mut Vec<u8>, key: &str, imp: &Imposition) {
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"{\"n_up\":");
    push_u64(out, imp.n_up);
    out.extend_from_slice(if imp.rotated {
        b",\"rotated\":true,\"run_sheets\":"
    } else {
        b",\"rotated\":false,\"run_sheets\":"
    });
    push_u64(out, imp.run_sheets);
    out.extend_from_slice(b",\"spoilage_sheets\":");
    push_u64(out, imp.spoilage_sheets);
    out.extend_from_slice(b",\"setup_sheets\":");
    push_u64(out, imp.setup_sheets);
    out.extend_from_slice(b",\"sheets\":");
    push_u64(out, imp.sheets);
    out.push(b'}');
}

/// `serde_json::to_string(quote)`, written directly.
pub(crate) fn quote_json(q: &Quote) -> String {
    let mut out = Vec::with_capacity(400 + 120 * (q.lines.len() + q.discounts.len()));
    write_quote_json(q, &mut out);
    // Only `&str` contents and ASCII were written.
    String::from_utf8(out).unwrap_or_default()
}

/// Appends the quote's JSON (the same bytes as [`quote_json`]) to `out`.
pub(crate) fn write_quote_json(q: &Quote, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"lines\":[");
    for (i, line) in q.lines.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_line(out, line);
    }
    out.extend_from_slice(b"],\"subtotal\":");
    push_dec_lit(out, &q.subtotal);
    out.extend_from_slice(b",\"discounts\":[");
    for (i, d) in q.discounts.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_discount(out, d);
    }
    out.extend_from_slice(b"],\"net\":");
    push_dec_lit(out, &q.net);
    out.extend_from_slice(b",\"tax\":{\"region\":");
    push_str_lit(out, &q.tax.region);
    out.extend_from_slice(b",\"rate_pct\":");
    push_dec_lit(out, &q.tax.rate_pct);
    out.extend_from_slice(b",\"amount\":");
    push_dec_lit(out, &q.tax.amount);
    out.extend_from_slice(b"},\"total\":");
    push_dec_lit(out, &q.total);
    out.extend_from_slice(b",\"currency\":");
    push_str_lit(out, &q.currency);
    out.extend_from_slice(b",\"unit_price\":");
    push_dec_lit(out, &q.unit_price);
    if let Some(imp) = &q.imposition {
        push_imposition(out, ",\"imposition\":", imp);
    }
    if let Some(imp) = &q.cover_imposition {
        push_imposition(out, ",\"cover_imposition\":", imp);
    }
    out.extend_from_slice(b",\"production\":{\"business_days\":");
    push_u64(out, u64::from(q.production.business_days));
    out.extend_from_slice(b",\"ship_date\":\"");
    with_date(q.production.ship_date, |s| {
        out.extend_from_slice(s.as_bytes())
    });
    out.extend_from_slice(b"\"},\"catalog_version\":");
    push_str_lit(out, &q.catalog_version);
    out.extend_from_slice(b",\"valid_until\":\"");
    with_rfc3339(&q.valid_until, |s| out.extend_from_slice(s.as_bytes()));
    out.extend_from_slice(b"\"}");
}

/// `serialize_with` for decimals: the same string as `rust_decimal`'s impl, faster.
pub(crate) fn decimal<S: serde::Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(format_decimal(d).as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDateTime, TimeZone};

    /// Deterministic xorshift.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    fn check(d: &Decimal) {
        let want = serde_json::to_string(d).unwrap_or_default();
        let got = format!("\"{}\"", format_decimal(d).as_str());
        assert_eq!(got, want, "{d:?}");
        assert_eq!(format_decimal(d).as_str(), d.to_string());
        let mut out = Vec::new();
        push_dec_lit(&mut out, d);
        assert_eq!(out, want.as_bytes());
    }

    #[test]
    fn decimals_match_rust_decimal() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for scale in 0..=28 {
            for neg in [false, true] {
                for lo in [0u32, 1, 5, 9, 10, 99, 100, 12345, u32::MAX] {
                    check(&Decimal::from_parts(lo, 0, 0, neg, scale));
                }
                check(&Decimal::from_parts(
                    u32::MAX,
                    u32::MAX,
                    u32::MAX,
                    neg,
                    scale,
                ));
                check(&Decimal::from_parts(0, 0, 1, neg, scale));
                check(&Decimal::from_parts(
                    0x8AC7_2304,
                    0x89E7_FFFF,
                    0,
                    neg,
                    scale,
                )); // near 1e19
                check(&Decimal::from_parts(
                    0x8AC7_2304,
                    0x89E7_FFFF,
                    1,
                    neg,
                    scale,
                ));
            }
        }
        for _ in 0..200_000 {
            let r = rng.next();
            let width = r % 4;
            let lo = u32::try_from(rng.next() >> 32).unwrap_or(0);
            let mid = if width >= 2 {
                u32::try_from(rng.next() >> 32).unwrap_or(0)
            } else {
                0
            };
            let hi = if width >= 3 {
                u32::try_from(rng.next() >> 32).unwrap_or(0)
            } else {
                0
            };
            let lo = if width == 0 { lo % 100_000 } else { lo };
            let scale = u32::try_from((r >> 8) % 29).unwrap_or(0);
            let neg = (r >> 16) & 1 == 1;
            check(&Decimal::from_parts(lo, mid, hi, neg, scale));
        }
    }

    #[test]
    fn strings_match_serde_json() {
        for s in [
            "",
            "plain",
            "Printing 4/4",
            "quote\"d",
            "back\\slash",
            "ctl\u{1}\u{8}\t\n\u{c}\r\u{1f}\u{7f}",
            "ünïcödé €",
            "\u{2028}\u{2029}",
        ] {
            let mut out = Vec::new();
            push_str_lit(&mut out, s);
            assert_eq!(out, serde_json::to_vec(s).unwrap_or_default());
        }
    }

    #[test]
    fn dates_match_chrono() {
        let mut rng = Rng(12345);
        let mut cases: Vec<DateTime<Utc>> = Vec::new();
        for y in [-5000, -1, 0, 1, 999, 1000, 1970, 2026, 9999, 10000, 200_000] {
            if let Some(d) = NaiveDate::from_ymd_opt(y, 12, 31) {
                cases.push(
                    d.and_hms_opt(23, 59, 59)
                        .map_or(DateTime::UNIX_EPOCH, |t| t.and_utc()),
                );
                cases.push(
                    d.and_hms_opt(0, 0, 0)
                        .map_or(DateTime::UNIX_EPOCH, |t| t.and_utc()),
                );
            }
        }
        for _ in 0..20_000 {
            let secs = i64::try_from(rng.next() % 400_000_000_000).unwrap_or(0) - 200_000_000_000;
            let nanos = match rng.next() % 4 {
                0 => 0,
                1 => u32::try_from(rng.next() % 1000).unwrap_or(0) * 1_000_000,
                2 => u32::try_from(rng.next() % 1_000_000_000).unwrap_or(0),
                _ => 0,
            };
            if let Some(t) = Utc.timestamp_opt(secs, nanos).single() {
                cases.push(t);
            }
        }
        // A leap second.
        if let Some(t) = NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_000))
            .map(|t: NaiveDateTime| t.and_utc())
        {
            cases.push(t);
        }
        for t in &cases {
            let want = t.to_rfc3339_opts(SecondsFormat::AutoSi, true);
            assert_eq!(with_rfc3339(t, str::to_owned), want);
            let got = with_date(t.date_naive(), str::to_owned);
            assert_eq!(
                format!("\"{got}\""),
                serde_json::to_string(&t.date_naive()).unwrap_or_default()
            );
        }
    }
}
