//! Orders service tests over the in-memory ports.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use rust_decimal::Decimal;

use super::*;
use crate::domain::{
    CartLine, Category, Currency, Money, Product, ProductId, Role, ShippingAddress, Sku, UserId,
};
use crate::memory::{MemoryOrderRepo, MemoryProductRepo};
use crate::ports::{OrderRepo, ProductRepo};
use crate::workflow::{Actor, GuardContext};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0)
        .single()
        .unwrap_or_default()
}

fn eur(cents: i64) -> Money {
    Money::new(
        Decimal::new(cents, 2),
        Currency::parse("EUR").unwrap_or_else(|e| panic!("{e}")),
    )
}

fn pid(s: &str) -> ProductId {
    ProductId::parse(s).unwrap_or_else(|e| panic!("{e}"))
}

struct Fixture {
    service: OrderService,
    orders: Arc<MemoryOrderRepo>,
    products: Arc<MemoryProductRepo>,
}

async fn fixture(stock: &[(&str, Option<u64>)]) -> Fixture {
    let products = Arc::new(MemoryProductRepo::new());
    let orders = Arc::new(MemoryOrderRepo::with_products(products.clone()));
    for (i, (id, s)) in stock.iter().enumerate() {
        products
            .insert(Product {
                id: pid(id),
                sku: Sku::parse(&format!("SKU-{i}")).unwrap_or_else(|e| panic!("{e}")),
                name: id.to_string(),
                description: String::new(),
                category: Category::parse("cards").unwrap_or_else(|e| panic!("{e}")),
                tags: vec![],
                pricing_ref: id.to_string(),
                templates: vec![],
                specifications: BTreeMap::new(),
                stock: *s,
                active: true,
                version: 0,
                updated_at: now(),
            })
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let engine = crate::workflow::Engine::builtin().unwrap_or_else(|e| panic!("{e}"));
    Fixture {
        service: OrderService::new(orders.clone(), products.clone(), engine),
        orders,
        products,
    }
}

fn line(product: &str, quantity: u32) -> CartLine {
    CartLine {
        id: uuid::Uuid::now_v7().simple().to_string(),
        product_id: pid(product),
        options: serde_json::json!({"paper": "silk-350"}),
        quantity,
        quote_token: format!("pq1.k.{product}-{quantity}.sig"),
        file_ids: vec![],
    }
}

fn valid(product: &str, quantity: u32, cents: i64) -> QuoteCheck {
    QuoteCheck::Valid(PricedQuote {
        quote_id: format!("q-{product}-{quantity}"),
        product_id: product.into(),
        quantity,
        signed_total: eur(cents),
        repriced_total: eur(cents),
        valid_until: now() + Duration::days(14),
        ready_at: Some(now() + Duration::days(5)),
        coupon: None,
    })
}

/// `valid`, with the quote having applied `coupon` (capped at `cap`).
fn with_coupon(check: QuoteCheck, coupon: &str, cap: Option<u64>) -> QuoteCheck {
    match check {
        QuoteCheck::Valid(q) => QuoteCheck::Valid(PricedQuote {
            coupon: Some(QuoteCoupon {
                code: coupon.into(),
                max_redemptions: cap,
            }),
            ..q
        }),
        other => other,
    }
}

fn address() -> ShippingAddress {
    ShippingAddress {
        name: "Ann Example".into(),
        line1: "Main St 1".into(),
        line2: String::new(),
        postal_code: "10115".into(),
        city: "Berlin".into(),
        country: "DE".into(),
    }
}

fn request(
    customer: UserId,
    key: &str,
    lines: Vec<(CartLine, QuoteCheck)>,
    total: i64,
) -> CheckoutRequest {
    CheckoutRequest {
        customer,
        actor: Actor::user(customer, [Role::Customer]),
        idempotency_key: key.into(),
        lines,
        expected_total: eur(total),
        shipping_address: address(),
        now: now(),
    }
}

#[tokio::test]
async fn checkout_submits_the_order_and_writes_its_events() {
    let f = fixture(&[("business-card", None), ("poster-a3", Some(5))]).await;
    let ann = UserId::new();
    let req = request(
        ann,
        "k1",
        vec![
            (
                line("business-card", 500),
                valid("business-card", 500, 4413),
            ),
            (line("poster-a3", 2), valid("poster-a3", 2, 2000)),
        ],
        6413,
    );
    let out = f
        .service
        .checkout(req)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!out.replayed);
    let o = out.order;
    assert_eq!((o.status.as_str(), o.version), ("submitted", 1));
    assert_eq!(o.total, eur(6413));
    assert_eq!(o.lines.len(), 2);
    assert_eq!(o.lines[1].quote_id.as_deref(), Some("q-poster-a3-2"));
    assert_eq!(o.due_at, now() + Duration::days(5));
    let states: Vec<_> = o
        .history
        .iter()
        .map(|h| (h.from.as_ref().map(|s| s.to_string()), h.to.to_string()))
        .collect();
    assert_eq!(
        states,
        [
            (None, "draft".to_owned()),
            (Some("draft".to_owned()), "submitted".to_owned())
        ]
    );
    assert_eq!(
        f.products
            .get(&pid("poster-a3"))
            .await
            .ok()
            .and_then(|p| p.stock),
        Some(3)
    );
    let outbox = f.orders.outbox_pending(10).await.unwrap_or_default();
    let keys: Vec<_> = outbox.iter().map(|e| e.routing_key.as_str()).collect();
    assert_eq!(keys, ["order.created", "order.status_changed.submitted"]);
    let changed: serde_json::Value = serde_json::from_str(&outbox[1].payload).unwrap_or_default();
    assert_eq!(changed["schema"], "puratan.order.status_changed/v1");
    assert_eq!(
        (changed["from"].as_str(), changed["to"].as_str()),
        (Some("draft"), Some("submitted"))
    );
    assert_eq!(changed["event_id"], outbox[1].id.as_str());
    assert_eq!(changed["version"], 1);
    let created: serde_json::Value = serde_json::from_str(&outbox[0].payload).unwrap_or_default();
    assert_eq!(created["schema"], "puratan.order.created/v1");
    assert_eq!(created["total"]["amount"], "64.13");
}

