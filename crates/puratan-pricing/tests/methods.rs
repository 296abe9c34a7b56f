//! Hand-computed checks for the methods beyond `sheet` (area, breaks, booklet),
//! plus `explain`, `products` and serialisation order.

use puratan_pricing::{Catalog, Quote, QuoteRequest};
use serde_json::{Value, json};

fn catalog() -> Catalog {
    let v = json!({
        "version": "methods.1", "currency": "EUR", "quote_validity_days": 7,
        "presses": [{"id": "sra3", "sheet": {"w_mm": 320, "h_mm": 450}, "margin_mm": 5,
                     "click_cost": {"4/4": "0.18"}, "setup_sheets": {"4/4": 8}, "spoilage_pct": "2"}],
        "papers": [{"id": "silk-150", "name": "Silk 150", "sheet_cost": "0.10"},
                   {"id": "silk-350", "name": "Silk 350", "sheet_cost": "0.18"}],
        "materials": [{"id": "pvc", "name": "PVC 510 g", "per_sqm": "6.00"}],
        "finishing": [{"id": "hem", "name": "Hemming", "setup": "2.00", "per_m": "1.20"},
                      {"id": "eyelets", "name": "Eyelets", "per_piece": "0.80", "extra_days": 1}],
        "turnarounds": [{"id": "standard", "days": 3, "multiplier": "1"}],
        "tax": {"rules": [{"region": "DE", "category": "standard", "rate_pct": "19"}]},
        "products": [
            {"id": "banner", "name": "Banner", "method": "area", "tax_category": "standard",
             "materials": ["pvc"], "ink_per_sqm": {"4/0": "4.50"}, "min_area_sqm": "0.5",
             "size_limits": {"min_w_mm": 100, "max_w_mm": 5000, "min_h_mm": 100, "max_h_mm": 50000},
             "finishing": ["hem", "eyelets"], "turnarounds": ["standard"],
             "quantity": {"min": 1, "max": 100}, "setup_fee": "10.00", "markup_pct": "50",
             "minimum_price": "25.00"},
            {"id": "flyer-i", "name": "Flyers", "method": "breaks", "mode": "interpolate",
             "tax_category": "standard", "breaks": [{"quantity": 100, "price": "100.00"},
                                                    {"quantity": 500, "price": "400.00"}],
             "options": [{"id": "premium", "name": "Premium paper", "per_unit": "0.02", "per_job": "5.00"}],
             "turnarounds": ["standard"], "quantity": {"min": 100, "max": 5000, "step": 50}},
            {"id": "flyer-a", "name": "Flyers", "method": "breaks", "mode": "all_units",
             "tax_category": "standard", "breaks": [{"quantity": 1, "price": "1.00"},
                 {"quantity": 100, "price": "0.80"}, {"quantity": 500, "price": "0.60"}],
             "turnarounds": ["standard"], "quantity": {"min": 1, "max": 5000}},
            {"id": "flyer-g", "name": "Flyers", "method": "breaks", "mode": "graduated",
             "tax_category": "standard", "breaks": [{"quantity": 1, "price": "1.00"},
                 {"quantity": 100, "price": "0.80"}, {"quantity": 500, "price": "0.60"}],
             "turnarounds": ["standard"], "quantity": {"min": 1, "max": 5000}},
            {"id": "booklet", "name": "A5 booklet", "method": "booklet", "tax_category": "standard",
             "size": {"w_mm": 148, "h_mm": 210}, "bleed_mm": 3, "press": "sra3",
             "papers": ["silk-150"], "cover_papers": ["silk-350"], "colors": ["4/4"],
             "pages": {"min": 8, "max": 64},
             "binding": {"kind": "saddle_stitch", "setup": "15.00", "per_piece": "0.10"},
             "turnarounds": ["standard"], "quantity": {"min": 10, "max": 5000}}
        ]
    });
    Catalog::from_value(&v).unwrap_or_else(|e| panic!("catalog: {e}"))
}

fn request(extra: &Value) -> QuoteRequest {
    let mut v = json!({"turnaround": "standard", "region": "DE", "at": "2026-11-27T09:00:00Z"});
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    QuoteRequest::from_value(v).unwrap_or_else(|e| panic!("request: {e}"))
}

fn quote(extra: &Value) -> Quote {
    catalog()
        .quote(&request(extra))
        .unwrap_or_else(|e| panic!("quote: {e}"))
}

fn amounts(q: &Quote) -> Vec<String> {
    q.lines.iter().map(|l| l.amount.to_string()).collect()
}

