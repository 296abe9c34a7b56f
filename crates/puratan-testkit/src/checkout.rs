//! Conformance suite for the checkout write, [`OrderRepo::insert_checkout`]:
//! order + outbox + stock + coupon redemptions in one transaction.
//!
//! The factory yields the order store and the product store it takes
//! stock from (the same database; for the in-memory stores, a
//! `MemoryOrderRepo::with_products` sharing the product store).

use std::collections::HashSet;
use std::sync::Arc;

use chrono::Utc;
use puratan_core::domain::{Idempotency, Order, OrderId, OutboxEntry, Product, ProductId, UserId};
use puratan_core::ports::{OrderRepo, ProductRepo, Reservations};
use puratan_core::{ConflictReason, Error, ErrorKind};

use crate::fixtures::{day, order, product};
use crate::service::unique;

/// The order store and the product store its checkouts take stock from.
pub type Stores = (Arc<dyn OrderRepo>, Arc<dyn ProductRepo>);

/// A namespace unique per test (real services outlive a run).
fn ns() -> String {
    unique("c").chars().take(12).collect()
}

async fn stocked(products: &Arc<dyn ProductRepo>, id: &str, stock: Option<u64>) -> Product {
    let mut p = product(id, &id.to_uppercase());
    p.stock = stock;
    products.insert(p).await.expect("insert product")
}

fn keyed(customer: UserId, key: &str) -> Order {
    let mut o = order(customer, "submitted", 50, day(3));
    o.idempotency = Some(Idempotency {
        key: key.to_owned(),
        fingerprint: "f".to_owned(),
    });
    o
}

fn events(order: OrderId) -> Vec<OutboxEntry> {
    ["order.created", "order.status_changed"]
        .iter()
        .map(|kind| {
            let id = uuid::Uuid::now_v7().to_string();
            OutboxEntry {
                payload: serde_json::json!({ "event_id": id }).to_string(),
                id,
                order_id: order,
                kind: (*kind).to_owned(),
                routing_key: (*kind).to_owned(),
                created_at: Utc::now(),
            }
        })
        .collect()
}

fn reserve(stock: &[(&Product, u64)], coupons: &[(&str, Option<u64>)]) -> Reservations {
    Reservations {
        stock: stock.iter().map(|(p, q)| (p.id.clone(), *q)).collect(),
        coupons: coupons
            .iter()
            .map(|(c, cap)| ((*c).to_owned(), *cap))
            .collect(),
    }
}

/// Checks out a fresh order with its two events.
async fn checkout(orders: &Arc<dyn OrderRepo>, r: Reservations) -> Result<Order, Error> {
    let o = keyed(UserId::new(), &unique("k"));
    let ev = events(o.id);
    orders.insert_checkout(o, ev, r).await
}

fn exhausted(e: &Error) -> Option<(&'static str, &str)> {
    match e {
        Error::Conflict {
            entity,
            reason: ConflictReason::Exhausted { key },
        } => Some((entity, key.as_str())),
        _ => None,
    }
}

async fn pending_of(orders: &Arc<dyn OrderRepo>, id: OrderId) -> usize {
    orders
        .outbox_pending(100_000)
        .await
        .expect("pending")
        .iter()
        .filter(|e| e.order_id == id)
        .count()
}

async fn stock_of(products: &Arc<dyn ProductRepo>, id: &ProductId) -> (Option<u64>, u64) {
    let p = products.get(id).await.expect("get product");
    (p.stock, p.version)
}