#[tokio::test]
async fn bad_quotes_and_totals_are_refused_without_side_effects() {
    let f = fixture(&[("poster-a3", Some(5))]).await;
    let ann = UserId::new();
    let l = || line("poster-a3", 2);
    let drifted = QuoteCheck::Valid(PricedQuote {
        repriced_total: eur(2100),
        ..match valid("poster-a3", 2, 2000) {
            QuoteCheck::Valid(q) => q,
            _ => unreachable!(),
        }
    });
    type Case = (Vec<(CartLine, QuoteCheck)>, i64, &'static str);
    let cases: Vec<Case> = vec![
        (vec![(l(), QuoteCheck::Tampered)], 2000, "quote_tampered"),
        (
            vec![(
                l(),
                QuoteCheck::Expired {
                    valid_until: now() - Duration::days(1),
                },
            )],
            2000,
            "quote_expired",
        ),
        (
            vec![(l(), valid("poster-a3", 3, 2000))],
            2000,
            "quote_mismatch",
        ),
        (
            vec![(l(), valid("flyer-a5", 2, 2000))],
            2000,
            "quote_mismatch",
        ),
        (vec![(l(), drifted)], 2000, "quote_mismatch"),
        (
            vec![(l(), valid("poster-a3", 2, 2000))],
            1999,
            "total_mismatch",
        ),
        (
            vec![(line("poster-a3", 6), valid("poster-a3", 6, 6000))],
            6000,
            "out_of_stock",
        ),
        (
            vec![(line("gone", 1), valid("gone", 1, 100))],
            100,
            "product_unavailable",
        ),
        (vec![], 0, "cart_empty"),
    ];
    for (i, (lines, total, code)) in cases.into_iter().enumerate() {
        let err = f
            .service
            .checkout(request(ann, &format!("bad-{i}"), lines, total))
            .await
            .map(|o| o.order.id)
            .expect_err(code);
        assert_eq!(err.code(), code, "{err}");
    }
    let mut bad_key = request(
        ann,
        "has space",
        vec![(l(), valid("poster-a3", 2, 2000))],
        2000,
    );
    assert_eq!(
        f.service
            .checkout(bad_key.clone())
            .await
            .map(|_| ())
            .map_err(|e| e.code()),
        Err("invalid_idempotency_key")
    );
    bad_key.idempotency_key = "ok".into();
    bad_key.shipping_address.country = "Germany".into();
    assert!(matches!(
        f.service.checkout(bad_key).await,
        Err(OrderError::Store(crate::Error::Invalid { .. }))
    ));
    assert!(
        f.orders
            .outbox_pending(10)
            .await
            .unwrap_or_default()
            .is_empty()
    );
    assert_eq!(
        f.products
            .get(&pid("poster-a3"))
            .await
            .ok()
            .and_then(|p| p.stock),
        Some(5),
        "nothing reserved"
    );
}

#[tokio::test]
async fn a_failed_line_takes_no_stock_of_the_others() {
    let f = fixture(&[("a-item", Some(10)), ("b-item", Some(1))]).await;
    let err = f
        .service
        .checkout(request(
            UserId::new(),
            "k",
            vec![
                (line("a-item", 4), valid("a-item", 4, 400)),
                (line("b-item", 2), valid("b-item", 2, 200)),
            ],
            600,
        ))
        .await
        .map(|_| ())
        .expect_err("b is short");
    assert_eq!(err.code(), "out_of_stock");
    let stock = |id: &'static str| {
        let p = f.products.clone();
        async move { p.get(&pid(id)).await.ok().and_then(|p| p.stock) }
    };
    assert_eq!(
        (stock("a-item").await, stock("b-item").await),
        (Some(10), Some(1))
    );
}

