//! Path-tracking helpers for validating a catalog held as a `serde_json::Value`.

use std::fmt::Write as _;

use rust_decimal::Decimal;
use serde_json::{Map, Value};

use crate::error::PricingError;

pub(crate) type Obj = Map<String, Value>;

/// A JSON path, built on the stack and rendered only when an error is reported.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Path<'a> {
    Root,
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl<'a> Path<'a> {
    pub(crate) fn key(&'a self, key: &'a str) -> Path<'a> {
        Path::Key(self, key)
    }

    pub(crate) fn idx(&'a self, index: usize) -> Path<'a> {
        Path::Index(self, index)
    }

    fn write(&self, out: &mut String) {
        match self {
            Path::Root => {}
            Path::Key(parent, key) => {
                parent.write(out);
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Path::Index(parent, index) => {
                parent.write(out);
                let _ = write!(out, "[{index}]");
            }
        }
    }

    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    pub(crate) fn err(&self, message: impl Into<String>) -> PricingError {
        PricingError::InvalidCatalog {
            path: self.render(),
            message: message.into(),
        }
    }
}

pub(crate) fn object<'v>(v: &'v Value, p: &Path<'_>) -> Result<&'v Obj, PricingError> {
    v.as_object().ok_or_else(|| p.err("expected an object"))
}

/// An optional member; JSON `null` counts as absent.
pub(crate) fn opt<'v>(m: &'v Obj, key: &str) -> Option<&'v Value> {
    m.get(key).filter(|v| !v.is_null())
}

pub(crate) fn req<'v>(m: &'v Obj, key: &str, p: &Path<'_>) -> Result<&'v Value, PricingError> {
    opt(m, key).ok_or_else(|| p.key(key).err("missing required field"))
}

pub(crate) fn string<'v>(v: &'v Value, p: &Path<'_>) -> Result<&'v str, PricingError> {
    match v.as_str() {
        Some(s) if !s.is_empty() => Ok(s),
        Some(_) => Err(p.err("must not be empty")),
        None => Err(p.err("expected a string")),
    }
}

pub(crate) fn array<'v>(v: &'v Value, p: &Path<'_>) -> Result<&'v [Value], PricingError> {
    v.as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| p.err("expected an array"))
}

pub(crate) fn boolean(v: &Value, p: &Path<'_>) -> Result<bool, PricingError> {
    v.as_bool().ok_or_else(|| p.err("expected true or false"))
}

/// A non-negative JSON integer no larger than `max`.
pub(crate) fn uint(v: &Value, p: &Path<'_>, max: u32) -> Result<u32, PricingError> {
    match v.as_u64() {
        Some(n) if n <= u64::from(max) => u32::try_from(n).map_err(|_| p.err("too large")),
        Some(_) => Err(p.err(format!("must be at most {max}"))),
        None => Err(p.err("expected a non-negative integer")),
    }
}

fn parse_decimal_str(s: &str) -> Option<Decimal> {
    let s = s.trim();
    if s.is_empty() || s.len() > 40 {
        return None;
    }
    let ok = s
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-' || b == b'+');
    if !ok {
        return None;
    }
    let mut d = Decimal::from_str_exact(s).ok()?;
    if d.is_zero() {
        d.set_sign_positive(true);
    }
    Some(d)
}

/// A decimal given as a string (`"0.18"`), never through binary floating point.
pub(crate) fn money(v: &Value, p: &Path<'_>) -> Result<Decimal, PricingError> {
    let d = match v {
        Value::String(s) => {
            parse_decimal_str(s).ok_or_else(|| p.err("expected a decimal string"))?
        }
        _ => return Err(p.err("expected a decimal string such as \"12.50\"")),
    };
    non_negative(d, p)
}

/// A decimal given as a string or as a JSON number (dimensions, percentages, rates).
///
/// Integral numbers are converted exactly; other numbers through their shortest
/// round-trip text (exact for up to 15 significant digits).
pub(crate) fn decimal(v: &Value, p: &Path<'_>) -> Result<Decimal, PricingError> {
    let d = match v {
        Value::String(s) => parse_decimal_str(s),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                Some(Decimal::from(u))
            } else if let Some(i) = n.as_i64() {
                Some(Decimal::from(i))
            } else {
                let text = n.to_string();
                parse_decimal_str(&text).or_else(|| Decimal::from_scientific(&text).ok())
            }
        }
        _ => None,
    };
    let d = d.ok_or_else(|| p.err("expected a decimal number or decimal string"))?;
    non_negative(d, p)
}

fn non_negative(d: Decimal, p: &Path<'_>) -> Result<Decimal, PricingError> {
    if d.is_sign_negative() && !d.is_zero() {
        Err(p.err("must not be negative"))
    } else {
        Ok(d)
    }
}

/// Largest accepted dimension in millimetres.
pub(crate) const MAX_MM: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);
/// Largest accepted money amount in catalogs.
pub(crate) const MAX_AMOUNT: Decimal = Decimal::from_parts(0x4876_E800, 0x0000_0017, 0, false, 0); // 1e11

pub(crate) fn bounded(d: Decimal, max: Decimal, p: &Path<'_>) -> Result<Decimal, PricingError> {
    if d > max {
        Err(p.err(format!("must be at most {max}")))
    } else {
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_render() {
        let root = Path::Root;
        let products = root.key("products");
        let first = products.idx(0);
        let press = first.key("press");
        assert_eq!(press.render(), "products[0].press");
        assert_eq!(root.render(), "");
    }

    #[test]
    fn constants() {
        assert_eq!(MAX_AMOUNT, Decimal::from(100_000_000_000_u64));
        assert_eq!(MAX_MM, Decimal::from(1_000_000));
    }

    #[test]
    fn decimals() {
        let p = Path::Root;
        let num = |t: &str| serde_json::from_str::<Value>(t).unwrap_or(Value::Null);
        assert_eq!(decimal(&num("85.5"), &p).ok(), Some(Decimal::new(855, 1)));
        assert_eq!(decimal(&num("0.1"), &p).ok(), Some(Decimal::new(1, 1)));
        assert_eq!(decimal(&num("1.5e-7"), &p).ok(), Some(Decimal::new(15, 8)));
        assert!(decimal(&num("1e300"), &p).is_err());
        let _ = decimal(&num("1e-300"), &p);
        let _ = decimal(&num("-1e-300"), &p);
        assert!(decimal(&num("123456789012345678901234567890123"), &p).is_err());
        assert_eq!(decimal(&json!("85.5"), &p).ok(), Some(Decimal::new(855, 1)));
        assert_eq!(decimal(&json!(320), &p).ok(), Some(Decimal::from(320)));
        assert!(decimal(&json!(-1), &p).is_err());
        assert!(decimal(&json!("abc"), &p).is_err());
        assert!(money(&json!(1), &p).is_err());
        assert_eq!(money(&json!("0.18"), &p).ok(), Some(Decimal::new(18, 2)));
        assert!(money(&json!("-0.01"), &p).is_err());
        assert_eq!(money(&json!("-0"), &p).ok(), Some(Decimal::ZERO));
        assert!(money(&json!("1e5"), &p).is_err());
    }
}
