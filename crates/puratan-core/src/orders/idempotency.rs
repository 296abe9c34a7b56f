//! `Idempotency-Key` handling: the key's syntax and the fingerprint of a
//! submission (a retry must be the same request to get the same order).

use serde_json::Value;

use super::error::OrderError;
use crate::domain::{CartLine, Money, ShippingAddress};

/// Longest accepted key (the IETF draft and Stripe use 255).
pub const MAX_KEY_LEN: usize = 255;

/// 1–255 visible ASCII characters (UUIDs are the usual choice).
pub fn validate_key(key: &str) -> Result<(), OrderError> {
    if key.is_empty() {
        return Err(OrderError::InvalidIdempotencyKey {
            reason: "must not be empty",
        });
    }
    if key.len() > MAX_KEY_LEN {
        return Err(OrderError::InvalidIdempotencyKey {
            reason: "at most 255 characters",
        });
    }
    if !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(OrderError::InvalidIdempotencyKey {
            reason: "use visible ASCII characters only",
        });
    }
    Ok(())
}

/// SHA-256 (hex) over a canonical form of what the customer submitted:
/// the lines (product, options with sorted keys, quantity, quote token,
/// files — line ids are not part of it), the expected total and the
/// shipping address.
pub fn fingerprint(lines: &[CartLine], expected: &Money, address: &ShippingAddress) -> String {
    let lines: Vec<Value> = lines
        .iter()
        .map(|l| {
            serde_json::json!([
                l.product_id.as_str(),
                canonical(&l.options),
                l.quantity,
                l.quote_token,
                l.file_ids,
            ])
        })
        .collect();
    let doc = serde_json::json!([
        "puratan.checkout/v1",
        lines,
        expected.amount.normalize().to_string(),
        expected.currency.as_str(),
        [
            &address.name,
            &address.line1,
            &address.line2,
            &address.postal_code,
            &address.city,
            &address.country
        ],
    ]);
    crate::hex::sha256(doc.to_string().as_bytes())
}

/// Objects with their keys sorted, recursively, as a string (independent
/// of the map type serde_json was built with).
fn canonical(v: &Value) -> String {
    fn write(v: &Value, out: &mut String) {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(k.clone()).to_string());
                    out.push(':');
                    if let Some(x) = m.get(k) {
                        write(x, out);
                    }
                }
                out.push('}');
            }
            Value::Array(a) => {
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(x, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    write(v, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Currency, ProductId};
    use rust_decimal::Decimal;

    fn line(options: Value) -> CartLine {
        CartLine {
            id: "a".into(),
            product_id: ProductId::parse("flyer-a5").unwrap_or_else(|e| panic!("{e}")),
            options,
            quantity: 100,
            quote_token: "pq1.k.p.s".into(),
            file_ids: vec![],
        }
    }

    fn addr() -> ShippingAddress {
        ShippingAddress {
            name: "Ann".into(),
            line1: "Main St 1".into(),
            line2: String::new(),
            postal_code: "10115".into(),
            city: "Berlin".into(),
            country: "DE".into(),
        }
    }

    #[test]
    fn fingerprint_ignores_key_order_and_line_ids_but_not_content() {
        let eur = Currency::parse("EUR").unwrap_or_else(|e| panic!("{e}"));
        let m = |s: i64| Money::new(Decimal::new(s, 2), eur);
        let a = fingerprint(
            &[line(serde_json::json!({"paper": "x", "color": "4/4"}))],
            &m(1000),
            &addr(),
        );
        let mut other_id = line(serde_json::json!({"color": "4/4", "paper": "x"}));
        other_id.id = "b".into();
        assert_eq!(a, fingerprint(&[other_id], &m(1000), &addr()));
        // 10.00 and 10.0 are the same amount.
        assert_eq!(
            a,
            fingerprint(
                &[line(serde_json::json!({"paper": "x", "color": "4/4"}))],
                &Money::new(Decimal::new(100, 1), eur),
                &addr()
            )
        );
        assert_ne!(
            a,
            fingerprint(
                &[line(serde_json::json!({"paper": "y", "color": "4/4"}))],
                &m(1000),
                &addr()
            )
        );
        assert_ne!(
            a,
            fingerprint(
                &[line(serde_json::json!({"paper": "x", "color": "4/4"}))],
                &m(1001),
                &addr()
            )
        );
        let mut moved = addr();
        moved.city = "Hamburg".into();
        assert_ne!(
            a,
            fingerprint(
                &[line(serde_json::json!({"paper": "x", "color": "4/4"}))],
                &m(1000),
                &moved
            )
        );
    }

    #[test]
    fn keys_are_checked() {
        assert!(validate_key("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b").is_ok());
        for bad in ["", "has space", "tab\t", "ünï", &"k".repeat(256)] {
            assert_eq!(
                validate_key(bad).map_err(|e| e.code()),
                Err("invalid_idempotency_key"),
                "{bad:?}"
            );
        }
    }
}
