//! Native baseline for the bindings benchmarks (`benches/bindings/*`): the same
//! catalog (`spec` of the shared vectors) and request as `wasm.mjs` and
//! `python.py`, so the numbers compare one to one.
#![allow(missing_docs)]

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::hint::black_box;

    use criterion::Criterion;
    use puratan_pricing::{Catalog, QuoteRequest};
    use puratan_wasm::core;

    const REQUEST: &str = r#"{"product": "business-card", "quantity": 500, "paper": "silk-350",
        "color": "4/4", "finishing": ["matt-lam"], "turnaround": "express",
        "customer_group": "trade", "coupon": "welcome10", "region": "DE", "currency": "EUR",
        "at": "2026-11-28T10:00:00Z"}"#;

    fn spec_catalog() -> String {
        let text = include_str!("../../crates/puratan-pricing/tests/vectors/sheet_core.json");
        let doc: serde_json::Value = serde_json::from_str(text).expect("vectors");
        doc["catalogs"]["spec"].to_string()
    }

    pub(crate) fn benches(c: &mut Criterion) {
        let catalog = Catalog::from_json(&spec_catalog()).expect("catalog");
        let request = QuoteRequest::from_json(REQUEST).expect("request");
        assert!(catalog.quote(&request).is_ok());
        c.bench_function("native/quote (parsed request)", |b| {
            b.iter(|| catalog.quote(black_box(&request)))
        });
        c.bench_function("native/json in + quote + json out", |b| {
            b.iter(|| core::quote_json(&catalog, black_box(REQUEST)))
        });
        let quantities: Vec<u32> = (1..=20).map(|i| i * 500).collect();
        c.bench_function("native/quote_table 20 (json)", |b| {
            b.iter(|| core::quote_table_json(&catalog, black_box(REQUEST), black_box(&quantities)))
        });
    }

    criterion::criterion_group!(bindings, benches);
}

#[cfg(not(target_arch = "wasm32"))]
criterion::criterion_main!(native::bindings);

/// The benchmark is native only (criterion does not target wasm32).
#[cfg(target_arch = "wasm32")]
fn main() {}
