//! An order's life over HTTP with the real guard facts: checkout with
//! artwork → payment captured (accept) → file checks → proof rejected,
//! a new proof approved → production queue → job claimed, printed,
//! inspected → shipped with tracking → delivered; and what the facts refuse.

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
async fn an_order_walks_from_checkout_to_delivery_on_real_facts() {
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

    // Production: the line's job is claimed, printed, finished, inspected.
    let r = app
        .client
        .post(app.url("/api/v1/staff/jobs/claim"))
        .bearer_auth(&staff)
        .send()
        .await
        .expect("claim");
    assert_eq!(r.status(), 200);
    let job: Value = r.json().await.expect("json");
    assert_eq!(job["order_id"], id.as_str());
    for t in ["start_printing", "start_finishing"] {
        app.step(&staff, true, &id, t).await;
    }
    let job_path = format!("/api/v1/staff/jobs/{}", job["id"].as_str().expect("id"));
    let r = app
        .post_json(
            &format!("{job_path}/complete"),
            &json!({"version": job["version"]}),
            Some(&staff),
        )
        .await;
    assert_eq!(r.status(), 200);
    let done: Value = r.json().await.expect("json");
    app.step(&staff, true, &id, "start_qc").await;
    let items: Vec<Value> = ["colour_match", "cut_accuracy", "count", "finish"]
        .iter()
        .map(|k| json!({"key": k, "passed": true}))
        .collect();
    let r = app
        .post_json(
            &format!("{job_path}/qc"),
            &json!({"items": items, "version": done["version"]}),
            Some(&staff),
        )
        .await;
    assert_eq!(r.status(), 200);
    app.step(&staff, true, &id, "pass_qc").await;

    // Shipping with tracking; the carrier's delivery scan completes it.
    let ship = format!("/api/v1/staff/orders/{id}/shipment");
    let v = app.order_json(&ann, &id).await["version"].clone();
    for bad in [
        json!({"carrier": "DHL!", "tracking_number": "JD0146", "version": v}),
        json!({"carrier": "dhl", "tracking_number": "", "version": v}),
        json!({"carrier": "dhl", "tracking_number": "x\ny", "version": v}),
    ] {
        assert_eq!(
            app.post_json(&ship, &bad, Some(&staff)).await.status(),
            422,
            "{bad}"
        );
    }
    let r = app
        .post_json(
            &ship,
            &json!({"carrier": "dhl", "tracking_number": "JD014600006281230704", "version": v}),
            Some(&staff),
        )
        .await;
    assert_eq!(r.status(), 200);
    let shipped: Value = r.json().await.expect("json");
    assert_eq!(shipped["status"], "shipped");
    assert_eq!(shipped["shipment"]["carrier"], "dhl");
    let track = format!("/api/v1/staff/orders/{id}/tracking-events");
    let r = app
        .post_json(
            &track,
            &json!({"status": "in_transit", "description": "Arrived at hub", "location": "Leipzig",
                    "version": shipped["version"]}),
            Some(&staff),
        )
        .await;
    assert_eq!(r.status(), 200);
    let moving: Value = r.json().await.expect("json");
    assert_eq!(moving["status"], "shipped");
    expect_error(
        app.post_json(
            &track,
            &json!({"status": "teleported", "description": "?", "version": moving["version"]}),
            Some(&staff),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    let r = app
        .post_json(
            &track,
            &json!({"status": "delivered", "description": "Handed to recipient", "version": moving["version"]}),
            Some(&staff),
        )
        .await;
    assert_eq!(r.status(), 200);
    let delivered: Value = r.json().await.expect("json");
    assert_eq!(delivered["status"], "delivered");
    assert_eq!(
        delivered["shipment"]["events"]
            .as_array()
            .expect("events")
            .iter()
            .map(|e| e["status"].as_str().expect("status"))
            .collect::<Vec<_>>(),
        ["in_transit", "delivered"]
    );
    // The customer sees the same tracking.
    let mine = app.order_json(&ann, &id).await;
    assert_eq!(mine["shipment"]["tracking_number"], "JD014600006281230704");
    assert_eq!(mine["status"], "delivered");
}

#[tokio::test]
async fn bulk_transitions_report_each_item_on_its_own() {
    let app = spawn_app().await;
    let ann = app.customer("ann@example.com").await;
    let ann = access(&ann).to_owned();
    let staff = app.user_with_role("staff@example.com", Role::Staff).await;
    let staff = access(&staff).to_owned();
    let mut orders = Vec::new();
    for key in ["b-1", "b-2", "b-3"] {
        let (line, total, cur) = app.line(&card()).await;
        let r = app
            .checkout(&ann, Some(key), &body(vec![line], &total, &cur))
            .await;
        assert_eq!(r.status(), 201);
        orders.push(r.json::<Value>().await.expect("json"));
    }
    let items = json!([
        {"order_id": orders[0]["id"], "transition": "hold", "version": orders[0]["version"]},
        {"order_id": orders[1]["id"], "transition": "hold", "version": 999},
        {"order_id": "0193aaaa-0000-7000-8000-000000000000", "transition": "hold", "version": 1},
        {"order_id": orders[2]["id"], "transition": "start_printing", "version": orders[2]["version"]},
        {"order_id": orders[2]["id"], "transition": "cancel", "reason": "duplicate", "version": orders[2]["version"]},
    ]);
    let path = "/api/v1/staff/orders/bulk-transitions";
    expect_error(
        app.post_json(path, &json!({"items": items}), Some(&ann))
            .await,
        403,
        "forbidden",
    )
    .await;
    expect_error(
        app.post_json(path, &json!({"items": []}), Some(&staff))
            .await,
        422,
        "validation_failed",
    )
    .await;
    let r = app
        .post_json(path, &json!({"items": items}), Some(&staff))
        .await;
    assert_eq!(r.status(), 200);
    let report: Value = r.json().await.expect("json");
    assert_eq!(
        (report["succeeded"].clone(), report["failed"].clone()),
        (json!(2), json!(3))
    );
    let results = report["results"].as_array().expect("results");
    let summary: Vec<(bool, u64, Option<&str>)> = results
        .iter()
        .map(|r| {
            (
                r["ok"].as_bool().expect("ok"),
                r["status"].as_u64().expect("status"),
                r["error"]["code"].as_str().or(r["state"].as_str()),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (true, 200, Some("on_hold")),
            (false, 409, Some("stale_version")),
            (false, 404, Some("not_found")),
            (false, 409, Some("transition_not_allowed")),
            (true, 200, Some("cancelled")),
        ]
    );
    assert_eq!(results[3]["error"]["details"]["current_state"], "submitted");
    // The stored orders agree with the report.
    assert_eq!(
        app.order_json(&ann, orders[0]["id"].as_str().unwrap())
            .await["status"],
        "on_hold"
    );
    assert_eq!(
        app.order_json(&ann, orders[1]["id"].as_str().unwrap())
            .await["status"],
        "submitted"
    );
    assert_eq!(
        app.order_json(&ann, orders[2]["id"].as_str().unwrap())
            .await["status"],
        "cancelled"
    );
}
