//! The product catalog slice: seeded from examples/, paged, filtered,
//! cached, invalidated on import.

use serde_json::Value;

use crate::support::{expect_error, sample_catalog, spawn_app};

#[tokio::test]
async fn lists_the_seeded_sample_catalog_in_pages() {
    let app = spawn_app().await;
    let first: Value = app
        .get("/api/v1/products?limit=2")
        .await
        .json()
        .await
        .expect("json");
    let ids: Vec<&str> = first["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| p["id"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(ids, ["business-card", "flyer-a5"]);
    let cursor = first["next_cursor"].as_str().expect("next cursor");
    let second: Value = app
        .get(&format!("/api/v1/products?limit=2&cursor={cursor}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(second["items"][0]["id"], "poster-a3");
    assert!(second.get("next_cursor").is_none());
    assert_eq!(second["items"][0]["availability"], "in_stock");
    assert_eq!(first["items"][0]["sku"], "BC-STD");
}

#[tokio::test]
async fn filters_by_category_and_tag() {
    let app = spawn_app().await;
    let cards: Value = app
        .get("/api/v1/products?category=cards")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(cards["items"].as_array().map(Vec::len), Some(1));
    let eco: Value = app
        .get("/api/v1/products?tag=eco")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(eco["items"][0]["id"], "flyer-a5");
    let none: Value = app
        .get("/api/v1/products?tag=nonexistent")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(none["items"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn gets_one_product_and_404s_unknown_ones() {
    let app = spawn_app().await;
    let resp = app.get("/api/v1/products/business-card").await;
    assert_eq!(resp.status(), 200);
    let p: Value = resp.json().await.expect("json");
    assert_eq!(p["name"], "Business cards");
    assert_eq!(p["specifications"]["Paper"], "Silk 350 gsm");
    expect_error(
        app.get("/api/v1/products/no-such-thing").await,
        404,
        "not_found",
    )
    .await;
    // Not a valid id at all: same answer, nothing reaches the store.
    expect_error(
        app.get("/api/v1/products/%7B%22$ne%22:null%7D").await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn hostile_query_parameters_are_rejected() {
    let app = spawn_app().await;
    for q in [
        "limit=0",
        "limit=101",
        "limit=abc",
        "category=%7B%22$ne%22:null%7D",
        "category[$ne]=x",
        "cursor=not-a-cursor",
        "unknown=1",
    ] {
        let body = expect_error(
            app.get(&format!("/api/v1/products?{q}")).await,
            400,
            "invalid_parameter",
        )
        .await;
        assert!(body["details"]["field"].is_string(), "{q}: {body}");
    }
}

#[tokio::test]
async fn import_invalidates_cached_products() {
    let app = spawn_app().await;
    let before: Value = app
        .get("/api/v1/products/business-card")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(before["name"], "Business cards");
    let listed: Value = app
        .get("/api/v1/products")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(listed["items"][0]["name"], "Business cards");

    let mut doc: Value =
        serde_json::from_slice(&std::fs::read(sample_catalog()).expect("read")).expect("json");
    doc["products"][0]["name"] = Value::from("Premium business cards");
    doc["version"] = Value::from("2026-11-28.2");
    let parsed = puratan_server::catalog::parse(
        &serde_json::to_vec(&doc).expect("ser"),
        puratan_server::catalog::Format::Json,
    )
    .expect("valid");
    let report = puratan_server::catalog::store(app.app(), parsed)
        .await
        .expect("store");
    assert_eq!((report.created, report.updated), (0, 3));

    // The fanout consumer runs asynchronously; the importing replica also
    // evicts synchronously, so the next read is fresh.
    let after: Value = app
        .get("/api/v1/products/business-card")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(after["name"], "Premium business cards");
    let listed: Value = app
        .get("/api/v1/products")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(listed["items"][0]["name"], "Premium business cards");
}

#[tokio::test]
async fn invalid_catalog_files_change_nothing() {
    let app = spawn_app().await;
    let original: Value =
        serde_json::from_slice(&std::fs::read(sample_catalog()).expect("read")).expect("json");
    type Mutation = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(Mutation, &str)> = vec![
        (
            Box::new(|d| d["products"][1]["press"] = Value::from("no-such-press")),
            "products[1].press",
        ),
        (
            Box::new(|d| d["storefront"]["flyer-a5"]["sku"] = Value::from("BC-STD")),
            "storefront.flyer-a5.sku",
        ),
        (
            Box::new(|d| d["storefront"]["ghost"] = serde_json::json!({"sku": "G"})),
            "storefront.ghost",
        ),
        (
            Box::new(|d| d["storefront"]["poster-a3"]["category"] = Value::from("Not A Slug")),
            "storefront.poster-a3.category",
        ),
        (
            Box::new(|d| d["storefront"]["poster-a3"]["price"] = Value::from("0.01")),
            "storefront",
        ),
    ];
    for (mutate, path) in cases {
        let mut doc = original.clone();
        doc["products"][0]["name"] = Value::from("Should never be stored");
        mutate(&mut doc);
        let err = puratan_server::catalog::parse(
            &serde_json::to_vec(&doc).expect("ser"),
            puratan_server::catalog::Format::Json,
        )
        .expect_err(path);
        assert_eq!(err.path, path, "{err}");
    }
    // An SKU already used by another stored product is caught before writing.
    let mut doc = original.clone();
    doc["products"][0]["name"] = Value::from("Should never be stored");
    doc["products"][2]["id"] = Value::from("poster-a3-new");
    doc["storefront"]["poster-a3-new"] = doc["storefront"]["poster-a3"].take();
    doc["storefront"]["poster-a3-new"]["sku"] = Value::from("FLY-A5");
    doc["storefront"]
        .as_object_mut()
        .expect("obj")
        .remove("poster-a3");
    doc["storefront"]["flyer-a5"]["sku"] = Value::from("FLY-A5-NEW");
    let parsed = puratan_server::catalog::parse(
        &serde_json::to_vec(&doc).expect("ser"),
        puratan_server::catalog::Format::Json,
    )
    .expect("valid on its own");
    puratan_server::catalog::store(app.app(), parsed)
        .await
        .expect_err("sku clash with stored product");
    let p: Value = app
        .get("/api/v1/products/business-card")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(p["name"], "Business cards", "nothing changed");
}

#[tokio::test]
async fn toml_catalogs_are_accepted() {
    let doc: Value =
        serde_json::from_slice(&std::fs::read(sample_catalog()).expect("read")).expect("json");
    let text = toml::to_string(&doc).expect("to toml");
    let parsed =
        puratan_server::catalog::parse(text.as_bytes(), puratan_server::catalog::Format::Toml)
            .expect("toml");
    assert_eq!(parsed.products.len(), 3);
}

#[tokio::test]
async fn malformed_path_segments_use_the_error_model() {
    let app = spawn_app().await;
    let body = expect_error(
        app.get("/api/v1/products/%FF").await,
        400,
        "invalid_parameter",
    )
    .await;
    assert_eq!(body["details"]["field"], "path");
}
