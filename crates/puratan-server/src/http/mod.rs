//! The HTTP API: routes grouped by class (body limits, guards), wrapped in
//! the gateway (request id, per-class rate limit, time limit, metrics,
//! access log — `gateway.rs`) → panic guard → CORS; gzip on the routes
//! with large bodies.

pub mod error;
pub mod extract;
pub mod gateway;
pub mod request_id;
pub mod routes;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Method};
use axum::middleware::from_fn_with_state;
use axum::response::IntoResponse;
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{
    DefaultPredicate, NotForContentType, Predicate, SizeAbove,
};
use tower_http::cors::CorsLayer;
use utoipa::OpenApi;
use utoipa_scalar::{Scalar, Servable};

use self::error::{ApiError, ErrorCode};
use crate::state::App;

#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "Puratan API", description = "Web-to-print: catalog, quotes, orders, files."),
    paths(routes::health::healthz, routes::health::readyz, routes::health::metrics, routes::products::list, routes::products::get,
        routes::quotes::create, routes::quotes::table, routes::quotes::verify,
        routes::admin::put_product, routes::admin::get_product, routes::admin::delete_product, routes::admin::import_catalog,
        routes::admin::list_versions, routes::admin::get_version, routes::admin::diff_versions, routes::admin::rollback),
    modifiers(&SecurityAddon),
    components(schemas(error::ErrorBody)),
    tags((name = "catalog", description = "Public product catalog"), (name = "quotes", description = "Instant, signed prices"), (name = "operations", description = "Health and metrics"), (name = "admin", description = "Catalog management (admin token)"))
)]
pub struct ApiDoc;

#[derive(Debug)]
struct SecurityAddon;

impl utoipa::Modify for SecurityAddon {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        if let Some(c) = doc.components.as_mut() {
            c.add_security_scheme(
                "admin_token",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// Public routes (rate class `public`, see `gateway::Tier::for_route`).
fn public_routes(app: &App) -> Router<App> {
    Router::new()
        .route(
            "/api/v1/products",
            get(routes::products::list).layer(compression()),
        )
        .route("/api/v1/products/{id}", get(routes::products::get))
        .route(
            "/api/v1/quotes",
            axum::routing::post(routes::quotes::create),
        )
        .route(
            "/api/v1/quotes/table",
            axum::routing::post(routes::quotes::table).layer(compression()),
        )
        .route(
            "/api/v1/quotes/verify",
            axum::routing::post(routes::quotes::verify),
        )
        .layer(DefaultBodyLimit::max(app.config.server.json_body_limit))
}

/// Admin routes (rate class `admin`): larger bodies (catalog files), token guard.
fn admin_routes(app: &App) -> Router<App> {
    use axum::routing::{post, put};
    Router::new()
        .route(
            "/api/v1/admin/products/{id}",
            put(routes::admin::put_product)
                .get(routes::admin::get_product)
                .delete(routes::admin::delete_product),
        )
        .route("/api/v1/admin/catalog", post(routes::admin::import_catalog))
        .route(
            "/api/v1/admin/catalog/versions",
            get(routes::admin::list_versions),
        )
        .route(
            "/api/v1/admin/catalog/versions/{version}",
            get(routes::admin::get_version),
        )
        .route(
            "/api/v1/admin/catalog/diff",
            get(routes::admin::diff_versions),
        )
        .route(
            "/api/v1/admin/catalog/rollback",
            post(routes::admin::rollback),
        )
        .route_layer(from_fn_with_state(
            app.clone(),
            routes::admin::require_admin,
        ))
        .layer(DefaultBodyLimit::max(app.config.server.admin_body_limit))
}

/// Operations endpoints are not rate limited: probes must always answer.
fn operations_routes() -> Router<App> {
    Router::new()
        .route("/healthz", get(routes::health::healthz))
        .route("/readyz", get(routes::health::readyz))
        .route(
            "/metrics",
            get(routes::health::metrics).layer(compression()),
        )
        .route(
            "/openapi.json",
            get(|| async { axum::Json(openapi()) }).layer(compression()),
        )
}

/// gzip for the routes whose bodies can be large. Applied per route, not
/// globally: on small hot responses (one product, one quote) the layer's
/// per-request cost buys nothing.
fn compression() -> CompressionLayer<impl Predicate> {
    CompressionLayer::new().compress_when(
        SizeAbove::new(1024)
            .and(NotForContentType::GRPC)
            .and(DefaultPredicate::new()),
    )
}

pub fn router(app: App) -> Router {
    let mut router = Router::new()
        .merge(public_routes(&app))
        .merge(admin_routes(&app))
        .merge(operations_routes())
        .merge(Scalar::with_url("/docs", openapi()))
        .fallback(|| async { ApiError::new(ErrorCode::NotFound, "no such route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                ErrorCode::MethodNotAllowed,
                "method not allowed on this route",
            )
        });
    if let Some(cors) = cors(&app) {
        router = router.layer(cors);
    }
    router
        .layer(CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                ApiError::internal("handler panicked").into_response()
            },
        ))
        .layer(from_fn_with_state(app.clone(), gateway::gateway))
        .with_state(app)
}

fn cors(app: &App) -> Option<CorsLayer> {
    let origins: Vec<HeaderValue> = app
        .config
        .server
        .cors_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(origins)
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                axum::http::header::CONTENT_TYPE,
                axum::http::header::AUTHORIZATION,
            ])
            .expose_headers([
                axum::http::HeaderName::from_static("ratelimit"),
                axum::http::HeaderName::from_static("ratelimit-policy"),
                axum::http::HeaderName::from_static(request_id::HEADER),
            ]),
    )
}
