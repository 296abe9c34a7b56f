//! Production jobs over HTTP: an order entering the queue gets one job per
//! line; operators claim them (concurrently: never the same job), release
//! and complete them; inspectors record QC results; a failed check forces
//! `reprint`, which makes the next run's jobs; a passed one allows
//! `pass_qc`.
//!
//! The order is stored directly in `approved` through `app().orders`:
//! the guards before it (`payment_captured`, `proof_approved`) cannot be
//! satisfied over HTTP yet. Everything from `enqueue` on goes over HTTP.

use chrono::{Duration, Utc};
use puratan_core::domain::{Money, Order, OrderLine, ProductId, Role, StatusChange, UserId};
use serde_json::{Value, json};

use crate::auth::access;
use crate::support::{TestApp, expect_error, spawn_app_with};

fn line(product: &str, quantity: u32, total: Money) -> OrderLine {
    OrderLine {
        product_id: ProductId::parse(product).expect("product id"),
        quantity,
        description: format!("{quantity} × {product}"),
        amount: total,
        options: json!({}),
        quote_id: None,
        quote_token: None,
        file_ids: vec![],
    }
}

impl TestApp {
    /// An order of `customer` in `approved` with two lines, stored directly.
    async fn approved_order(&self, customer: UserId, priority: u8) -> Order {
        let mut o = puratan_testkit::fixtures::order(
            customer,
            "approved",
            priority,
            Utc::now() + Duration::days(3),
        );
        o.lines = vec![
            line("business-card", 500, o.total),
            line("poster-a3", 20, o.total),
        ];
        o.history = vec![StatusChange {
            from: Some(puratan_testkit::fixtures::status("proof_pending")),
            to: puratan_testkit::fixtures::status("approved"),
            actor: None,
            at: Utc::now(),
            reason: None,
        }];
        self.app().orders.insert(o).await.expect("insert order")
    }

    /// Fires a staff transition; returns the order view.
    async fn staff_fire(
        &self,
        bearer: &str,
        order: &str,
        transition: &str,
        version: &Value,
    ) -> Value {
        let r = self
            .post_json(
                &format!("/api/v1/staff/orders/{order}/transitions"),
                &json!({"transition": transition, "version": version}),
                Some(bearer),
            )
            .await;
        assert_eq!(
            r.status(),
            200,
            "{transition}: {}",
            r.text().await.unwrap_or_default()
        );
        r.json().await.expect("json")
    }

    async fn jobs_of(&self, bearer: &str, order: &str, status: Option<&str>) -> Vec<Value> {
        let mut path = format!("/api/v1/staff/jobs?order_id={order}");
        if let Some(s) = status {
            path.push_str(&format!("&status={s}"));
        }
        let r = self.get_auth(&path, bearer).await;
        assert_eq!(r.status(), 200);
        let page: Value = r.json().await.expect("json");
        page["items"].as_array().expect("items").clone()
    }

    /// The statuses of an order's jobs, in job order.
    async fn job_states(&self, bearer: &str, order: &str) -> Vec<String> {
        self.jobs_of(bearer, order, None)
            .await
            .iter()
            .map(|j| j["status"].as_str().expect("status").to_owned())
            .collect()
    }

    async fn job_action(&self, bearer: &str, job: &Value, action: &str) -> reqwest::Response {
        self.post_json(
            &format!(
                "/api/v1/staff/jobs/{}/{action}",
                job["id"].as_str().expect("id")
            ),
            &json!({"version": job["version"]}),
            Some(bearer),
        )
        .await
    }

    async fn claim(&self, bearer: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/staff/jobs/claim"))
            .bearer_auth(bearer)
            .send()
            .await
            .expect("request")
    }

    async fn qc(&self, bearer: &str, job: &Value, items: Value) -> reqwest::Response {
        self.post_json(
            &format!("/api/v1/staff/jobs/{}/qc", job["id"].as_str().expect("id")),
            &json!({"items": items, "version": job["version"]}),
            Some(bearer),
        )
        .await
    }

