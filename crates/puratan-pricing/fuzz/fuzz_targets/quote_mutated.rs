//! Structured mutation: a seed catalog and one of its vector requests, both
//! mutated by the input (replace / delete / insert / duplicate nodes with
//! values from a palette of ids, amounts, dates and edge numbers), then
//! loaded, quoted, explained and tabled.
#![no_main]

use libfuzzer_sys::fuzz_target;
use puratan_pricing::{Catalog, QuoteRequest};
use puratan_pricing_fuzz::{Choices, check_error, exercise, mutate, quantities, seeds};

fuzz_target!(|data: &[u8]| {
    let s = seeds();
    let mut c = Choices::new(data);
    let pick = usize::from(c.byte()) << 8 | usize::from(c.byte());
    let Some((cat_ix, request)) = s.requests.get(pick % s.requests.len().max(1)) else {
        return;
    };
    let mut catalog = s.catalogs[*cat_ix].clone();
    let mut request = request.clone();
    let (cat_mutations, req_mutations) = (c.below(4), c.below(4));
    for _ in 0..cat_mutations {
        mutate(&mut catalog, &mut c, &s.leaves, 0);
    }
    for _ in 0..req_mutations {
        mutate(&mut request, &mut c, &s.leaves, 0);
    }
    let loaded = Catalog::from_value(&catalog);
    let text = Catalog::from_json(&catalog.to_string()).map(|_| ());
    assert_eq!(
        loaded.as_ref().map(|_| ()).map_err(Clone::clone),
        text,
        "from_value and from_json disagree"
    );
    let catalog = match loaded {
        Ok(catalog) => catalog,
        Err(e) => return check_error(&e),
    };
    let _ = catalog.products();
    match QuoteRequest::from_value(request) {
        Err(e) => check_error(&e),
        Ok(req) => {
            let qs = quantities(&mut c, req.quantity);
            exercise(&catalog, &req, &qs);
        }
    }
});
