//! [`OrderRepo`] on the `orders` table, with the transactional outbox in
//! `order_outbox` (migration 8): an order write and its events commit in
//! one SQLite transaction. Sent entries are deleted. A checkout
//! (`insert_checkout`) also takes stock from `products` and counts coupon
//! redemptions in `coupon_redemptions` in that same transaction.

use async_trait::async_trait;
use puratan_core::domain::ProductId;
use puratan_core::domain::{Order, OrderId, OutboxEntry, UserId};
use puratan_core::ports::Reservations;
use puratan_core::ports::{
    OrderRepo, OrderSearch, Page, PageRequest, QueueFilter, SearchText, queue_key,
};
use puratan_core::{ConflictReason, Error, Result};
use rusqlite::{Connection, OptionalExtension, ToSql, params};

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

/// Takes each product's units: one conditional `UPDATE` per product
/// (`stock >= q`); when it changes nothing, the row tells "unknown
/// product", "no stock control" (left alone) and "not enough" apart.
/// Runs inside the checkout's transaction on the single writer.
fn take_stock(c: &Connection, stock: &[(ProductId, u64)]) -> Result<()> {
    let mut take = c
        .prepare_cached(
            "UPDATE products SET stock = stock - ?1, version = version + 1
             WHERE id = ?2 AND stock IS NOT NULL AND stock >= ?1",
        )
        .map_err(|e| map("product", e))?;
    for (id, quantity) in stock {
        // More than i64::MAX units are more than any stock.
        if let Ok(q) = i64::try_from(*quantity)
            && take
                .execute(params![q, id.as_str()])
                .map_err(|e| map("product", e))?
                == 1
        {
            continue;
        }
        let stored: Option<Option<i64>> = c
            .query_row(
                "SELECT stock FROM products WHERE id = ?1",
                [id.as_str()],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| map("product", e))?;
        match stored {
            None => return Err(Error::NotFound { entity: "product" }),
            Some(None) => {}
            Some(Some(_)) => return Err(Error::exhausted("product", id.as_str())),
        }
    }
    Ok(())
}

