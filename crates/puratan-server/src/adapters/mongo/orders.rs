//! [`OrderRepo`] on the `orders` collection, with the transactional
//! outbox in `order_outbox`.
//!
//! An order write and its outbox entries run in one multi-document
//! transaction (a session with `startTransaction`/`commitTransaction`),
//! which needs a replica set or sharded cluster (SecantusDB, the test
//! server, runs as a one-node replica set and supports them). A
//! `TransientTransactionError` (e.g. a write conflict with a concurrent
//! transaction on the same order) re-runs the whole transaction, whose
//! version filter then reports the stale write; an
//! `UnknownTransactionCommitResult` retries the commit.
//!
//! A checkout (`insert_checkout`) also takes stock and counts coupon
//! redemptions in that transaction: per product one conditional `$inc`
//! (`{_id, stock: {$gte: q}}` → `stock: -q`), per coupon one conditional
//! `$inc` of `coupon_redemptions` (`{_id: <code>, used: {$lt: cap}}`),
//! the counter document created with `used: 1` on the coupon's first
//! redemption. Two transactions writing the same product or counter
//! conflict, and the loser re-runs against the winner's committed
//! values, so stock never goes below zero and a count never passes its
//! cap; a filter that matches nothing is read back in the transaction to
//! tell "not enough" from "unknown product" or "no stock control".
//!
//! The checkout's idempotency key is the top-level `idempotency` field
//! (`<customer id>/<key>`) under the unique, sparse `idempotency_unique`
//! index. Outbox documents are `{_id: <event id, UUIDv7>, order_id, doc}`
//! and are deleted once published; `_id` order is write order.

use async_trait::async_trait;
use futures::TryStreamExt as _;
use mongodb::bson::{Document, doc};
use mongodb::error::{Error as MongoError, TRANSIENT_TRANSACTION_ERROR};
use mongodb::{ClientSession, Collection};
use puratan_core::domain::{Order, OrderId, OutboxEntry, Priority, UserId};
use puratan_core::ports::{
    Cursor, OrderRepo, OrderSearch, Page, PageRequest, QueueFilter, SearchText, queue_key,
};
use puratan_core::{ConflictReason, Error, Result};

use super::error::{map_err, mapper};
use super::{COUPON_REDEMPTIONS, PRODUCTS, get_u64};
use super::{ORDER_OUTBOX, commit, from_body, get_version, record_projection, to_body};
use puratan_core::domain::ProductId;
use puratan_core::ports::Reservations;

const ENTITY: &str = "order";
/// How long a transaction is re-run after transient errors (write
/// conflicts) before the error is returned. A time budget, like the
/// drivers' `withTransaction` (120 s there), not a count: on a hot
/// document — every checkout of one stock-controlled product or capped
/// coupon writes it — a contender may lose many rounds in a row, each as
/// long as the server makes it. Kept below the request time limit.
const TXN_BUDGET: std::time::Duration = std::time::Duration::from_secs(10);

/// Orders keyed by the string form of their UUIDv7 id (submission order).
#[derive(Debug, Clone)]
pub struct MongoOrderRepo {
    coll: Collection<Document>,
    outbox: Collection<Document>,
    /// Checkouts take stock here.
    products: Collection<Document>,
    /// `{_id: <normalised coupon code>, used: <orders>}`.
    coupons: Collection<Document>,
}

/// Why a transaction body stopped: a driver error, or a domain outcome
/// (a stale version) that aborts it.
enum TxnError {
    Driver(MongoError),
    Domain(Error),
    /// Lost a race that the next run resolves (two first redemptions of
    /// one coupon inserting its counter).
    Rerun,
}

impl From<MongoError> for TxnError {
    fn from(e: MongoError) -> Self {
        Self::Driver(e)
    }
}

/// Maps an insert error; a clash on the idempotency index is
/// `Duplicate { idempotency_key }`.
fn map_insert(e: MongoError) -> Error {
    match map_err(ENTITY, e) {
        Error::Conflict {
            reason: ConflictReason::Duplicate { field },
            ..
        } if field != "id" => Error::duplicate(ENTITY, "idempotency_key"),
        other => other,
    }
}

