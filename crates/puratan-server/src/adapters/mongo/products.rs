//! [`ProductRepo`] on the `products` collection.

use async_trait::async_trait;
use futures::TryStreamExt as _;
use mongodb::Collection;
use mongodb::bson::{Bson, Document, doc};
use puratan_core::domain::{Product, ProductId, Sku};
use puratan_core::ports::{Page, PageRequest, ProductFilter, ProductRepo};
use puratan_core::{Error, Result};

use super::error::mapper;
use super::{from_body, get_u64, get_version, overfetch_limit, record_projection, to_body, to_i64};

const ENTITY: &str = "product";

/// Products keyed by their slug id.
#[derive(Debug, Clone)]
pub struct MongoProductRepo {
    coll: Collection<Document>,
}

impl MongoProductRepo {
    pub(crate) fn new(coll: Collection<Document>) -> Self {
        Self { coll }
    }

    /// The typed, queried fields of a product (everything but `_id` and
    /// `version`), plus its body.
    fn fields(product: &Product) -> Result<Document> {
        let stock = match product.stock {
            Some(n) => Bson::Int64(to_i64("stock", n)?),
            None => Bson::Null,
        };
        let tags: Vec<&str> = product.tags.iter().map(|t| t.as_str()).collect();
        Ok(doc! {
            "sku": product.sku.as_str(),
            "category": product.category.as_str(),
            "tags": tags,
            "active": product.active,
            "stock": stock,
            "doc": to_body(product)?,
        })
    }

    fn read(stored: &Document) -> Result<Product> {
        let mut p: Product = from_body(ENTITY, stored)?;
        p.version = get_version(ENTITY, stored)?;
        p.stock = get_u64(ENTITY, stored, "stock")?;
        Ok(p)
    }

    async fn find_one(&self, filter: Document) -> Result<Product> {
        let found = self
            .coll
            .find_one(filter)
            .projection(record_projection())
            .await
            .map_err(mapper(ENTITY))?;
        match found {
            Some(d) => Self::read(&d),
            None => Err(Error::NotFound { entity: ENTITY }),
        }
    }
}

#[async_trait]
impl ProductRepo for MongoProductRepo {
    async fn insert(&self, mut product: Product) -> Result<Product> {
        product.version = 1;
        let mut d = doc! { "_id": product.id.as_str(), "version": 1_i64 };
        d.extend(Self::fields(&product)?);
        self.coll.insert_one(d).await.map_err(mapper(ENTITY))?;
        Ok(product)
    }

    async fn get(&self, id: &ProductId) -> Result<Product> {
        self.find_one(doc! { "_id": id.as_str() }).await
    }

    async fn get_by_sku(&self, sku: &Sku) -> Result<Product> {
        self.find_one(doc! { "sku": sku.as_str() }).await
    }

    async fn update(&self, mut product: Product) -> Result<Product> {
        let expected = product.version;
        // The stored body carries the version it is written at.
        product.version = expected.saturating_add(1);
        super::update_versioned(&self.coll, ENTITY, product.id.as_str(), expected, || {
            Self::fields(&product)
        })
        .await?;
        Ok(product)
    }

    async fn delete(&self, id: &ProductId) -> Result<()> {
        let result = self
            .coll
            .delete_one(doc! { "_id": id.as_str() })
            .await
            .map_err(mapper(ENTITY))?;
        if result.deleted_count == 0 {
            return Err(Error::NotFound { entity: ENTITY });
        }
        Ok(())
    }

    /// Products by id. Every listing query names `active` (an admin view
    /// runs one query per value and merges the two by id), so each query is
    /// pure equality plus an `_id` range on one of the `{…, active, _id}`
    /// indexes: MongoDB scans it in order and stops at the limit, and
    /// SecantusDB, whose planner uses an index only when it covers every
    /// predicate of the query, uses it too instead of a collection scan.
    async fn list(&self, filter: &ProductFilter, page: &PageRequest) -> Result<Page<Product>> {
        let after: Option<String> = page.after.as_ref().map(|c| c.decode()).transpose()?;
        let actives: &[bool] = if filter.include_inactive {
            &[true, false]
        } else {
            &[true]
        };
        let mut items = Vec::new();
        for &active in actives {
            let mut query = Document::new();
            if let Some(category) = &filter.category {
                query.insert("category", category.as_str());
            }
            if let Some(tag) = &filter.tag {
                // Equality on an array field matches any element.
                query.insert("tags", tag.as_str());
            }
            query.insert("active", active);
            if let Some(after) = &after {
                query.insert("_id", doc! { "$gt": after.as_str() });
            }
            let docs: Vec<Document> = self
                .coll
                .find(query)
                .sort(doc! { "_id": 1 })
                .limit(overfetch_limit(page.size()))
                .projection(record_projection())
                .await
                .map_err(mapper(ENTITY))?
                .try_collect()
                .await
                .map_err(mapper(ENTITY))?;
            for d in &docs {
                items.push(Self::read(d)?);
            }
        }
        // Ids are ASCII, so byte order here is MongoDB's string order.
        items.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(Page::from_overfetch(items, page.size(), |p| {
            p.id.to_string()
        }))
    }
}
