//! The one error type of the orders service, with stable codes.

use chrono::{DateTime, Utc};

use crate::domain::Money;
use crate::workflow::WorkflowError;

/// Why a checkout or an order change was refused. [`OrderError::code`] is
/// stable (API error bodies use it); `line` is the 0-based index of the
/// offending checkout line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OrderError {
    /// A checkout without lines.
    #[error("there is nothing to order")]
    EmptyCart,

    /// The line's quote token was not issued by this shop or was altered.
    #[error("lines[{line}]: the quote token is not valid (altered or not issued here)")]
    QuoteTampered { line: usize },

    /// The line's quote is authentic but no longer valid.
    #[error("lines[{line}]: the quote expired at {valid_until}; request a new quote")]
    QuoteExpired {
        line: usize,
        valid_until: DateTime<Utc>,
    },

    /// The quote does not price this line (another product or quantity),
    /// or re-pricing its stored inputs no longer gives the signed total.
    #[error("lines[{line}]: {reason}")]
    QuoteMismatch { line: usize, reason: String },

    /// The product is not (or no longer) sold.
    #[error("lines[{line}]: product {product_id} is not available")]
    ProductUnavailable { line: usize, product_id: String },

    /// The total the client saw is not the total of the verified quotes.
    #[error("the order total is {actual}, not {expected}")]
    TotalMismatch { expected: Money, actual: Money },

    /// A stock-controlled product has fewer units left than ordered.
    #[error("not enough stock left of {product_id}")]
    OutOfStock { product_id: String },

    /// The coupon has been redeemed by as many orders as its
    /// `max_redemptions` allows (`code` is the normalised code).
    #[error("coupon {code} has reached its maximum number of redemptions")]
    CouponExhausted { code: String },

    /// The `Idempotency-Key` is missing or malformed.
    #[error("invalid Idempotency-Key: {reason}")]
    InvalidIdempotencyKey { reason: &'static str },

    /// The same `Idempotency-Key` was used before with a different request.
    #[error("this Idempotency-Key was already used for a different request")]
    IdempotencyKeyReused,

    /// The workflow refused the transition (state, role, guard, reason).
    #[error(transparent)]
    Workflow(#[from] WorkflowError),

    /// A store failed, or a version check (`Conflict { StaleVersion }`).
    #[error(transparent)]
    Store(#[from] crate::Error),
}

impl OrderError {
    /// A stable machine-readable code. Store errors have none of their
    /// own (the caller maps [`crate::Error`] kinds).
    pub fn code(&self) -> &'static str {
        match self {
            Self::EmptyCart => "cart_empty",
            Self::QuoteTampered { .. } => "quote_tampered",
            Self::QuoteExpired { .. } => "quote_expired",
            Self::QuoteMismatch { .. } => "quote_mismatch",
            Self::ProductUnavailable { .. } => "product_unavailable",
            Self::TotalMismatch { .. } => "total_mismatch",
            Self::OutOfStock { .. } => "out_of_stock",
            Self::CouponExhausted { .. } => "coupon_exhausted",
            Self::InvalidIdempotencyKey { .. } => "invalid_idempotency_key",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::Workflow(e) => e.code(),
            Self::Store(_) => "store",
        }
    }
}
