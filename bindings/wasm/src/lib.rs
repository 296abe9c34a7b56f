//! # puratan-wasm
//!
//! WebAssembly bindings (wasm-bindgen) of [`puratan_pricing`]: the same engine,
//! byte for byte, in browsers and Node.js. Thin by design: a JS object or JSON
//! string goes in, the engine runs, and the engine's own JSON (`Quote::to_json`,
//! fixed field order, amounts as decimal strings) comes back as a plain JS
//! object via `JSON.parse`, so `JSON.stringify(catalog.quote(r))` equals the
//! Rust output exactly.
//!
//! ```js
//! import init, { Catalog } from "@puratan/pricing";
//! await init();
//! const catalog = new Catalog(catalogJsonOrObject);
//! const quote = catalog.quote({ product: "business-card", quantity: 500, /* … */ });
//! ```
//!
//! Errors are thrown as JS `Error` objects with `name = "PricingError"` and the
//! engine's stable `code` and (when the engine gives one) `field`.
//!
//! The pure JSON-text layer lives in [`core`] and is tested natively; this
//! module only converts `JsValue`s.

pub mod core;

use js_sys::{JSON, Reflect};
use puratan_pricing::PricingError;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = include_str!("types.d.ts");

#[wasm_bindgen]
extern "C" {
    /// A catalog document or its JSON text.
    #[wasm_bindgen(typescript_type = "CatalogInput")]
    pub type CatalogInput;
    /// A quote request or its JSON text.
    #[wasm_bindgen(typescript_type = "QuoteRequestInput")]
    pub type RequestInput;
    /// Quantities for `quoteTable`.
    #[wasm_bindgen(typescript_type = "Iterable<number> | ArrayLike<number>")]
    pub type Quantities;
    /// A quote (plain object, engine field order).
    #[wasm_bindgen(typescript_type = "Quote")]
    pub type QuoteObject;
    /// Rows of `quoteTable`.
    #[wasm_bindgen(typescript_type = "QuoteTableRow[]")]
    pub type QuoteTableRows;
    /// Result of `explain`.
    #[wasm_bindgen(typescript_type = "Explanation")]
    pub type ExplanationObject;
    /// Result of `products`.
    #[wasm_bindgen(typescript_type = "ProductInfo[]")]
    pub type ProductList;
}

/// Builds the thrown JS `Error`: `name` `PricingError`, `message`, `code`, `field`.
fn js_error(e: &PricingError) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    err.set_name("PricingError");
    let _ = Reflect::set(
        &err,
        &JsValue::from_str("code"),
        &JsValue::from_str(e.code()),
    );
    if let Some(field) = e.field() {
        let _ = Reflect::set(&err, &JsValue::from_str("field"), &JsValue::from_str(field));
    }
    err.into()
}

/// A JS string is taken as JSON text; any other object is `JSON.stringify`-ed.
fn json_text(value: &JsValue) -> Option<String> {
    if let Some(text) = value.as_string() {
        return Some(text);
    }
    if !value.is_object() {
        return None;
    }
    JSON::stringify(value).ok().and_then(|s| s.as_string())
}

fn request_text(value: &JsValue) -> Result<String, JsValue> {
    json_text(value).ok_or_else(|| {
        js_error(&PricingError::InvalidRequest {
            message: "the request must be an object or a JSON string".into(),
        })
    })
}

fn parse<T: JsCast>(json: &str) -> Result<T, JsValue> {
    JSON::parse(json).map(JsCast::unchecked_into)
}

/// A validated, indexed catalog. Load once, quote many times.
#[wasm_bindgen(js_name = Catalog)]
#[derive(Debug)]
pub struct WasmCatalog {
    inner: puratan_pricing::Catalog,
}

#[wasm_bindgen(js_class = Catalog)]
impl WasmCatalog {
    /// Validates and indexes a catalog (JSON text or a plain object).
    /// Throws a `PricingError` with code `invalid_catalog` and `field` = JSON path.
    #[wasm_bindgen(constructor)]
    pub fn new(catalog: &CatalogInput) -> Result<WasmCatalog, JsValue> {
        let text = json_text(catalog).ok_or_else(|| {
            js_error(&PricingError::InvalidCatalog {
                path: String::new(),
                message: "the catalog must be an object or a JSON string".into(),
            })
        })?;
        core::load_catalog(&text)
            .map(|inner| WasmCatalog { inner })
            .map_err(|e| js_error(&e))
    }

    /// The catalog's `version` (echoed as `catalog_version` in quotes).
    #[wasm_bindgen(getter)]
    pub fn version(&self) -> String {
        self.inner.version().to_owned()
    }

    /// The catalog's base currency.
    #[wasm_bindgen(getter)]
    pub fn currency(&self) -> String {
        self.inner.currency().to_owned()
    }

    /// Prices one request. Throws `PricingError`.
    pub fn quote(&self, request: &RequestInput) -> Result<QuoteObject, JsValue> {
        let json = self.quote_json(request)?;
        parse(&json)
    }

    /// Like `quote`, but returns the engine's JSON text unchanged (fixed field order).
    #[wasm_bindgen(js_name = quoteJson)]
    pub fn quote_json(&self, request: &RequestInput) -> Result<String, JsValue> {
        let text = request_text(request)?;
        core::quote_json(&self.inner, &text).map_err(|e| js_error(&e))
    }

    /// Prices one request at 1–20 quantities (`request.quantity` is ignored).
    /// Per-quantity failures are rows with `error`; failures before the quantity
    /// checks (product, options, bad arguments) are thrown.
    #[wasm_bindgen(js_name = quoteTable)]
    pub fn quote_table(
        &self,
        request: &RequestInput,
        quantities: &Quantities,
    ) -> Result<QuoteTableRows, JsValue> {
        let text = request_text(request)?;
        // `Array.from` accepts arrays, typed arrays and any iterable; the JSON
        // round trip then rejects anything that is not a non-negative integer.
        let quantities = (quantities.is_object() && !quantities.is_function())
            .then(|| js_sys::Array::from(quantities))
            .and_then(|a| json_text(&a))
            .ok_or_else(|| {
                js_error(&PricingError::InvalidRequest {
                    message: "quantities must be an array of integers".into(),
                })
            })
            .and_then(|q| core::parse_quantities(&q).map_err(|e| js_error(&e)))?;
        let json =
            core::quote_table_json(&self.inner, &text, &quantities).map_err(|e| js_error(&e))?;
        parse(&json)
    }

    /// The quote plus a human-readable breakdown and imposition diagram data.
    pub fn explain(&self, request: &RequestInput) -> Result<ExplanationObject, JsValue> {
        let text = request_text(request)?;
        let json = core::explain_json(&self.inner, &text).map_err(|e| js_error(&e))?;
        parse(&json)
    }

    /// Every product with the options a storefront form may offer, in catalog order.
    pub fn products(&self) -> Result<ProductList, JsValue> {
        let json = core::products_json(&self.inner).map_err(|e| js_error(&e))?;
        parse(&json)
    }
}

/// Version of the bindings (equals the engine's crate version).
#[wasm_bindgen(js_name = bindingsVersion)]
pub fn bindings_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
