//! In-process cost of the gateway: the full router (request id, metrics,
//! access-log decision, time limit, rate limit, cache-aside product read)
//! versus a bare axum route returning the same bytes. No sockets, so this
//! isolates middleware cost from the network stack; benches/load/run.sh
//! measures the end-to-end throughput with wrk.

use std::hint::black_box;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::routing::get;
use criterion::{Criterion, criterion_group, criterion_main};
use tower::ServiceExt;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tmp");
    let mut config = puratan_server::config::Config::default();
    config.sqlite.path = dir.path().join("db.sqlite");
    config.files.root = dir.path().join("files");
    config.catalog.seed_file =
        Some(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/catalog.json"));
    config.log.access_log = false;
    config.rate_limits.public_per_minute = u32::MAX;
    let full = rt.block_on(async {
        let app = puratan_server::backends::build(config).await.expect("app");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        // start_on seeds the catalog; the bench then drives the router directly.
        let running = puratan_server::server::start_on(app.clone(), listener)
            .await
            .expect("start");
        std::mem::forget(running);
        puratan_server::http::router(app)
    });
    let body = rt.block_on(async {
        let resp = full
            .clone()
            .oneshot(
                Request::get("/api/v1/products/business-card")
                    .body(Body::empty())
                    .expect("req"),
            )
            .await
            .expect("resp");
        axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .expect("body")
    });
    let bare: Router = Router::new().route(
        "/api/v1/products/{id}",
        get(move || {
            let body = body.clone();
            async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    body,
                )
            }
        }),
    );

    let mut group = c.benchmark_group("get_product");
    let full_router = full.clone();
    for (name, router) in [("bare_axum", bare), ("full_gateway_cached", full)] {
        group.bench_function(name, |b| {
            b.to_async(&rt).iter(|| {
                let router = router.clone();
                async move {
                    let req = Request::get("/api/v1/products/business-card")
                        .body(Body::empty())
                        .expect("req");
                    let resp = router.oneshot(req).await.expect("resp");
                    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
                        .await
                        .expect("body");
                    black_box(bytes.len())
                }
            });
        });
    }
    group.finish();

    // POST /api/v1/quotes: price + sign through the gateway, versus a bare
    // route that only parses the JSON body.
    const BODY: &str = r#"{"product":"business-card","quantity":500,"paper":"silk-350","color":"4/4","finishing":["matt-lam","round-corners"],"turnaround":"express","customer_group":"trade","region":"DE","currency":"GBP"}"#;
    let bare_quote: Router = Router::new().route(
        "/api/v1/quotes",
        axum::routing::post(|axum::Json(v): axum::Json<serde_json::Value>| async move {
            (axum::http::StatusCode::CREATED, axum::Json(v))
        }),
    );
    let mut group = c.benchmark_group("post_quote");
    for (name, router) in [
        ("bare_axum_json_echo", bare_quote),
        ("full_gateway_price_and_sign", full_router.clone()),
    ] {
        group.bench_function(name, |b| {
            b.to_async(&rt).iter(|| {
                let router = router.clone();
                async move {
                    let req = Request::post("/api/v1/quotes")
                        .header("content-type", "application/json")
                        .body(Body::from(BODY))
                        .expect("req");
                    let resp = router.oneshot(req).await.expect("resp");
                    assert_eq!(resp.status(), 201);
                    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
                        .await
                        .expect("body");
                    black_box(bytes.len())
                }
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
