//! Orders over HTTP: checkout with signed quotes, idempotency, stock,
//! ownership, workflow transitions, and events through the outbox relay.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use puratan_core::domain::{ProductId, Role};
use puratan_core::ports::{Exchange, Subscription};
use serde_json::{Value, json};

use crate::auth::access;
use crate::support::{TestApp, expect_error, spawn_app, spawn_app_with};

fn poster(quantity: u32) -> Value {
    json!({"product": "poster-a3", "quantity": quantity, "paper": "silk-170", "color": "4/0",
           "turnaround": "standard", "region": "DE"})
}

pub(crate) fn card() -> Value {
    json!({"product": "business-card", "quantity": 500, "paper": "silk-350", "color": "4/4",
           "turnaround": "standard", "region": "DE"})
}

pub(crate) fn address() -> Value {
    json!({"name": "Ann Example", "line1": "Main St 1", "postal_code": "10115", "city": "Berlin", "country": "DE"})
}

impl TestApp {
    /// A signed quote for `request`: (token, total amount, currency).
    pub(crate) async fn quote(&self, request: &Value) -> (String, String, String) {
        let r = self.post_json("/api/v1/quotes", request, None).await;
        assert_eq!(r.status(), 201);
        let q: Value = r.json().await.expect("json");
        (
            q["token"].as_str().expect("token").to_owned(),
            q["quote"]["total"].as_str().expect("total").to_owned(),
            q["quote"]["currency"]
                .as_str()
                .expect("currency")
                .to_owned(),
        )
    }

    /// A checkout line for `request` and its total.
    pub(crate) async fn line(&self, request: &Value) -> (Value, String, String) {
        let (token, total, currency) = self.quote(request).await;
        let options: serde_json::Map<String, Value> = request
            .as_object()
            .expect("object")
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "product" | "quantity"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        (
            json!({"product_id": request["product"], "quantity": request["quantity"],
                   "options": options, "quote_token": token}),
            total,
            currency,
        )
    }

    pub(crate) async fn checkout(
        &self,
        bearer: &str,
        key: Option<&str>,
        body: &Value,
    ) -> reqwest::Response {
        let mut req = self
            .client
            .post(self.url("/api/v1/orders"))
            .bearer_auth(bearer)
            .json(body);
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        req.send().await.expect("request")
    }

    async fn set_stock(&self, product: &str, units: u64) {
        let products = &self.app().products;
        let mut p = products
            .get(&ProductId::parse(product).expect("id"))
            .await
            .expect("product");
        p.stock = Some(units);
        products.update(p).await.expect("update");
    }

    async fn stock(&self, product: &str) -> Option<u64> {
        self.app()
            .products
            .get(&ProductId::parse(product).expect("id"))
            .await
            .expect("product")
            .stock
    }
}

pub(crate) fn body(lines: Vec<Value>, amount: &str, currency: &str) -> Value {
    json!({"lines": lines, "shipping_address": address(),
           "expected_total": {"amount": amount, "currency": currency}})
}

fn sum(a: &str, b: &str) -> String {
    let x: rust_decimal::Decimal = a.parse().expect("decimal");
    let y: rust_decimal::Decimal = b.parse().expect("decimal");
    (x + y).to_string()
}

