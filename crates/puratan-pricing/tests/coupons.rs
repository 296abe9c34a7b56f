//! Coupon redemption caps: `max_redemptions` is validated with its JSON
//! path, and a quote reports the coupon it applied (normalised code and
//! cap) for the caller that counts redemptions — without changing the
//! quote's JSON.

use puratan_pricing::{AppliedCoupon, Catalog, PricingError, Quote, QuoteRequest};
use serde_json::{Value, json};

fn catalog_json(coupons: &Value) -> Value {
    json!({
        "version": "coupons.1", "currency": "EUR", "quote_validity_days": 7,
        "turnarounds": [{"id": "standard", "days": 3, "multiplier": "1"}],
        "customer_groups": [{"id": "trade", "discount_pct": "20"}],
        "tax": {"rules": [{"region": "DE", "category": "standard", "rate_pct": "19"}]},
        "products": [
            {"id": "flyer", "name": "Flyers", "method": "breaks", "mode": "all_units",
             "tax_category": "standard", "breaks": [{"quantity": 1, "price": "1.00"}],
             "turnarounds": ["standard"], "quantity": {"min": 1, "max": 5000}}
        ],
        "coupons": coupons
    })
}

fn catalog(coupons: &Value) -> Result<Catalog, PricingError> {
    Catalog::from_value(&catalog_json(coupons))
}

fn quote(catalog: &Catalog, extra: &Value) -> Quote {
    let mut v = json!({"product": "flyer", "quantity": 100, "turnaround": "standard",
                       "region": "DE", "at": "2026-11-27T09:00:00Z"});
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    let req = QuoteRequest::from_value(v).unwrap_or_else(|e| panic!("request: {e}"));
    catalog.quote(&req).unwrap_or_else(|e| panic!("quote: {e}"))
}

fn applied(code: &str, cap: Option<u32>) -> Option<AppliedCoupon> {
    Some(AppliedCoupon {
        code: code.into(),
        max_redemptions: cap,
    })
}

#[test]
fn a_quote_reports_the_applied_coupon_with_its_normalised_code_and_cap() {
    let c = catalog(&json!([
        {"code": "Spring-Sale", "kind": "percent", "value": "10", "max_redemptions": 5},
        {"code": "open", "kind": "fixed", "value": "2.00"},
        {"code": "solo", "kind": "percent", "value": "5", "stackable_with_group": false,
         "max_redemptions": 1}
    ]))
    .unwrap_or_else(|e| panic!("catalog: {e}"));

    let q = quote(&c, &json!({"coupon": "SPRING-sale"}));
    assert_eq!(q.coupon, applied("spring-sale", Some(5)));
    assert_eq!(
        q.discounts.last().map(|d| d.id.as_ref()),
        Some("Spring-Sale"),
        "the discount keeps the code as written"
    );
    assert_eq!(
        quote(&c, &json!({"coupon": "OPEN"})).coupon,
        applied("open", None)
    );
    assert_eq!(quote(&c, &json!({})).coupon, None, "no coupon requested");
    // Not stackable and smaller than the group discount: not applied, so
    // nothing to count.
    let lost = quote(&c, &json!({"coupon": "solo", "customer_group": "trade"}));
    assert_eq!(lost.coupon, None);
    assert!(lost.discounts.iter().all(|d| d.id.as_ref() == "trade"));
    let won = quote(&c, &json!({"coupon": "solo"}));
    assert_eq!(won.coupon, applied("solo", Some(1)));
}

#[test]
fn the_quote_json_does_not_change() {
    let with_cap = catalog(&json!([
        {"code": "w", "kind": "percent", "value": "10", "max_redemptions": 3}
    ]))
    .unwrap_or_else(|e| panic!("catalog: {e}"));
    let without = catalog(&json!([{"code": "w", "kind": "percent", "value": "10"}]))
        .unwrap_or_else(|e| panic!("catalog: {e}"));
    let a = quote(&with_cap, &json!({"coupon": "w"}));
    let b = quote(&without, &json!({"coupon": "w"}));
    assert_ne!(a.coupon, b.coupon);
    assert_eq!(a.to_json(), b.to_json(), "the cap is not part of the JSON");
    assert!(!a.to_json().contains("max_redemptions"));
    let serde_text = serde_json::to_string(&a).unwrap_or_else(|e| panic!("{e}"));
    assert!(!serde_text.contains("max_redemptions"), "{serde_text}");
    let back: Quote = serde_json::from_str(&serde_text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back.coupon, None, "not serialised, so not read back");
}

#[test]
fn max_redemptions_must_be_a_positive_integer() {
    for bad in [
        json!(0),
        json!(-1),
        json!(1.5),
        json!("5"),
        json!(true),
        json!(4_294_967_296_u64),
    ] {
        let err = catalog(&json!([
            {"code": "ok", "kind": "percent", "value": "10", "max_redemptions": 1},
            {"code": "bad", "kind": "percent", "value": "10", "max_redemptions": bad}
        ]))
        .map(|_| ())
        .expect_err("invalid cap");
        assert_eq!(
            (err.code(), err.field()),
            ("invalid_catalog", Some("coupons[1].max_redemptions")),
            "{bad}: {err}"
        );
    }
    for good in [json!(1), json!(4_294_967_295_u64), Value::Null] {
        let c = catalog(&json!([
            {"code": "c", "kind": "percent", "value": "10", "max_redemptions": good}
        ]))
        .unwrap_or_else(|e| panic!("{good}: {e}"));
        let expected = good.as_u64().and_then(|n| u32::try_from(n).ok());
        assert_eq!(
            quote(&c, &json!({"coupon": "c"})).coupon,
            applied("c", expected)
        );
    }
}
