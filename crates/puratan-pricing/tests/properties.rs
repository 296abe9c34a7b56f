//! Property tests: accounting identities, monotonicity, table consistency and
//! "never panics" on arbitrary or mutated input.

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
