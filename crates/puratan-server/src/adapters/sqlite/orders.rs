//! [`OrderRepo`] on the `orders` table, with the transactional outbox in
//! `order_outbox` (migration 8): an order write and its events commit in
//! one SQLite transaction. Sent entries are deleted.

use async_trait::async_trait;
use puratan_core::domain::{Order, OrderId, OrderStatus, OutboxEntry, UserId};
use puratan_core::ports::{OrderRepo, Page, PageRequest, queue_key};
use puratan_core::{ConflictReason, Error, Result};
use rusqlite::{Connection, ToSql, params};

use super::{SqliteStore, decode, encode, map, stale_or_missing};

const E: &str = "order";

/// Maps an error of writing an order; the `(customer_id,
/// idempotency_key)` unique index becomes `Duplicate { idempotency_key }`.
fn map_write(e: rusqlite::Error) -> Error {
    let key_clash = matches!(&e, rusqlite::Error::SqliteFailure(_, Some(m)) if m.contains("orders.idempotency_key"));
    match map(E, e) {
        Error::Conflict {
            reason: ConflictReason::Duplicate { .. },
            ..
        } if key_clash => Error::duplicate(E, "idempotency_key"),
        other => other,
    }
}

fn insert_order(c: &Connection, order: &Order) -> Result<()> {
    c.execute(
        "INSERT INTO orders (id, customer_id, status, priority, due_ms, version, doc, idempotency_key)
         VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?7)",
        params![
            order.id.to_string(),
            order.customer_id.to_string(),
            order.status.as_str(),
            order.priority.get(),
            order.due_at.timestamp_millis(),
            encode(order)?,
            order.idempotency.as_ref().map(|i| i.key.as_str()),
        ],
    )
    .map_err(map_write)?;
    Ok(())
}

/// The version-checked update; `order.version` is the expected version
/// and is incremented on success.
fn update_order(c: &Connection, order: &mut Order) -> Result<()> {
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
                encode(&*order)?,
                order.id.to_string(),
                expected
            ],
        )
        .map_err(|e| map(E, e))?;
    if changed == 0 {
        return Err(stale_or_missing(c, "orders", &order.id.to_string(), E));
    }
    Ok(())
}

fn append_outbox(c: &Connection, events: &[OutboxEntry]) -> Result<()> {
    let mut stmt = c
        .prepare_cached("INSERT INTO order_outbox (id, order_id, doc) VALUES (?1, ?2, ?3)")
        .map_err(|e| map("outbox", e))?;
    for e in events {
        stmt.execute(params![e.id, e.order_id.to_string(), encode(e)?])
            .map_err(|err| map("outbox", err))?;
    }
    Ok(())
}

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
                insert_order(c, &order)?;
                Ok(order)
            })
            .await
    }

    async fn insert_with_outbox(
        &self,
        mut order: Order,
        events: Vec<OutboxEntry>,
    ) -> Result<Order> {
        order.version = 1;
        self.0
            .write(move |c| {
                let tx = c.transaction().map_err(|e| map(E, e))?;
                insert_order(&tx, &order)?;
                append_outbox(&tx, &events)?;
                tx.commit().map_err(|e| map(E, e))?;
                Ok(order)
            })
            .await
    }

    async fn update_with_outbox(
        &self,
        mut order: Order,
        events: Vec<OutboxEntry>,
    ) -> Result<Order> {
        self.0
            .write(move |c| {
                let tx = c.transaction().map_err(|e| map(E, e))?;
                update_order(&tx, &mut order)?;
                append_outbox(&tx, &events)?;
                tx.commit().map_err(|e| map(E, e))?;
                Ok(order)
            })
            .await
    }

    async fn get_by_idempotency_key(&self, customer: UserId, key: &str) -> Result<Order> {
        let key = key.to_owned();
        self.0
            .read(move |c| {
                query(
                    c,
                    "SELECT doc, version FROM orders WHERE customer_id = ?1 AND idempotency_key = ?2",
                    &[&customer.to_string(), &key],
                )?
                .pop()
                .ok_or(Error::NotFound { entity: E })
            })
            .await
    }

    async fn outbox_pending(&self, limit: usize) -> Result<Vec<OutboxEntry>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.0
            .read(move |c| {
                let mut stmt = c
                    .prepare_cached("SELECT doc FROM order_outbox ORDER BY seq LIMIT ?1")
                    .map_err(|e| map("outbox", e))?;
                let rows = stmt
                    .query_map([limit], |r| r.get::<_, String>(0))
                    .map_err(|e| map("outbox", e))?;
                let mut out = Vec::new();
                for r in rows {
                    out.push(decode(&r.map_err(|e| map("outbox", e))?)?);
                }
                Ok(out)
            })
            .await
    }

    async fn outbox_mark_sent(&self, ids: &[String]) -> Result<()> {
        let ids = ids.to_vec();
        self.0
            .write(move |c| {
                let tx = c.transaction().map_err(|e| map("outbox", e))?;
                {
                    let mut stmt = tx
                        .prepare_cached("DELETE FROM order_outbox WHERE id = ?1")
                        .map_err(|e| map("outbox", e))?;
                    for id in &ids {
                        stmt.execute([id]).map_err(|e| map("outbox", e))?;
                    }
                }
                tx.commit().map_err(|e| map("outbox", e))
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
                update_order(c, &mut order)?;
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
