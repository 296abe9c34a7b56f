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
use axum::http::{HeaderName, HeaderValue, Method};
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
        routes::admin::list_versions, routes::admin::get_version, routes::admin::diff_versions, routes::admin::rollback,
        routes::auth::register, routes::auth::verify_email, routes::auth::login, routes::auth::login_2fa, routes::auth::refresh,
        routes::auth::logout, routes::auth::logout_all, routes::auth::change_password, routes::auth::request_reset, routes::auth::confirm_reset,
        routes::auth::totp_enrol, routes::auth::totp_confirm, routes::auth::totp_disable, routes::auth::recovery_codes, routes::auth::jwks, routes::auth::oauth_start, routes::auth::oauth_callback,
        routes::me::get_me, routes::me::patch_me, routes::me::list_sessions, routes::me::revoke_session, routes::me::history,
        routes::notifications::list, routes::notifications::mark_read,
        routes::admin_users::list, routes::admin_users::get, routes::admin_users::set_status, routes::admin_users::set_roles, routes::admin_users::message,
        routes::uploads::options, routes::uploads::create, routes::uploads::head, routes::uploads::patch, routes::uploads::delete, routes::uploads::method_override,
        routes::files::get, routes::files::list, routes::files::report, routes::files::preview,
        routes::files::rerun_preflight,
        routes::staff_jobs::claim, routes::staff_jobs::list, routes::staff_jobs::get, routes::staff_jobs::release,
        routes::staff_jobs::complete, routes::staff_jobs::record_qc, routes::staff_jobs::sync,
        routes::orders::checkout, routes::orders::list, routes::orders::get, routes::orders::transition,
        routes::staff_orders::queue, routes::staff_orders::search, routes::staff_orders::transition, routes::staff_orders::priority, routes::staff_orders::bulk_transitions,
        routes::live::create_ticket, routes::live::ws, routes::live::sse,
        routes::order_facts::capture_payment, routes::order_facts::send_proof, routes::order_facts::decide_proof, routes::order_facts::ship, routes::order_facts::tracking_event,
        routes::cart::get, routes::cart::add_line, routes::cart::update_line, routes::cart::remove_line,
        routes::cart::clear, routes::cart::checkout, routes::cart::reorder),
    modifiers(&SecurityAddon),
    components(schemas(error::ErrorBody)),
    tags((name = "catalog", description = "Public product catalog"), (name = "quotes", description = "Instant, signed prices"), (name = "operations", description = "Health and metrics"), (name = "admin", description = "Catalog and customer management (admin role, or the bootstrap admin token)"), (name = "auth", description = "Registration, login, 2FA, tokens"), (name = "account", description = "The caller's profile and sessions"), (name = "orders", description = "Checkout, my orders, workflow transitions; the staff production queue"), (name = "live", description = "Live order and file updates: one-time tickets, WebSocket, Server-Sent Events"), (name = "uploads", description = "Artwork uploads: the tus 1.0 resumable upload protocol (creation, creation-with-upload, termination, checksum sha256, expiration)"))
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
            c.add_security_scheme(
                "bearer",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("JWT")
                        .build(),
                ),
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

