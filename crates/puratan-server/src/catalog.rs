//! Catalog files: the pricing catalog (`puratan-pricing`'s normative JSON)
//! plus an optional `storefront` section with what the shop shows but does
//! not price: SKU, category, tags, description, templates, specifications,
//! stock.
//!
//! ```json
//! { "version": "2026-11-28.1", "currency": "EUR", "products": [ … ], …,
//!   "storefront": { "business-card": { "sku": "BC-STD", "category": "cards",
//!                   "tags": ["bestseller"], "stock": null } } }
//! ```
//!
//! Import validates everything before writing anything: a bad file changes
//! nothing and is reported with the JSON path of the first bad field.

use std::collections::{BTreeMap, HashSet};

use chrono::Utc;
use puratan_core::domain::{Category, Product, ProductId, Sku, Tag, Template};
use puratan_core::ports::{PageRequest, ProductFilter};
use puratan_core::{Error, ErrorKind};
use serde::Deserialize;
use serde_json::Value;

use crate::events::{CatalogChanged, publish_cache_updated};
use crate::state::App;

/// Refuse absurd files before parsing them.
pub const MAX_CATALOG_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid catalog at {path}: {message}")]
pub struct CatalogError {
    pub path: String,
    pub message: String,
}

fn bad(path: impl Into<String>, message: impl Into<String>) -> CatalogError {
    CatalogError {
        path: path.into(),
        message: message.into(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Toml,
}

impl Format {
    pub fn from_path(path: &std::path::Path) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("toml") => Format::Toml,
            _ => Format::Json,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StorefrontEntry {
    sku: Option<String>,
    category: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    templates: Vec<Template>,
    #[serde(default)]
    specifications: BTreeMap<String, String>,
    stock: Option<u64>,
    #[serde(default = "yes")]
    active: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug)]
pub struct ParsedCatalog {
    pub version: String,
    /// The pricing part, as validated by the engine.
    pub pricing: Value,
    pub products: Vec<Product>,
}

pub fn parse(bytes: &[u8], format: Format) -> Result<ParsedCatalog, CatalogError> {
    if bytes.len() > MAX_CATALOG_BYTES {
        return Err(bad(
            "$",
            format!("file is larger than {MAX_CATALOG_BYTES} bytes"),
        ));
    }
    let mut doc: Value = match format {
        Format::Json => {
            serde_json::from_slice(bytes).map_err(|e| bad("$", format!("not valid JSON: {e}")))?
        }
        Format::Toml => {
            let text = std::str::from_utf8(bytes).map_err(|_| bad("$", "not valid UTF-8"))?;
            toml::from_str(text)
                .map_err(|e| bad("$", format!("not valid TOML: {}", e.message())))?
        }
    };
    let obj = doc
        .as_object_mut()
        .ok_or_else(|| bad("$", "expected an object"))?;
    let storefront = obj
        .remove("storefront")
        .unwrap_or(Value::Object(Default::default()));

    puratan_pricing::Catalog::from_value(&doc)
        .map_err(|e| bad(e.field().unwrap_or("$").to_owned(), e.to_string()))?;
    let version = doc
        .get("version")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();

    let storefront: BTreeMap<String, StorefrontEntry> =
        serde_json::from_value(storefront).map_err(|e| bad("storefront", e.to_string()))?;
    let pricing_products = doc
        .get("products")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let known: HashSet<&str> = pricing_products
        .iter()
        .filter_map(|p| p.get("id").and_then(Value::as_str))
        .collect();
    if let Some(orphan) = storefront.keys().find(|k| !known.contains(k.as_str())) {
        return Err(bad(
            format!("storefront.{orphan}"),
            "no product with this id in the pricing catalog",
        ));
    }

    let mut products = Vec::with_capacity(pricing_products.len());
    let mut skus = HashSet::new();
    for (i, p) in pricing_products.iter().enumerate() {
        let id_str = p.get("id").and_then(Value::as_str).unwrap_or_default();
        let at = |field: &str| format!("storefront.{id_str}.{field}");
        let id = ProductId::parse(id_str)
            .map_err(|e| bad(format!("products[{i}].id"), e.to_string()))?;
        let entry = storefront.get(id_str);
        let sku_text = entry
            .and_then(|e| e.sku.clone())
            .unwrap_or_else(|| id_str.to_ascii_uppercase());
        let sku = Sku::parse(&sku_text).map_err(|e| bad(at("sku"), e.to_string()))?;
        if !skus.insert(sku.clone()) {
            return Err(bad(at("sku"), format!("SKU {sku} is used by two products")));
        }
        let category = Category::parse(
            entry
                .and_then(|e| e.category.as_deref())
                .unwrap_or("general"),
        )
        .map_err(|e| bad(at("category"), e.to_string()))?;
        let tags = entry
            .map(|e| {
                e.tags
                    .iter()
                    .map(|t| Tag::parse(t))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()
            .map_err(|e| bad(at("tags"), e.to_string()))?
            .unwrap_or_default();
        let name = p
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or(id_str)
            .to_owned();
        let product = Product {
            id,
            sku,
            name,
            description: entry.map(|e| e.description.clone()).unwrap_or_default(),
            category,
            tags,
            pricing_ref: id_str.to_owned(),
            templates: entry.map(|e| e.templates.clone()).unwrap_or_default(),
            specifications: entry.map(|e| e.specifications.clone()).unwrap_or_default(),
            stock: entry.and_then(|e| e.stock),
            active: entry.is_none_or(|e| e.active),
            version: 0,
            updated_at: Utc::now(),
        }
        .sanitize()
        .map_err(|e| match e {
            Error::Invalid { field, reason } => bad(at(&field), reason),
            other => bad(at(""), other.to_string()),
        })?;
        products.push(product);
    }
    Ok(ParsedCatalog {
        version,
        pricing: doc,
        products,
    })
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    pub version: String,
    pub created: usize,
    pub updated: usize,
}

/// Stores a parsed catalog: publishes the pricing document as the active
/// version, upserts every product, and tells every replica to drop its
/// cached copies and reload the active catalog.
pub async fn store(app: &App, parsed: ParsedCatalog) -> Result<ImportReport, Error> {
    // Second validation pass against the stored data, still before any
    // write: a SKU held by another product would fail half-way otherwise.
    for p in &parsed.products {
        match app.products.get_by_sku(&p.sku).await {
            Ok(existing) if existing.id != p.id => {
                return Err(Error::invalid(
                    format!("storefront.{}.sku", p.id),
                    format!("SKU {} already belongs to product {}", p.sku, existing.id),
                ));
            }
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    // The pricing document becomes a new immutable version and the active
    // one; older versions stay for quotes priced with them.
    let document =
        serde_json::to_string(&parsed.pricing).map_err(|e| Error::backend("catalog", e))?;
    let previous = app.pricing.current().map(|c| c.version().to_owned());
    app.pricing.publish(&parsed.version, &document).await?;

    let (mut created, mut updated) = (0, 0);
    let mut ids = Vec::new();
    for mut p in parsed.products {
        ids.push(p.id.to_string());
        match app.products.get(&p.id).await {
            Ok(existing) => {
                p.version = existing.version;
                app.products.update(p).await?;
                updated += 1;
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {
                app.products.insert(p).await?;
                created += 1;
            }
            Err(e) => return Err(e),
        }
    }
    let change = CatalogChanged {
        product_ids: ids,
        catalog_version: Some(parsed.version.clone()),
    };
    crate::events::invalidate(app, &change).await;
    if let Err(e) = publish_cache_updated(app, &change).await {
        // The data is stored; other replicas catch up when their cache TTL
        // expires.
        tracing::warn!(error = %e, "could not publish system.cache_updated");
    }
    crate::system_events::pricing_catalog_changed(app, previous, &parsed.version).await;
    Ok(ImportReport {
        version: parsed.version,
        created,
        updated,
    })
}

/// The stored catalog in import format (pricing document + storefront).
pub async fn export(app: &App) -> Result<Value, Error> {
    let mut doc: Value = match app.pricing.repo().active().await? {
        Some(v) => serde_json::from_str(&v.document).map_err(|e| Error::backend("catalog", e))?,
        None => serde_json::json!({}),
    };
    let mut storefront = serde_json::Map::new();
    let filter = ProductFilter {
        include_inactive: true,
        ..Default::default()
    };
    let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
    loop {
        let got = app.products.list(&filter, &page).await?;
        for p in &got.items {
            storefront.insert(
                p.id.to_string(),
                serde_json::json!({
                    "sku": p.sku, "category": p.category, "tags": p.tags, "description": p.description,
                    "templates": p.templates, "specifications": p.specifications, "stock": p.stock, "active": p.active,
                }),
            );
        }
        match got.next {
            Some(c) => page = PageRequest::first(PageRequest::MAX_LIMIT).after(Some(c)),
            None => break,
        }
    }
    if let Some(obj) = doc.as_object_mut() {
        obj.insert("storefront".into(), Value::Object(storefront));
    }
    Ok(doc)
}

/// One difference between two catalog documents.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Change {
    /// `added`, `removed` or `changed`.
    pub op: &'static str,
    /// JSON path; array items with an `id` (or `code`) are addressed by it,
    /// e.g. `products[business-card].setup_fee`.
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub from: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub to: Option<Value>,
}

/// A structural diff of two catalog documents, for reviewing a new price
/// list before (or after) it goes live.
pub fn diff(from: &Value, to: &Value) -> Vec<Change> {
    let mut out = Vec::new();
    diff_at(String::new(), from, to, &mut out);
    out
}

fn item_key(v: &Value) -> Option<String> {
    ["id", "code", "region"]
        .iter()
        .find_map(|k| v.get(k).and_then(Value::as_str).map(str::to_owned))
        .map(|id| {
            match v.get("category").and_then(Value::as_str) {
                // Tax rules are identified by region and category together.
                Some(cat) if v.get("region").is_some() => format!("{id}/{cat}"),
                _ => id,
            }
        })
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn diff_at(path: String, a: &Value, b: &Value, out: &mut Vec<Change>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                match y.get(k) {
                    Some(vb) => diff_at(join(&path, k), va, vb, out),
                    None => out.push(Change {
                        op: "removed",
                        path: join(&path, k),
                        from: Some(va.clone()),
                        to: None,
                    }),
                }
            }
            for (k, vb) in y {
                if !x.contains_key(k) {
                    out.push(Change {
                        op: "added",
                        path: join(&path, k),
                        from: None,
                        to: Some(vb.clone()),
                    });
                }
            }
        }
        (Value::Array(x), Value::Array(y))
            if x.iter().chain(y).all(|v| item_key(v).is_some())
                && !(x.is_empty() && y.is_empty()) =>
        {
            let keyed = |arr: &Vec<Value>| -> Vec<(String, Value)> {
                arr.iter()
                    .map(|v| (item_key(v).unwrap_or_default(), v.clone()))
                    .collect()
            };
            let (xs, ys) = (keyed(x), keyed(y));
            for (k, va) in &xs {
                match ys.iter().find(|(kb, _)| kb == k) {
                    Some((_, vb)) => diff_at(format!("{path}[{k}]"), va, vb, out),
                    None => out.push(Change {
                        op: "removed",
                        path: format!("{path}[{k}]"),
                        from: Some(va.clone()),
                        to: None,
                    }),
                }
            }
            for (k, vb) in &ys {
                if !xs.iter().any(|(ka, _)| ka == k) {
                    out.push(Change {
                        op: "added",
                        path: format!("{path}[{k}]"),
                        from: None,
                        to: Some(vb.clone()),
                    });
                }
            }
        }
        _ if a != b => out.push(Change {
            op: "changed",
            path,
            from: Some(a.clone()),
            to: Some(b.clone()),
        }),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diff_addresses_items_by_id() {
        let a = json!({"version": "1", "products": [{"id": "bc", "setup_fee": "5.00"}, {"id": "old"}],
                       "tax": {"rules": [{"region": "DE", "category": "standard", "rate_pct": "19"}]}});
        let b = json!({"version": "2", "products": [{"id": "bc", "setup_fee": "6.00"}, {"id": "new"}],
                       "tax": {"rules": [{"region": "DE", "category": "standard", "rate_pct": "19"}]}});
        let d = diff(&a, &b);
        let summary: Vec<(&str, &str)> = d.iter().map(|c| (c.op, c.path.as_str())).collect();
        assert_eq!(
            summary,
            [
                ("changed", "version"),
                ("changed", "products[bc].setup_fee"),
                ("removed", "products[old]"),
                ("added", "products[new]")
            ]
        );
        assert!(diff(&a, &a).is_empty());
    }
}
