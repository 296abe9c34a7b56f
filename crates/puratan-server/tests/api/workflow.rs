//! An order's life over HTTP with the real guard facts: checkout with
//! artwork → payment captured (accept) → file checks → proof rejected,
//! a new proof approved → production queue; and what the facts refuse.

use puratan_core::domain::Role;
use serde_json::{Value, json};

use crate::auth::access;
use crate::orders::{body, card};
use crate::processing::{FOUR_PAGES, corpus};
use crate::support::{TestApp, expect_error, spawn_app};

impl TestApp {
    async fn order_json(&self, bearer: &str, id: &str) -> Value {
        let r = self.get_auth(&format!("/api/v1/orders/{id}"), bearer).await;
        assert_eq!(r.status(), 200);
        r.json().await.expect("json")
    }

    /// Fires `transition` as `bearer` on the order's current version.
    async fn step(&self, bearer: &str, staff: bool, id: &str, transition: &str) -> Value {
        let version = self.order_json(bearer, id).await["version"].clone();
        let path = if staff {
            format!("/api/v1/staff/orders/{id}/transitions")
        } else {
            format!("/api/v1/orders/{id}/transitions")
        };
        let r = self
            .post_json(
                &path,
                &json!({"transition": transition, "version": version}),
                Some(bearer),
            )
            .await;
        let status = r.status();
        let v: Value = r.json().await.expect("json");
        assert_eq!(status, 200, "{transition}: {v}");
        v
    }
}

