//! Property tests: accounting identities, monotonicity, table consistency and
//! "never panics" on arbitrary or mutated input.
//!
//! `mutated_any_method` is the stable-toolchain counterpart of the cargo-fuzz
//! targets in `fuzz/`: it runs 64 cases by default and as many as
//! `PURATAN_FUZZ_CASES` says otherwise (e.g. `PURATAN_FUZZ_CASES=20000 cargo
//! test -p puratan-pricing --release --test properties mutated_any_method`).

use proptest::prelude::*;
use puratan_pricing::{Catalog, Quote, QuoteRequest};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

fn base_catalog_value() -> Value {
    let doc: Value =
        serde_json::from_str(include_str!("vectors/sheet_core.json")).unwrap_or(Value::Null);
    doc["catalogs"]["base"].clone()
}

fn base_catalog() -> Catalog {
    Catalog::from_value(&base_catalog_value()).unwrap_or_else(|e| panic!("base catalog: {e}"))
}

fn base_request() -> Value {
    json!({"product": "business-card", "quantity": 500, "paper": "silk-350", "color": "4/4",
           "finishing": ["matt-lam"], "turnaround": "express", "customer_group": "trade",
           "coupon": "welcome10", "region": "DE", "currency": "GBP", "at": "2026-11-28T10:00:00Z"})
}

/// Seed (catalog, request) pairs of every method, from the shared vectors.
fn method_seeds() -> &'static [(Value, Value)] {
    static SEEDS: std::sync::OnceLock<Vec<(Value, Value)>> = std::sync::OnceLock::new();
    SEEDS.get_or_init(load_method_seeds)
}

fn load_method_seeds() -> Vec<(Value, Value)> {
    let mut out = Vec::new();
    for text in [
        include_str!("vectors/sheet_core.json"),
        include_str!("vectors/area.json"),
        include_str!("vectors/breaks.json"),
        include_str!("vectors/booklet.json"),
    ] {
        let doc: Value = serde_json::from_str(text).unwrap_or(Value::Null);
        for case in doc["cases"].as_array().into_iter().flatten() {
            if let Some(name) = case["catalog"].as_str() {
                out.push((doc["catalogs"][name].clone(), case["request"].clone()));
            }
        }
    }
    out
}

fn fuzz_cases() -> u32 {
    std::env::var("PURATAN_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(64)
}

/// Every entry point agrees: quote, explain, quote_table rows; quotes satisfy
/// the accounting identities and their JSON parses back to the same bytes.
fn exercise(catalog: &Catalog, req: &QuoteRequest, quantities: &[u32]) {
    let single = catalog.quote(req);
    if let Ok(q) = &single {
        check_identities(q);
        let text = q.to_json();
        let back: Quote = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        assert_eq!(back.to_json(), text);
        // The appending writer produces the same bytes after existing content.
        let mut buf = b"prefix\n".to_vec();
        q.write_json(&mut buf);
        assert_eq!(&buf[..7], b"prefix\n");
        assert_eq!(&buf[7..], text.as_bytes());
    }
    match catalog.explain(req) {
        Ok(x) => assert_eq!(Ok(&x.quote), single.as_ref()),
        Err(e) => assert_eq!(Err(&e), single.as_ref().map(|_| ())),
    }
    if let Ok(rows) = catalog.quote_table(req, quantities) {
        for (row, &q) in rows.into_iter().zip(quantities) {
            let mut one = req.clone();
            one.quantity = q;
            assert_eq!(row, catalog.quote(&one), "quote_table row for {q}");
        }
    } else {
        assert!(single.is_err() || quantities.is_empty() || quantities.len() > 20);
    }
}

fn check_identities(q: &Quote) {
    let lines: Decimal = q.lines.iter().map(|l| l.amount).sum();
    assert_eq!(lines, q.subtotal, "lines must add up to the subtotal");
    let discounts: Decimal = q.discounts.iter().map(|d| d.amount).sum();
    assert_eq!(q.subtotal - discounts, q.net, "subtotal - discounts = net");
    assert_eq!(q.net + q.tax.amount, q.total, "net + tax = total");
    assert!(q.net >= Decimal::ZERO);
    assert!(q.lines.iter().all(|l| l.amount >= Decimal::ZERO));
    assert!(q.discounts.iter().all(|d| d.amount >= Decimal::ZERO));
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        (0u32..100_000, 0u32..4).prop_map(|(n, dp)| {
            let d = Decimal::new(i64::from(n), dp);
            json!(d.to_string())
        }),
        "[a-zA-Z0-9/_.:+ -]{0,12}".prop_map(Value::String),
        prop::sample::select(vec![
            "sheet",
            "EUR",
            "GBP",
            "JPY",
            "4/4",
            "silk-350",
            "business-card",
            "matt-lam",
            "standard",
            "DE",
            "US-CA",
            "-1",
            "1e400",
            "0",
            "",
            "2026-11-28T10:00:00Z",
            "9999-12-31T23:59:59Z",
            "0000-01-01T00:00:00+14:00",
            "99999999999999999999999999999",
        ])
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop::sample::select(vec![
                        "id",
                        "version",
                        "currency",
                        "products",
                        "presses",
                        "papers",
                        "sheet",
                        "w_mm",
                        "h_mm",
                        "quantity",
                        "min",
                        "max",
                        "step",
                        "method",
                        "press",
                        "colors",
                        "tax",
                        "rules",
                        "product",
                        "paper",
                        "color",
                        "region",
                        "at",
                        "turnaround",
                        "turnarounds",
                        "finishing",
                        "coupon",
                        "x",
                    ]),
                    inner
                ),
                0..6
            )
            .prop_map(|kv| {
                Value::Object(
                    kv.into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect::<Map<_, _>>(),
                )
            }),
        ]
    })
}

