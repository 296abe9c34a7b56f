//! Criterion benchmarks for the pricing engine.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use puratan_pricing::{Catalog, QuoteRequest};
use serde_json::{Value, json};

fn base_catalog() -> Value {
    json!({
        "version": "bench.1",
        "currency": "EUR",
        "exchange_rates": {"GBP": "0.86", "JPY": "162.5"},
        "quote_validity_days": 14,
        "presses": [{"id": "sra3-digital", "sheet": {"w_mm": 320, "h_mm": 450}, "margin_mm": 5,
                     "click_cost": {"4/0": "0.09", "4/4": "0.18"},
                     "setup_sheets": {"4/0": 5, "4/4": 8}, "spoilage_pct": "2"}],
        "papers": [{"id": "silk-350", "name": "Silk 350 gsm", "gsm": 350, "sheet_cost": "0.18"}],
        "finishing": [
            {"id": "matt-lam", "name": "Matt lamination", "setup": "8.00", "per_sheet": "0.12", "per_piece": "0", "extra_days": 1},
            {"id": "round-corners", "name": "Round corners", "setup": "3.50", "per_sheet": "0", "per_piece": "0.004", "extra_days": 2}
        ],
        "turnarounds": [{"id": "standard", "days": 5, "multiplier": "1.0"}, {"id": "express", "days": 2, "multiplier": "1.25"}],
        "customer_groups": [{"id": "trade", "discount_pct": "15"}],
        "coupons": [{"code": "WELCOME10", "kind": "percent", "value": "10", "valid_from": "2026-01-01T00:00:00Z",
                     "valid_until": "2027-01-01T00:00:00Z", "min_subtotal": "20.00", "stackable_with_group": true}],
        "tax": {"rules": [{"region": "DE", "category": "standard", "rate_pct": "19"}]},
        "products": []
    })
}

fn product(id: &str, w: u32, h: u32) -> Value {
    json!({"id": id, "name": format!("Product {id}"), "method": "sheet", "tax_category": "standard",
           "size": {"w_mm": w, "h_mm": h}, "bleed_mm": 2, "gutter_mm": 0, "grain_critical": false,
           "press": "sra3-digital", "papers": ["silk-350"], "colors": ["4/0", "4/4"],
           "finishing": ["matt-lam", "round-corners"], "turnarounds": ["standard", "express"],
           "quantity": {"min": 50, "max": 10000, "step": 50},
           "setup_fee": "5.00", "markup_pct": "60", "minimum_price": "15.00"})
}

fn catalog_with(n: usize) -> Value {
    let mut c = base_catalog();
    let products: Vec<Value> = (0..n)
        .map(|i| {
            let w = 50 + u32::try_from(i % 200).unwrap_or(0);
            let h = 40 + u32::try_from(i % 97).unwrap_or(0);
            if i == 0 {
                product("business-card", 85, 55)
            } else {
                product(&format!("p{i}"), w, h)
            }
        })
        .collect();
    if let Some(obj) = c.as_object_mut() {
        obj.insert("products".into(), Value::Array(products));
    }
    c
}

const REQUEST_TEXT: &str = r#"{"product": "business-card", "quantity": 500, "paper": "silk-350", "color": "4/4",
            "finishing": ["matt-lam", "round-corners"], "turnaround": "express",
            "customer_group": "trade", "coupon": "welcome10", "region": "DE",
            "currency": "GBP", "at": "2026-11-28T10:00:00Z"}"#;

fn request() -> QuoteRequest {
    QuoteRequest::from_json(REQUEST_TEXT).expect("valid request")
}

fn benches(c: &mut Criterion) {
    let catalog = Catalog::from_value(&catalog_with(1)).expect("valid catalog");
    let req = request();
    assert!(catalog.quote(&req).is_ok());
    c.bench_function("quote/typical", |b| {
        b.iter(|| catalog.quote(black_box(&req)))
    });

    // The bindings' batch path: JSON text in, JSON text out.
    let quote = catalog.quote(&req).expect("quote");
    let mut group = c.benchmark_group("json_roundtrip");
    group.bench_function("typical", |b| {
        b.iter(|| {
            let r = QuoteRequest::from_json(black_box(REQUEST_TEXT))?;
            catalog.quote(&r).map(|q| q.to_json())
        })
    });
    group.bench_function("from_json", |b| {
        b.iter(|| QuoteRequest::from_json(black_box(REQUEST_TEXT)))
    });
    group.bench_function("to_json", |b| b.iter(|| black_box(&quote).to_json()));
    group.finish();

    let quantities: Vec<u32> = (1..=20).map(|i| i * 250).collect();
    c.bench_function("quote_table/20", |b| {
        b.iter(|| catalog.quote_table(black_box(&req), black_box(&quantities)))
    });

    let big = catalog_with(1000);
    let big_text = serde_json::to_string(&big).expect("serialise");
    assert!(Catalog::from_json(&big_text).is_ok());
    c.bench_function("catalog_load/1000_products_from_value", |b| {
        b.iter(|| Catalog::from_value(black_box(&big)))
    });
    c.bench_function("catalog_load/1000_products_from_json", |b| {
        b.iter(|| Catalog::from_json(black_box(&big_text)))
    });
}

criterion_group!(pricing, benches);
criterion_main!(pricing);