/// A short, growing, jittered pause before re-running a transaction
/// that lost a write conflict (so contenders do not collide again in
/// lockstep).
fn backoff(attempt: usize) -> std::time::Duration {
    let mut b = [0_u8; 1];
    let jitter = getrandom::fill(&mut b).map_or(0, |()| u64::from(b[0] % 8));
    let base = u64::try_from(attempt.min(10)).unwrap_or(10) * 2;
    std::time::Duration::from_millis(base + jitter)
}

fn idempotency_field(order: &Order) -> Option<String> {
    order
        .idempotency
        .as_ref()
        .map(|i| format!("{}/{}", order.customer_id, i.key))
}

/// `text` as a regular expression that matches exactly that text: every
/// ASCII punctuation character is escaped with a backslash (a literal in
/// PCRE, MongoDB's dialect, and in every other common dialect); letters,
/// digits, spaces and non-ASCII characters stand for themselves. The
/// input has no control characters (`SearchText` normalises it).
fn regex_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn outbox_docs(events: &[OutboxEntry]) -> Result<Vec<Document>> {
    events
        .iter()
        .map(|e| {
            Ok(doc! {
                "_id": e.id.as_str(),
                "order_id": e.order_id.to_string(),
                "doc": to_body(e)?,
            })
        })
        .collect()
}

impl MongoOrderRepo {
    pub(crate) fn new(coll: Collection<Document>) -> Self {
        let db = coll.client().database(&coll.namespace().db);
        Self {
            outbox: db.collection(ORDER_OUTBOX),
            products: db.collection(PRODUCTS),
            coupons: db.collection(COUPON_REDEMPTIONS),
            coll,
        }
    }

    /// Takes each product's units inside the transaction.
    async fn take_stock(
        &self,
        session: &mut ClientSession,
        stock: &[(ProductId, u64)],
    ) -> std::result::Result<(), TxnError> {
        for (id, quantity) in stock {
            // More than i64::MAX units are more than any stock.
            if let Ok(q) = i64::try_from(*quantity) {
                let r = self
                    .products
                    .update_one(
                        doc! { "_id": id.as_str(), "stock": { "$gte": q } },
                        doc! { "$inc": { "stock": -q, "version": 1_i64 } },
                    )
                    .session(&mut *session)
                    .await?;
                if r.matched_count == 1 {
                    continue;
                }
            }
            let stored = self
                .products
                .find_one(doc! { "_id": id.as_str() })
                .projection(doc! { "stock": 1 })
                .session(&mut *session)
                .await?;
            let Some(stored) = stored else {
                return Err(TxnError::Domain(Error::NotFound { entity: "product" }));
            };
            // `stock: null` (no stock control) never matches `$gte`.
            if get_u64("product", &stored, "stock")
                .map_err(TxnError::Domain)?
                .is_some()
            {
                return Err(TxnError::Domain(Error::exhausted("product", id.as_str())));
            }
        }
        Ok(())
    }

    /// Counts one redemption per coupon inside the transaction, unless its
    /// count reached the cap.
    async fn redeem_coupons(
        &self,
        session: &mut ClientSession,
        coupons: &[(String, Option<u64>)],
    ) -> std::result::Result<(), TxnError> {
        for (code, cap) in coupons {
            let cap = cap.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
            let exhausted = || TxnError::Domain(Error::exhausted("coupon", code.as_str()));
            let filter = match cap {
                Some(cap) => doc! { "_id": code.as_str(), "used": { "$lt": cap } },
                None => doc! { "_id": code.as_str() },
            };
            let r = self
                .coupons
                .update_one(filter, doc! { "$inc": { "used": 1_i64 } })
                .session(&mut *session)
                .await?;
            if r.matched_count == 1 {
                continue;
            }
            let counted = self
                .coupons
                .find_one(doc! { "_id": code.as_str() })
                .projection(doc! { "_id": 1 })
                .session(&mut *session)
                .await?;
            if counted.is_some() || cap.is_some_and(|c| c < 1) {
                return Err(exhausted());
            }
            // The first redemption creates the counter; a concurrent first
            // redemption that committed meanwhile makes this a duplicate,
            // and the next run increments its counter instead.
            if let Err(e) = self
                .coupons
                .insert_one(doc! { "_id": code.as_str(), "used": 1_i64 })
                .session(&mut *session)
                .await
            {
                return Err(match map_err("coupon", e.clone()) {
                    Error::Conflict {
                        reason: ConflictReason::Duplicate { .. },
                        ..
                    } => TxnError::Rerun,
                    _ => TxnError::Driver(e),
                });
            }
        }
        Ok(())
    }