    /// Two operators claim concurrently and complete what they got;
    /// returns the completed jobs.
    async fn produce_both(&self, a: &str, b: &str) -> Vec<Value> {
        let (ra, rb) = tokio::join!(self.claim(a), self.claim(b));
        assert_eq!((ra.status().as_u16(), rb.status().as_u16()), (200, 200));
        let ja: Value = ra.json().await.expect("json");
        let jb: Value = rb.json().await.expect("json");
        assert_ne!(ja["id"], jb["id"], "two operators never get the same job");
        assert_ne!(ja["claimed_by"], jb["claimed_by"]);
        let mut done = Vec::new();
        for (who, job) in [(a, ja), (b, jb)] {
            let r = self.job_action(who, &job, "complete").await;
            assert_eq!(r.status(), 200);
            done.push(r.json::<Value>().await.expect("json"));
        }
        done
    }
}

const ALL_PASS: [&str; 4] = ["colour_match", "cut_accuracy", "count", "finish"];

fn passed_items() -> Value {
    Value::Array(
        ALL_PASS
            .iter()
            .map(|k| json!({"key": k, "passed": true}))
            .collect(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_from_queue_to_qc_reprint_and_pass() {
    let app = spawn_app_with(|c| c.auth.sensitive_per_ip_per_minute = 10_000).await;
    let ann = app.customer("ann@example.com").await;
    let op1 = app.user_with_role("op1@example.com", Role::Staff).await;
    let op2 = app.user_with_role("op2@example.com", Role::Staff).await;
    let (a, b) = (access(&op1), access(&op2));
    let customer = UserId::parse(&app.user_id(&ann).await).expect("id");
    let order = app.approved_order(customer, 50).await;
    let oid = order.id.to_string();

    // Empty queue; customers may not claim.
    expect_error(app.claim(a).await, 404, "queue_empty").await;
    expect_error(app.claim(access(&ann)).await, 403, "forbidden").await;
    expect_error(
        app.get_auth("/api/v1/staff/jobs", access(&ann)).await,
        403,
        "forbidden",
    )
    .await;
    // Not in production yet: nothing to repair.
    let r = app
        .post_json(
            &format!("/api/v1/staff/jobs/sync/{oid}"),
            &json!({}),
            Some(a),
        )
        .await;
    expect_error(r, 409, "job_state_invalid").await;

    // enqueue → one job per line, run 0.
    let o = app.staff_fire(a, &oid, "enqueue", &json!(1)).await;
    assert_eq!(o["status"], "queued");
    let jobs = app.jobs_of(a, &oid, None).await;
    let ids: Vec<&str> = jobs.iter().map(|j| j["id"].as_str().expect("id")).collect();
    assert_eq!(ids, [format!("{oid}.0.0"), format!("{oid}.1.0")]);
    assert!(
        jobs.iter()
            .all(|j| j["status"] == "queued" && j["run"] == 0)
    );
    assert_eq!(jobs[0]["quantity"], 500);
    let one = app
        .get_auth(&format!("/api/v1/staff/jobs/{}", ids[0]), a)
        .await;
    assert_eq!(one.status(), 200);
    for bad in [
        "nope",
        "x.0.0",
        &format!("{oid}.00.0"),
        "%7B%22%24ne%22%3A1%7D",
    ] {
        let r = app.get_auth(&format!("/api/v1/staff/jobs/{bad}"), a).await;
        expect_error(r, 404, "not_found").await;
    }
    for bad in ["status=lost", "order_id=1%20OR%201", "limit=x", "extra=1"] {
        let r = app.get_auth(&format!("/api/v1/staff/jobs?{bad}"), a).await;
        assert_eq!(r.status(), 400, "{bad}");
    }
    // The repair is idempotent: nothing is missing.
    let r = app
        .post_json(
            &format!("/api/v1/staff/jobs/sync/{oid}"),
            &json!({}),
            Some(a),
        )
        .await;
    assert_eq!(r.status(), 200);
    let sync: Value = r.json().await.expect("json");
    assert_eq!(
        (sync["created"].clone(), sync["run"].clone()),
        (json!(0), json!(0))
    );

    // Claim, release (only the claimer), claim again.
    let r = app.claim(a).await;
    assert_eq!(r.status(), 200);
    let mine: Value = r.json().await.expect("json");
    assert_eq!(mine["id"], ids[0], "queue order");
    expect_error(
        app.job_action(b, &mine, "release").await,
        403,
        "job_not_yours",
    )
    .await;
    expect_error(
        app.job_action(b, &mine, "complete").await,
        403,
        "job_not_yours",
    )
    .await;
    let stale = json!({"id": mine["id"], "version": 1});
    expect_error(
        app.job_action(a, &stale, "release").await,
        409,
        "stale_version",
    )
    .await;
    let r = app.job_action(a, &mine, "release").await;
    assert_eq!(r.status(), 200);
    let released: Value = r.json().await.expect("json");
    assert_eq!(
        (released["status"].clone(), released["claimed_by"].clone()),
        (json!("queued"), Value::Null)
    );
    expect_error(
        app.job_action(a, &released, "complete").await,
        409,
        "job_state_invalid",
    )
    .await;
    // QC needs a produced job.
    expect_error(
        app.qc(a, &released, passed_items()).await,
        409,
        "job_state_invalid",
    )
    .await;

    // Two operators claim concurrently over HTTP: different jobs.
    let done = app.produce_both(a, b).await;
    expect_error(app.claim(a).await, 404, "queue_empty").await;
    assert!(done.iter().all(|j| j["status"] == "done"));

    // Through production to quality_check.
    let mut o = o;
    for t in ["start_printing", "start_finishing", "start_qc"] {
        o = app.staff_fire(a, &oid, t, &o["version"]).await;
    }
    assert_eq!(o["status"], "quality_check");
    // Nothing inspected yet: pass_qc's guard fails.
    let r = app
        .post_json(
            &format!("/api/v1/staff/orders/{oid}/transitions"),
            &json!({"transition": "pass_qc", "version": o["version"]}),
            Some(a),
        )
        .await;
    let e = expect_error(r, 409, "transition_guard_failed").await;
    assert_eq!(e["details"]["guard"], "qc_checklist_complete");

    // Hostile and invalid QC results are typed errors.
    let line0 = done
        .iter()
        .find(|j| j["line"] == 0)
        .expect("line 0")
        .clone();
    let line1 = done
        .iter()
        .find(|j| j["line"] == 1)
        .expect("line 1")
        .clone();
    for (items, code) in [
        (
            json!([{"key": "smell", "passed": true}]),
            "validation_failed",
        ),
        (
            json!([{"key": "count", "passed": true}, {"key": "count", "passed": false}]),
            "validation_failed",
        ),
        (
            json!([{"key": "count", "passed": true, "extra": 1}]),
            "validation_failed",
        ),
        (
            json!([{"key": {"$ne": null}, "passed": true}]),
            "validation_failed",
        ),
        (json!([]), "validation_failed"),
        (
            json!([{"key": "count", "passed": false, "note": "x".repeat(501)}]),
            "validation_failed",
        ),
    ] {
        expect_error(app.qc(a, &line0, items).await, 422, code).await;
    }

    // Line 0 passes; line 1 fails colour match.
    let r = app.qc(b, &line0, passed_items()).await;
    assert_eq!(r.status(), 200);
    let rec: Value = r.json().await.expect("json");
    assert_eq!(rec["job"]["qc_verdict"]["verdict"], "passed");
    assert_eq!(rec["job"]["qc"]["inspector"], app.user_id(&op2).await);
    assert_eq!(rec["order_verdict"]["verdict"], "incomplete");
    let mut items = passed_items();
    items[0] = json!({"key": "colour_match", "passed": false, "note": "too red"});
    let r = app.qc(b, &line1, items).await;
    assert_eq!(r.status(), 200);
    let rec: Value = r.json().await.expect("json");
    assert_eq!(rec["job"]["qc_verdict"]["verdict"], "failed");
    assert_eq!(
        rec["order_verdict"],
        json!({"verdict": "failed", "failed": ["line 1: colour_match (too red)"]})
    );

    // A failed check: pass_qc is not allowed, reprint is (with the reason).
    let r = app
        .post_json(
            &format!("/api/v1/staff/orders/{oid}/transitions"),
            &json!({"transition": "pass_qc", "version": o["version"]}),
            Some(a),
        )
        .await;
    let e = expect_error(r, 409, "transition_not_allowed").await;
    assert_eq!(e["details"]["allowed"], json!(["reprint"]));
    let o = app.staff_fire(a, &oid, "reprint", &o["version"]).await;
    assert_eq!(o["status"], "queued");
    let last = o["history"]
        .as_array()
        .and_then(|h| h.last())
        .cloned()
        .expect("history");
    assert_eq!(last["reason"], "QC failed: line 1: colour_match (too red)");

    // The reprint made run-1 jobs; run 0 is kept as it was.
    let queued = app.jobs_of(a, &oid, Some("queued")).await;
    let ids: Vec<&str> = queued
        .iter()
        .map(|j| j["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, [format!("{oid}.0.1"), format!("{oid}.1.1")]);
    assert!(queued.iter().all(|j| j["run"] == 1 && j["qc"].is_null()));
    assert_eq!(app.jobs_of(a, &oid, Some("done")).await.len(), 2);

    // Second run: produced, inspected, all passed → pass_qc.
    let done = app.produce_both(a, b).await;
    let mut o = o;
    for t in ["start_printing", "start_finishing", "start_qc"] {
        o = app.staff_fire(a, &oid, t, &o["version"]).await;
    }
    let mut verdict = Value::Null;
    for j in &done {
        let r = app.qc(a, j, passed_items()).await;
        assert_eq!(r.status(), 200);
        verdict = r.json::<Value>().await.expect("json")["order_verdict"].clone();
    }
    assert_eq!(
        verdict,
        json!({"verdict": "passed"}),
        "run 1 only: run 0's failure is history"
    );
    let o = app.staff_fire(a, &oid, "pass_qc", &o["version"]).await;
    assert_eq!(o["status"], "packed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reprioritising_an_order_moves_its_queued_jobs() {
    let app = spawn_app_with(|c| c.auth.sensitive_per_ip_per_minute = 10_000).await;
    let op = app.user_with_role("op@example.com", Role::Staff).await;
    let a = access(&op);
    let customer = UserId::new();
    let first = app.approved_order(customer, 50).await;
    let second = app.approved_order(customer, 50).await;
    for o in [&first, &second] {
        app.staff_fire(a, &o.id.to_string(), "enqueue", &json!(1))
            .await;
    }
    // Same priority and due date: the earlier order first…
    let r = app.claim(a).await;
    let j: Value = r.json().await.expect("json");
    assert_eq!(j["order_id"], first.id.to_string());
    // …until the second is rushed.
    let sid = second.id.to_string();
    let r = app
        .post_json(
            &format!("/api/v1/staff/orders/{sid}/priority"),
            &json!({"priority": 80, "version": 2}),
            Some(a),
        )
        .await;
    assert_eq!(r.status(), 200);
    let queued = app.jobs_of(a, &sid, Some("queued")).await;
    assert!(queued.iter().all(|j| j["priority"] == 80), "{queued:?}");
    let r = app.claim(a).await;
    let j: Value = r.json().await.expect("json");
    assert_eq!(j["order_id"], sid);
    assert_eq!(j["priority"], 80);
}

/// Jobs follow their order: holding an order parks its queued jobs (not
/// claimable, whatever their priority), a claimed job stays with its
/// operator and is parked when given back, releasing the order queues
/// them again, cancelling it cancels what still waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_and_cancelled_orders_jobs_are_not_claimable() {
    let app = spawn_app_with(|c| c.auth.sensitive_per_ip_per_minute = 10_000).await;
    let op = app.user_with_role("op@example.com", Role::Staff).await;
    let a = access(&op);
    let customer = UserId::new();
    let held = app.approved_order(customer, 80).await;
    let other = app.approved_order(customer, 30).await;
    let (hid, oid) = (held.id.to_string(), other.id.to_string());
    let o = app.staff_fire(a, &hid, "enqueue", &json!(1)).await;
    app.staff_fire(a, &oid, "enqueue", &json!(1)).await;

    // The operator takes line 0 of the rush order; then it is held.
    let r = app.claim(a).await;
    let mine: Value = r.json().await.expect("json");
    assert_eq!(mine["id"], format!("{hid}.0.0"));
    let o = app.staff_fire(a, &hid, "hold", &o["version"]).await;
    assert_eq!(o["status"], "on_hold");
    let states = app.job_states(a, &hid).await;
    assert_eq!(states, ["claimed", "parked"]);
    assert_eq!(app.jobs_of(a, &hid, Some("parked")).await.len(), 1);

    // Only the other order's jobs can be claimed now.
    for line in 0..2 {
        let r = app.claim(a).await;
        assert_eq!(r.status(), 200);
        let j: Value = r.json().await.expect("json");
        assert_eq!(j["id"], format!("{oid}.{line}.0"), "held jobs are skipped");
    }
    expect_error(app.claim(a).await, 404, "queue_empty").await;

    // Giving the claimed job back while the order is held parks it.
    let r = app.job_action(a, &mine, "release").await;
    assert_eq!(r.status(), 200);
    let back: Value = r.json().await.expect("json");
    assert_eq!(back["status"], "parked");
    expect_error(app.claim(a).await, 404, "queue_empty").await;

    // Release: both jobs wait in the queue again, in queue order.
    let o = app.staff_fire(a, &hid, "release", &o["version"]).await;
    assert_eq!(o["status"], "queued");
    assert_eq!(app.jobs_of(a, &hid, Some("queued")).await.len(), 2);
    let r = app.claim(a).await;
    let j: Value = r.json().await.expect("json");
    assert_eq!(j["id"], format!("{hid}.0.0"));

    // Cancel: what still waits is cancelled and never claimed; the
    // claimed job stays with its operator.
    let o = app.staff_fire(a, &hid, "cancel", &o["version"]).await;
    assert_eq!(o["status"], "cancelled");
    let states = app.job_states(a, &hid).await;
    assert_eq!(states, ["claimed", "cancelled"]);
    expect_error(app.claim(a).await, 404, "queue_empty").await;
    // …and a cancelled order's job given back is cancelled too.
    let r = app.job_action(a, &j, "release").await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.expect("json")["status"],
        "cancelled"
    );
    expect_error(app.claim(a).await, 404, "queue_empty").await;
    let r = app.get_auth("/api/v1/staff/jobs?status=cancelled", a).await;
    let page: Value = r.json().await.expect("json");
    assert_eq!(page["items"].as_array().map(Vec::len), Some(2));
}

/// The crash window of the hold hook (order held, jobs still queued) is
/// repaired by the sync endpoint, which makes the jobs follow the order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_parks_the_jobs_of_an_order_held_behind_the_hooks_back() {
    let app = spawn_app_with(|c| c.auth.sensitive_per_ip_per_minute = 10_000).await;
    let op = app.user_with_role("op@example.com", Role::Staff).await;
    let a = access(&op);
    let order = app.approved_order(UserId::new(), 50).await;
    let id = order.id.to_string();
    app.staff_fire(a, &id, "enqueue", &json!(1)).await;
    // Held, then the jobs put back as they were before the hold's hook
    // (as if the process had stopped between the order write and the
    // jobs).
    let mut o = app.app().orders.get(order.id).await.expect("get");
    let queued_at = o.version;
    o.history.push(StatusChange {
        from: Some(o.status.clone()),
        to: puratan_testkit::fixtures::status("on_hold"),
        actor: None,
        at: Utc::now(),
        reason: None,
    });
    o.status = puratan_testkit::fixtures::status("on_hold");
    app.app().orders.update(o).await.expect("update");
    for j in app.jobs_of(a, &id, None).await {
        let jid = puratan_core::domain::JobId::parse(j["id"].as_str().expect("id")).expect("id");
        let mut job = app.app().jobs.get(&jid).await.expect("job");
        job.status = puratan_core::domain::JobStatus::Queued;
        job.order_version = queued_at;
        app.app().jobs.update(job).await.expect("unfollow");
    }
    assert_eq!(app.jobs_of(a, &id, Some("queued")).await.len(), 2);
    let r = app
        .post_json(
            &format!("/api/v1/staff/jobs/sync/{id}"),
            &json!({}),
            Some(a),
        )
        .await;
    assert_eq!(r.status(), 200);
    let report: Value = r.json().await.expect("json");
    let states: Vec<&str> = report["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .map(|j| j["status"].as_str().expect("s"))
        .collect();
    assert_eq!(states, ["parked", "parked"]);
    expect_error(app.claim(a).await, 404, "queue_empty").await;
}
