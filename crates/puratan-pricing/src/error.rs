//! The single error type of the crate.

use serde::ser::{Serialize, SerializeMap, Serializer};
use thiserror::Error;

/// Every failure the engine can report.
///
/// Match on [`PricingError::code`] (a stable, documented string) rather than on
/// the variants: new variants may be added in minor releases.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PricingError {
    /// The request names a product the catalog does not contain.
    #[error("unknown product `{product}`")]
    UnknownProduct {
        /// Requested product id.
        product: String,
    },
    /// The product's `method` is not one this engine implements.
    #[error("product `{product}` uses unsupported pricing method `{method}`")]
    UnsupportedMethod {
        /// Product id.
        product: String,
        /// The method as written in the catalog.
        method: String,
    },
    /// An option (paper, color, finishing, turnaround, …) is not offered for the product.
    #[error("{field} `{value}` is not allowed for this product")]
    OptionNotAllowed {
        /// Request field name: `paper`, `color`, `finishing`, `turnaround`,
        /// `material`, `cover_paper` or `options`.
        field: &'static str,
        /// The rejected value.
        value: String,
    },
    /// A finishing id occurs more than once in the request.
    #[error("finishing `{finishing}` is requested more than once")]
    DuplicateFinishing {
        /// The repeated id.
        finishing: String,
    },
    /// An option id (method `breaks`) occurs more than once in the request.
    #[error("option `{option}` is requested more than once")]
    DuplicateOption {
        /// The repeated id.
        option: String,
    },
    /// The request names a customer group the catalog does not contain.
    #[error("unknown customer group `{group}`")]
    UnknownCustomerGroup {
        /// Requested group id.
        group: String,
    },
    /// `quantity` is outside `min..=max`.
    #[error("quantity {quantity} is outside {min}..={max}")]
    QuantityOutOfRange {
        /// Requested quantity.
        quantity: u32,
        /// Product minimum.
        min: u32,
        /// Product maximum.
        max: u32,
    },
    /// `(quantity - min)` is not a multiple of `step`.
    #[error("quantity {quantity} is not {min} plus a multiple of {step}")]
    QuantityStep {
        /// Requested quantity.
        quantity: u32,
        /// Product minimum.
        min: u32,
        /// Product step.
        step: u32,
    },
    /// Method `booklet`: page count not a multiple of 4 or outside the product's range.
    #[error("{pages} pages is not a multiple of 4 within {min}..={max}")]
    PagesInvalid {
        /// Requested page count.
        pages: u32,
        /// Product minimum.
        min: u32,
        /// Product maximum.
        max: u32,
    },
    /// Method `area`: requested width or height outside the product's limits.
    #[error("{field} is outside the product's size limits")]
    SizeOutOfRange {
        /// `width_mm` or `height_mm`.
        field: &'static str,
    },
    /// Not a single piece fits on the press sheet.
    #[error("product `{product}` does not fit on the press sheet")]
    DoesNotFit {
        /// Product id.
        product: String,
    },
    /// No coupon with this code (compared case-insensitively).
    #[error("unknown coupon `{coupon}`")]
    CouponUnknown {
        /// Requested code.
        coupon: String,
    },
    /// The coupon is restricted to other products.
    #[error("coupon `{coupon}` does not apply to this product")]
    CouponNotApplicable {
        /// Requested code.
        coupon: String,
    },
    /// `at` is before the coupon's `valid_from`.
    #[error("coupon `{coupon}` is not valid yet")]
    CouponNotYetValid {
        /// Requested code.
        coupon: String,
    },
    /// `at` is at or after the coupon's `valid_until`.
    #[error("coupon `{coupon}` has expired")]
    CouponExpired {
        /// Requested code.
        coupon: String,
    },
    /// The subtotal is below the coupon's `min_subtotal`.
    #[error("subtotal is below the minimum for coupon `{coupon}`")]
    CouponMinSubtotal {
        /// Requested code.
        coupon: String,
    },
    /// No tax rule for the region (nor its country) and the product's tax category.
    #[error("no tax rule for region `{region}` and category `{category}`")]
    NoTaxRule {
        /// Requested region.
        region: String,
        /// Product tax category.
        category: String,
    },
    /// The requested currency is neither the catalog currency nor has an exchange rate.
    #[error("currency `{currency}` is not supported")]
    CurrencyUnsupported {
        /// Requested currency.
        currency: String,
    },
    /// The catalog is malformed; `path` is the JSON path of the first bad field.
    #[error("invalid catalog at `{path}`: {message}")]
    InvalidCatalog {
        /// JSON path such as `products[0].press` (empty for the document itself).
        path: String,
        /// Human-readable reason.
        message: String,
    },
    /// The request is malformed (bad JSON, unknown field, wrong type, arithmetic overflow, …).
    #[error("invalid request: {message}")]
    InvalidRequest {
        /// Human-readable reason.
        message: String,
    },
}

impl PricingError {
    /// Stable machine-readable code, e.g. `"option_not_allowed"`.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownProduct { .. } => "unknown_product",
            Self::UnsupportedMethod { .. } => "unsupported_method",
            Self::OptionNotAllowed { .. } => "option_not_allowed",
            Self::DuplicateFinishing { .. } => "duplicate_finishing",
            Self::DuplicateOption { .. } => "duplicate_option",
            Self::UnknownCustomerGroup { .. } => "unknown_customer_group",
            Self::QuantityOutOfRange { .. } => "quantity_out_of_range",
            Self::QuantityStep { .. } => "quantity_step",
            Self::PagesInvalid { .. } => "pages_invalid",
            Self::SizeOutOfRange { .. } => "size_out_of_range",
            Self::DoesNotFit { .. } => "does_not_fit",
            Self::CouponUnknown { .. } => "coupon_unknown",
            Self::CouponNotApplicable { .. } => "coupon_not_applicable",
            Self::CouponNotYetValid { .. } => "coupon_not_yet_valid",
            Self::CouponExpired { .. } => "coupon_expired",
            Self::CouponMinSubtotal { .. } => "coupon_min_subtotal",
            Self::NoTaxRule { .. } => "no_tax_rule",
            Self::CurrencyUnsupported { .. } => "currency_unsupported",
            Self::InvalidCatalog { .. } => "invalid_catalog",
            Self::InvalidRequest { .. } => "invalid_request",
        }
    }

    /// The offending field: the JSON path for `invalid_catalog`, the request
    /// field name for `option_not_allowed` and `size_out_of_range`; `None` otherwise.
    #[must_use]
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::InvalidCatalog { path, .. } => Some(path),
            Self::OptionNotAllowed { field, .. } | Self::SizeOutOfRange { field } => Some(field),
            _ => None,
        }
    }

    pub(crate) fn request(message: impl Into<String>) -> Self {
        Self::InvalidRequest {
            message: message.into(),
        }
    }

    pub(crate) fn overflow() -> Self {
        Self::request("arithmetic overflow")
    }
}

/// Serialises as `{"code": …, "field": …?, "message": …}` (fixed order) for bindings.
impl Serialize for PricingError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let field = self.field();
        let mut map = serializer.serialize_map(Some(if field.is_some() { 3 } else { 2 }))?;
        map.serialize_entry("code", self.code())?;
        if let Some(field) = field {
            map.serialize_entry("field", field)?;
        }
        map.serialize_entry("message", &self.to_string())?;
        map.end()
    }
}