    fn insert_doc(order: &Order) -> Result<Document> {
        let mut d = doc! { "_id": order.id.to_string(), "version": 1_i64 };
        d.extend(Self::fields(order)?);
        if let Some(k) = idempotency_field(order) {
            d.insert("idempotency", k);
        }
        Ok(d)
    }

    /// Runs the order write (`insert` of `order_doc`, or the
    /// version-checked `update` of `order`), the checkout's `reserve`
    /// and the outbox inserts in one transaction, re-running it after
    /// transient errors.
    async fn write_with_outbox(
        &self,
        insert: Option<Document>,
        update: Option<(String, i64, Document)>,
        events: &[OutboxEntry],
        reserve: &Reservations,
    ) -> Result<()> {
        let docs = outbox_docs(events)?;
        let started = std::time::Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut session = self
                .coll
                .client()
                .start_session()
                .await
                .map_err(mapper(ENTITY))?;
            session.start_transaction().await.map_err(mapper(ENTITY))?;
            let result: std::result::Result<(), TxnError> = async {
                if let Some(d) = &insert {
                    self.coll
                        .insert_one(d.clone())
                        .session(&mut session)
                        .await?;
                }
                if let Some((id, expected, set)) = &update {
                    let r = self
                        .coll
                        .update_one(
                            doc! { "_id": id.as_str(), "version": *expected },
                            doc! { "$set": set.clone(), "$inc": { "version": 1_i64 } },
                        )
                        .session(&mut session)
                        .await?;
                    if r.matched_count == 0 {
                        return Err(TxnError::Domain(Error::stale(ENTITY)));
                    }
                }
                self.take_stock(&mut session, &reserve.stock).await?;
                self.redeem_coupons(&mut session, &reserve.coupons).await?;
                if !docs.is_empty() {
                    self.outbox
                        .insert_many(docs.clone())
                        .session(&mut session)
                        .await?;
                }
                commit(&mut session).await?;
                Ok(())
            }
            .await;
            match result {
                Ok(()) => return Ok(()),
                Err(TxnError::Driver(e))
                    if e.contains_label(TRANSIENT_TRANSACTION_ERROR)
                        && started.elapsed() < TXN_BUDGET =>
                {
                    let _ = session.abort_transaction().await;
                    // Checkouts of one product or coupon all write its
                    // document: let the winner commit before re-running.
                    if !reserve.stock.is_empty() || !reserve.coupons.is_empty() {
                        tokio::time::sleep(backoff(attempt)).await;
                    }
                }
                Err(TxnError::Rerun) if started.elapsed() < TXN_BUDGET => {
                    let _ = session.abort_transaction().await;
                }
                Err(e) => {
                    let _ = session.abort_transaction().await;
                    return Err(match e {
                        TxnError::Driver(e) if insert.is_some() => map_insert(e),
                        TxnError::Driver(e) => map_err(ENTITY, e),
                        TxnError::Domain(e) => e,
                        // Still racing on a first redemption: the client
                        // sent no version, so this is "retry", not 409.
                        TxnError::Rerun => Error::unavailable(
                            super::error::BACKEND,
                            "coupon redemption kept racing; retry",
                            true,
                        ),
                    });
                }
            }
        }
    }

    /// Queried fields and body (everything but `_id` and `version`).
    fn fields(order: &Order) -> Result<Document> {
        Ok(doc! {
            "customer_id": order.customer_id.to_string(),
            "status": order.status.as_str(),
            "priority": i32::from(order.priority.get()),
            "due_ms": order.due_at.timestamp_millis(),
            "doc": to_body(order)?,
        })
    }

    fn read(stored: &Document) -> Result<Order> {
        let mut o: Order = from_body(ENTITY, stored)?;
        o.version = get_version(ENTITY, stored)?;
        Ok(o)
    }

    /// At most `limit` orders matching `query`, in `sort` order.
    async fn find(&self, query: Document, sort: Document, limit: usize) -> Result<Vec<Order>> {
        let docs = super::find_records(&self.coll, ENTITY, query, sort, limit).await?;
        docs.iter().map(Self::read).collect()
    }

    async fn missing_or_stale(&self, id: OrderId) -> Result<Error> {
        super::missing_or_stale(&self.coll, id.to_string().as_str(), ENTITY).await
    }
}

