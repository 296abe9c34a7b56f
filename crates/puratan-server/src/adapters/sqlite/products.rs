use async_trait::async_trait;
use puratan_core::domain::{Product, ProductId, Sku};
use puratan_core::ports::{Page, PageRequest, ProductFilter, ProductRepo};
use puratan_core::{Error, Result};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::{SqliteStore, decode, encode, map, stale_or_missing};

const E: &str = "product";

#[derive(Debug)]
pub(super) struct SqliteProducts(pub(super) SqliteStore);

fn row_to_product(doc: String, version: i64, stock: Option<i64>) -> Result<Product> {
    let mut p: Product = decode(&doc)?;
    p.version = u64::try_from(version).unwrap_or_default();
    p.stock = stock.and_then(|s| u64::try_from(s).ok());
    Ok(p)
}

fn fetch(conn: &Connection, sql: &str, key: &str) -> Result<Product> {
    let row = conn
        .query_row(sql, [key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()
        .map_err(|e| map(E, e))?;
    let (doc, version, stock) = row.ok_or(Error::NotFound { entity: E })?;
    row_to_product(doc, version, stock)
}

fn i64_of(n: u64) -> Result<i64> {
    i64::try_from(n).map_err(|_| Error::invalid("stock", "too large"))
}

fn write_tags(tx: &Transaction<'_>, p: &Product) -> Result<()> {
    tx.execute(
        "DELETE FROM product_tags WHERE product_id = ?1",
        [p.id.as_str()],
    )
    .map_err(|e| map(E, e))?;
    let mut stmt = tx
        .prepare_cached("INSERT OR IGNORE INTO product_tags (tag, product_id) VALUES (?1, ?2)")
        .map_err(|e| map(E, e))?;
    for t in &p.tags {
        stmt.execute([t.as_str(), p.id.as_str()])
            .map_err(|e| map(E, e))?;
    }
    Ok(())
}

#[async_trait]
impl ProductRepo for SqliteProducts {
    async fn insert(&self, mut product: Product) -> Result<Product> {
        product.version = 1;
        self.0
            .write(move |conn| {
                let tx = conn.transaction().map_err(|e| map(E, e))?;
                let stock = product.stock.map(i64_of).transpose()?;
                tx.execute(
                    "INSERT INTO products (id, sku, category, active, stock, version, doc)
                     VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6)",
                    params![
                        product.id.as_str(),
                        product.sku.as_str(),
                        product.category.as_str(),
                        product.active,
                        stock,
                        encode(&product)?
                    ],
                )
                .map_err(|e| map(E, e))?;
                write_tags(&tx, &product)?;
                tx.commit().map_err(|e| map(E, e))?;
                Ok(product)
            })
            .await
    }

    async fn get(&self, id: &ProductId) -> Result<Product> {
        let id = id.to_string();
        self.0
            .read(move |c| {
                fetch(
                    c,
                    "SELECT doc, version, stock FROM products WHERE id = ?1",
                    &id,
                )
            })
            .await
    }

    async fn get_by_sku(&self, sku: &Sku) -> Result<Product> {
        let sku = sku.to_string();
        self.0
            .read(move |c| {
                fetch(
                    c,
                    "SELECT doc, version, stock FROM products WHERE sku = ?1",
                    &sku,
                )
            })
            .await
    }

    async fn update(&self, mut product: Product) -> Result<Product> {
        self.0
            .write(move |conn| {
                let tx = conn.transaction().map_err(|e| map(E, e))?;
                let expected = i64_of(product.version)?;
                product.version += 1;
                let stock = product.stock.map(i64_of).transpose()?;
                let changed = tx
                    .execute(
                        "UPDATE products SET sku = ?1, category = ?2, active = ?3, stock = ?4,
                         version = version + 1, doc = ?5 WHERE id = ?6 AND version = ?7",
                        params![
                            product.sku.as_str(),
                            product.category.as_str(),
                            product.active,
                            stock,
                            encode(&product)?,
                            product.id.as_str(),
                            expected
                        ],
                    )
                    .map_err(|e| map(E, e))?;
                if changed == 0 {
                    return Err(stale_or_missing(&tx, "products", product.id.as_str(), E));
                }
                write_tags(&tx, &product)?;
                tx.commit().map_err(|e| map(E, e))?;
                Ok(product)
            })
            .await
    }

    async fn delete(&self, id: &ProductId) -> Result<()> {
        let id = id.to_string();
        self.0
            .write(move |c| {
                match c
                    .execute("DELETE FROM products WHERE id = ?1", [&id])
                    .map_err(|e| map(E, e))?
                {
                    0 => Err(Error::NotFound { entity: E }),
                    _ => Ok(()),
                }
            })
            .await
    }

    async fn list(&self, filter: &ProductFilter, page: &PageRequest) -> Result<Page<Product>> {
        let after: Option<String> = page.after.as_ref().map(|c| c.decode()).transpose()?;
        let size = page.size();
        let category = filter.category.as_ref().map(|c| c.to_string());
        let tag = filter.tag.as_ref().map(|t| t.to_string());
        let include_inactive = filter.include_inactive;
        self.0
            .read(move |c| {
                let mut stmt = c
                    .prepare_cached(
                        "SELECT doc, version, stock FROM products p
                         WHERE (?1 IS NULL OR p.id > ?1)
                           AND (?2 IS NULL OR p.category = ?2)
                           AND (?3 IS NULL OR EXISTS (SELECT 1 FROM product_tags t WHERE t.tag = ?3 AND t.product_id = p.id))
                           AND (?4 OR p.active)
                         ORDER BY p.id LIMIT ?5",
                    )
                    .map_err(|e| map(E, e))?;
                let rows = stmt
                    .query_map(
                        params![after, category, tag, include_inactive, i64::try_from(size + 1).unwrap_or(101)],
                        |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, Option<i64>>(2)?)),
                    )
                    .map_err(|e| map(E, e))?;
                let mut items = Vec::with_capacity(size + 1);
                for row in rows {
                    let (doc, version, stock) = row.map_err(|e| map(E, e))?;
                    items.push(row_to_product(doc, version, stock)?);
                }
                Ok(Page::from_overfetch(items, size, |p| p.id.to_string()))
            })
            .await
    }
}
