//! Quotes over HTTP: identical to the engine, signed, verifiable; catalog
//! versions, diff and rollback.

use serde_json::{Value, json};

use crate::admin::{TOKEN, admin_app};
use crate::support::{expect_error, sample_catalog, spawn_app};

fn request() -> Value {
    json!({"product": "business-card", "quantity": 500, "paper": "silk-350", "color": "4/4",
           "finishing": ["matt-lam"], "turnaround": "express", "customer_group": "trade",
           "region": "DE", "currency": "GBP"})
}

async fn post(app: &crate::support::TestApp, path: &str, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .json(body)
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn quote_matches_the_engine_byte_for_byte_and_verifies() {
    let app = spawn_app().await;
    let resp = post(&app, "/api/v1/quotes", &request()).await;
    assert_eq!(resp.status(), 201);
    let text = resp.text().await.expect("body");
    let body: Value = serde_json::from_str(&text).expect("json");

    // Re-price natively with the instant the server used.
    let doc: Value =
        serde_json::from_slice(&std::fs::read(sample_catalog()).expect("read")).expect("json");
    let catalog = puratan_pricing::Catalog::from_value(&doc).expect("catalog");
    let mut native = request();
    native["at"] = Value::from(
        body["created_at"]
            .as_str()
            .expect("created_at")
            .split('.')
            .next()
            .map(|s| format!("{}Z", s.trim_end_matches('Z')))
            .expect("at"),
    );
    let expected = catalog
        .quote(&puratan_pricing::QuoteRequest::from_value(native).expect("req"))
        .expect("quote")
        .to_json();
    let start = text.find("\"quote\":").expect("quote field") + "\"quote\":".len();
    assert!(
        text[start..].starts_with(&expected),
        "HTTP quote differs from the engine:\n{}\n{expected}",
        &text[start..]
    );
    assert_eq!(body["catalog_version"], "2026-11-28.1");
    assert_eq!(body["quote"]["currency"], "GBP");

    let token = body["token"].as_str().expect("token");
    let v: Value = post(&app, "/api/v1/quotes/verify", &json!({"token": token}))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(v["status"], "valid");
    assert_eq!(v["quote"]["total"], body["quote"]["total"]);

    // Flip one character of the payload: tampered.
    let mut forged: Vec<char> = token.chars().collect();
    let i = token.find('.').map(|i| i + 10).expect("dot");
    forged[i] = if forged[i] == 'A' { 'B' } else { 'A' };
    let forged: String = forged.into_iter().collect();
    let v: Value = post(&app, "/api/v1/quotes/verify", &json!({"token": forged}))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(v["status"], "tampered");
    assert!(v.get("quote").is_none());
}

#[tokio::test]
async fn expired_quotes_are_reported_as_expired() {
    let app = spawn_app().await;
    let past = chrono::Utc::now() - chrono::Duration::days(30);
    let signed = puratan_server::http::routes::quotes::SignedQuote {
        id: "q-old".into(),
        created_at: past,
        valid_until: past + chrono::Duration::days(14),
        catalog_version: "2026-11-28.1".into(),
        request: puratan_pricing::QuoteRequest::from_value({
            let mut r = request();
            r["at"] = json!("2026-10-01T00:00:00Z");
            r
        })
        .expect("request"),
        quote: serde_json::value::RawValue::from_string("{\"total\":\"1.00\"}".into())
            .expect("raw"),
    };
    let token = app.app().pricing.signer.sign(&signed);
    let v: Value = post(&app, "/api/v1/quotes/verify", &json!({"token": token}))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(v["status"], "expired");
    assert_eq!(v["id"], "q-old");
}

#[tokio::test]
async fn pricing_errors_carry_the_engine_code_and_field() {
    let app = spawn_app().await;
    let mut r = request();
    r["paper"] = json!("gold-leaf");
    let e = expect_error(
        post(&app, "/api/v1/quotes", &r).await,
        422,
        "option_not_allowed",
    )
    .await;
    assert_eq!(e["details"]["field"], "paper");
    let mut r = request();
    r["product"] = json!("nope");
    expect_error(
        post(&app, "/api/v1/quotes", &r).await,
        422,
        "unknown_product",
    )
    .await;
    let mut r = request();
    r["quantity"] = json!(501);
    expect_error(post(&app, "/api/v1/quotes", &r).await, 422, "quantity_step").await;
    let mut r = request();
    r["price"] = json!("0.01");
    expect_error(
        post(&app, "/api/v1/quotes", &r).await,
        422,
        "invalid_request",
    )
    .await;
    let mut r = request();
    r["at"] = json!("2020-01-01T00:00:00Z");
    let e = expect_error(
        post(&app, "/api/v1/quotes", &r).await,
        422,
        "invalid_request",
    )
    .await;
    assert_eq!(e["details"]["field"], "at");
    let resp = app
        .client
        .post(app.url("/api/v1/quotes"))
        .header("content-type", "application/json")
        .body("{\"product\":")
        .send()
        .await
        .expect("req");
    expect_error(resp, 400, "malformed_json").await;
    let resp = app
        .client
        .post(app.url("/api/v1/quotes"))
        .body("product=x")
        .send()
        .await
        .expect("req");
    expect_error(resp, 415, "unsupported_media_type").await;
    let resp = app
        .client
        .post(app.url("/api/v1/quotes"))
        .header("content-type", "application/json")
        .body(vec![b' '; 200_000])
        .send()
        .await
        .expect("req");
    expect_error(resp, 413, "payload_too_large").await;
}

#[tokio::test]
async fn price_tables_share_one_request() {
    let app = spawn_app().await;
    let mut r = request();
    r.as_object_mut().expect("obj").remove("quantity");
    r["quantities"] = json!([100, 250, 500, 333]);
    let t: Value = post(&app, "/api/v1/quotes/table", &r)
        .await
        .json()
        .await
        .expect("json");
    let rows = t["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 4);
    let totals: Vec<f64> = rows[..3]
        .iter()
        .map(|row| {
            row["quote"]["total"]
                .as_str()
                .expect("total")
                .parse::<f64>()
                .expect("num")
        })
        .collect();
    assert!(totals.windows(2).all(|w| w[0] <= w[1]), "{totals:?}");
    assert_eq!(rows[3]["error"]["code"], "quantity_step");
    r["quantities"] = json!((1..=21).map(|i| i * 50).collect::<Vec<_>>());
    expect_error(
        post(&app, "/api/v1/quotes/table", &r).await,
        422,
        "invalid_request",
    )
    .await;
}

#[tokio::test]
async fn catalog_versions_diff_and_rollback() {
    let app = admin_app().await;
    let mut doc: Value =
        serde_json::from_slice(&std::fs::read(sample_catalog()).expect("read")).expect("json");
    doc["version"] = json!("2026-12-01.1");
    doc["products"][0]["setup_fee"] = json!("9.00");
    let resp = app
        .client
        .post(app.url("/api/v1/admin/catalog"))
        .bearer_auth(TOKEN)
        .json(&doc)
        .send()
        .await
        .expect("req");
    assert_eq!(resp.status(), 200);

    let q: Value = post(&app, "/api/v1/quotes", &request())
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(q["catalog_version"], "2026-12-01.1");

    let versions: Value = app
        .client
        .get(app.url("/api/v1/admin/catalog/versions"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("req")
        .json()
        .await
        .expect("json");
    let names: Vec<&str> = versions
        .as_array()
        .expect("arr")
        .iter()
        .map(|v| v["version"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(names, ["2026-12-01.1", "2026-11-28.1"]);
    assert_eq!(versions[0]["active"], true);

    let diff: Value = app
        .client
        .get(app.url("/api/v1/admin/catalog/diff?from=2026-11-28.1&to=2026-12-01.1"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("req")
        .json()
        .await
        .expect("json");
    let paths: Vec<&str> = diff
        .as_array()
        .expect("arr")
        .iter()
        .map(|c| c["path"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(paths, ["version", "products[business-card].setup_fee"]);

    let rolled = app
        .client
        .post(app.url("/api/v1/admin/catalog/rollback"))
        .bearer_auth(TOKEN)
        .json(&json!({"version": "2026-11-28.1"}))
        .send()
        .await
        .expect("req");
    assert_eq!(rolled.status(), 200);
    let q2: Value = post(&app, "/api/v1/quotes", &request())
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(q2["catalog_version"], "2026-11-28.1");
    // The quote priced before the rollback is still valid.
    let v: Value = post(&app, "/api/v1/quotes/verify", &json!({"token": q["token"]}))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(v["status"], "valid");
    let missing = app
        .client
        .post(app.url("/api/v1/admin/catalog/rollback"))
        .bearer_auth(TOKEN)
        .json(&json!({"version": "never"}))
        .send()
        .await
        .expect("req");
    expect_error(missing, 404, "not_found").await;
}