fn err(extra: &Value) -> (String, Option<String>) {
    match catalog().quote(&request(extra)) {
        Ok(q) => panic!("expected an error, got {q:?}"),
        Err(e) => (e.code().to_owned(), e.field().map(str::to_owned)),
    }
}

#[test]
fn breaks_interpolate_matches_spec_example() {
    let q = quote(&json!({"product": "flyer-i", "quantity": 250}));
    assert_eq!(amounts(&q), ["212.50", "0.00"]);
    assert_eq!(
        (q.tax.amount.to_string(), q.total.to_string()),
        ("40.38".into(), "252.88".into())
    );
    assert!(q.imposition.is_none());
    let q = quote(&json!({"product": "flyer-i", "quantity": 500, "options": ["premium"]}));
    assert_eq!(amounts(&q), ["400.00", "15.00", "0.00"]);
    // Beyond the last break: the last segment's slope continues.
    let q = quote(&json!({"product": "flyer-i", "quantity": 1000}));
    assert_eq!(q.subtotal.to_string(), "775.00");
    assert_eq!(
        err(&json!({"product": "flyer-i", "quantity": 250, "options": ["gold"]})),
        ("option_not_allowed".into(), Some("options".into()))
    );
    assert_eq!(
        err(&json!({"product": "flyer-i", "quantity": 250, "options": ["premium", "premium"]})).0,
        "duplicate_option"
    );
    assert_eq!(
        err(&json!({"product": "flyer-i", "quantity": 250, "paper": "silk-150"})).0,
        "invalid_request"
    );
}

#[test]
fn breaks_all_units_and_graduated() {
    let sub = |p: &str, n: u32| {
        quote(&json!({"product": p, "quantity": n}))
            .subtotal
            .to_string()
    };
    assert_eq!(sub("flyer-a", 50), "50.00");
    assert_eq!(sub("flyer-a", 250), "200.00");
    assert_eq!(sub("flyer-a", 500), "300.00");
    assert_eq!(sub("flyer-g", 50), "50.00");
    assert_eq!(sub("flyer-g", 250), "219.80"); // 99 × 1.00 + 151 × 0.80
    assert_eq!(sub("flyer-g", 600), "479.60"); // 99 + 400 × 0.80 + 101 × 0.60
}

#[test]
fn area_banner() {
    let q = quote(
        &json!({"product": "banner", "quantity": 2, "material": "pvc", "color": "4/0",
                          "width_mm": 1000, "height_mm": "500", "finishing": ["hem", "eyelets"]}),
    );
    // area 0.5 m² × 2; perimeter 3 m × 2; markup 50 %.
    assert_eq!(amounts(&q), ["9.00", "6.75", "13.80", "2.40", "15.00"]);
    assert_eq!(
        (
            q.subtotal.to_string(),
            q.tax.amount.to_string(),
            q.total.to_string()
        ),
        ("46.95".into(), "8.92".into(), "55.87".into())
    );
    assert_eq!(q.production.business_days, 4);
    assert_eq!(q.production.ship_date.to_string(), "2026-12-03");
    // A small piece is billed at the minimum area, then topped up to the minimum price.
    let q = quote(
        &json!({"product": "banner", "quantity": 1, "material": "pvc", "color": "4/0",
                          "width_mm": 200, "height_mm": 300}),
    );
    assert_eq!(amounts(&q), ["4.50", "3.38", "15.00", "2.12"]);
    assert_eq!(q.subtotal.to_string(), "25.00");
    assert_eq!(
        err(
            &json!({"product": "banner", "quantity": 1, "material": "pvc", "color": "4/0",
                           "width_mm": 50, "height_mm": 300})
        ),
        ("size_out_of_range".into(), Some("width_mm".into()))
    );
    assert_eq!(
        err(
            &json!({"product": "banner", "quantity": 1, "material": "mesh", "color": "4/0",
                           "width_mm": 500, "height_mm": 300})
        ),
        ("option_not_allowed".into(), Some("material".into()))
    );
    assert_eq!(
        err(&json!({"product": "banner", "quantity": 1, "material": "pvc", "color": "4/0"})).0,
        "invalid_request"
    );
}

