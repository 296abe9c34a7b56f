//! Request and response types (serde).
//!
//! Strings in a [`Quote`] are `Arc<str>` shared with the [`crate::Catalog`]
//! they came from, so building a quote copies no text; they serialise exactly
//! like `String`.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use std::str::FromStr;

use crate::error::PricingError;

/// A quote request. Deserialisation rejects unknown fields.
///
/// Fields used by a single method only (`material`, `width_mm`, `height_mm`,
/// `pages`, `cover_paper`, `options`) must be absent for the other methods.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuoteRequest {
    /// Product id.
    pub product: String,
    /// Number of finished pieces (copies for booklets).
    pub quantity: u32,
    /// Paper id (methods `sheet`; inner paper for `booklet`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paper: Option<String>,
    /// Colour, e.g. `"4/4"` (methods `sheet`, `area`, `booklet`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// Finishing ids, applied in this order. Default: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub finishing: Vec<String>,
    /// Turnaround id.
    pub turnaround: String,
    /// Customer group id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_group: Option<String>,
    /// Coupon code (case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coupon: Option<String>,
    /// Tax region, e.g. `"DE"` or `"US-CA"`.
    pub region: String,
    /// Quote currency. Default: the catalog currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// The pricing instant (RFC 3339).
    #[serde(with = "rfc3339")]
    pub at: DateTime<Utc>,
    /// Method `area`: material id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub material: Option<String>,
    /// Method `area`: finished width in mm (number or decimal string).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_dim")]
    pub width_mm: Option<Decimal>,
    /// Method `area`: finished height in mm (number or decimal string).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_dim")]
    pub height_mm: Option<Decimal>,
    /// Method `booklet`: total page count including the 4 cover pages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<u32>,
    /// Method `booklet`: cover paper id (only when the product has `cover_papers`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cover_paper: Option<String>,
    /// Method `breaks`: option ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

impl QuoteRequest {
    /// Parses a request from JSON text.
    ///
    /// # Errors
    /// `invalid_request` when the JSON is malformed, has unknown fields or wrong types.
    pub fn from_json(text: &str) -> Result<Self, PricingError> {
        #[cfg(not(target_arch = "wasm32"))]
        if let Some(request) = crate::fastreq::parse(text) {
            return Ok(request);
        }
        serde_json::from_str(text).map_err(|e| PricingError::request(e.to_string()))
    }

    /// Parses a request from a JSON value.
    ///
    /// # Errors
    /// `invalid_request` when the value has unknown fields or wrong types.
    pub fn from_value(value: serde_json::Value) -> Result<Self, PricingError> {
        serde_json::from_value(value).map_err(|e| PricingError::request(e.to_string()))
    }
}

/// Kind of a price line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LineKind {
    /// Paper (`sheet`, `booklet`).
    Paper,
    /// Printing (click or ink cost).
    Print,
    /// A finishing operation.
    Finishing,
    /// The product's setup fee.
    Setup,
    /// Top-up to the product's minimum price.
    MinimumCharge,
    /// Substrate (`area`).
    Material,
    /// Quantity-break base price (`breaks`).
    Base,
    /// A priced option (`breaks`).
    Option,
    /// Binding (`booklet`).
    Binding,
}

/// One selling-price line, already rounded to the currency's minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// Line kind.
    pub kind: LineKind,
    /// Catalog id (paper, colour, finishing, material, option, binding); absent for
    /// `setup`, `base` and `minimum_charge`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Arc<str>>,
    /// Human-readable label.
    pub label: Arc<str>,
    /// Amount.
    #[serde(serialize_with = "crate::ser::decimal")]
    pub amount: Decimal,
}

/// Kind of a discount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscountKind {
    /// Customer-group discount.
    Group,
    /// Coupon discount.
    Coupon,
}

/// An applied discount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discount {
    /// Kind.
    pub kind: DiscountKind,
    /// Group id, or the coupon code as written in the catalog.
    pub id: Arc<str>,
    /// Amount (positive, subtracted from the subtotal).
    #[serde(serialize_with = "crate::ser::decimal")]
    pub amount: Decimal,
}

/// The coupon a quote applied, for the order layer to count redemptions
/// (one per order that uses it; pricing itself never counts: it is pure).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedCoupon {
    /// The code as the catalog compares it (Unicode lower-cased), the key
    /// redemptions are counted under.
    pub code: Arc<str>,
    /// The coupon's `max_redemptions` in the catalog: how many orders may
    /// use it in total; `None` = unlimited.
    pub max_redemptions: Option<u32>,
}

/// Applied tax.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tax {
    /// Region of the matching rule (the country when a subdivision fell back to it).
    pub region: Arc<str>,
    /// Rate in percent, normalised (`"19"`, `"7.25"`).
    #[serde(serialize_with = "crate::ser::decimal")]
    pub rate_pct: Decimal,
    /// Tax amount.
    #[serde(serialize_with = "crate::ser::decimal")]
    pub amount: Decimal,
}

