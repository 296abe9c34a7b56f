use async_trait::async_trait;
use puratan_core::domain::{Order, OrderId, OrderStatus, UserId};
use puratan_core::ports::{OrderRepo, Page, PageRequest, queue_key};
use puratan_core::{Error, Result};
use rusqlite::{Connection, ToSql, params};

use super::{SqliteStore, decode, encode, map, stale_or_missing};

const E: &str = "order";

#[derive(Debug)]
pub(super) struct SqliteOrders(pub(super) SqliteStore);

fn query(c: &Connection, sql: &str, args: &[&dyn ToSql]) -> Result<Vec<Order>> {
    let mut stmt = c.prepare_cached(sql).map_err(|e| map(E, e))?;
    let rows = stmt
        .query_map(args, |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .map_err(|e| map(E, e))?;
    let mut out = Vec::new();
    for r in rows {
        let (doc, v) = r.map_err(|e| map(E, e))?;
        let mut o: Order = decode(&doc)?;
        o.version = u64::try_from(v).unwrap_or_default();
        out.push(o);
    }
    Ok(out)
}

fn limit(size: usize) -> i64 {
    i64::try_from(size + 1).unwrap_or(101)
}

#[async_trait]
impl OrderRepo for SqliteOrders {
    async fn insert(&self, mut order: Order) -> Result<Order> {
        order.version = 1;
        self.0
            .write(move |c| {
                c.execute(
                    "INSERT INTO orders (id, customer_id, status, priority, due_ms, version, doc)
                     VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6)",
                    params![
                        order.id.to_string(),
                        order.customer_id.to_string(),
                        order.status.as_str(),
                        order.priority.get(),
                        order.due_at.timestamp_millis(),
                        encode(&order)?
                    ],
                )
                .map_err(|e| map(E, e))?;
                Ok(order)
            })
            .await
    }

    async fn get(&self, id: OrderId) -> Result<Order> {
        self.0
            .read(move |c| {
                query(
                    c,
                    "SELECT doc, version FROM orders WHERE id = ?1",
                    &[&id.to_string()],
                )?
                .pop()
                .ok_or(Error::NotFound { entity: E })
            })
            .await
    }

    async fn update(&self, mut order: Order) -> Result<Order> {
        self.0
            .write(move |c| {
                let expected = i64::try_from(order.version).map_err(|_| Error::stale(E))?;
                order.version += 1;
                let changed = c
                    .execute(
                        "UPDATE orders SET status = ?1, priority = ?2, due_ms = ?3, version = version + 1, doc = ?4
                         WHERE id = ?5 AND version = ?6",
                        params![
                            order.status.as_str(),
                            order.priority.get(),
                            order.due_at.timestamp_millis(),
                            encode(&order)?,
                            order.id.to_string(),
                            expected
                        ],
                    )
                    .map_err(|e| map(E, e))?;
                if changed == 0 {
                    return Err(stale_or_missing(c, "orders", &order.id.to_string(), E));
                }
                Ok(order)
            })
            .await
    }

    async fn list_by_customer(&self, customer: UserId, page: &PageRequest) -> Result<Page<Order>> {
        let before: Option<OrderId> = page.after.as_ref().map(|c| c.decode()).transpose()?;
        let before = before.map(|b| b.to_string());
        let size = page.size();
        self.0
            .read(move |c| {
                let items = query(
                    c,
                    "SELECT doc, version FROM orders WHERE customer_id = ?1 AND (?2 IS NULL OR id < ?2)
                     ORDER BY id DESC LIMIT ?3",
                    &[&customer.to_string(), &before, &limit(size)],
                )?;
                Ok(Page::from_overfetch(items, size, |o| o.id))
            })
            .await
    }

    async fn list_by_status(
        &self,
        status: &OrderStatus,
        page: &PageRequest,
    ) -> Result<Page<Order>> {
        let after: Option<(u8, i64, String)> =
            page.after.as_ref().map(|c| c.decode()).transpose()?;
        let status = status.to_string();
        let size = page.size();
        self.0
            .read(move |c| {
                let (p, d, id) = match after {
                    Some((p, d, id)) => (Some(p), Some(d), Some(id)),
                    None => (None, None, None),
                };
                // Keyset pagination over (priority DESC, due_ms ASC, id ASC).
                let items = query(
                    c,
                    "SELECT doc, version FROM orders WHERE status = ?1
                       AND (?2 IS NULL OR priority < ?2
                            OR (priority = ?2 AND (due_ms > ?3 OR (due_ms = ?3 AND id > ?4))))
                     ORDER BY priority DESC, due_ms, id LIMIT ?5",
                    &[&status, &p, &d, &id, &limit(size)],
                )?;
                Ok(Page::from_overfetch(items, size, queue_key))
            })
            .await
    }
}
