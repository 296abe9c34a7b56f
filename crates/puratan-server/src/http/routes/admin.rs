//! Admin catalog management.
//!
//! Guarded by RBAC (`products:write`, i.e. the admin role) or the static
//! bootstrap token `admin.token` (≥ 32 characters, redacted in
//! `check-config`) for scripts and first-time setup.

use std::collections::BTreeMap;

use crate::http::extract::ApiPath;
use axum::Json;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chrono::Utc;
use puratan_core::domain::{Category, Product, ProductId, Sku, Tag, Template};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::products::ProductView;
use crate::catalog;
use crate::events::{CatalogChanged, invalidate, publish_cache_updated};
use crate::http::error::{ApiError, ErrorCode};
use crate::http::extract::ApiJson;
use crate::state::App;

/// Admits admins (an access token whose roles grant `products:write`) and,
/// when configured, the static bootstrap token (`admin.token`, for scripts
/// and for creating the first admin account).
pub async fn require_admin(State(app): State<App>, req: Request, next: Next) -> Response {
    use crate::auth::caller::Authentication;
    match req.extensions().get::<Authentication>() {
        Some(Authentication::Authenticated(caller)) => {
            return match caller.require(puratan_core::auth::rbac::Permission::ProductsWrite) {
                Ok(()) => next.run(req).await,
                Err(e) => e.into_response(),
            };
        }
        Some(Authentication::Rejected(_)) | Some(Authentication::Anonymous) | None => {}
    }
    let presented = crate::auth::caller::bearer(req.headers()).unwrap_or("");
    let token_ok = app.config.admin.token.as_deref().is_some_and(|expected| {
        puratan_core::hex::constant_time_eq(presented.as_bytes(), expected.as_bytes())
    });
    if !token_ok {
        if !presented.is_empty() {
            tracing::warn!(target: "audit", action = "admin.auth_failed", "admin credentials rejected");
        }
        return ApiError::new(ErrorCode::Unauthorized, "an admin access token is required")
            .into_response();
    }
    next.run(req).await
}

/// Body of `PUT /api/v1/admin/products/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductInput {
    pub sku: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub category: String,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Product id in the pricing catalog; defaults to the product id.
    pub pricing_ref: Option<String>,
    #[serde(default)]
    pub specifications: BTreeMap<String, String>,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub templates: Vec<Template>,
    /// Units in stock; absent = made to order.
    pub stock: Option<u64>,
    #[serde(default = "yes")]
    pub active: bool,
    /// The version you read; required to update an existing product
    /// (optimistic concurrency), absent to create.
    pub version: Option<u64>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AdminProduct {
    #[serde(flatten)]
    pub product: ProductView,
    pub version: u64,
    pub stock: Option<u64>,
    pub active: bool,
}

impl From<&Product> for AdminProduct {
    fn from(p: &Product) -> Self {
        Self {
            product: ProductView::from(p),
            version: p.version,
            stock: p.stock,
            active: p.active,
        }
    }
}

fn field<T>(name: &str, r: Result<T, puratan_core::Error>) -> Result<T, ApiError> {
    r.map_err(|e| {
        let reason = match e {
            puratan_core::Error::Invalid { reason, .. } => reason,
            other => other.to_string(),
        };
        ApiError::new(ErrorCode::ValidationFailed, format!("{name}: {reason}"))
            .with_details(serde_json::json!([{ "field": name, "message": reason }]))
    })
}

async fn changed(app: &App, ids: Vec<String>) {
    let change = CatalogChanged {
        product_ids: ids,
        catalog_version: None,
    };
    invalidate(app, &change).await;
    if let Err(e) = publish_cache_updated(app, &change).await {
        tracing::warn!(error = %e, "could not publish system.cache_updated; other replicas refresh on TTL");
    }
}

/// Create or update one product.
#[utoipa::path(put, path = "/api/v1/admin/products/{id}", tag = "admin", request_body = ProductInput,
    params(("id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, body = AdminProduct), (status = 201, body = AdminProduct),
              (status = 409, body = crate::http::error::ErrorBody), (status = 422, body = crate::http::error::ErrorBody)))]
pub async fn put_product(
    State(app): State<App>,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<ProductInput>,
) -> Result<Response, ApiError> {
    let id = field("id", ProductId::parse(&id))?;
    let product = Product {
        sku: field("sku", Sku::parse(&input.sku))?,
        name: input.name,
        description: input.description,
        category: field("category", Category::parse(&input.category))?,
        tags: input
            .tags
            .iter()
            .map(|t| field("tags", Tag::parse(t)))
            .collect::<Result<_, _>>()?,
        pricing_ref: input.pricing_ref.unwrap_or_else(|| id.to_string()),
        templates: input.templates,
        specifications: input.specifications,
        stock: input.stock,
        active: input.active,
        version: input.version.unwrap_or(0),
        updated_at: Utc::now(),
        id: id.clone(),
    };
    let product = field("product", product.sanitize())?;
    let (stored, status) = match input.version {
        None => (app.products.insert(product).await?, StatusCode::CREATED),
        Some(_) => (app.products.update(product).await?, StatusCode::OK),
    };
    changed(&app, vec![id.to_string()]).await;
    Ok((status, Json(AdminProduct::from(&stored))).into_response())
}