#[async_trait]
impl OrderRepo for MongoOrderRepo {
    async fn insert(&self, mut order: Order) -> Result<Order> {
        order.version = 1;
        self.coll
            .insert_one(Self::insert_doc(&order)?)
            .await
            .map_err(map_insert)?;
        Ok(order)
    }

    async fn insert_with_outbox(
        &self,
        mut order: Order,
        events: Vec<OutboxEntry>,
    ) -> Result<Order> {
        order.version = 1;
        self.write_with_outbox(
            Some(Self::insert_doc(&order)?),
            None,
            &events,
            &Reservations::default(),
        )
        .await?;
        Ok(order)
    }

    async fn insert_checkout(
        &self,
        mut order: Order,
        events: Vec<OutboxEntry>,
        reservations: Reservations,
    ) -> Result<Order> {
        order.version = 1;
        self.write_with_outbox(
            Some(Self::insert_doc(&order)?),
            None,
            &events,
            &reservations,
        )
        .await?;
        Ok(order)
    }

    async fn coupon_redemptions(&self, code: &str) -> Result<u64> {
        let found = self
            .coupons
            .find_one(doc! { "_id": code })
            .projection(doc! { "used": 1 })
            .await
            .map_err(mapper("coupon"))?;
        Ok(match found {
            Some(d) => get_u64("coupon", &d, "used")?.unwrap_or(0),
            None => 0,
        })
    }

    async fn update_with_outbox(
        &self,
        mut order: Order,
        events: Vec<OutboxEntry>,
    ) -> Result<Order> {
        let Ok(expected) = i64::try_from(order.version) else {
            return Err(self.missing_or_stale(order.id).await?);
        };
        order.version += 1;
        let set = Self::fields(&order)?;
        match self
            .write_with_outbox(
                None,
                Some((order.id.to_string(), expected, set)),
                &events,
                &Reservations::default(),
            )
            .await
        {
            Ok(()) => Ok(order),
            Err(Error::Conflict {
                reason: ConflictReason::StaleVersion,
                ..
            }) => Err(self.missing_or_stale(order.id).await?),
            Err(e) => Err(e),
        }
    }

    async fn get_by_idempotency_key(&self, customer: UserId, key: &str) -> Result<Order> {
        let found = self
            .coll
            .find_one(doc! { "idempotency": format!("{customer}/{key}") })
            .projection(record_projection())
            .await
            .map_err(mapper(ENTITY))?;
        match found {
            Some(d) => Self::read(&d),
            None => Err(Error::NotFound { entity: ENTITY }),
        }
    }

    async fn outbox_pending(&self, limit: usize) -> Result<Vec<OutboxEntry>> {
        let docs: Vec<Document> = self
            .outbox
            .find(doc! {})
            .sort(doc! { "_id": 1 })
            .limit(i64::try_from(limit).unwrap_or(i64::MAX))
            .await
            .map_err(mapper("outbox"))?
            .try_collect()
            .await
            .map_err(mapper("outbox"))?;
        docs.iter().map(|d| from_body("outbox", d)).collect()
    }

    async fn outbox_mark_sent(&self, ids: &[String]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        self.outbox
            .delete_many(doc! { "_id": { "$in": ids } })
            .await
            .map_err(mapper("outbox"))?;
        Ok(())
    }

    async fn get(&self, id: OrderId) -> Result<Order> {
        let found = self
            .coll
            .find_one(doc! { "_id": id.to_string() })
            .projection(record_projection())
            .await
            .map_err(mapper(ENTITY))?;
        match found {
            Some(d) => Self::read(&d),
            None => Err(Error::NotFound { entity: ENTITY }),
        }
    }

