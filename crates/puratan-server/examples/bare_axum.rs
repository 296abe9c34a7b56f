//! The baseline for gateway-overhead measurements: a bare axum route that
//! returns the same product JSON as `GET /api/v1/products/business-card`,
//! with no middleware at all. See benches/load/run.sh.

use axum::Router;
use axum::extract::Path;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

const BODY: &str = r#"{"id":"business-card","sku":"BC-STD","name":"Business cards","description":"Classic 85 × 55 mm business cards on 350 gsm silk.","category":"cards","tags":["bestseller"],"pricing_ref":"business-card","specifications":{"Paper":"Silk 350 gsm","Size":"85 × 55 mm"},"templates":[{"id":"bc-minimal","name":"Minimal"}],"availability":"made_to_order"}"#;

async fn product(Path(_id): Path<String>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], BODY)
}

// Same allocator as the `puratan` binary, so only the gateway differs.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8090);
    let app = Router::new().route("/api/v1/products/{id}", get(product));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    axum::serve(listener, app).await
}
