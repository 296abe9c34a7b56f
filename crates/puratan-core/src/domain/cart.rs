//! A customer's cart: what they mean to order, each line priced by a
//! signed quote (`POST /api/v1/quotes`). Nothing in a cart is trusted at
//! checkout: every line's quote is verified and re-priced again.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{ProductId, UserId};
use crate::Error;

/// One thing to order: a product, its configuration, the quantity, the
/// signed quote that priced exactly this, and the artwork files for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    /// Unique within the cart (UUIDv7, simple form), for removal.
    pub id: String,
    pub product_id: ProductId,
    /// The configuration as sent to the quote (paper, colour, finishing…);
    /// a JSON object, at most [`CartLine::MAX_OPTIONS_BYTES`] serialised.
    #[serde(default)]
    pub options: Value,
    pub quantity: u32,
    /// The signed quote token (`pq1.<kid>.<payload>.<signature>`).
    pub quote_token: String,
    /// Artwork (`FileRecord` ids), at most [`CartLine::MAX_FILES`].
    #[serde(default)]
    pub file_ids: Vec<String>,
}

impl CartLine {
    pub const MAX_OPTIONS_BYTES: usize = 4096;
    pub const MAX_TOKEN_BYTES: usize = 64 * 1024;
    pub const MAX_FILES: usize = 20;
    pub const MAX_FILE_ID: usize = 64;
    pub const MAX_QUANTITY: u32 = 10_000_000;

    /// Checks every limit; `path` prefixes field names in errors
    /// (`lines[2].quantity`).
    pub fn validate(&self, path: &str) -> Result<(), Error> {
        let field = |f: &str| format!("{path}.{f}");
        if self.quantity == 0 || self.quantity > Self::MAX_QUANTITY {
            return Err(Error::invalid(
                field("quantity"),
                format!("must be between 1 and {}", Self::MAX_QUANTITY),
            ));
        }
        match &self.options {
            Value::Null => {}
            Value::Object(_) => {
                let len = serde_json::to_string(&self.options)
                    .map(|s| s.len())
                    .unwrap_or(usize::MAX);
                if len > Self::MAX_OPTIONS_BYTES {
                    return Err(Error::invalid(
                        field("options"),
                        format!("at most {} bytes", Self::MAX_OPTIONS_BYTES),
                    ));
                }
            }
            _ => return Err(Error::invalid(field("options"), "expected a JSON object")),
        }
        if self.quote_token.is_empty()
            || self.quote_token.len() > Self::MAX_TOKEN_BYTES
            || !self.quote_token.is_ascii()
        {
            return Err(Error::invalid(
                field("quote_token"),
                "expected the token of POST /api/v1/quotes",
            ));
        }
        if self.file_ids.len() > Self::MAX_FILES {
            return Err(Error::invalid(
                field("file_ids"),
                format!("at most {} files", Self::MAX_FILES),
            ));
        }
        let id_ok = |s: &str| {
            !s.is_empty()
                && s.len() <= Self::MAX_FILE_ID
                && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        };
        if !self.file_ids.iter().all(|f| id_ok(f)) {
            return Err(Error::invalid(field("file_ids"), "not a file id"));
        }
        Ok(())
    }
}

/// A customer's cart. One per customer; `version` as every record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cart {
    pub customer_id: UserId,
    #[serde(default)]
    pub lines: Vec<CartLine>,
    pub updated_at: DateTime<Utc>,
    #[serde(default)]
    pub version: u64,
}

impl Cart {
    pub const MAX_LINES: usize = 50;

    pub fn empty(customer_id: UserId, now: DateTime<Utc>) -> Self {
        Self {
            customer_id,
            lines: Vec::new(),
            updated_at: now,
            version: 0,
        }
    }

    /// Checks the line count and every line.
    pub fn validate(&self) -> Result<(), Error> {
        validate_lines(&self.lines)
    }
}

/// The limits of a list of lines (a cart, or the lines of a checkout).
pub fn validate_lines(lines: &[CartLine]) -> Result<(), Error> {
    if lines.len() > Cart::MAX_LINES {
        return Err(Error::invalid(
            "lines",
            format!("at most {} lines", Cart::MAX_LINES),
        ));
    }
    for (i, l) in lines.iter().enumerate() {
        l.validate(&format!("lines[{i}]"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line() -> CartLine {
        CartLine {
            id: "l1".into(),
            product_id: ProductId::parse("business-card").unwrap_or_else(|e| panic!("{e}")),
            options: serde_json::json!({"paper": "silk-350"}),
            quantity: 500,
            quote_token: "pq1.k.e30.sig".into(),
            file_ids: vec!["0193a1b2c3".into()],
        }
    }

    #[test]
    fn limits_are_checked_with_paths() {
        assert!(line().validate("lines[0]").is_ok());
        let cases: Vec<(CartLine, &str)> = vec![
            (
                CartLine {
                    quantity: 0,
                    ..line()
                },
                "lines[0].quantity",
            ),
            (
                CartLine {
                    options: serde_json::json!([1]),
                    ..line()
                },
                "lines[0].options",
            ),
            (
                CartLine {
                    options: serde_json::json!({"x": "y".repeat(5000)}),
                    ..line()
                },
                "lines[0].options",
            ),
            (
                CartLine {
                    quote_token: String::new(),
                    ..line()
                },
                "lines[0].quote_token",
            ),
            (
                CartLine {
                    file_ids: vec!["../etc".into()],
                    ..line()
                },
                "lines[0].file_ids",
            ),
        ];
        for (l, want) in cases {
            match l.validate("lines[0]") {
                Err(Error::Invalid { field, .. }) => assert_eq!(field, want),
                other => panic!("{want}: {other:?}"),
            }
        }
        let many = vec![line(); Cart::MAX_LINES + 1];
        assert!(validate_lines(&many).is_err());
    }
}
