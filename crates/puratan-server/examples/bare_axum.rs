//! The baseline for gateway-overhead measurements: a bare axum route that
//! returns the same product JSON as `GET /api/v1/products/business-card`,
//! with no middleware at all. See benches/load/run.sh.

use axum::Router;
use axum::extract::Path;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

const BODY: &str = r#"{"id":"business-card","sku":"BC-STD","name":"Business cards","description":"Classic 85 × 55 mm business cards on 350 gsm silk.","category":"cards","tags":["bestseller"],"pricing_ref":"business-card","specifications":{"Paper":"Silk 350 gsm","Size":"85 × 55 mm"},"templates":[{"id":"bc-minimal","name":"Minimal"}],"availability":"made_to_order"}"#;

/// A quote-sized response (a signed quote is about this long).
const QUOTE: &str = r#"{"id":"019ac9a1-0000-7000-8000-000000000000","created_at":"2026-11-28T10:00:00Z","valid_until":"2026-12-12T10:00:00Z","catalog_version":"2026-11-28.1","quote":{"lines":[{"kind":"paper","id":"silk-350","label":"Silk 350 gsm","amount":"10.22"},{"kind":"print","id":"4/4","label":"Printing 4/4","amount":"10.22"},{"kind":"finishing","id":"matt-lam","label":"Matt lamination","amount":"20.57"},{"kind":"setup","label":"Setup fee","amount":"8.60"}],"subtotal":"49.61","discounts":[{"kind":"group","id":"trade","amount":"7.44"}],"net":"42.17","tax":{"region":"DE","rate_pct":"19","amount":"8.01"},"total":"50.18","currency":"GBP","unit_price":"0.0843","imposition":{"n_up":21,"rotated":false,"run_sheets":24,"spoilage_sheets":1,"setup_sheets":8,"sheets":33},"production":{"business_days":3,"ship_date":"2026-12-02"},"catalog_version":"2026-11-28.1","valid_until":"2026-12-12T10:00:00Z"},"token":"pq1.local.eyJpZCI6IjAxOWFjOWExIn0.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl"}"#;

/// A profile-sized response, like `GET /api/v1/me`.
const ME: &str = r#"{"id":"019ac9a1-0000-7000-8000-000000000000","email":"bench@example.com","display_name":"Bench","roles":["customer"],"status":"active","email_verified":true,"two_factor_enabled":false,"created_at":"2026-11-28T10:00:00Z","preferences":{},"linked_providers":[],"version":1}"#;

/// Reads the bearer header (as a real handler must) and answers fixed bytes.
async fn me(headers: axum::http::HeaderMap) -> impl IntoResponse {
    let _token = headers.get(header::AUTHORIZATION);
    ([(header::CONTENT_TYPE, "application/json")], ME)
}

/// Reads the JSON body (as a real handler must) and answers fixed bytes.
async fn quote(axum::Json(_body): axum::Json<serde_json::Value>) -> impl IntoResponse {
    (
        axum::http::StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/json")],
        QUOTE,
    )
}

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
    let app = Router::new()
        .route("/api/v1/products/{id}", get(product))
        .route("/api/v1/quotes", axum::routing::post(quote))
        .route("/api/v1/me", get(me));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    axum::serve(listener, app).await
}