#[test]
fn booklet_saddle_stitch() {
    let q = quote(
        &json!({"product": "booklet", "quantity": 100, "pages": 16, "paper": "silk-150",
                          "cover_paper": "silk-350", "color": "4/4"}),
    );
    assert_eq!(
        amounts(&q),
        ["16.10", "10.62", "28.98", "10.62", "25.00", "0.00"]
    );
    let inner = q.imposition.clone().unwrap_or_else(|| panic!("imposition"));
    assert_eq!(
        (
            inner.n_up,
            inner.run_sheets,
            inner.spoilage_sheets,
            inner.sheets
        ),
        (2, 150, 3, 161)
    );
    let cover = q
        .cover_imposition
        .clone()
        .unwrap_or_else(|| panic!("cover"));
    assert_eq!(
        (cover.run_sheets, cover.spoilage_sheets, cover.sheets),
        (50, 1, 59)
    );
    assert_eq!(
        (q.subtotal.to_string(), q.total.to_string()),
        ("91.32".into(), "108.67".into())
    );
    // Self-cover: the cover spread is printed on the inner paper.
    let q = quote(
        &json!({"product": "booklet", "quantity": 100, "pages": 16, "paper": "silk-150", "color": "4/4"}),
    );
    assert_eq!(amounts(&q).get(1).map(String::as_str), Some("5.90"));
    for pages in [4, 18, 68] {
        assert_eq!(
            err(
                &json!({"product": "booklet", "quantity": 100, "pages": pages,
                               "paper": "silk-150", "color": "4/4"})
            )
            .0,
            "pages_invalid"
        );
    }
    assert_eq!(
        err(
            &json!({"product": "booklet", "quantity": 100, "pages": 16, "paper": "silk-150",
                           "cover_paper": "silk-150", "color": "4/4"})
        ),
        ("option_not_allowed".into(), Some("cover_paper".into()))
    );
}

#[test]
fn explain_and_products() {
    let c = catalog();
    let req = request(
        &json!({"product": "booklet", "quantity": 100, "pages": 16, "paper": "silk-150", "color": "4/4"}),
    );
    let e = c.explain(&req).unwrap_or_else(|e| panic!("explain: {e}"));
    assert_eq!(Ok(&e.quote), c.quote(&req).as_ref());
    let d = e.diagram.unwrap_or_else(|| panic!("diagram"));
    assert_eq!((d.n_up, d.columns, d.rows, d.rotated), (2, 1, 2, false));
    assert_eq!(
        (d.piece_w_mm.to_string(), d.piece_h_mm.to_string()),
        ("302".into(), "216".into())
    );
    assert!(e.text.contains("2-up (1 x 2, not rotated)"), "{}", e.text);
    assert!(e.text.contains("Total: "), "{}", e.text);
    let products = c.products();
    assert_eq!(products.len(), 5);
    let banner = serde_json::to_value(&products[0]).unwrap_or_default();
    assert_eq!(banner["materials"][0]["id"], "pvc");
    assert_eq!(banner["colors"], json!(["4/0"]));
    assert_eq!(banner["quantity"], json!({"min": 1, "max": 100, "step": 1}));
    assert_eq!(
        serde_json::to_value(&products[4]).unwrap_or_default()["pages"],
        json!([8, 64])
    );
}

#[test]
fn serialisation_is_deterministic_and_ordered() {
    let q = quote(&json!({"product": "flyer-i", "quantity": 250}));
    let text = q.to_json();
    let keys = [
        "\"lines\"",
        "\"subtotal\"",
        "\"discounts\"",
        "\"net\"",
        "\"tax\"",
        "\"total\"",
        "\"currency\"",
        "\"unit_price\"",
        "\"production\"",
        "\"catalog_version\"",
        "\"valid_until\"",
    ];
    let positions: Vec<usize> = keys
        .iter()
        .map(|k| text.find(k).unwrap_or(usize::MAX))
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
    assert_eq!(
        text,
        quote(&json!({"product": "flyer-i", "quantity": 250})).to_json()
    );
    let back: Quote = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back, q);
    assert!(
        text.ends_with("\"valid_until\":\"2026-12-04T09:00:00Z\"}"),
        "{text}"
    );
}

#[test]
fn unsupported_method_is_loadable() {
    let mut v: Value =
        serde_json::from_str(include_str!("vectors/sheet_core.json")).unwrap_or_default();
    let base = v["catalogs"]["base"].take();
    let c = Catalog::from_value(&base).unwrap_or_else(|e| panic!("{e}"));
    let banner = c
        .products()
        .into_iter()
        .find(|p| p.id == "banner")
        .unwrap_or_else(|| panic!("banner"));
    assert!(!banner.supported);
    assert_eq!(c.version(), "2026-11-28.1");
}