#[tokio::test]
async fn a_product_gone_at_the_write_is_unavailable_not_not_found() {
    // The write's store no longer has the stock-controlled product that
    // the service's product check still saw.
    let f = fixture(&[("made", None), ("stocked", Some(5))]).await;
    let write = fixture(&[("made", None)]).await;
    let orders = Arc::new(MemoryOrderRepo::with_products(write.products.clone()));
    let engine = crate::workflow::Engine::builtin().unwrap_or_else(|e| panic!("{e}"));
    let service = OrderService::new(orders, f.products.clone(), engine);
    let err = service
        .checkout(request(
            UserId::new(),
            "k",
            vec![
                (line("made", 1), valid("made", 1, 100)),
                (line("stocked", 1), valid("stocked", 1, 100)),
            ],
            200,
        ))
        .await
        .map(|_| ())
        .expect_err("gone");
    assert_eq!(err.code(), "product_unavailable", "{err:?}");
}

#[tokio::test]
async fn the_same_key_returns_the_same_order() {
    let f = fixture(&[("poster-a3", Some(100))]).await;
    let ann = UserId::new();
    let req = || {
        request(
            ann,
            "key-1",
            vec![(line("poster-a3", 2), valid("poster-a3", 2, 2000))],
            2000,
        )
    };
    let first = f
        .service
        .checkout(req())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // A retry after the quote expired still gets its order.
    let mut retry = req();
    retry.lines[0].1 = QuoteCheck::Expired { valid_until: now() };
    let again = f
        .service
        .checkout(retry)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(again.replayed);
    assert_eq!(again.order.id, first.order.id);
    // Same key, other request.
    let mut other = req();
    other.expected_total = eur(2000);
    other.lines[0].0.options = serde_json::json!({"paper": "silk-170"});
    assert_eq!(
        f.service
            .checkout(other)
            .await
            .map(|_| ())
            .map_err(|e| e.code()),
        Err("idempotency_key_reused")
    );
    // Another customer's identical key is theirs.
    let bob = UserId::new();
    let mut theirs = req();
    theirs.customer = bob;
    theirs.actor = Actor::user(bob, [Role::Customer]);
    let b = f
        .service
        .checkout(theirs)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(b.order.id, first.order.id);
    assert_eq!(
        f.products
            .get(&pid("poster-a3"))
            .await
            .ok()
            .and_then(|p| p.stock),
        Some(96)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_retries_create_one_order_and_take_stock_once() {
    let f = fixture(&[("poster-a3", Some(100))]).await;
    let ann = UserId::new();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let s = f.service.clone();
            let req = request(
                ann,
                "same",
                vec![(line("poster-a3", 3), valid("poster-a3", 3, 3000))],
                3000,
            );
            tokio::spawn(async move { s.checkout(req).await })
        })
        .collect();
    let mut ids = std::collections::HashSet::new();
    let mut fresh = 0;
    for t in tasks {
        let out = t
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|e| panic!("{e}"));
        fresh += usize::from(!out.replayed);
        ids.insert(out.order.id);
    }
    assert_eq!((ids.len(), fresh), (1, 1));
    assert_eq!(
        f.products
            .get(&pid("poster-a3"))
            .await
            .ok()
            .and_then(|p| p.stock),
        Some(97)
    );
    assert_eq!(
        f.orders.outbox_pending(100).await.unwrap_or_default().len(),
        2
    );
}