/// Account routes: login and friends are rate class `sensitive` (tight,
/// per IP, fail closed); the rest `authenticated` (per user).
fn auth_routes(app: &App) -> Router<App> {
    use axum::routing::{delete, post};
    use routes::auth as a;
    use routes::me;
    Router::new()
        .route("/api/v1/auth/register", post(a::register))
        .route("/api/v1/auth/verify-email", post(a::verify_email))
        .route("/api/v1/auth/login", post(a::login))
        .route("/api/v1/auth/login/2fa", post(a::login_2fa))
        .route("/api/v1/auth/refresh", post(a::refresh))
        .route("/api/v1/auth/logout", post(a::logout))
        .route("/api/v1/auth/logout-all", post(a::logout_all))
        .route("/api/v1/auth/password", post(a::change_password))
        .route("/api/v1/auth/password-reset", post(a::request_reset))
        .route(
            "/api/v1/auth/password-reset/confirm",
            post(a::confirm_reset),
        )
        .route("/api/v1/auth/2fa/enrol", post(a::totp_enrol))
        .route("/api/v1/auth/2fa/confirm", post(a::totp_confirm))
        .route("/api/v1/auth/2fa/disable", post(a::totp_disable))
        .route("/api/v1/auth/2fa/recovery-codes", post(a::recovery_codes))
        .route("/.well-known/jwks.json", get(a::jwks))
        .route("/api/v1/auth/oauth/{provider}/start", get(a::oauth_start))
        .route(
            "/api/v1/auth/oauth/{provider}/callback",
            get(a::oauth_callback),
        )
        .route("/api/v1/me", get(me::get_me).patch(me::patch_me))
        .route("/api/v1/me/sessions", get(me::list_sessions))
        .route("/api/v1/me/sessions/{id}", delete(me::revoke_session))
        .route("/api/v1/me/notifications", get(routes::notifications::list))
        .route(
            "/api/v1/me/notifications/{id}/read",
            post(routes::notifications::mark_read),
        )
        .route("/api/v1/me/history", get(me::history))
        .route(
            "/api/v1/orders",
            post(routes::orders::checkout).get(routes::orders::list),
        )
        .route("/api/v1/orders/{id}", get(routes::orders::get))
        .route(
            "/api/v1/orders/{id}/transitions",
            post(routes::orders::transition),
        )
        .route("/api/v1/staff/queue", get(routes::staff_orders::queue))
        .route("/api/v1/staff/orders", get(routes::staff_orders::search))
        .route(
            "/api/v1/staff/orders/{id}/payment",
            post(routes::order_facts::capture_payment),
        )
        .route(
            "/api/v1/staff/orders/{id}/proofs",
            post(routes::order_facts::send_proof),
        )
        .route(
            "/api/v1/orders/{id}/proof-decision",
            post(routes::order_facts::decide_proof),
        )
        .route(
            "/api/v1/staff/orders/bulk-transitions",
            post(routes::staff_orders::bulk_transitions),
        )
        .route(
            "/api/v1/staff/orders/{id}/shipment",
            post(routes::order_facts::ship),
        )
        .route(
            "/api/v1/staff/orders/{id}/tracking-events",
            post(routes::order_facts::tracking_event),
        )
        .route(
            "/api/v1/cart",
            get(routes::cart::get).delete(routes::cart::clear),
        )
        .route("/api/v1/cart/lines", post(routes::cart::add_line))
        .route(
            "/api/v1/cart/lines/{line_id}",
            axum::routing::patch(routes::cart::update_line).delete(routes::cart::remove_line),
        )
        .route("/api/v1/cart/checkout", post(routes::cart::checkout))
        .route("/api/v1/orders/{id}/reorder", post(routes::cart::reorder))
        .route("/api/v1/live/tickets", post(routes::live::create_ticket))
        .route("/api/v1/ws", get(routes::live::ws))
        .route("/api/v1/live/events", get(routes::live::sse))
        .route(
            "/api/v1/staff/orders/{id}/transitions",
            post(routes::staff_orders::transition),
        )
        .route(
            "/api/v1/staff/orders/{id}/priority",
            post(routes::staff_orders::priority),
        )
        .route("/api/v1/staff/jobs", get(routes::staff_jobs::list))
        .route("/api/v1/staff/jobs/claim", post(routes::staff_jobs::claim))
        .route(
            "/api/v1/staff/jobs/sync/{order_id}",
            post(routes::staff_jobs::sync),
        )
        .route("/api/v1/staff/jobs/{id}", get(routes::staff_jobs::get))
        .route(
            "/api/v1/staff/jobs/{id}/release",
            post(routes::staff_jobs::release),
        )
        .route(
            "/api/v1/staff/jobs/{id}/complete",
            post(routes::staff_jobs::complete),
        )
        .route(
            "/api/v1/staff/jobs/{id}/qc",
            post(routes::staff_jobs::record_qc),
        )
        .route("/api/v1/files", get(routes::files::list))
        .route("/api/v1/files/{id}", get(routes::files::get))
        .route("/api/v1/files/{id}/report", get(routes::files::report))
        .route(
            "/api/v1/files/{id}/previews/{name}",
            get(routes::files::preview),
        )
        .route(
            "/api/v1/staff/files/{id}/preflight",
            post(routes::files::rerun_preflight),
        )
        .route("/api/v1/admin/users", get(routes::admin_users::list))
        .route("/api/v1/admin/users/{id}", get(routes::admin_users::get))
        .route(
            "/api/v1/admin/users/{id}/status",
            post(routes::admin_users::set_status),
        )
        .route(
            "/api/v1/admin/users/{id}/roles",
            axum::routing::put(routes::admin_users::set_roles),
        )
        .route(
            "/api/v1/admin/users/{id}/message",
            post(routes::admin_users::message),
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

/// The tus endpoint (rate class `upload`): bodies up to `uploads.max_chunk`,
/// `Tus-Resumable` on every answer.
fn upload_routes(app: &App) -> Router<App> {
    use axum::routing::{head, post};
    use routes::uploads as u;
    Router::new()
        .route("/files/", post(u::create).options(u::options))
        .route(
            "/files/{id}",
            head(u::head)
                .patch(u::patch)
                .delete(u::delete)
                .post(u::method_override),
        )
        .layer(axum::middleware::map_response(u::tus_resumable))
        .layer(DefaultBodyLimit::max(app.uploads.config.body_limit()))
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
        .merge(auth_routes(&app))
        .merge(upload_routes(&app))
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
                Method::HEAD,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                axum::http::header::CONTENT_TYPE,
                axum::http::header::AUTHORIZATION,
                // tus request headers (browser uploads to /files/).
                HeaderName::from_static("tus-resumable"),
                HeaderName::from_static("upload-length"),
                HeaderName::from_static("upload-offset"),
                HeaderName::from_static("upload-metadata"),
                HeaderName::from_static("upload-checksum"),
                HeaderName::from_static("upload-defer-length"),
                HeaderName::from_static("upload-concat"),
                HeaderName::from_static("x-http-method-override"),
                HeaderName::from_static("x-requested-with"),
            ])
            .expose_headers([
                HeaderName::from_static("ratelimit"),
                HeaderName::from_static("ratelimit-policy"),
                HeaderName::from_static(request_id::HEADER),
                // tus response headers a browser client must read.
                axum::http::header::LOCATION,
                HeaderName::from_static("upload-offset"),
                HeaderName::from_static("upload-length"),
                HeaderName::from_static("upload-metadata"),
                HeaderName::from_static("upload-expires"),
                HeaderName::from_static("tus-resumable"),
                HeaderName::from_static("tus-version"),
                HeaderName::from_static("tus-extension"),
                HeaderName::from_static("tus-max-size"),
                HeaderName::from_static("tus-checksum-algorithm"),
                // The stored file's record, on the request that completed
                // an upload (intake).
                HeaderName::from_static("puratan-file-id"),
            ]),
    )
}