#[tokio::test]
async fn checkout_submits_an_order_and_a_retry_returns_it() {
    let app = spawn_app().await;
    let ann = app.customer("ann@example.com").await;
    let (l1, t1, cur) = app.line(&card()).await;
    let (l2, t2, _) = app.line(&poster(20)).await;
    let total = sum(&t1, &t2);
    let stock_before = app.stock("poster-a3").await.expect("stock-controlled");
    let req = body(vec![l1, l2], &total, &cur);

    let r = app.checkout(access(&ann), Some("key-1"), &req).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    let order: Value = r.json().await.expect("json");
    assert_eq!(order["status"], "submitted");
    assert_eq!(order["version"], 1);
    assert_eq!(order["total"]["amount"], total.as_str());
    assert_eq!(order["lines"].as_array().map(Vec::len), Some(2));
    assert_eq!(order["lines"][1]["options"]["paper"], "silk-170");
    assert_eq!(order["shipping_address"]["city"], "Berlin");
    assert_eq!(order["history"][1]["from"], "draft");
    assert_eq!(order["history"][1]["to"], "submitted");
    assert_eq!(order["allowed_transitions"], json!(["accept", "cancel"]));
    assert_eq!(app.stock("poster-a3").await, Some(stock_before - 20));

    // Same key, same body: the same order, not a second one.
    let r = app.checkout(access(&ann), Some("key-1"), &req).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    let again: Value = r.json().await.expect("json");
    assert_eq!(again["id"], order["id"]);
    assert_eq!(app.stock("poster-a3").await, Some(stock_before - 20));
    // Same key, other body.
    let mut other = req.clone();
    other["shipping_address"]["city"] = json!("Hamburg");
    expect_error(
        app.checkout(access(&ann), Some("key-1"), &other).await,
        422,
        "idempotency_key_reused",
    )
    .await;
    // No key, or a bad one.
    expect_error(
        app.checkout(access(&ann), None, &req).await,
        400,
        "idempotency_key_invalid",
    )
    .await;
    expect_error(
        app.checkout(access(&ann), Some("has space"), &req).await,
        400,
        "idempotency_key_invalid",
    )
    .await;

    // Listed as mine; shown to staff; another customer gets 404.
    let mine: Value = app
        .get_auth("/api/v1/orders", access(&ann))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(mine["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(mine["items"][0]["id"], order["id"]);
    let path = format!("/api/v1/orders/{}", order["id"].as_str().expect("id"));
    let bob = app.customer("bob@example.com").await;
    expect_error(app.get_auth(&path, access(&bob)).await, 404, "not_found").await;
    expect_error(
        app.get_auth("/api/v1/orders/not-a-uuid", access(&ann))
            .await,
        404,
        "not_found",
    )
    .await;
    let bobs: Value = app
        .get_auth("/api/v1/orders", access(&bob))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(bobs["items"], json!([]));
    let staff = app.user_with_role("staff@example.com", Role::Staff).await;
    let r = app.get_auth(&path, access(&staff)).await;
    assert_eq!(r.status(), 200);
    // Staff queue of submitted orders has it.
    let q: Value = app
        .get_auth("/api/v1/staff/queue?status=submitted", access(&staff))
        .await
        .json()
        .await
        .expect("json");
    assert!(
        q["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|o| o["id"] == order["id"])
    );
    expect_error(
        app.get_auth("/api/v1/staff/queue", access(&ann)).await,
        403,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn bad_quotes_and_totals_are_refused() {
    let app = spawn_app().await;
    let ann = app.customer("ann@example.com").await;
    let (line, total, cur) = app.line(&poster(10)).await;
    let stock_before = app.stock("poster-a3").await;

    // Wrong total.
    let r = app
        .checkout(
            access(&ann),
            Some("t1"),
            &body(vec![line.clone()], "0.01", &cur),
        )
        .await;
    let e = expect_error(r, 422, "total_mismatch").await;
    assert_eq!(e["details"]["actual"]["amount"], total.as_str());

    // Tampered: the payload says a lower total, the signature is the old one.
    let token = line["quote_token"].as_str().expect("token");
    let parts: Vec<&str> = token.split('.').collect();
    let mut payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[2]).expect("b64")).expect("json");
    payload["quote"]["total"] = json!("1.00");
    let forged = format!(
        "{}.{}.{}.{}",
        parts[0],
        parts[1],
        URL_SAFE_NO_PAD.encode(payload.to_string()),
        parts[3]
    );
    let mut tampered = line.clone();
    tampered["quote_token"] = json!(forged);
    let e = expect_error(
        app.checkout(
            access(&ann),
            Some("t2"),
            &body(vec![tampered], "1.00", &cur),
        )
        .await,
        422,
        "quote_tampered",
    )
    .await;
    assert_eq!(e["details"]["line"], 0);

    // The quote is for 10 posters, the line orders 20.
    let mut more = line.clone();
    more["quantity"] = json!(20);
    expect_error(
        app.checkout(access(&ann), Some("t3"), &body(vec![more], &total, &cur))
            .await,
        422,
        "quote_mismatch",
    )
    .await;

    // Expired: signed by the server's key with a past valid_until.
    let mut old = payload.clone();
    old["quote"]["total"] = json!(total);
    old["valid_until"] = json!("2020-01-01T00:00:00Z");
    let expired = app.app().pricing.signer.sign_json(&old.to_string());
    let mut stale = line.clone();
    stale["quote_token"] = json!(expired);
    expect_error(
        app.checkout(access(&ann), Some("t4"), &body(vec![stale], &total, &cur))
            .await,
        422,
        "quote_expired",
    )
    .await;

    // Malformed input never reaches the service.
    for (key, bad) in [
        ("t5", json!({"lines": [], "shipping_address": address()})),
        (
            "t6",
            body(
                vec![json!({"product_id": "../x", "quantity": 1, "quote_token": "x"})],
                "1",
                "EUR",
            ),
        ),
        ("t7", body(vec![line.clone()], "one euro", "EUR")),
        ("t8", body(vec![line.clone()], &total, "euro")),
    ] {
        let r = app.checkout(access(&ann), Some(key), &bad).await;
        expect_error(r, 422, "validation_failed").await;
    }
    let mut bad_country = body(vec![line.clone()], &total, &cur);
    bad_country["shipping_address"]["country"] = json!("Germany");
    expect_error(
        app.checkout(access(&ann), Some("t9"), &bad_country).await,
        422,
        "validation_failed",
    )
    .await;
    expect_error(
        app.checkout(access(&ann), Some("t10"), &body(vec![], "0", &cur))
            .await,
        422,
        "cart_empty",
    )
    .await;
    // Anonymous.
    let r = app
        .client
        .post(app.url("/api/v1/orders"))
        .header("Idempotency-Key", "x")
        .json(&body(vec![line], &total, &cur))
        .send()
        .await
        .expect("request");
    expect_error(r, 401, "unauthorized").await;

    assert_eq!(
        app.stock("poster-a3").await,
        stock_before,
        "nothing reserved"
    );
    let mine: Value = app
        .get_auth("/api/v1/orders", access(&ann))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(mine["items"], json!([]));
}

/// One checkout of `req` per customer, all at once (key `k<i>`):
/// (status, body) per customer.
async fn checkouts_at_once(app: &TestApp, customers: &[Value], req: &Value) -> Vec<(u16, Value)> {
    let tasks: Vec<_> = customers
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let client = app.client.clone();
            let url = app.url("/api/v1/orders");
            let token = access(c).to_owned();
            let req = req.clone();
            tokio::spawn(async move {
                let r = client
                    .post(url)
                    .bearer_auth(token)
                    .header("Idempotency-Key", format!("k{i}"))
                    .json(&req)
                    .send()
                    .await
                    .expect("request");
                let status = r.status().as_u16();
                let body: Value = r.json().await.expect("json");
                (status, body)
            })
        })
        .collect();
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        out.push(t.await.expect("join"));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_checkouts_for_the_last_units_one_wins() {
    // Twenty registrations from one IP: lift the per-IP login budget.
    let app = spawn_app_with(|c| c.auth.sensitive_per_ip_per_minute = 10_000).await;
    let mut customers = Vec::new();
    for i in 0..20 {
        customers.push(app.customer(&format!("c{i}@example.com")).await);
    }
    let (line, total, cur) = app.line(&poster(10)).await;
    app.set_stock("poster-a3", 10).await;
    let req = body(vec![line], &total, &cur);
    let mut created = 0;
    for (status, body) in checkouts_at_once(&app, &customers, &req).await {
        match status {
            201 => created += 1,
            409 => assert_eq!(body["code"], "out_of_stock", "{body}"),
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!(created, 1);
    assert_eq!(app.stock("poster-a3").await, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_checkouts_redeem_a_capped_coupon_at_most_cap_times() {
    const CAP: usize = 3;
    const CHECKOUTS: usize = 12;
    // The sample catalog plus a coupon that three orders may use.
    let dir = tempfile::tempdir().expect("tempdir");
    let catalog_path = dir.path().join("catalog.json");
    let mut catalog: Value = serde_json::from_str(
        &std::fs::read_to_string(crate::support::sample_catalog()).expect("sample catalog"),
    )
    .expect("json");
    catalog["coupons"]
        .as_array_mut()
        .expect("coupons")
        .push(json!({"code": "Launch-3", "kind": "percent", "value": "5", "max_redemptions": CAP}));
    std::fs::write(&catalog_path, catalog.to_string()).expect("write catalog");
    let app = spawn_app_with(|c| {
        c.auth.sensitive_per_ip_per_minute = 10_000;
        c.catalog.seed_file = Some(catalog_path.clone());
    })
    .await;
    let mut customers = Vec::new();
    for i in 0..CHECKOUTS {
        customers.push(app.customer(&format!("c{i}@example.com")).await);
    }
    app.set_stock("poster-a3", 1_000).await;
    let mut request = poster(10);
    request["coupon"] = json!("LAUNCH-3");
    let (line, total, cur) = app.line(&request).await;
    let req = body(vec![line], &total, &cur);
    let mut created = 0;
    for (status, body) in checkouts_at_once(&app, &customers, &req).await {
        match status {
            201 => created += 1,
            409 => {
                assert_eq!(body["code"], "coupon_exhausted", "{body}");
                assert_eq!(body["details"]["coupon"], "launch-3", "{body}");
            }
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!(created, CAP);
    assert_eq!(
        app.app()
            .orders
            .coupon_redemptions("launch-3")
            .await
            .expect("count"),
        CAP as u64
    );
    // Only the winners took stock.
    assert_eq!(app.stock("poster-a3").await, Some(1_000 - 10 * CAP as u64));
    // Without the coupon the same product still sells.
    let (line, total, cur) = app.line(&poster(10)).await;
    let r = app
        .checkout(
            access(&customers[0]),
            Some("no-coupon"),
            &body(vec![line], &total, &cur),
        )
        .await;
    assert_eq!(r.status(), 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_retries_with_one_key_create_one_order() {
    let app = spawn_app().await;
    let ann = app.customer("ann@example.com").await;
    let (line, total, cur) = app.line(&poster(10)).await;
    let before = app.stock("poster-a3").await.expect("stock");
    let req = body(vec![line], &total, &cur);
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let client = app.client.clone();
            let url = app.url("/api/v1/orders");
            let token = access(&ann).to_owned();
            let req = req.clone();
            tokio::spawn(async move {
                let r = client
                    .post(url)
                    .bearer_auth(token)
                    .header("Idempotency-Key", "one")
                    .json(&req)
                    .send()
                    .await
                    .expect("request");
                let status = r.status().as_u16();
                let body: Value = r.json().await.expect("json");
                (status, body["id"].clone())
            })
        })
        .collect();
    let mut ids = std::collections::HashSet::new();
    let mut created = 0;
    for t in tasks {
        let (status, id) = t.await.expect("join");
        assert!(matches!(status, 200 | 201), "{status}");
        created += usize::from(status == 201);
        ids.insert(id.to_string());
    }
    assert_eq!((ids.len(), created), (1, 1));
    assert_eq!(app.stock("poster-a3").await, Some(before - 10));
}

#[tokio::test]
async fn transitions_go_through_the_workflow() {
    let app = spawn_app().await;
    let ann = app.customer("ann@example.com").await;
    let bob = app.customer("bob@example.com").await;
    let staff = app.user_with_role("staff@example.com", Role::Staff).await;
    let (line, total, cur) = app.line(&card()).await;
    let order: Value = app
        .checkout(access(&ann), Some("w"), &body(vec![line], &total, &cur))
        .await
        .json()
        .await
        .expect("json");
    let id = order["id"].as_str().expect("id");
    let path = format!("/api/v1/orders/{id}/transitions");

    // Not allowed from `submitted`: 409 naming the state and the options.
    let e = expect_error(
        app.post_json(
            &path,
            &json!({"transition": "start_printing", "version": 1}),
            Some(access(&ann)),
        )
        .await,
        409,
        "transition_not_allowed",
    )
    .await;
    assert_eq!(e["details"]["current_state"], "submitted");
    assert_eq!(e["details"]["allowed"], json!(["accept", "cancel"]));
    // Guard: not paid.
    let e = expect_error(
        app.post_json(
            &path,
            &json!({"transition": "accept", "version": 1}),
            Some(access(&ann)),
        )
        .await,
        409,
        "transition_guard_failed",
    )
    .await;
    assert_eq!(e["details"]["guard"], "payment_captured");
    // Malformed bodies.
    for bad in [
        json!({"transition": "cancel"}),
        json!({"transition": "cancel", "version": "1"}),
        json!({"transition": "cancel", "version": 1, "status": "shipped"}),
        json!({"transition": "", "version": 1}),
    ] {
        expect_error(
            app.post_json(&path, &bad, Some(access(&ann))).await,
            422,
            "validation_failed",
        )
        .await;
    }
    // Someone else's order does not exist for them.
    expect_error(
        app.post_json(
            &path,
            &json!({"transition": "cancel", "version": 1}),
            Some(access(&bob)),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    // Staff re-prioritise (version 1 → 2); the customer's version 1 is stale.
    let r = app
        .post_json(
            &format!("/api/v1/staff/orders/{id}/priority"),
            &json!({"priority": 80, "version": 1}),
            Some(access(&staff)),
        )
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("json");
    assert_eq!(
        (v["priority"].as_u64(), v["version"].as_u64()),
        (Some(80), Some(2))
    );
    expect_error(
        app.post_json(
            &path,
            &json!({"transition": "cancel", "version": 1}),
            Some(access(&ann)),
        )
        .await,
        409,
        "stale_version",
    )
    .await;
    let r = app
        .post_json(
            &path,
            &json!({"transition": "cancel", "reason": "ordered twice", "version": 2}),
            Some(access(&ann)),
        )
        .await;
    assert_eq!(r.status(), 200);
    let done: Value = r.json().await.expect("json");
    assert_eq!(done["status"], "cancelled");
    assert_eq!(done["history"][2]["reason"], "ordered twice");
    // Customers cannot use the staff route.
    expect_error(
        app.post_json(
            &format!("/api/v1/staff/orders/{id}/transitions"),
            &json!({"transition": "hold", "version": 3}),
            Some(access(&ann)),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn order_events_reach_the_bus_through_the_outbox() {
    let app = spawn_app().await;
    let mut sub = app
        .app()
        .events
        .subscribe(Subscription {
            queue: "test.orders".into(),
            exchange: Exchange::Topic,
            binding_key: "order.#".into(),
            transient: true,
        })
        .await
        .expect("subscribe");
    let ann = app.customer("ann@example.com").await;
    let staff = app.user_with_role("staff@example.com", Role::Staff).await;
    let (line, total, cur) = app.line(&poster(10)).await;
    let order: Value = app
        .checkout(access(&ann), Some("e"), &body(vec![line], &total, &cur))
        .await
        .json()
        .await
        .expect("json");
    let id = order["id"].as_str().expect("id");
    let r = app
        .post_json(
            &format!("/api/v1/staff/orders/{id}/transitions"),
            &json!({"transition": "hold", "version": 1}),
            Some(access(&staff)),
        )
        .await;
    assert_eq!(r.status(), 200);

    let mut got = Vec::new();
    while got.len() < 3 {
        let d = tokio::time::timeout(Duration::from_secs(5), sub.next())
            .await
            .expect("an event within 5 s")
            .expect("subscriber")
            .expect("open");
        let payload: Value = serde_json::from_slice(&d.message.payload).expect("json");
        assert_eq!(payload["event_id"], d.message.id.as_str(), "{payload}");
        assert_eq!(payload["order_id"], id);
        got.push((d.message.kind.clone(), payload));
        d.ack().await.expect("ack");
    }
    assert_eq!(got[0].0, "order.created");
    assert_eq!(got[0].1["schema"], "puratan.order.created/v1");
    assert_eq!(got[1].0, "order.status_changed");
    assert_eq!(
        (got[1].1["from"].as_str(), got[1].1["to"].as_str()),
        (Some("draft"), Some("submitted"))
    );
    assert_eq!(got[2].1["schema"], "puratan.order.status_changed/v1");
    assert_eq!(
        (
            got[2].1["from"].as_str(),
            got[2].1["to"].as_str(),
            got[2].1["version"].as_u64()
        ),
        (Some("submitted"), Some("on_hold"), Some(2))
    );
    // Published means marked sent: nothing left pending.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !app
        .app()
        .orders
        .outbox_pending(10)
        .await
        .expect("pending")
        .is_empty()
    {
        assert!(std::time::Instant::now() < deadline, "outbox not drained");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
