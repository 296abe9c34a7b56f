//! JSON-text in, JSON-text out: everything the JS layer does, testable natively.
//!
//! No pricing logic lives here: every function parses its input, calls exactly
//! one engine method and serialises the engine's own result.

use puratan_pricing::{Catalog, PricingError, Quote, QuoteRequest};
use serde::Serialize;

/// One element of `quoteTable`: the quantity plus either the quote or the error.
#[derive(Debug, Serialize)]
pub struct TableRow<'a> {
    /// The quantity of this row.
    pub quantity: u32,
    /// The quote, when pricing succeeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quote: Option<&'a Quote>,
    /// The engine's error (`{code, field?, message}`), when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'a PricingError>,
}

fn to_json<T: Serialize>(value: &T) -> Result<String, PricingError> {
    serde_json::to_string(value).map_err(|e| PricingError::InvalidRequest {
        message: format!("cannot serialise the result: {e}"),
    })
}

/// Parses and validates a catalog given as JSON text.
///
/// # Errors
/// `invalid_catalog` with the JSON path of the first bad field.
pub fn load_catalog(text: &str) -> Result<Catalog, PricingError> {
    Catalog::from_json(text)
}

/// Parses a request given as JSON text.
///
/// # Errors
/// `invalid_request`.
pub fn parse_request(text: &str) -> Result<QuoteRequest, PricingError> {
    QuoteRequest::from_json(text)
}

/// `Catalog::quote`, serialised with [`Quote::to_json`].
///
/// # Errors
/// Those of `QuoteRequest::from_json` and `Catalog::quote`.
pub fn quote_json(catalog: &Catalog, request: &str) -> Result<String, PricingError> {
    let request = parse_request(request)?;
    catalog.quote(&request).map(|q| q.to_json())
}

/// Parses the `quantities` argument of `quoteTable` (a JSON array of integers).
///
/// # Errors
/// `invalid_request` unless it is an array of integers in `0..=u32::MAX`.
pub fn parse_quantities(text: &str) -> Result<Vec<u32>, PricingError> {
    serde_json::from_str(text).map_err(|e| PricingError::InvalidRequest {
        message: format!("quantities must be an array of non-negative integers: {e}"),
    })
}

/// `Catalog::quote_table` as a JSON array of [`TableRow`]s.
///
/// # Errors
/// The outer error of `Catalog::quote_table` (or a malformed request).
pub fn quote_table_json(
    catalog: &Catalog,
    request: &str,
    quantities: &[u32],
) -> Result<String, PricingError> {
    let request = parse_request(request)?;
    let results = catalog.quote_table(&request, quantities)?;
    let rows: Vec<TableRow<'_>> = quantities
        .iter()
        .zip(&results)
        .map(|(&quantity, result)| TableRow {
            quantity,
            quote: result.as_ref().ok(),
            error: result.as_ref().err(),
        })
        .collect();
    to_json(&rows)
}

/// `Catalog::explain` as JSON.
///
/// # Errors
/// Those of `Catalog::quote`.
pub fn explain_json(catalog: &Catalog, request: &str) -> Result<String, PricingError> {
    let request = parse_request(request)?;
    to_json(&catalog.explain(&request)?)
}

/// `Catalog::products` as JSON.
///
/// # Errors
/// Never in practice (serialisation of plain data).
pub fn products_json(catalog: &Catalog) -> Result<String, PricingError> {
    to_json(&catalog.products())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CATALOG: &str = r#"{
        "version": "t.1", "currency": "EUR", "quote_validity_days": 14,
        "presses": [{"id": "p", "sheet": {"w_mm": 320, "h_mm": 450}, "margin_mm": 5,
                     "click_cost": {"4/4": "0.18"}, "setup_sheets": {"4/4": 8}, "spoilage_pct": "2"}],
        "papers": [{"id": "silk", "name": "Silk", "sheet_cost": "0.18"}],
        "turnarounds": [{"id": "standard", "days": 5, "multiplier": "1"}],
        "tax": {"rules": [{"region": "DE", "category": "standard", "rate_pct": "19"}]},
        "products": [{"id": "card", "name": "Card", "method": "sheet", "tax_category": "standard",
                      "size": {"w_mm": 85, "h_mm": 55}, "press": "p", "papers": ["silk"],
                      "colors": ["4/4"], "turnarounds": ["standard"],
                      "quantity": {"min": 50, "max": 1000, "step": 50}}]
    }"#;
    const REQUEST: &str = r#"{"product": "card", "quantity": 100, "paper": "silk", "color": "4/4",
        "turnaround": "standard", "region": "DE", "at": "2026-11-28T10:00:00Z"}"#;

    fn catalog() -> Catalog {
        load_catalog(CATALOG).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn quote_is_the_engine_json() {
        let c = catalog();
        let direct = c
            .quote(&parse_request(REQUEST).unwrap_or_else(|e| panic!("{e}")))
            .map(|q| q.to_json());
        assert_eq!(quote_json(&c, REQUEST), direct);
        assert!(direct.is_ok());
    }

    #[test]
    fn table_rows_carry_quote_or_error() {
        let c = catalog();
        let text = quote_table_json(&c, REQUEST, &[50, 75, 2000]).unwrap_or_else(|e| panic!("{e}"));
        let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(v[0]["quantity"], 50);
        assert!(v[0]["quote"]["total"].is_string());
        assert!(v[0].get("error").is_none());
        assert_eq!(v[1]["error"]["code"], "quantity_step");
        assert_eq!(v[2]["error"]["code"], "quantity_out_of_range");
        assert!(v[2].get("quote").is_none());
        let outer = quote_table_json(&c, REQUEST, &[]).err();
        assert_eq!(outer.map(|e| e.code()), Some("invalid_request"));
    }

    #[test]
    fn quantities_reject_non_integers() {
        assert_eq!(parse_quantities("[1, 2]").ok(), Some(vec![1, 2]));
        for bad in ["[2.5]", "[-1]", "\"x\"", "[4294967296]"] {
            assert_eq!(
                parse_quantities(bad).err().map(|e| e.code()),
                Some("invalid_request"),
                "{bad}"
            );
        }
    }

    #[test]
    fn errors_keep_code_and_field() {
        let c = catalog();
        let e = quote_json(&c, &REQUEST.replace("\"silk\"", "\"gloss\"")).err();
        assert_eq!(
            e.as_ref().map(PricingError::code),
            Some("option_not_allowed")
        );
        assert_eq!(e.as_ref().and_then(PricingError::field), Some("paper"));
        let e = load_catalog("{").err();
        assert_eq!(e.as_ref().map(PricingError::code), Some("invalid_catalog"));
        assert_eq!(e.as_ref().and_then(PricingError::field), Some(""));
    }

    #[test]
    fn explain_and_products_serialise() {
        let c = catalog();
        let ex = explain_json(&c, REQUEST).unwrap_or_default();
        assert!(ex.starts_with("{\"quote\":{\"lines\":"), "{ex}");
        let products = products_json(&c).unwrap_or_default();
        assert!(products.contains("\"id\":\"card\""), "{products}");
    }
}
