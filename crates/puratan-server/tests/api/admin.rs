//! Admin catalog writes: the token guard, the JSON body error model,
//! optimistic concurrency over HTTP.

use serde_json::{Value, json};

use crate::support::{TestApp, expect_error, spawn_app, spawn_app_with};

pub const TOKEN: &str = "test-admin-token-0123456789abcdef0123";

pub async fn admin_app() -> TestApp {
    spawn_app_with(|c| c.admin.token = Some(TOKEN.into())).await
}

fn body(sku: &str) -> Value {
    json!({"sku": sku, "name": "Stickers", "category": "stickers", "tags": ["eco"], "stock": 5})
}

async fn put(app: &TestApp, id: &str, body: &Value) -> reqwest::Response {
    app.client
        .put(app.url(&format!("/api/v1/admin/products/{id}")))
        .bearer_auth(TOKEN)
        .json(body)
        .send()
        .await
        .expect("req")
}

#[tokio::test]
async fn admin_routes_need_an_admin_token() {
    let app = admin_app().await;
    let url = app.url("/api/v1/admin/products/stickers");
    expect_error(
        app.client
            .put(&url)
            .json(&body("ST-1"))
            .send()
            .await
            .expect("req"),
        401,
        "unauthorized",
    )
    .await;
    let wrong = app
        .client
        .put(&url)
        .bearer_auth("x".repeat(TOKEN.len()))
        .json(&body("ST-1"))
        .send()
        .await
        .expect("req");
    expect_error(wrong, 401, "unauthorized").await;

    // Without `admin.token` configured the static token means nothing.
    let plain = spawn_app().await;
    let resp = plain
        .client
        .put(plain.url("/api/v1/admin/products/stickers"))
        .bearer_auth(TOKEN)
        .json(&body("ST-1"))
        .send()
        .await
        .expect("req");
    expect_error(resp, 401, "unauthorized").await;
}

#[tokio::test]
async fn create_update_delete_with_optimistic_concurrency() {
    let app = admin_app().await;
    let created = put(&app, "stickers", &body("ST-1")).await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.expect("json");
    assert_eq!(created["version"], 1);
    assert_eq!(app.get("/api/v1/products/stickers").await.status(), 200);

    let mut update = body("ST-1");
    update["name"] = json!("Vinyl stickers");
    update["version"] = json!(1);
    let updated: Value = put(&app, "stickers", &update)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(updated["version"], 2);
    let public: Value = app
        .get("/api/v1/products/stickers")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        public["name"], "Vinyl stickers",
        "cache invalidated on write"
    );

    // A second writer still holding version 1 loses.
    let stale = put(&app, "stickers", &update).await;
    expect_error(stale, 409, "stale_version").await;
    // Creating over an existing id, or reusing an SKU, conflicts.
    expect_error(put(&app, "stickers", &body("ST-2")).await, 409, "conflict").await;
    expect_error(put(&app, "labels", &body("BC-STD")).await, 409, "conflict").await;

    let del = app
        .client
        .delete(app.url("/api/v1/admin/products/stickers"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("req");
    assert_eq!(del.status(), 204);
    expect_error(app.get("/api/v1/products/stickers").await, 404, "not_found").await;
}

#[tokio::test]
async fn hostile_bodies_get_typed_errors() {
    let app = admin_app().await;
    let url = app.url("/api/v1/admin/products/stickers");
    let send = |body: Vec<u8>, ct: &'static str| {
        let req = app
            .client
            .put(&url)
            .bearer_auth(TOKEN)
            .header("content-type", ct)
            .body(body);
        async move { req.send().await.expect("req") }
    };
    expect_error(
        send(b"{\"sku\": ".to_vec(), "application/json").await,
        400,
        "malformed_json",
    )
    .await;
    expect_error(
        send(b"{} trailing".to_vec(), "application/json").await,
        400,
        "malformed_json",
    )
    .await;
    expect_error(
        send(b"{\"sku\":\"A\"}".to_vec(), "text/plain").await,
        415,
        "unsupported_media_type",
    )
    .await;

    let mut unknown = body("ST-1");
    unknown["price"] = json!("0.01");
    let e = expect_error(
        send(
            serde_json::to_vec(&unknown).expect("ser"),
            "application/json",
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(e["message"].as_str().unwrap_or("").contains("price"), "{e}");

    // Mongo-operator payloads are just wrongly typed values here.
    let mut op = body("ST-1");
    op["sku"] = json!({"$ne": null});
    let e = expect_error(
        send(serde_json::to_vec(&op).expect("ser"), "application/json").await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(e["details"][0]["field"], "sku", "{e}");
    let mut bad_sku = body("st 1");
    bad_sku["sku"] = json!("st 1");
    let e = expect_error(
        send(
            serde_json::to_vec(&bad_sku).expect("ser"),
            "application/json",
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(e["details"][0]["field"], "sku", "{e}");

    // Text is normalised and stripped of control characters.
    let mut messy = body("ST-9");
    messy["name"] = json!("Cafe\u{0301} \u{0007}stickers\u{202E}");
    let stored: Value = send(serde_json::to_vec(&messy).expect("ser"), "application/json")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(stored["name"], "Café stickers");

    let huge = vec![b' '; 9 * 1024 * 1024];
    expect_error(
        send(huge, "application/json").await,
        413,
        "payload_too_large",
    )
    .await;
    // Still serving afterwards.
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[tokio::test]
async fn public_json_bodies_are_small() {
    // Admin routes allow 8 MiB; anything else stays at the 64 KiB default.
    let app = admin_app().await;
    let big =
        json!({"sku": "ST-1", "name": "x", "category": "c", "description": "d".repeat(100_000)});
    let resp = app
        .client
        .post(app.url("/api/v1/admin/catalog"))
        .bearer_auth(TOKEN)
        .json(&big)
        .send()
        .await
        .expect("req");
    // Big enough for the admin limit, but not a valid catalog.
    expect_error(resp, 422, "invalid_catalog").await;
}

#[tokio::test]
async fn catalog_import_over_http_reports_the_bad_path() {
    let app = admin_app().await;
    let mut doc: Value =
        serde_json::from_slice(&std::fs::read(crate::support::sample_catalog()).expect("read"))
            .expect("json");
    doc["products"][2]["papers"] = json!(["no-such-paper"]);
    let resp = app
        .client
        .post(app.url("/api/v1/admin/catalog"))
        .bearer_auth(TOKEN)
        .json(&doc)
        .send()
        .await
        .expect("req");
    let e = expect_error(resp, 422, "invalid_catalog").await;
    assert!(
        e["details"]["path"]
            .as_str()
            .unwrap_or("")
            .starts_with("products[2].papers"),
        "{e}"
    );
}
