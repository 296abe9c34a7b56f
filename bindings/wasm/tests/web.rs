//! wasm-bindgen tests of the JS boundary, run under Node by
//! `wasm-bindgen-test-runner` (see scripts/bindings-test.sh).
#![cfg(target_arch = "wasm32")]

use js_sys::{JSON, Reflect};
use puratan_wasm::{CatalogInput, RequestInput, WasmCatalog};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

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

fn text(s: &str) -> JsValue {
    JsValue::from_str(s)
}

fn object(s: &str) -> JsValue {
    JSON::parse(s).unwrap_or(JsValue::NULL)
}

fn catalog() -> WasmCatalog {
    WasmCatalog::new(text(CATALOG).unchecked_ref::<CatalogInput>())
        .unwrap_or_else(|e| panic!("catalog: {e:?}"))
}

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &text(key)).unwrap_or(JsValue::UNDEFINED)
}

#[wasm_bindgen_test]
fn object_and_text_inputs_give_the_engine_json() {
    let c = catalog();
    let from_object = WasmCatalog::new(object(CATALOG).unchecked_ref::<CatalogInput>())
        .unwrap_or_else(|e| panic!("catalog: {e:?}"));
    let by_text = c.quote_json(text(REQUEST).unchecked_ref::<RequestInput>());
    let by_object = from_object.quote_json(object(REQUEST).unchecked_ref::<RequestInput>());
    let by_text = by_text.unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(by_object.ok().as_deref(), Some(by_text.as_str()));
    assert!(by_text.starts_with("{\"lines\":["));

    let quote: JsValue = c
        .quote(text(REQUEST).unchecked_ref::<RequestInput>())
        .unwrap_or_else(|e| panic!("{e:?}"))
        .into();
    let round_trip = JSON::stringify(&quote).ok().and_then(|s| s.as_string());
    assert_eq!(round_trip.as_deref(), Some(by_text.as_str()));
    assert_eq!(c.version(), "t.1");
    assert_eq!(c.currency(), "EUR");
}

#[wasm_bindgen_test]
fn errors_are_js_errors_with_code_and_field() {
    let c = catalog();
    let bad = REQUEST.replace("\"silk\"", "\"gloss\"");
    let err = c
        .quote(text(&bad).unchecked_ref::<RequestInput>())
        .err()
        .unwrap_or(JsValue::NULL);
    assert!(err.is_instance_of::<js_sys::Error>());
    assert_eq!(
        get(&err, "name").as_string().as_deref(),
        Some("PricingError")
    );
    assert_eq!(
        get(&err, "code").as_string().as_deref(),
        Some("option_not_allowed")
    );
    assert_eq!(get(&err, "field").as_string().as_deref(), Some("paper"));

    let err = WasmCatalog::new(text("{").unchecked_ref::<CatalogInput>())
        .err()
        .unwrap_or(JsValue::NULL);
    assert_eq!(
        get(&err, "code").as_string().as_deref(),
        Some("invalid_catalog")
    );
    assert_eq!(get(&err, "field").as_string().as_deref(), Some(""));

    let err = c
        .quote(JsValue::from_f64(1.0).unchecked_ref::<RequestInput>())
        .err()
        .unwrap_or(JsValue::NULL);
    assert_eq!(
        get(&err, "code").as_string().as_deref(),
        Some("invalid_request")
    );
    assert!(get(&err, "field").is_undefined());
}

#[wasm_bindgen_test]
fn table_rows_and_products() {
    let c = catalog();
    let quantities = object("[50, 75]");
    let rows: JsValue = c
        .quote_table(
            text(REQUEST).unchecked_ref::<RequestInput>(),
            quantities.unchecked_ref(),
        )
        .unwrap_or_else(|e| panic!("{e:?}"))
        .into();
    let rows: js_sys::Array = rows.unchecked_into();
    assert_eq!(rows.length(), 2);
    assert!(get(&rows.get(0), "quote").is_object());
    let error = get(&rows.get(1), "error");
    assert_eq!(
        get(&error, "code").as_string().as_deref(),
        Some("quantity_step")
    );

    let products: JsValue = c.products().unwrap_or_else(|e| panic!("{e:?}")).into();
    let products: js_sys::Array = products.unchecked_into();
    assert_eq!(
        get(&products.get(0), "id").as_string().as_deref(),
        Some("card")
    );
}
