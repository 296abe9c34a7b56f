//! Puratan pricing engine (docs filled in below).
#![deny(clippy::float_arithmetic)]

mod catalog;
mod currency;
mod engine;
mod error;
mod info;
mod json;
mod types;

pub use catalog::Catalog;
pub use currency::minor_units;
pub use engine::MAX_TABLE_QUANTITIES;
pub use error::PricingError;
pub use info::{
    Choice, Explanation, ImpositionDiagram, Orientation, ProductInfo, QuantityRule,
    TurnaroundChoice,
};
pub use types::{
    Discount, DiscountKind, Imposition, Line, LineKind, Production, Quote, QuoteRequest, Tax,
};