    async fn update(&self, mut order: Order) -> Result<Order> {
        let expected = order.version;
        // The stored body carries the version it is written at.
        order.version = expected.saturating_add(1);
        let id = order.id.to_string();
        super::update_versioned(&self.coll, ENTITY, &id, expected, || Self::fields(&order)).await?;
        Ok(order)
    }

    /// Newest first: `_id` descending on the `{customer_id, _id: -1}`
    /// index; the cursor is the id of the last order shown.
    async fn list_by_customer(&self, customer: UserId, page: &PageRequest) -> Result<Page<Order>> {
        let before: Option<OrderId> = page.after.as_ref().map(|c| c.decode()).transpose()?;
        let mut query = doc! { "customer_id": customer.to_string() };
        if let Some(b) = before {
            query.insert("_id", doc! { "$lt": b.to_string() });
        }
        let items = self
            .find(query, doc! { "_id": -1 }, page.size() + 1)
            .await?;
        Ok(Page::from_overfetch(items, page.size(), |o| o.id))
    }

    /// Production order on the `{status, priority: -1, due_ms, _id}` index
    /// (`status_queue`). The cursor is [`queue_key`] of the last order
    /// shown.
    ///
    /// "After the cursor" in this mixed-direction order is the union of
    /// three disjoint ranges, each coming after the previous one: same
    /// priority and due date with a greater id; same priority with a later
    /// due date; lower priority. They are queried one after the other until
    /// the page is full, rather than as one `$or`: every query is then an
    /// equality prefix plus ranges on the index's own fields, which
    /// MongoDB answers with a bounded index scan in index order, and
    /// SecantusDB (whose planner never uses an index for `$or`, falling
    /// back to a collection scan) answers from the index too. The filter's
    /// priority and due bounds are intersected with each range (a range
    /// they exclude is not queried at all).
    async fn list_queue(&self, filter: &QueueFilter, page: &PageRequest) -> Result<Page<Order>> {
        let after: Option<(u8, i64, String)> =
            page.after.as_ref().map(|c| c.decode()).transpose()?;
        let status = filter.status.as_str();
        let (min_p, max_p) = filter.priority_bounds();
        let (due_lo, due_hi) = filter.due_bounds_ms();
        // One range: priorities `pl..=ph`, due dates `dl..dh`, ids after `id`.
        let range = |pl: u8, ph: u8, dl: i64, dh: i64, id: Option<&str>| -> Option<Document> {
            let (pl, ph) = (pl.max(min_p), ph.min(max_p));
            let (dl, dh) = (dl.max(due_lo), dh.min(due_hi));
            if pl > ph || dl >= dh {
                return None;
            }
            let mut q = doc! { "status": status };
            // Bounds at the ends of 0–100 are left out (they hold anyway),
            // and the lower bound is written `$gt: pl - 1` (the same for
            // integers): SecantusDB's index scan treats `$gte` on a
            // descending key such as `priority` as `$gt`.
            let mut prio = Document::new();
            if pl == ph {
                q.insert("priority", i32::from(pl));
            } else {
                if pl > Priority::MIN.get() {
                    prio.insert("$gt", i32::from(pl) - 1);
                }
                if ph < Priority::MAX.get() {
                    prio.insert("$lte", i32::from(ph));
                }
            }
            if !prio.is_empty() {
                q.insert("priority", prio);
            }
            if dh.checked_sub(dl) == Some(1) {
                q.insert("due_ms", dl);
            } else {
                let mut due = Document::new();
                if dl > i64::MIN {
                    due.insert("$gte", dl);
                }
                if dh < i64::MAX {
                    due.insert("$lt", dh);
                }
                if !due.is_empty() {
                    q.insert("due_ms", due);
                }
            }
            if let Some(id) = id {
                q.insert("_id", doc! { "$gt": id });
            }
            Some(q)
        };
        let ranges: Vec<Document> = match &after {
            None => range(0, 100, i64::MIN, i64::MAX, None)
                .into_iter()
                .collect(),
            Some((p, d, id)) => [
                range(*p, *p, *d, d.saturating_add(1), Some(id)),
                range(*p, *p, d.saturating_add(1), i64::MAX, None),
                p.checked_sub(1)
                    .and_then(|below| range(0, below, i64::MIN, i64::MAX, None)),
            ]
            .into_iter()
            .flatten()
            .collect(),
        };
        let want = page.size() + 1;
        let mut items = Vec::with_capacity(want);
        for query in ranges {
            if items.len() >= want {
                break;
            }
            let sort = doc! { "priority": -1, "due_ms": 1, "_id": 1 };
            items.extend(self.find(query, sort, want - items.len()).await?);
        }
        Ok(Page::from_overfetch(items, page.size(), queue_key))
    }

