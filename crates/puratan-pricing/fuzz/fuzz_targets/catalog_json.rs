//! Arbitrary bytes as catalog JSON. A catalog that loads is quoted with a
//! request for each of its products (first allowed options).
#![no_main]

use libfuzzer_sys::fuzz_target;
use puratan_pricing::{Catalog, QuoteRequest};
use puratan_pricing_fuzz::{check_error, exercise, products_requests};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match Catalog::from_json(&text) {
        Err(e) => check_error(&e),
        Ok(catalog) => {
            for r in products_requests(&catalog) {
                if let Ok(req) = QuoteRequest::from_value(r) {
                    exercise(&catalog, &req, &[1, req.quantity, 1000]);
                }
            }
        }
    }
});