/// Replaces the node reached by `route` (indices taken modulo the child count) with `new`.
fn mutate(node: &mut Value, route: &[usize], new: Value) {
    match route.split_first() {
        None => *node = new,
        Some((&step, rest)) => match node {
            Value::Object(m) if !m.is_empty() => {
                let len = m.len();
                if let Some(child) = m.values_mut().nth(step % len) {
                    mutate(child, rest, new);
                }
            }
            Value::Array(a) if !a.is_empty() => {
                let len = a.len();
                if let Some(child) = a.get_mut(step % len) {
                    mutate(child, rest, new);
                }
            }
            _ => *node = new,
        },
    }
}

fn request(
    product: &str,
    quantity: u32,
    color: &str,
    finishing: &[&str],
    group: Option<&str>,
    coupon: Option<&str>,
    currency: Option<&str>,
) -> QuoteRequest {
    let mut v = json!({"product": product, "quantity": quantity, "paper": "silk-350", "color": color,
                       "finishing": finishing, "turnaround": "standard", "region": "DE",
                       "at": "2026-11-28T10:00:00Z"});
    if let Some(obj) = v.as_object_mut() {
        if let Some(g) = group {
            obj.insert("customer_group".into(), json!(g));
        }
        if let Some(c) = coupon {
            obj.insert("coupon".into(), json!(c));
        }
        if let Some(c) = currency {
            obj.insert("currency".into(), json!(c));
        }
    }
    QuoteRequest::from_value(v).unwrap_or_else(|e| panic!("request: {e}"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_catalog_never_panics(v in arb_json()) {
        let _ = Catalog::from_value(&v);
        let _ = Catalog::from_json(&v.to_string());
    }

    #[test]
    fn arbitrary_request_never_panics(v in arb_json()) {
        let catalog = base_catalog();
        if let Ok(req) = QuoteRequest::from_value(v) {
            let _ = catalog.quote(&req);
            let _ = catalog.explain(&req);
        }
    }

    #[test]
    fn mutated_catalog_never_panics(route in prop::collection::vec(any::<usize>(), 0..6), new in arb_json()) {
        let mut v = base_catalog_value();
        mutate(&mut v, &route, new);
        if let Ok(catalog) = Catalog::from_value(&v)
            && let Ok(req) = QuoteRequest::from_value(base_request())
        {
            if let Ok(q) = catalog.quote(&req) {
                check_identities(&q);
            }
            let _ = catalog.quote_table(&req, &[50, 100, 0, 10_000, 4_000_000_000]);
            let _ = catalog.products();
        }
    }

    #[test]
    fn mutated_request_never_panics(route in prop::collection::vec(any::<usize>(), 0..3), new in arb_json()) {
        let catalog = base_catalog();
        let mut v = base_request();
        mutate(&mut v, &route, new);
        if let Ok(req) = QuoteRequest::from_value(v) {
            if let Ok(q) = catalog.quote(&req) {
                check_identities(&q);
            }
            let _ = catalog.explain(&req);
        }
    }

    #[test]
    fn accounting_identities(
        steps in 0u32..200,
        color in prop::sample::select(vec!["4/0", "4/4"]),
        fin in prop::sample::subsequence(vec!["matt-lam", "round-corners"], 0..=2),
        group in prop::option::of(prop::sample::select(vec!["trade", "reseller", "staff", "none"])),
        coupon in prop::option::of(prop::sample::select(vec!["FIVEOFF", "BIGFIXED", "solo20", "SoloFix", "welcome10", "half"])),
        currency in prop::option::of(prop::sample::select(vec!["EUR", "GBP", "JPY", "BHD", "KWD", "USD"])),
    ) {
        let catalog = base_catalog();
        let req = request("business-card", 50 + steps * 50, color, &fin, group, coupon, currency);
        match catalog.quote(&req) {
            Ok(q) => check_identities(&q),
            Err(e) => prop_assert!(e.code().starts_with("coupon_"), "unexpected {e}"),
        }
    }

    #[test]
    fn price_monotone_in_quantity(
        a in 0u32..2000,
        b in 0u32..2000,
        color in prop::sample::select(vec!["4/0", "4/4"]),
        fin in prop::sample::subsequence(vec!["matt-lam", "round-corners"], 0..=2),
        currency in prop::option::of(prop::sample::select(vec!["EUR", "GBP", "JPY", "BHD"])),
    ) {
        let catalog = base_catalog();
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let dfin: &[&str] = if fin.contains(&"matt-lam") { &["matt-lam"] } else { &[] };
        let q1 = catalog.quote(&request("decimal-card", lo + 1, color_for_decimal(color), dfin, None, None, currency));
        let q2 = catalog.quote(&request("decimal-card", hi + 1, color_for_decimal(color), dfin, None, None, currency));
        let (q1, q2) = (q1.map_err(|e| TestCaseError::fail(e.to_string()))?, q2.map_err(|e| TestCaseError::fail(e.to_string()))?);
        prop_assert!(q1.subtotal <= q2.subtotal, "{} > {}", q1.subtotal, q2.subtotal);
        prop_assert!(q1.total <= q2.total);
        let r1 = catalog.quote(&request("business-card", 50 + lo * 5 - (lo * 5) % 50, color, &fin, None, None, currency));
        let r2 = catalog.quote(&request("business-card", 50 + hi * 5 - (hi * 5) % 50, color, &fin, None, None, currency));
        let (r1, r2) = (r1.map_err(|e| TestCaseError::fail(e.to_string()))?, r2.map_err(|e| TestCaseError::fail(e.to_string()))?);
        prop_assert!(r1.subtotal <= r2.subtotal);
        prop_assert!(r1.total <= r2.total);
    }

    #[test]
    fn table_matches_single_quotes(
        qs in prop::collection::vec(0u32..12_000, 1..=20),
        group in prop::option::of(prop::sample::select(vec!["trade", "vip"])),
        coupon in prop::option::of(prop::sample::select(vec!["FIVEOFF", "half", "nope"])),
    ) {
        let catalog = base_catalog();
        let req = request("business-card", 500, "4/4", &["matt-lam"], group, coupon, Some("GBP"));
        let table = catalog.quote_table(&req, &qs).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(table.len(), qs.len());
        for (q, got) in qs.iter().zip(table) {
            let mut single = req.clone();
            single.quantity = *q;
            prop_assert_eq!(got, catalog.quote(&single));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: fuzz_cases(), ..ProptestConfig::default() })]

    #[test]
    fn mutated_any_method(
        seed in any::<prop::sample::Index>(),
        cat_route in prop::collection::vec(any::<usize>(), 0..6),
        cat_new in prop::option::of(arb_json()),
        req_route in prop::collection::vec(any::<usize>(), 0..3),
        req_new in prop::option::of(arb_json()),
        qs in prop::collection::vec(prop_oneof![0u32..200, 0u32..20_000, any::<u32>()], 0..22),
    ) {
        let seeds = method_seeds();
        let (mut catalog, mut request) = seeds[seed.index(seeds.len())].clone();
        if let Some(new) = cat_new {
            mutate(&mut catalog, &cat_route, new);
        }
        if let Some(new) = req_new {
            mutate(&mut request, &req_route, new);
        }
        let loaded = Catalog::from_value(&catalog);
        prop_assert_eq!(
            loaded.as_ref().map(|_| ()).map_err(Clone::clone),
            Catalog::from_json(&catalog.to_string()).map(|_| ())
        );
        if let (Ok(catalog), Ok(req)) = (loaded, QuoteRequest::from_value(request)) {
            exercise(&catalog, &req, &qs);
            let _ = catalog.products();
        }
    }
}

fn color_for_decimal(color: &str) -> &'static str {
    if color == "4/4" { "1/0" } else { "4/0" }
}

#[test]
fn table_limits() {
    let catalog = base_catalog();
    let req = request("business-card", 500, "4/4", &[], None, None, None);
    let too_many: Vec<u32> = (1..=21).map(|i| i * 50).collect();
    assert_eq!(
        catalog
            .quote_table(&req, &too_many)
            .map(|_| ())
            .map_err(|e| e.code()),
        Err("invalid_request")
    );
    assert_eq!(
        catalog
            .quote_table(&req, &[])
            .map(|_| ())
            .map_err(|e| e.code()),
        Err("invalid_request")
    );
    let bad = request("nope", 500, "4/4", &[], None, None, None);
    assert_eq!(
        catalog
            .quote_table(&bad, &[50])
            .map(|_| ())
            .map_err(|e| e.code()),
        Err("unknown_product")
    );
}