    /// Newest first (`_id` descending) on `status_newest` or
    /// `customer_newest` when those filters are set. The creation window
    /// and the cursor are ranges on `_id`. The free text becomes an
    /// `$or` of an anchored prefix match on `_id` (ids are lower-case hex,
    /// so a prefix is an index range on real MongoDB) and
    /// case-insensitive substring matches on the shipping name, city and
    /// postal code inside `doc` — every pattern built from
    /// [`regex_literal`] of the validated text, so user input is never
    /// regex syntax. Unanchored text cannot use an index, so the scan is
    /// bounded exactly as [`OrderSearch::page_from_rows`] bounds it: a
    /// first query finds the id of the [`OrderSearch::scan_limit`]-th
    /// order matching the other filters (newest first, `skip` on the
    /// index, only `_id` projected); the text query then reads only ids
    /// from there up. If it fills less than the page and that floor
    /// exists, the page continues after the floor (possibly empty).
    async fn search(&self, search: &OrderSearch, page: &PageRequest) -> Result<Page<Order>> {
        let before: Option<OrderId> = page.after.as_ref().map(|c| c.decode()).transpose()?;
        let mut and: Vec<Document> = Vec::new();
        if let Some(s) = &search.status {
            and.push(doc! { "status": s.as_str() });
        }
        if let Some(c) = search.customer {
            and.push(doc! { "customer_id": c.to_string() });
        }
        let (lo, hi) = search.id_bounds();
        if let Some(lo) = lo {
            and.push(doc! { "_id": { "$gte": lo } });
        }
        if let Some(hi) = hi {
            and.push(doc! { "_id": { "$lt": hi } });
        }
        if let Some(b) = before {
            and.push(doc! { "_id": { "$lt": b.to_string() } });
        }
        // The oldest order this request may examine (see the doc above).
        let mut floor: Option<OrderId> = None;
        match &search.text {
            None => {}
            Some(SearchText::Id(id)) => and.push(doc! { "_id": id.to_string() }),
            Some(t @ SearchText::Text(text)) => {
                let skip = u64::try_from(search.scan_limit().saturating_sub(1)).unwrap_or(0);
                let scanned = if and.is_empty() {
                    Document::new()
                } else {
                    doc! { "$and": and.clone() }
                };
                let last = self
                    .coll
                    .find_one(scanned)
                    .sort(doc! { "_id": -1 })
                    .skip(skip)
                    .projection(doc! { "_id": 1 })
                    .await
                    .map_err(mapper(ENTITY))?;
                if let Some(last) = last {
                    let id = last
                        .get_str("_id")
                        .map_err(|e| Error::backend(super::error::BACKEND, e))?;
                    floor = Some(OrderId::parse(id)?);
                    and.push(doc! { "_id": { "$gte": id } });
                }
                let pattern = regex_literal(text);
                let mut any: Vec<Document> = ["name", "city", "postal_code"]
                    .iter()
                    .map(|f| {
                        doc! { format!("doc.shipping_address.{f}"): {
                        "$regex": pattern.as_str(), "$options": "i" } }
                    })
                    .collect();
                if let Some(prefix) = t.id_prefix() {
                    any.push(doc! { "_id": { "$regex": format!("^{}", regex_literal(prefix)) } });
                }
                and.push(doc! { "$or": any });
            }
        }
        let query = if and.is_empty() {
            Document::new()
        } else {
            doc! { "$and": and }
        };
        let items = self
            .find(query, doc! { "_id": -1 }, page.size() + 1)
            .await?;
        match floor {
            Some(floor) if items.len() <= page.size() => Ok(Page {
                items,
                next: Some(Cursor::encode(&floor)),
            }),
            _ => Ok(Page::from_overfetch(items, page.size(), |o| o.id)),
        }
    }
}