/// A checkout that cannot take everything stores nothing: no order, no
/// outbox entry, no redemption, no stock of the products that had enough.
pub async fn checkout_is_all_or_nothing((orders, products): Stores) {
    let n = ns();
    let a = stocked(&products, &format!("{n}-a"), Some(10)).await;
    let b = stocked(&products, &format!("{n}-b"), Some(1)).await;
    let made = stocked(&products, &format!("{n}-made"), None).await;
    let coupon = format!("{n}-spring");

    // b is short: nothing is written.
    let o = keyed(UserId::new(), &unique("k"));
    let id = o.id;
    let err = orders
        .insert_checkout(
            o,
            events(id),
            reserve(&[(&a, 4), (&b, 2), (&made, 100)], &[(&coupon, Some(3))]),
        )
        .await
        .expect_err("b is short");
    assert_eq!(exhausted(&err), Some(("product", b.id.as_str())), "{err:?}");
    assert_eq!(
        orders.get(id).await.expect_err("no order").kind(),
        ErrorKind::NotFound
    );
    assert_eq!(pending_of(&orders, id).await, 0, "no outbox entry");
    assert_eq!(orders.coupon_redemptions(&coupon).await.expect("count"), 0);
    assert_eq!(stock_of(&products, &a.id).await, (Some(10), a.version));
    assert_eq!(stock_of(&products, &b.id).await, (Some(1), b.version));
    assert_eq!(stock_of(&products, &made.id).await, (None, made.version));

    // Enough of everything: all of it is written.
    let o = keyed(UserId::new(), &unique("k"));
    let id = o.id;
    let stored = orders
        .insert_checkout(
            o.clone(),
            events(id),
            reserve(&[(&a, 4), (&b, 1), (&made, 100)], &[(&coupon, Some(3))]),
        )
        .await
        .expect("checkout");
    assert_eq!(stored.version, 1);
    assert_eq!(orders.get(id).await.expect("order"), stored);
    assert_eq!(pending_of(&orders, id).await, 2);
    assert_eq!(orders.coupon_redemptions(&coupon).await.expect("count"), 1);
    assert_eq!(stock_of(&products, &a.id).await, (Some(6), a.version + 1));
    assert_eq!(stock_of(&products, &b.id).await, (Some(0), b.version + 1));
    assert_eq!(
        stock_of(&products, &made.id).await,
        (None, made.version),
        "no stock control: untouched"
    );
    // The stock change bumped the version: a write based on the old one
    // is stale.
    let err = products.update(a.clone()).await.expect_err("stale");
    assert!(
        matches!(
            err,
            Error::Conflict {
                reason: ConflictReason::StaleVersion,
                ..
            }
        ),
        "{err:?}"
    );

    // The same idempotency key again: a duplicate, nothing taken.
    let mut dup = keyed(o.customer_id, &o.idempotency.as_ref().expect("key").key);
    dup.id = OrderId::new();
    let dup_id = dup.id;
    let err = orders
        .insert_checkout(
            dup,
            events(dup_id),
            reserve(&[(&a, 1)], &[(&coupon, Some(3))]),
        )
        .await
        .expect_err("duplicate key");
    assert!(
        matches!(
            err,
            Error::Conflict {
                reason: ConflictReason::Duplicate {
                    field: "idempotency_key"
                },
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(pending_of(&orders, dup_id).await, 0);
    assert_eq!(stock_of(&products, &a.id).await.0, Some(6));
    assert_eq!(orders.coupon_redemptions(&coupon).await.expect("count"), 1);

    // An unknown product: NotFound, nothing written.
    let ghost = product(&format!("{n}-ghost"), &format!("{n}-GHOST").to_uppercase());
    let err = checkout(
        &orders,
        reserve(&[(&a, 1), (&ghost, 1)], &[(&coupon, None)]),
    )
    .await
    .expect_err("unknown product");
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err:?}");
    assert_eq!(stock_of(&products, &a.id).await.0, Some(6));
    assert_eq!(orders.coupon_redemptions(&coupon).await.expect("count"), 1);

    // Hostile quantities are "not enough", never an overflow; zero and
    // any amount of a product without stock control are fine.
    for q in [7, u64::MAX / 2, u64::MAX / 2 + 1, u64::MAX] {
        let err = checkout(&orders, reserve(&[(&a, q)], &[]))
            .await
            .expect_err("too many");
        assert_eq!(exhausted(&err), Some(("product", a.id.as_str())), "{err:?}");
    }
    checkout(&orders, reserve(&[(&a, 0), (&made, u64::MAX)], &[]))
        .await
        .expect("zero, and made to order");
    assert_eq!(stock_of(&products, &a.id).await.0, Some(6));

    // A coupon at its cap: refused, nothing written (not even the stock).
    let once = format!("{n}-once");
    checkout(&orders, reserve(&[(&a, 1)], &[(&once, Some(1))]))
        .await
        .expect("first redemption");
    let o = keyed(UserId::new(), &unique("k"));
    let id = o.id;
    let err = orders
        .insert_checkout(
            o,
            events(id),
            reserve(&[(&a, 1)], &[(&coupon, Some(3)), (&once, Some(1))]),
        )
        .await
        .expect_err("cap reached");
    assert_eq!(exhausted(&err), Some(("coupon", once.as_str())), "{err:?}");
    assert_eq!(pending_of(&orders, id).await, 0);
    assert_eq!(stock_of(&products, &a.id).await.0, Some(5));
    assert_eq!(orders.coupon_redemptions(&once).await.expect("count"), 1);
    assert_eq!(
        orders.coupon_redemptions(&coupon).await.expect("count"),
        1,
        "the other coupon of the refused checkout was not counted"
    );
    // A cap of 0 refuses even the first redemption (no counter yet).
    let never = format!("{n}-cap0");
    let err = checkout(&orders, reserve(&[(&a, 1)], &[(&never, Some(0))]))
        .await
        .expect_err("cap 0");
    assert_eq!(exhausted(&err), Some(("coupon", never.as_str())), "{err:?}");
    assert_eq!(orders.coupon_redemptions(&never).await.expect("count"), 0);
    assert_eq!(stock_of(&products, &a.id).await.0, Some(5));
    // Uncapped coupons count too; an unknown code has no redemptions.
    for _ in 0..3 {
        checkout(&orders, reserve(&[], &[(&once, None)]))
            .await
            .expect("no cap");
    }
    assert_eq!(orders.coupon_redemptions(&once).await.expect("count"), 4);
    assert_eq!(
        orders
            .coupon_redemptions(&format!("{n}-never"))
            .await
            .expect("count"),
        0
    );
}

/// 20 concurrent checkouts of a coupon capped at 5: exactly 5 orders are
/// written, 15 are refused with the coupon's `Exhausted`, the count is 5.
pub async fn checkout_coupon_cap_holds_under_concurrency((orders, products): Stores) {
    const CHECKOUTS: usize = 20;
    const CAP: u64 = 5;
    let n = ns();
    let made = stocked(&products, &format!("{n}-made"), None).await;
    let coupon = format!("{n}-five");
    let tasks: Vec<_> = (0..CHECKOUTS)
        .map(|_| {
            let orders = orders.clone();
            let r = reserve(&[(&made, 1)], &[(&coupon, Some(CAP))]);
            tokio::spawn(async move {
                let o = keyed(UserId::new(), &unique("k"));
                let id = o.id;
                orders.insert_checkout(o, events(id), r).await.map(|_| id)
            })
        })
        .collect();
    let mut winners = Vec::new();
    let mut refused = 0;
    for t in tasks {
        match t.await.expect("join") {
            Ok(id) => winners.push(id),
            Err(e) => {
                assert_eq!(exhausted(&e), Some(("coupon", coupon.as_str())), "{e:?}");
                refused += 1;
            }
        }
    }
    assert_eq!((winners.len(), refused), (CAP as usize, CHECKOUTS - 5));
    assert_eq!(
        orders.coupon_redemptions(&coupon).await.expect("count"),
        CAP
    );
    for id in winners {
        orders.get(id).await.expect("a winner's order");
        assert_eq!(pending_of(&orders, id).await, 2);
    }
}

/// Concurrent checkouts of the last unit: exactly one wins. And 25
/// checkouts of one unit each against a stock of 10 take exactly 10.
pub async fn checkout_last_unit_goes_to_exactly_one((orders, products): Stores) {
    let n = ns();
    let last = stocked(&products, &format!("{n}-last"), Some(1)).await;
    let ten = stocked(&products, &format!("{n}-ten"), Some(10)).await;
    for (p, tasks_n, expected) in [(&last, 20, 1), (&ten, 25, 10)] {
        let tasks: Vec<_> = (0..tasks_n)
            .map(|_| {
                let orders = orders.clone();
                let r = reserve(&[(p, 1)], &[]);
                tokio::spawn(async move { checkout(&orders, r).await.map(|o| o.id) })
            })
            .collect();
        let mut winners = HashSet::new();
        for t in tasks {
            match t.await.expect("join") {
                Ok(id) => {
                    winners.insert(id);
                }
                Err(e) => {
                    assert_eq!(exhausted(&e), Some(("product", p.id.as_str())), "{e:?}")
                }
            }
        }
        assert_eq!(winners.len(), expected, "{}", p.id);
        assert_eq!(
            stock_of(&products, &p.id).await,
            (Some(0), p.version + expected as u64)
        );
    }
}
