//! The public product catalog, cached cache-aside through the Cache port.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::http::extract::ApiPath;
use axum::extract::State;
use bytes::Bytes;
use puratan_core::domain::{Category, Product, ProductId, Tag};
use puratan_core::ports::{Cursor, PageRequest, ProductFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::error::ApiError;
use crate::http::extract::ApiQuery;
use crate::state::App;

/// A catalog item as the storefront sees it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProductView {
    pub id: String,
    pub sku: String,
    pub name: String,
    pub description: String,
    pub category: String,
    pub tags: Vec<String>,
    /// Product id in the pricing catalog (`POST /api/v1/quotes`).
    pub pricing_ref: String,
    pub specifications: BTreeMap<String, String>,
    pub templates: Vec<TemplateView>,
    /// `in_stock`, `out_of_stock` or `made_to_order`.
    pub availability: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TemplateView {
    pub id: String,
    pub name: String,
}

impl From<&Product> for ProductView {
    fn from(p: &Product) -> Self {
        Self {
            id: p.id.to_string(),
            sku: p.sku.to_string(),
            name: p.name.clone(),
            description: p.description.clone(),
            category: p.category.to_string(),
            tags: p.tags.iter().map(ToString::to_string).collect(),
            pricing_ref: p.pricing_ref.clone(),
            specifications: p.specifications.clone(),
            templates: p
                .templates
                .iter()
                .map(|t| TemplateView {
                    id: t.id.clone(),
                    name: t.name.clone(),
                })
                .collect(),
            availability: match p.stock {
                None => "made_to_order",
                Some(0) => "out_of_stock",
                Some(_) => "in_stock",
            }
            .to_owned(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProductPage {
    pub items: Vec<ProductView>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only this category.
    pub category: Option<String>,
    /// Only products with this tag.
    pub tag: Option<String>,
    /// Page size, 1–100 (default 20).
    pub limit: Option<u32>,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

pub fn product_key(id: &str) -> String {
    format!("product:{id}")
}

fn ttl(app: &App) -> Duration {
    Duration::from_secs(app.config.catalog.cache_ttl_secs)
}

/// Cache read that degrades to a miss when the cache is down: the catalog
/// keeps being served from the repository.
async fn cache_get(app: &App, key: &str) -> Option<Bytes> {
    match app.cache.get(key).await {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(error = %e, "cache unavailable; reading through");
            None
        }
    }
}

async fn cache_set(app: &App, key: &str, body: Bytes) {
    if let Err(e) = app.cache.set(key, body, ttl(app)).await {
        tracing::warn!(error = %e, "cache unavailable; not caching");
    }
}

fn json_response(body: Bytes) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

/// List products (paged, optionally by category or tag).
#[utoipa::path(get, path = "/api/v1/products", tag = "catalog", params(ListQuery),
    responses((status = 200, body = ProductPage), (status = 400, body = crate::http::error::ErrorBody)))]
pub async fn list(
    State(app): State<App>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<axum::response::Response, ApiError> {
    let category = q
        .category
        .as_deref()
        .map(Category::parse)
        .transpose()
        .map_err(|_| ApiError::invalid_param("category", "unknown category format"))?;
    let tag = q
        .tag
        .as_deref()
        .map(Tag::parse)
        .transpose()
        .map_err(|_| ApiError::invalid_param("tag", "unknown tag format"))?;
    let limit = q.limit.unwrap_or(PageRequest::DEFAULT_LIMIT);
    if !(1..=PageRequest::MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid_param(
            "limit",
            "must be between 1 and 100",
        ));
    }
    if q.cursor.as_ref().is_some_and(|c| c.len() > 512) {
        return Err(ApiError::invalid_param(
            "cursor",
            "not a cursor returned by this API",
        ));
    }
    let key = format!(
        "products:g{}:{}:{}:{}:{}",
        app.generation(),
        category.as_ref().map_or("", |c| c.as_str()),
        tag.as_ref().map_or("", |t| t.as_str()),
        limit,
        q.cursor.as_deref().unwrap_or("")
    );
    if let Some(hit) = cache_get(&app, &key).await {
        return Ok(json_response(hit));
    }
    let filter = ProductFilter {
        category,
        tag,
        include_inactive: false,
    };
    let page = PageRequest::first(limit).after(q.cursor.map(Cursor::from_client));
    let found = app
        .products
        .list(&filter, &page)
        .await
        .map_err(|e| match e.kind() {
            puratan_core::ErrorKind::Invalid => {
                ApiError::invalid_param("cursor", "not a cursor returned by this API")
            }
            _ => e.into(),
        })?;
    let body = ProductPage {
        items: found.items.iter().map(ProductView::from).collect(),
        next_cursor: found.next.map(|c| c.as_str().to_owned()),
    };
    let bytes = Bytes::from(serde_json::to_vec(&body).map_err(ApiError::internal)?);
    cache_set(&app, &key, bytes.clone()).await;
    Ok(json_response(bytes))
}

/// One product.
#[utoipa::path(get, path = "/api/v1/products/{id}", tag = "catalog",
    params(("id" = String, Path, description = "Product id, e.g. business-card")),
    responses((status = 200, body = ProductView), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn get(
    State(app): State<App>,
    ApiPath(id): ApiPath<String>,
) -> Result<axum::response::Response, ApiError> {
    let id = ProductId::parse(&id).map_err(|_| ApiError::not_found("product"))?;
    let key = product_key(id.as_str());
    if let Some(hit) = cache_get(&app, &key).await {
        return Ok(json_response(hit));
    }
    let p = app.products.get(&id).await?;
    if !p.active {
        return Err(ApiError::not_found("product"));
    }
    let bytes =
        Bytes::from(serde_json::to_vec(&ProductView::from(&p)).map_err(ApiError::internal)?);
    cache_set(&app, &key, bytes.clone()).await;
    Ok(json_response(bytes))
}