#[tokio::test]
async fn an_order_walks_from_checkout_to_the_queue_on_real_facts() {
    let app = spawn_app().await;
    let ann = app.customer("ann@example.com").await;
    let ann = access(&ann).to_owned();
    let staff = app.user_with_role("staff@example.com", Role::Staff).await;
    let staff = access(&staff).to_owned();
    let artwork = app
        .upload_file(&ann, "cards.pdf", &corpus(FOUR_PAGES))
        .await;
    let processed = app.processed(&ann, &artwork).await;
    assert_eq!(processed["processing"]["state"], "done");

    let (mut line, total, cur) = app.line(&card()).await;
    line["file_ids"] = json!([artwork]);
    let r = app
        .checkout(&ann, Some("walk-1"), &body(vec![line], &total, &cur))
        .await;
    assert_eq!(r.status(), 201);
    let order: Value = r.json().await.expect("json");
    let id = order["id"].as_str().expect("id").to_owned();
    let pay = format!("/api/v1/staff/orders/{id}/payment");

    // Not paid: accept is refused by its guard.
    let e = expect_error(
        app.post_json(
            &format!("/api/v1/orders/{id}/transitions"),
            &json!({"transition": "accept", "version": order["version"]}),
            Some(&ann),
        )
        .await,
        409,
        "transition_guard_failed",
    )
    .await;
    assert_eq!(e["details"]["guard"], "payment_captured");
    // Customers cannot record payments; staff must pay the exact total.
    let payment = |amount: &str, version: &Value| {
        json!({"method": "card", "reference": "ch_3PqX9", "amount": {"amount": amount, "currency": cur},
               "version": version})
    };
    expect_error(
        app.post_json(&pay, &payment(&total, &order["version"]), Some(&ann))
            .await,
        403,
        "forbidden",
    )
    .await;
    let e = expect_error(
        app.post_json(&pay, &payment("0.01", &order["version"]), Some(&staff))
            .await,
        422,
        "payment_mismatch",
    )
    .await;
    assert_eq!(e["details"]["total"]["amount"], total.as_str());
    for bad in [
        json!({"method": "Card!", "reference": "x", "amount": {"amount": total, "currency": cur}, "version": 1}),
        json!({"method": "card", "reference": "", "amount": {"amount": total, "currency": cur}, "version": 1}),
        json!({"method": "card", "reference": "a\u{0}b", "amount": {"amount": total, "currency": cur}, "version": 1}),
        json!({"method": "card", "reference": "x", "amount": {"amount": total, "currency": cur}}),
    ] {
        let r = app.post_json(&pay, &bad, Some(&staff)).await;
        assert_eq!(r.status(), 422, "{bad}");
    }
    // Captured: the order is accepted in the same request.
    let r = app
        .post_json(&pay, &payment(&total, &order["version"]), Some(&staff))
        .await;
    assert_eq!(r.status(), 200);
    let paid: Value = r.json().await.expect("json");
    assert_eq!(paid["status"], "awaiting_files");
    assert_eq!(paid["payment"]["method"], "card");
    assert_eq!(paid["payment"]["amount"]["amount"], total.as_str());
    let text = paid.to_string();
    assert!(!text.contains("ch_3PqX9"), "the reference is never shown");
    // …and stored sealed, not in the clear.
    let stored = app
        .app()
        .orders
        .get(puratan_core::domain::OrderId::parse(&id).expect("id"))
        .await
        .expect("stored");
    let sealed = &stored.payment.as_ref().expect("payment").reference;
    assert!(!sealed.as_str().contains("ch_3PqX9"));
    assert_eq!(
        app.app()
            .auth
            .keyring
            .open_utf8(sealed, &stored.payment_context())
            .expect("opens under its context")
            .as_str(),
        "ch_3PqX9"
    );
    // Paying twice is a conflict.
    let again = app
        .post_json(&pay, &payment(&total, &paid["version"]), Some(&staff))
        .await;
    assert_eq!(again.status(), 409);

    // File checks: the attached artwork passed preflight.
    app.step(&ann, false, &id, "start_preflight").await;
    app.step(&staff, true, &id, "pass_preflight").await;

    // A proof; the customer rejects it (a comment is required), then approves the next.
    // A soft proof of the customer's own processed artwork.
    let proof_file = artwork.clone();
    let v = app.order_json(&ann, &id).await["version"].clone();
    let r = app
        .post_json(
            &format!("/api/v1/staff/orders/{id}/proofs"),
            &json!({"file_id": proof_file, "note": "Please check the bleed", "version": v}),
            Some(&staff),
        )
        .await;
    assert_eq!(r.status(), 200);
    let with_proof: Value = r.json().await.expect("json");
    assert_eq!(with_proof["proofs"][0]["note"], "Please check the bleed");
    let decide = format!("/api/v1/orders/{id}/proof-decision");
    expect_error(
        app.post_json(
            &decide,
            &json!({"approved": false, "version": with_proof["version"]}),
            Some(&ann),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    let other = app.customer("bob@example.com").await;
    expect_error(
        app.post_json(
            &decide,
            &json!({"approved": true, "version": with_proof["version"]}),
            Some(access(&other)),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    let r = app
        .post_json(
            &decide,
            &json!({"approved": false, "comment": "Logo too small", "version": with_proof["version"]}),
            Some(&ann),
        )
        .await;
    assert_eq!(r.status(), 200);
    let rejected: Value = r.json().await.expect("json");
    assert_eq!(rejected["status"], "awaiting_files");
    assert_eq!(rejected["proofs"][0]["decision"]["approved"], false);
    assert_eq!(
        rejected["history"]
            .as_array()
            .expect("history")
            .last()
            .expect("last")["reason"],
        "Logo too small"
    );
    // Deciding again with nothing pending is refused.
    expect_error(
        app.post_json(
            &decide,
            &json!({"approved": true, "version": rejected["version"]}),
            Some(&ann),
        )
        .await,
        409,
        "transition_not_allowed",
    )
    .await;
    // Round two: approve_proof is guarded until the customer approves.
    app.step(&ann, false, &id, "start_preflight").await;
    app.step(&staff, true, &id, "pass_preflight").await;
    let v = app.order_json(&ann, &id).await["version"].clone();
    let r = app
        .post_json(
            &format!("/api/v1/staff/orders/{id}/proofs"),
            &json!({"file_id": proof_file, "version": v}),
            Some(&staff),
        )
        .await;
    assert_eq!(r.status(), 200);
    let v = app.order_json(&ann, &id).await["version"].clone();
    let e = expect_error(
        app.post_json(
            &format!("/api/v1/staff/orders/{id}/transitions"),
            &json!({"transition": "approve_proof", "version": v}),
            Some(&staff),
        )
        .await,
        409,
        "transition_guard_failed",
    )
    .await;
    assert_eq!(e["details"]["guard"], "proof_approved");
    let r = app
        .post_json(
            &decide,
            &json!({"approved": true, "version": v}),
            Some(&ann),
        )
        .await;
    assert_eq!(r.status(), 200);
    let approved: Value = r.json().await.expect("json");
    assert_eq!(approved["status"], "approved");

    let queued = app.step(&staff, true, &id, "enqueue").await;
    assert_eq!(queued["status"], "queued");
    let states: Vec<&str> = queued["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|h| h["to"].as_str().expect("to"))
        .collect();
    assert_eq!(
        states,
        [
            "draft",
            "submitted",
            "awaiting_files",
            "preflight",
            "proof_pending",
            "awaiting_files",
            "preflight",
            "proof_pending",
            "approved",
            "queued"
        ]
    );
}