/// Sheet counts of an imposed job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Imposition {
    /// Pieces (spreads for booklets) per press sheet.
    pub n_up: u64,
    /// Whether the piece is turned 90° on the sheet.
    pub rotated: bool,
    /// Sheets needed for the good pieces.
    pub run_sheets: u64,
    /// Spoilage allowance.
    pub spoilage_sheets: u64,
    /// Make-ready sheets for the colour.
    pub setup_sheets: u64,
    /// Total sheets.
    pub sheets: u64,
}

/// Production schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Production {
    /// Turnaround days plus the largest `extra_days` of the chosen finishing.
    pub business_days: u32,
    /// The date production is finished (Monday–Friday counting).
    #[serde(serialize_with = "date")]
    pub ship_date: NaiveDate,
}

/// A computed quote. Serialises with a fixed field order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    /// Rounded selling lines; they add up to `subtotal` exactly.
    pub lines: Vec<Line>,
    /// Σ lines.
    #[serde(serialize_with = "crate::ser::decimal")]
    pub subtotal: Decimal,
    /// Applied discounts (group first, then coupon).
    pub discounts: Vec<Discount>,
    /// subtotal − discounts.
    #[serde(serialize_with = "crate::ser::decimal")]
    pub net: Decimal,
    /// Tax on `net`.
    pub tax: Tax,
    /// net + tax.
    #[serde(serialize_with = "crate::ser::decimal")]
    pub total: Decimal,
    /// Quote currency.
    pub currency: Arc<str>,
    /// net / quantity, 4 decimals (display only).
    #[serde(serialize_with = "crate::ser::decimal")]
    pub unit_price: Decimal,
    /// Sheet counts (`sheet`; inner pages for `booklet`); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imposition: Option<Imposition>,
    /// Booklet cover sheet counts; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cover_imposition: Option<Imposition>,
    /// Production schedule.
    pub production: Production,
    /// Catalog version.
    pub catalog_version: Arc<str>,
    /// `at` + `quote_validity_days` days.
    #[serde(with = "rfc3339")]
    pub valid_until: DateTime<Utc>,
    /// The coupon this quote applied (absent when none was requested, or a
    /// non-stackable coupon lost to the customer-group discount). Not part
    /// of the JSON: the quote lists the coupon under `discounts`; this is
    /// for the caller that counts redemptions.
    #[serde(skip)]
    pub coupon: Option<AppliedCoupon>,
}

impl Quote {
    /// Deterministic JSON (fixed field order, amounts as strings).
    #[must_use]
    pub fn to_json(&self) -> String {
        crate::ser::quote_json(self)
    }

    /// Appends the same bytes as [`Quote::to_json`] to `out` (bulk output
    /// without an allocation per quote). The bytes are UTF-8.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        crate::ser::write_quote_json(self, out);
    }
}

/// Same text as chrono's `Serialize` for `NaiveDate`.
fn date<S: Serializer>(d: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
    crate::ser::with_date(*d, |text| s.serialize_str(text))
}

pub(crate) mod rfc3339 {
    use std::fmt;

    use serde::de::{self, Visitor};

    use super::{DateTime, Deserializer, Serializer, Utc};

    pub(crate) fn serialize<S: Serializer>(dt: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        crate::ser::with_rfc3339(dt, |text| s.serialize_str(text))
    }

    /// Accepts exactly what `String::deserialize` accepts (same "a string"
    /// expectation), without allocating the string. The text is parsed inside the
    /// visitor, but a parse error is raised only after `deserialize_string` has
    /// returned, as before, so serde_json reports it at the same position.
    struct Rfc3339Visitor;

    impl Visitor<'_> for Rfc3339Visitor {
        type Value = Result<DateTime<Utc>, chrono::ParseError>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(super::parse_rfc3339(v))
        }

        fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
            match std::str::from_utf8(v) {
                Ok(s) => self.visit_str(s),
                Err(_) => Err(E::invalid_value(de::Unexpected::Bytes(v), &self)),
            }
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        d.deserialize_string(Rfc3339Visitor)?
            .map_err(de::Error::custom)
    }
}

/// `at` / `valid_until` text to an instant.
#[inline(never)] // one copy of chrono's parser for the serde and the fast path
pub(crate) fn parse_rfc3339(s: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc))
}

/// The value of a `width_mm` / `height_mm` given as this text (a JSON number's
/// text or a string): plain digits and dots only.
#[inline(never)] // one copy of rust_decimal's parser for the serde and the fast path
pub(crate) fn dim_from_text(text: &str) -> Option<Decimal> {
    let ok = !text.is_empty()
        && text.len() <= 40
        && text.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    if ok {
        Decimal::from_str(text).ok()
    } else {
        None
    }
}

mod opt_dim {
    use super::{Decimal, Deserialize, Deserializer, Serializer};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Dim {
        Num(serde_json::Number),
        Str(String),
    }

    #[allow(clippy::ref_option)]
    pub(super) fn serialize<S: Serializer>(v: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(d) => s.serialize_str(&d.to_string()),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Decimal>, D::Error> {
        let text = match Option::<Dim>::deserialize(d)? {
            None => return Ok(None),
            Some(Dim::Num(n)) => n.to_string(),
            Some(Dim::Str(s)) => s,
        };
        super::dim_from_text(&text)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom("expected a non-negative decimal dimension"))
    }
}