/// Runs the checkouts `requests` at once; each one's outcome, with a
/// refusal as its error code.
async fn checkout_at_once(
    f: &Fixture,
    requests: Vec<CheckoutRequest>,
) -> Vec<Result<(), &'static str>> {
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|req| {
            let s = f.service.clone();
            tokio::spawn(async move { s.checkout(req).await.map(|_| ()).map_err(|e| e.code()) })
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap_or_else(|e| panic!("{e}")));
    }
    results
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_unit_goes_to_exactly_one_customer() {
    let f = fixture(&[("poster-a3", Some(1))]).await;
    let requests = (0..20)
        .map(|i| {
            request(
                UserId::new(),
                &format!("k{i}"),
                vec![(line("poster-a3", 1), valid("poster-a3", 1, 1000))],
                1000,
            )
        })
        .collect();
    let results = checkout_at_once(&f, requests).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Ok(()) | Err("out_of_stock"))),
        "{results:?}"
    );
    assert_eq!(
        f.products
            .get(&pid("poster-a3"))
            .await
            .ok()
            .and_then(|p| p.stock),
        Some(0)
    );
}

#[tokio::test]
async fn transitions_go_through_the_engine_with_version_checks() {
    let f = fixture(&[("poster-a3", None)]).await;
    let ann = UserId::new();
    let o = f
        .service
        .checkout(request(
            ann,
            "t",
            vec![(line("poster-a3", 1), valid("poster-a3", 1, 1000))],
            1000,
        ))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .order;
    let req = |name: &str, version: Option<u64>, actor: Actor| TransitionRequest {
        order_id: o.id,
        transition: name.into(),
        actor,
        context: GuardContext {
            reason: Some("changed my mind".into()),
            ..GuardContext::default()
        },
        expected_version: version,
        now: now(),
    };
    let me = Actor::user(ann, [Role::Customer]);
    // Not allowed from `submitted`: the error names the state and options.
    match f
        .service
        .transition(req("start_printing", Some(1), me.clone()))
        .await
    {
        Err(OrderError::Workflow(crate::workflow::WorkflowError::NotAllowed {
            from,
            allowed,
            ..
        })) => {
            assert_eq!(from, "submitted");
            assert_eq!(allowed, ["accept", "cancel"]);
        }
        other => panic!("{other:?}"),
    }
    // Someone else's order.
    let bob = Actor::user(UserId::new(), [Role::Customer]);
    assert_eq!(
        f.service
            .transition(req("cancel", Some(1), bob))
            .await
            .map(|_| ())
            .map_err(|e| e.code()),
        Err("transition_not_owner")
    );
    // Stale version.
    assert!(matches!(
        f.service
            .transition(req("cancel", Some(7), me.clone()))
            .await,
        Err(OrderError::Store(crate::Error::Conflict {
            reason: crate::ConflictReason::StaleVersion,
            ..
        }))
    ));
    let done = f
        .service
        .transition(req("cancel", Some(1), me))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((done.status.as_str(), done.version), ("cancelled", 2));
    assert_eq!(
        done.history.last().and_then(|h| h.reason.as_deref()),
        Some("changed my mind")
    );
    let outbox = f.orders.outbox_pending(10).await.unwrap_or_default();
    assert_eq!(
        outbox.last().map(|e| e.routing_key.as_str()),
        Some("order.status_changed.cancelled")
    );
    let p: serde_json::Value = serde_json::from_str(&outbox[2].payload).unwrap_or_default();
    assert_eq!(
        (p["from"].as_str(), p["to"].as_str(), p["version"].as_u64()),
        (Some("submitted"), Some("cancelled"), Some(2))
    );
}

