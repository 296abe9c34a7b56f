//! What checkout knows about a line's quote. Verifying the signature and
//! re-pricing need the signing keys and the pricing catalogs, which live
//! in the server; it passes the verdict in as a [`QuoteCheck`], and
//! [`check_line`] decides whether the quote prices this line.

use chrono::{DateTime, Utc};

use super::error::OrderError;
use crate::domain::{CartLine, Money};

/// The server's verdict on a line's quote token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuoteCheck {
    /// Authentic and not expired; re-priced from its stored inputs.
    Valid(PricedQuote),
    /// Authentic but past `valid_until`.
    Expired { valid_until: DateTime<Utc> },
    /// Not issued by this shop, or altered.
    Tampered,
}

/// A verified quote and its re-pricing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedQuote {
    pub quote_id: String,
    /// The product and quantity the quote priced (from the signed request).
    pub product_id: String,
    pub quantity: u32,
    /// The total inside the signed token.
    pub signed_total: Money,
    /// The total of pricing the signed request again now, on the catalog
    /// version it was priced with.
    pub repriced_total: Money,
    pub valid_until: DateTime<Utc>,
    /// When production would be finished (the quote's ship date), if known.
    pub ready_at: Option<DateTime<Utc>>,
    /// The coupon the re-priced quote applied, if any: checkout counts one
    /// redemption of it per order.
    pub coupon: Option<QuoteCoupon>,
}

/// A coupon as checkout counts it: the normalised (lower-cased) code the
/// pricing catalog compares, and its `max_redemptions` in the catalog
/// version the quote was priced with (`None` = unlimited).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteCoupon {
    pub code: String,
    pub max_redemptions: Option<u64>,
}

/// The line's price, or why the quote does not price it.
pub fn check_line(
    index: usize,
    line: &CartLine,
    check: &QuoteCheck,
    now: DateTime<Utc>,
) -> Result<PricedQuote, OrderError> {
    let q = match check {
        QuoteCheck::Tampered => return Err(OrderError::QuoteTampered { line: index }),
        QuoteCheck::Expired { valid_until } => {
            return Err(OrderError::QuoteExpired {
                line: index,
                valid_until: *valid_until,
            });
        }
        QuoteCheck::Valid(q) => q,
    };
    if q.valid_until <= now {
        return Err(OrderError::QuoteExpired {
            line: index,
            valid_until: q.valid_until,
        });
    }
    let mismatch = |reason: String| OrderError::QuoteMismatch {
        line: index,
        reason,
    };
    if q.product_id != line.product_id.as_str() {
        return Err(mismatch(format!(
            "the quote is for product {}, the line orders {}",
            q.product_id, line.product_id
        )));
    }
    if q.quantity != line.quantity {
        return Err(mismatch(format!(
            "the quote is for {} pieces, the line orders {}",
            q.quantity, line.quantity
        )));
    }
    if q.repriced_total != q.signed_total {
        return Err(mismatch(format!(
            "re-pricing the quote gives {}, not the quoted {}",
            q.repriced_total, q.signed_total
        )));
    }
    Ok(q.clone())
}