/// Counts one redemption per code unless its count reached the cap (a
/// cap of 0 refuses even the first: the `SELECT` then yields no row).
fn redeem_coupons(c: &Connection, coupons: &[(String, Option<u64>)]) -> Result<()> {
    let mut redeem = c
        .prepare_cached(
            "INSERT INTO coupon_redemptions (code, used)
             SELECT ?1, 1 WHERE ?2 IS NULL OR ?2 > 0
             ON CONFLICT (code) DO UPDATE SET used = used + 1 WHERE ?2 IS NULL OR used < ?2",
        )
        .map_err(|e| map("coupon", e))?;
    for (code, cap) in coupons {
        let cap = cap.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
        if redeem
            .execute(params![code, cap])
            .map_err(|e| map("coupon", e))?
            == 0
        {
            return Err(Error::exhausted("coupon", code.as_str()));
        }
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

    /// One transaction on the single writer: the order first (a duplicate
    /// key fails before anything is taken), then stock, redemptions and
    /// the outbox; any error rolls all of it back.
    async fn insert_checkout(
        &self,
        mut order: Order,
        events: Vec<OutboxEntry>,
        reservations: Reservations,
    ) -> Result<Order> {
        order.version = 1;
        self.0
            .write(move |c| {
                let tx = c.transaction().map_err(|e| map(E, e))?;
                insert_order(&tx, &order)?;
                take_stock(&tx, &reservations.stock)?;
                redeem_coupons(&tx, &reservations.coupons)?;
                append_outbox(&tx, &events)?;
                tx.commit().map_err(|e| map(E, e))?;
                Ok(order)
            })
            .await
    }

    async fn coupon_redemptions(&self, code: &str) -> Result<u64> {
        let code = code.to_owned();
        self.0
            .read(move |c| {
                let used: Option<i64> = c
                    .query_row(
                        "SELECT used FROM coupon_redemptions WHERE code = ?1",
                        [&code],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(|e| map("coupon", e))?;
                Ok(used.and_then(|n| u64::try_from(n).ok()).unwrap_or(0))
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

    async fn list_queue(&self, filter: &QueueFilter, page: &PageRequest) -> Result<Page<Order>> {
        let after: Option<(u8, i64, String)> =
            page.after.as_ref().map(|c| c.decode()).transpose()?;
        let status = filter.status.to_string();
        let (min_p, max_p) = filter.priority_bounds();
        let (due_lo, due_hi) = filter.due_bounds_ms();
        let size = page.size();
        self.0
            .read(move |c| {
                let (p, d, id) = match after {
                    Some((p, d, id)) => (Some(p), Some(d), Some(id)),
                    None => (None, None, None),
                };
                // Keyset pagination over (priority DESC, due_ms ASC, id ASC)
                // on the `orders_queue` index: `status` is its equality
                // prefix, the priority bounds a range on its next column,
                // and the due window is checked on the index entries.
                let items = query(
                    c,
                    "SELECT doc, version FROM orders
                      WHERE status = ?1 AND priority BETWEEN ?6 AND ?7
                        AND due_ms >= ?8 AND due_ms < ?9
                        AND (?2 IS NULL OR priority < ?2
                             OR (priority = ?2 AND (due_ms > ?3 OR (due_ms = ?3 AND id > ?4))))
                      ORDER BY priority DESC, due_ms, id LIMIT ?5",
                    &[
                        &status,
                        &p,
                        &d,
                        &id,
                        &limit(size),
                        &min_p,
                        &max_p,
                        &due_lo,
                        &due_hi,
                    ],
                )?;
                Ok(Page::from_overfetch(items, size, queue_key))
            })
            .await
    }

    /// Newest first (`id DESC`). Status, customer, the creation window
    /// (an id range) and the cursor are SQL conditions — the statement
    /// names only those that are set, so SQLite can pick the
    /// `orders_status_newest` or `orders_customer` index; the free text
    /// is matched with [`SearchText::matches`] on the rows as SQLite
    /// returns them, in order, until the page is full (case-insensitive
    /// for all of Unicode, which SQLite's `lower`/`LIKE` are not, and
    /// exactly the semantics of the other backends' reference) — at most
    /// [`OrderSearch::scan_limit`] rows (the statement's `LIMIT`), paged
    /// by [`OrderSearch::page_from_rows`].
    async fn search(&self, search: &OrderSearch, page: &PageRequest) -> Result<Page<Order>> {
        let before: Option<OrderId> = page.after.as_ref().map(|c| c.decode()).transpose()?;
        let search = search.clone();
        let size = page.size();
        self.0
            .read(move |c| {
                let (lo, hi) = search.id_bounds();
                let mut sql = String::from("SELECT doc, version FROM orders WHERE 1 = 1");
                let mut args: Vec<Box<dyn ToSql>> = Vec::new();
                let mut cond = |fragment: &str, value: Box<dyn ToSql>| {
                    args.push(value);
                    sql.push_str(&format!(" AND {fragment} ?{}", args.len()));
                };
                if let Some(s) = &search.status {
                    cond("status =", Box::new(s.to_string()));
                }
                if let Some(cust) = search.customer {
                    cond("customer_id =", Box::new(cust.to_string()));
                }
                if let Some(SearchText::Id(id)) = &search.text {
                    cond("id =", Box::new(id.to_string()));
                }
                if let Some(lo) = lo {
                    cond("id >=", Box::new(lo));
                }
                if let Some(hi) = hi {
                    cond("id <", Box::new(hi));
                }
                if let Some(b) = before {
                    cond("id <", Box::new(b.to_string()));
                }
                sql.push_str(" ORDER BY id DESC");
                // Without free text every row is shown: the page plus one.
                let rows_read = match search.free_text() {
                    None => size + 1,
                    Some(_) => search.scan_limit(),
                };
                args.push(Box::new(i64::try_from(rows_read).unwrap_or(i64::MAX)));
                sql.push_str(&format!(" LIMIT ?{}", args.len()));
                let mut stmt = c.prepare_cached(&sql).map_err(|e| map(E, e))?;
                let params: Vec<&dyn ToSql> = args.iter().map(|a| a.as_ref()).collect();
                let mut rows = stmt.query(params.as_slice()).map_err(|e| map(E, e))?;
                let rows = std::iter::from_fn(|| {
                    let row = match rows.next() {
                        Ok(Some(row)) => row,
                        Ok(None) => return None,
                        Err(e) => return Some(Err(map(E, e))),
                    };
                    Some((|| {
                        let doc: String = row.get(0).map_err(|e| map(E, e))?;
                        let version: i64 = row.get(1).map_err(|e| map(E, e))?;
                        let mut o: Order = decode(&doc)?;
                        o.version = u64::try_from(version).unwrap_or_default();
                        Ok(o)
                    })())
                });
                search.page_from_rows(rows, size)
            })
            .await
    }
}