/// Delete one product.
#[utoipa::path(delete, path = "/api/v1/admin/products/{id}", tag = "admin", params(("id" = String, Path)),
    security(("admin_token" = [])), responses((status = 204), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn delete_product(
    State(app): State<App>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let id = ProductId::parse(&id).map_err(|_| ApiError::not_found("product"))?;
    app.products.delete(&id).await?;
    changed(&app, vec![id.to_string()]).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Read one product with its version (for a subsequent update).
#[utoipa::path(get, path = "/api/v1/admin/products/{id}", tag = "admin", params(("id" = String, Path)),
    security(("admin_token" = [])), responses((status = 200, body = AdminProduct)))]
pub async fn get_product(
    State(app): State<App>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<AdminProduct>, ApiError> {
    let id = ProductId::parse(&id).map_err(|_| ApiError::not_found("product"))?;
    Ok(Json(AdminProduct::from(&app.products.get(&id).await?)))
}

/// Import a whole catalog file (JSON). Invalid files change nothing.
#[utoipa::path(post, path = "/api/v1/admin/catalog", tag = "admin", request_body(content = Object, content_type = "application/json"),
    security(("admin_token" = [])), responses((status = 200), (status = 422, body = crate::http::error::ErrorBody)))]
pub async fn import_catalog(State(app): State<App>, body: Bytes) -> Result<Response, ApiError> {
    let parsed = catalog::parse(&body, catalog::Format::Json).map_err(|e| {
        ApiError::new(ErrorCode::InvalidCatalog, e.message.clone())
            .with_details(serde_json::json!({ "path": e.path }))
    })?;
    let report = catalog::store(&app, parsed).await.map_err(|e| match e {
        puratan_core::Error::Invalid { field, reason } => {
            ApiError::new(ErrorCode::InvalidCatalog, reason)
                .with_details(serde_json::json!({ "path": field }))
        }
        other => other.into(),
    })?;
    Ok(Json(report).into_response())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VersionView {
    pub version: String,
    pub created_at: chrono::DateTime<Utc>,
    pub active: bool,
}

/// Pricing catalog versions, newest first.
#[utoipa::path(get, path = "/api/v1/admin/catalog/versions", tag = "admin", security(("admin_token" = [])),
    responses((status = 200, body = Vec<VersionView>)))]
pub async fn list_versions(State(app): State<App>) -> Result<Json<Vec<VersionView>>, ApiError> {
    let versions = app.pricing.repo().list(200).await?;
    Ok(Json(
        versions
            .into_iter()
            .map(|v| VersionView {
                version: v.version,
                created_at: v.created_at,
                active: v.active,
            })
            .collect(),
    ))
}

/// One stored pricing catalog version, as imported.
#[utoipa::path(get, path = "/api/v1/admin/catalog/versions/{version}", tag = "admin", params(("version" = String, Path)),
    security(("admin_token" = [])), responses((status = 200, body = Object), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn get_version(
    State(app): State<App>,
    ApiPath(version): ApiPath<String>,
) -> Result<Response, ApiError> {
    let v = app.pricing.repo().get(&version).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], v.document).into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DiffQuery {
    pub from: String,
    pub to: String,
}

/// Structural diff between two stored versions.
#[utoipa::path(get, path = "/api/v1/admin/catalog/diff", tag = "admin", params(DiffQuery), security(("admin_token" = [])),
    responses((status = 200, body = Vec<catalog::Change>)))]
pub async fn diff_versions(
    State(app): State<App>,
    crate::http::extract::ApiQuery(q): crate::http::extract::ApiQuery<DiffQuery>,
) -> Result<Json<Vec<catalog::Change>>, ApiError> {
    let load = |v: String| {
        let app = app.clone();
        async move {
            let doc = app.pricing.repo().get(&v).await?;
            serde_json::from_str::<serde_json::Value>(&doc.document).map_err(ApiError::internal)
        }
    };
    let (a, b) = (load(q.from).await?, load(q.to).await?);
    Ok(Json(catalog::diff(&a, &b)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackRequest {
    pub version: String,
}

/// Make an older pricing version active again (every replica reloads).
/// Quotes already issued keep the version they were priced with.
#[utoipa::path(post, path = "/api/v1/admin/catalog/rollback", tag = "admin", request_body = RollbackRequest,
    security(("admin_token" = [])), responses((status = 200, body = Vec<VersionView>), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn rollback(
    State(app): State<App>,
    ApiJson(req): ApiJson<RollbackRequest>,
) -> Result<Json<Vec<VersionView>>, ApiError> {
    let previous = app.pricing.current().map(|c| c.version().to_owned());
    app.pricing.rollback(&req.version).await?;
    let change = CatalogChanged {
        product_ids: Vec::new(),
        catalog_version: Some(req.version.clone()),
    };
    if let Err(e) = publish_cache_updated(&app, &change).await {
        tracing::warn!(error = %e, "could not publish system.cache_updated after rollback");
    }
    crate::system_events::pricing_catalog_changed(&app, previous, &req.version).await;
    tracing::info!(target: "audit", action = "catalog.rolled_back", version = %req.version);
    list_versions(State(app)).await
}
