//! The cart over HTTP: lines with verified quotes, version checks,
//! checkout into an order, reorder at today's prices.

use serde_json::{Value, json};

use crate::auth::access;
use crate::orders::{address, card};
use crate::support::{TestApp, expect_error, spawn_app};

impl TestApp {
    async fn cart(&self, bearer: &str) -> Value {
        let r = self.get_auth("/api/v1/cart", bearer).await;
        assert_eq!(r.status(), 200);
        r.json().await.expect("json")
    }

    async fn add_to_cart(&self, bearer: &str, line: &Value, version: &Value) -> reqwest::Response {
        self.post_json(
            "/api/v1/cart/lines",
            &json!({"line": line, "version": version}),
            Some(bearer),
        )
        .await
    }
}

fn flyer(quantity: u32) -> Value {
    json!({"product": "business-card", "quantity": quantity, "paper": "silk-350", "color": "4/4",
           "turnaround": "standard", "region": "DE"})
}

#[tokio::test]
async fn a_cart_is_filled_checked_and_checked_out_once() {
    let app = spawn_app().await;
    let ann = app.customer("ann@example.com").await;
    let ann = access(&ann).to_owned();

    let empty = app.cart(&ann).await;
    assert_eq!(
        (empty["version"].clone(), empty["lines"].clone()),
        (json!(0), json!([]))
    );

    let (l1, t1, cur) = app.line(&card()).await;
    let r = app.add_to_cart(&ann, &l1, &json!(0)).await;
    assert_eq!(r.status(), 201);
    let c: Value = r.json().await.expect("json");
    assert_eq!(c["version"], 1);
    assert_eq!(c["lines"][0]["quote"]["total"]["amount"], t1.as_str());
    assert_eq!(c["total"]["amount"], t1.as_str());
    assert_eq!(c["has_expired_quotes"], false);

    // A second tab still at version 0 is refused, not merged blindly.
    let (l2, t2, _) = app.line(&flyer(1000)).await;
    expect_error(
        app.add_to_cart(&ann, &l2, &json!(0)).await,
        409,
        "stale_version",
    )
    .await;
    let r = app.add_to_cart(&ann, &l2, &json!(1)).await;
    assert_eq!(r.status(), 201);
    let c: Value = r.json().await.expect("json");
    let sum = (t1.parse::<rust_decimal::Decimal>().expect("t1")
        + t2.parse::<rust_decimal::Decimal>().expect("t2"))
    .to_string();
    assert_eq!(c["total"]["amount"], sum.as_str());

    // Quotes that are not ours, or price something else, never get in.
    let mut forged = l1.clone();
    forged["quote_token"] = json!("pq1.local.e30.AAAA");
    expect_error(
        app.add_to_cart(&ann, &forged, &json!(2)).await,
        422,
        "quote_mismatch",
    )
    .await;
    let mut other_quantity = l1.clone();
    other_quantity["quantity"] = json!(5000);
    expect_error(
        app.add_to_cart(&ann, &other_quantity, &json!(2)).await,
        422,
        "quote_mismatch",
    )
    .await;
    let mut someone_elses_file = l1.clone();
    someone_elses_file["file_ids"] = json!(["0123456789abcdef"]);
    expect_error(
        app.add_to_cart(&ann, &someone_elses_file, &json!(2)).await,
        422,
        "validation_failed",
    )
    .await;

    // Changing a quantity needs the quote for it.
    let line_id = c["lines"][1]["id"].as_str().expect("id").to_owned();
    let r = app
        .client
        .patch(app.url(&format!("/api/v1/cart/lines/{line_id}")))
        .bearer_auth(&ann)
        .json(&json!({"quantity": 2000, "version": 2}))
        .send()
        .await
        .expect("patch");
    assert_eq!(r.status(), 422);
    let (l3, t3, _) = app.line(&flyer(2000)).await;
    let r = app
        .client
        .patch(app.url(&format!("/api/v1/cart/lines/{line_id}")))
        .bearer_auth(&ann)
        .json(&json!({"quantity": 2000, "quote_token": l3["quote_token"], "version": 2}))
        .send()
        .await
        .expect("patch");
    assert_eq!(r.status(), 200);
    let c: Value = r.json().await.expect("json");
    assert_eq!(c["lines"][1]["id"], line_id.as_str());
    assert_eq!(c["lines"][1]["quantity"], 2000);
    assert_eq!(c["lines"][1]["quote"]["total"]["amount"], t3.as_str());

    // Remove the first line, check the rest out.
    let first = c["lines"][0]["id"].as_str().expect("id");
    let r = app
        .client
        .delete(app.url(&format!("/api/v1/cart/lines/{first}?version=3")))
        .bearer_auth(&ann)
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status(), 200);
    let c: Value = r.json().await.expect("json");
    assert_eq!(c["lines"].as_array().expect("lines").len(), 1);
    let checkout = |key: &'static str, version: Value, amount: String| {
        let ann = ann.clone();
        let client = app.client.clone();
        let url = app.url("/api/v1/cart/checkout");
        let cur = cur.clone();
        async move {
            client
                .post(url)
                .bearer_auth(ann)
                .header("Idempotency-Key", key)
                .json(&json!({"shipping_address": address(), "version": version,
                              "expected_total": {"amount": amount, "currency": cur}}))
                .send()
                .await
                .expect("checkout")
        }
    };
    expect_error(
        checkout("c-1", json!(1), t3.clone()).await,
        409,
        "stale_version",
    )
    .await;
    let r = checkout("c-1", json!(4), t3.clone()).await;
    assert_eq!(r.status(), 201);
    let order: Value = r.json().await.expect("json");
    assert_eq!(order["lines"][0]["quantity"], 2000);
    assert_eq!(order["total"]["amount"], t3.as_str());
    let c = app.cart(&ann).await;
    assert_eq!(c["lines"], json!([]), "emptied by the checkout");
    // A retry (the response was lost) replays the same order.
    let r = checkout("c-1", json!(4), t3.clone()).await;
    assert_eq!(r.status(), 200);
    let replay: Value = r.json().await.expect("json");
    assert_eq!(replay["id"], order["id"]);

    // Reorder: the lines come back with fresh quotes; not for strangers.
    let id = order["id"].as_str().expect("id");
    let bob = app.customer("bob@example.com").await;
    expect_error(
        app.post_json(
            &format!("/api/v1/orders/{id}/reorder"),
            &json!({}),
            Some(access(&bob)),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    let r = app
        .post_json(
            &format!("/api/v1/orders/{id}/reorder"),
            &json!({}),
            Some(&ann),
        )
        .await;
    assert_eq!(r.status(), 200);
    let c: Value = r.json().await.expect("json");
    assert_eq!(c["lines"][0]["quantity"], 2000);
    assert_eq!(c["lines"][0]["quote"]["expired"], false);
    assert_ne!(
        c["lines"][0]["quote"]["id"], order["lines"][0]["quote_id"],
        "a new quote"
    );

    // Clearing needs the current version too.
    let r = app
        .client
        .delete(app.url(&format!("/api/v1/cart?version={}", c["version"])))
        .bearer_auth(&ann)
        .send()
        .await
        .expect("clear");
    assert_eq!(r.status(), 200);
    assert_eq!(app.cart(&ann).await["lines"], json!([]));
}
