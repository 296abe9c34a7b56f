//! Gateway behaviour: error model, rate limits, operations endpoints.

use serde_json::Value;

use crate::support::{expect_error, spawn_app, spawn_app_with};

#[tokio::test]
async fn health_readiness_and_docs() {
    let app = spawn_app().await;
    let h: Value = app.get("/healthz").await.json().await.expect("json");
    assert_eq!(h["status"], "ok");
    let resp = app.get("/readyz").await;
    assert_eq!(resp.status(), 200);
    let r: Value = resp.json().await.expect("json");
    assert_eq!(r["backends"][0]["name"], "sqlite");
    assert_eq!(r["backends"][0]["ok"], true);
    let spec: Value = app.get("/openapi.json").await.json().await.expect("json");
    assert!(
        spec["openapi"].as_str().unwrap_or("").starts_with("3.1"),
        "{}",
        spec["openapi"]
    );
    assert!(spec["paths"]["/api/v1/products/{id}"].is_object());
    let docs = app.get("/docs").await;
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.expect("text").contains("<html"));
}

#[tokio::test]
async fn unknown_routes_and_methods_use_the_error_model() {
    let app = spawn_app().await;
    expect_error(app.get("/nope").await, 404, "not_found").await;
    let resp = app
        .client
        .delete(app.url("/api/v1/products"))
        .send()
        .await
        .expect("req");
    expect_error(resp, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn request_ids_are_propagated_or_generated() {
    let app = spawn_app().await;
    let resp = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "lb-abc-123")
        .send()
        .await
        .expect("req");
    assert_eq!(resp.headers()["x-request-id"], "lb-abc-123");
    // A hostile id is replaced, not echoed.
    let resp = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "<script>")
        .send()
        .await
        .expect("req");
    assert_ne!(resp.headers()["x-request-id"], "<script>");
}

#[tokio::test]
async fn public_rate_limit_is_exact_with_standard_headers() {
    let app = spawn_app_with(|c| c.rate_limits.public_per_minute = 5).await;
    for i in 0..5 {
        let resp = app.get("/api/v1/products").await;
        assert_eq!(resp.status(), 200, "request {i}");
        assert_eq!(resp.headers()["ratelimit-policy"], "\"public\";q=5;w=60");
        let expected = format!("\"public\";r={};", 4 - i);
        let current = resp.headers()["ratelimit"]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert!(current.starts_with(&expected), "{current} vs {expected}");
    }
    let resp = app.get("/api/v1/products/business-card").await;
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=12).contains(&retry), "retry-after {retry}");
    let body = expect_error(resp, 429, "rate_limited").await;
    assert_eq!(body["details"]["tier"], "public");
    // Operations endpoints are never limited.
    assert_eq!(app.get("/healthz").await.status(), 200);
    let metrics = app.get("/metrics").await.text().await.expect("text");
    assert!(
        metrics.contains("puratan_rate_limited_total{tier=\"public\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn metrics_cover_requests_cache_and_process() {
    let app = spawn_app().await;
    app.get("/api/v1/products/business-card").await;
    app.get("/api/v1/products/business-card").await;
    app.get("/api/v1/products/missing").await;
    let m = app.get("/metrics").await.text().await.expect("text");
    for needle in [
        "puratan_http_requests_total{method=\"GET\",route=\"/api/v1/products/{id}\",status=\"200\"} 2",
        "puratan_http_requests_total{method=\"GET\",route=\"/api/v1/products/{id}\",status=\"404\"} 1",
        "puratan_http_request_duration_seconds_bucket",
        "puratan_cache_hits 1",
        "puratan_process_resident_memory_bytes",
        "puratan_process_open_fds",
        "puratan_process_cpu_seconds_total",
    ] {
        assert!(m.contains(needle), "missing {needle}\n{m}");
    }
}

#[tokio::test]
async fn serves_https_when_tls_is_configured() {
    let dir = tempfile::tempdir().expect("tmp");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(std::process::Stdio::null())
        .status();
    let Some(status) = puratan_testkit::service::require("openssl CLI", made) else {
        return;
    };
    assert!(status.success(), "openssl req failed");
    let app = spawn_app_with(|c| {
        c.server.tls = Some(puratan_server::config::TlsConfig {
            cert_path: cert.clone(),
            key_path: key.clone(),
        });
    })
    .await;
    let https = app.base.replace("http://", "https://");
    // Async process: the server runs on this test's runtime.
    let out = tokio::process::Command::new("curl")
        .args(["-sk", "--max-time", "10", &format!("{https}/healthz")])
        .output()
        .await
        .expect("curl");
    let body: Value = serde_json::from_slice(&out.stdout).expect("json over https");
    assert_eq!(body["status"], "ok");
    // Plain HTTP on the TLS port is not served.
    let plain = app
        .client
        .get(app.url("/healthz"))
        .timeout(std::time::Duration::from_secs(2))
        .send()
        .await;
    assert!(plain.map(|r| !r.status().is_success()).unwrap_or(true));
}

#[tokio::test]
async fn cors_only_for_configured_origins_and_gzip_for_large_bodies() {
    let app = spawn_app_with(|c| c.server.cors_origins = vec!["https://shop.example".into()]).await;
    let pre = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/quotes"))
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .expect("preflight");
    assert_eq!(
        pre.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    let other = app
        .client
        .get(app.url("/api/v1/products"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("req");
    assert!(other.headers().get("access-control-allow-origin").is_none());

    // The OpenAPI document is well above the 1 KiB compression threshold.
    let zipped = app
        .client
        .get(app.url("/openapi.json"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("req");
    assert_eq!(
        zipped
            .headers()
            .get("content-encoding")
            .map(|v| v.to_str().unwrap_or("")),
        Some("gzip")
    );
    let small = app
        .client
        .get(app.url("/healthz"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("req");
    assert!(
        small.headers().get("content-encoding").is_none(),
        "tiny bodies are not compressed"
    );
}