#[tokio::test]
async fn a_coupon_counts_once_per_order_and_stops_at_its_cap() {
    let f = fixture(&[("poster-a3", None), ("flyer-a5", Some(1))]).await;
    let ann = UserId::new();
    // Two lines with the same coupon: one redemption. The caps differ
    // (quotes of two catalog versions): the smaller one applies.
    let two_lines = request(
        ann,
        "c1",
        vec![
            (
                line("poster-a3", 1),
                with_coupon(valid("poster-a3", 1, 1000), "spring", Some(3)),
            ),
            (
                line("poster-a3", 2),
                with_coupon(valid("poster-a3", 2, 2000), "spring", Some(2)),
            ),
        ],
        3000,
    );
    f.service
        .checkout(two_lines.clone())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(f.orders.coupon_redemptions("spring").await.ok(), Some(1));
    // A replay counts nothing.
    let again = f
        .service
        .checkout(two_lines)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(again.replayed);
    assert_eq!(f.orders.coupon_redemptions("spring").await.ok(), Some(1));
    // A checkout that fails for another reason (stock) counts nothing.
    let short = request(
        ann,
        "c2",
        vec![
            (
                line("poster-a3", 1),
                with_coupon(valid("poster-a3", 1, 1000), "spring", Some(2)),
            ),
            (line("flyer-a5", 2), valid("flyer-a5", 2, 200)),
        ],
        1200,
    );
    assert_eq!(
        f.service
            .checkout(short)
            .await
            .map(|_| ())
            .map_err(|e| e.code()),
        Err("out_of_stock")
    );
    assert_eq!(f.orders.coupon_redemptions("spring").await.ok(), Some(1));
    let one = |key: &str| {
        request(
            ann,
            key,
            vec![(
                line("poster-a3", 1),
                with_coupon(valid("poster-a3", 1, 1000), "spring", Some(2)),
            )],
            1000,
        )
    };
    f.service
        .checkout(one("c3"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let err = f
        .service
        .checkout(one("c4"))
        .await
        .map(|_| ())
        .expect_err("cap reached");
    assert!(
        matches!(&err, OrderError::CouponExhausted { code } if code == "spring"),
        "{err:?}"
    );
    assert_eq!(err.code(), "coupon_exhausted");
    assert_eq!(f.orders.coupon_redemptions("spring").await.ok(), Some(2));
    // The refused checkout stored nothing: 2 orders, 2 × 2 events.
    assert_eq!(
        f.orders.outbox_pending(100).await.unwrap_or_default().len(),
        4
    );
    // Uncapped coupons are counted too; other codes are independent.
    let mut free = one("c5");
    free.lines[0].1 = with_coupon(valid("poster-a3", 1, 1000), "open", None);
    f.service
        .checkout(free)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(f.orders.coupon_redemptions("open").await.ok(), Some(1));
    assert_eq!(f.orders.coupon_redemptions("never").await.ok(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_checkouts_never_redeem_a_coupon_beyond_its_cap() {
    let f = fixture(&[("poster-a3", None)]).await;
    let requests = (0..20)
        .map(|i| {
            request(
                UserId::new(),
                &format!("k{i}"),
                vec![(
                    line("poster-a3", 1),
                    with_coupon(valid("poster-a3", 1, 1000), "five", Some(5)),
                )],
                1000,
            )
        })
        .collect();
    let results = checkout_at_once(&f, requests).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 5);
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Ok(()) | Err("coupon_exhausted"))),
        "{results:?}"
    );
    assert_eq!(f.orders.coupon_redemptions("five").await.ok(), Some(5));
}
