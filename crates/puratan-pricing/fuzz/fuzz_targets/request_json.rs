//! Arbitrary bytes as request JSON, quoted against the sheet and the
//! area / breaks / booklet seed catalogs.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use puratan_pricing::{Catalog, QuoteRequest};
use puratan_pricing_fuzz::{check_error, exercise, seeds};

fn catalogs() -> &'static [Catalog] {
    static CATALOGS: OnceLock<Vec<Catalog>> = OnceLock::new();
    CATALOGS.get_or_init(|| {
        seeds()
            .catalogs
            .iter()
            .map(|c| Catalog::from_value(c).unwrap_or_else(|e| panic!("seed catalog: {e}")))
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match QuoteRequest::from_json(&text) {
        Err(e) => check_error(&e),
        Ok(req) => {
            for catalog in catalogs() {
                exercise(catalog, &req, &[req.quantity, 1, 50, 100, 1000]);
            }
        }
    }
});
