//! Order events produced by real requests — checkout, a payment that
//! fires `accept`, a re-prioritisation, transitions, shipping and
//! tracking — as they leave the outbox, each checked against its schema;
//! and `order.updated` only where no transition announces the change.

use chrono::{Duration, Utc};
use puratan_core::domain::{Order, OrderLine, ProductId, Role, StatusChange, UserId};
use puratan_core::ports::{Exchange, Subscription};
use serde_json::{Value, json};

use super::{assert_quiet, assert_valid, next_event};
use crate::auth::access;
use crate::orders::{body, card};
use crate::support::{TestApp, spawn_app};

impl TestApp {
    /// An order of `customer` stored directly in `status` (the facts
    /// before production cannot all be recorded over HTTP here).
    async fn order_in(&self, customer: UserId, status: &str, from: &str) -> Order {
        let mut o =
            puratan_testkit::fixtures::order(customer, status, 50, Utc::now() + Duration::days(3));
        o.lines = vec![OrderLine {
            product_id: ProductId::parse("business-card").expect("product id"),
            quantity: 500,
            description: "500 × business-card".into(),
            amount: o.total,
            options: json!({}),
            quote_id: None,
            quote_token: None,
            file_ids: vec![],
        }];
        o.history = vec![StatusChange {
            from: Some(puratan_testkit::fixtures::status(from)),
            to: puratan_testkit::fixtures::status(status),
            actor: None,
            at: Utc::now(),
            reason: None,
        }];
        self.app().orders.insert(o).await.expect("insert order")
    }

    async fn staff_post(&self, bearer: &str, path: &str, body: &Value) -> Value {
        let r = self.post_json(path, body, Some(bearer)).await;
        assert_eq!(
            r.status(),
            200,
            "{path}: {}",
            r.text().await.unwrap_or_default()
        );
        r.json().await.expect("json")
    }
}

#[tokio::test]
async fn order_events_match_their_schemas_and_updates_are_announced_once() {
    let app = spawn_app().await;
    let mut sub = app
        .app()
        .events
        .subscribe(Subscription {
            queue: "test.event-schemas".into(),
            exchange: Exchange::Topic,
            binding_key: "order.#".into(),
            transient: true,
        })
        .await
        .expect("subscribe");
    let ann = app.customer("ann@example.com").await;
    let staff_tokens = app.user_with_role("staff@example.com", Role::Staff).await;
    let staff_id = app.user_id(&staff_tokens).await;
    let staff = access(&staff_tokens);

    // A: checkout, payment (fires `accept`), re-prioritisation, hold.
    let (line, total, cur) = app.line(&card()).await;
    let r = app
        .checkout(access(&ann), Some("ev-1"), &body(vec![line], &total, &cur))
        .await;
    assert_eq!(r.status(), 201);
    let a: Value = r.json().await.expect("json");
    let a_id = a["id"].as_str().expect("id").to_owned();
    let paid = app
        .staff_post(
            staff,
            &format!("/api/v1/staff/orders/{a_id}/payment"),
            &json!({"method": "card", "reference": "ch_1", "amount": {"amount": total, "currency": cur},
                    "version": a["version"]}),
        )
        .await;
    assert_eq!(paid["status"], "awaiting_files");
    let prioritised = app
        .staff_post(
            staff,
            &format!("/api/v1/staff/orders/{a_id}/priority"),
            &json!({"priority": 80, "version": paid["version"]}),
        )
        .await;
    app.staff_post(
        staff,
        &format!("/api/v1/staff/orders/{a_id}/transitions"),
        &json!({"transition": "hold", "version": prioritised["version"]}),
    )
    .await;

    // B: `enqueue` emits order.processed besides the status change.
    let customer = UserId::parse(&app.user_id(&ann).await).expect("id");
    let b = app.order_in(customer, "approved", "proof_pending").await;
    app.staff_post(
        staff,
        &format!("/api/v1/staff/orders/{}/transitions", b.id),
        &json!({"transition": "enqueue", "version": b.version}),
    )
    .await;

    // C: shipment (fires `ship`), a tracking event, the delivery scan
    // (fires `deliver`, which emits order.completed).
    let c = app.order_in(customer, "packed", "quality_check").await;
    let shipped = app
        .staff_post(
            staff,
            &format!("/api/v1/staff/orders/{}/shipment", c.id),
            &json!({"carrier": "dhl", "tracking_number": "JD0146000062", "version": c.version}),
        )
        .await;
    let track = format!("/api/v1/staff/orders/{}/tracking-events", c.id);
    let moving = app
        .staff_post(
            staff,
            &track,
            &json!({"status": "in_transit", "description": "At the hub", "version": shipped["version"]}),
        )
        .await;
    let delivered = app
        .staff_post(
            staff,
            &track,
            &json!({"status": "delivered", "description": "Handed over", "version": moving["version"]}),
        )
        .await;
    assert_eq!(delivered["status"], "delivered");

    let mut seen: Vec<(String, String, Value)> = Vec::new();
    while seen.len() < 11 {
        let (kind, id, payload) = next_event(&mut sub).await;
        assert_valid(&payload);
        assert_eq!(payload["event_id"], id.as_str(), "{payload}");
        assert_eq!(
            payload["schema"],
            format!("puratan.{kind}/v1").as_str(),
            "{payload}"
        );
        let order = payload["order_id"].as_str().expect("order_id").to_owned();
        seen.push((order, kind, payload));
    }
    // Nothing else: in particular no order.updated for the payment, the
    // shipment or the delivery scan, whose transitions announced them.
    assert_quiet(&mut sub).await;

    let of = |order: &str| -> Vec<(String, Value)> {
        seen.iter()
            .filter(|(o, _, _)| o == order)
            .map(|(_, k, p)| (k.clone(), p.clone()))
            .collect()
    };
    let kinds = |events: &[(String, Value)]| -> Vec<String> {
        events.iter().map(|(k, _)| k.clone()).collect()
    };

    let a_events = of(&a_id);
    assert_eq!(
        kinds(&a_events),
        [
            "order.created",
            "order.status_changed",
            "order.status_changed",
            "order.updated",
            "order.status_changed"
        ]
    );
    assert_eq!(a_events[2].1["transition"], "accept");
    let updated = &a_events[3].1;
    assert_eq!(updated["changed"], json!(["priority"]));
    assert_eq!(updated["actor"], staff_id.as_str());
    assert_eq!(updated["customer_id"], customer.to_string().as_str());
    assert_eq!(updated["version"], prioritised["version"]);
    assert_eq!(a_events[4].1["to"], "on_hold");

    let b_events = of(&b.id.to_string());
    assert_eq!(
        kinds(&b_events),
        ["order.status_changed", "order.processed"]
    );
    assert_eq!(b_events[1].1["schema"], "puratan.order.processed/v1");

    let c_events = of(&c.id.to_string());
    assert_eq!(
        kinds(&c_events),
        [
            "order.status_changed",
            "order.updated",
            "order.status_changed",
            "order.completed"
        ]
    );
    assert_eq!(c_events[0].1["transition"], "ship");
    assert_eq!(c_events[1].1["changed"], json!(["shipment.events"]));
    assert_eq!(c_events[1].1["version"], moving["version"]);
    assert_eq!(c_events[2].1["transition"], "deliver");
}
