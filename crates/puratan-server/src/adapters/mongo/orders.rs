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
//! The checkout's idempotency key is the top-level `idempotency` field
//! (`<customer id>/<key>`) under the unique, sparse `idempotency_unique`
//! index. Outbox documents are `{_id: <event id, UUIDv7>, order_id, doc}`
//! and are deleted once published; `_id` order is write order.

use async_trait::async_trait;
use futures::TryStreamExt as _;
use mongodb::Collection;
use mongodb::bson::{Document, doc};
use mongodb::error::{Error as MongoError, TRANSIENT_TRANSACTION_ERROR};
use puratan_core::domain::{Order, OrderId, OrderStatus, OutboxEntry, UserId};
use puratan_core::ports::{OrderRepo, Page, PageRequest, queue_key};
use puratan_core::{ConflictReason, Error, Result};

use super::error::{map_err, mapper};
use super::{ORDER_OUTBOX, commit, from_body, get_version, record_projection, to_body};

const ENTITY: &str = "order";
/// How often a transaction is re-run after a transient error.
const TXN_ATTEMPTS: usize = 20;

/// Orders keyed by the string form of their UUIDv7 id (submission order).
#[derive(Debug, Clone)]
pub struct MongoOrderRepo {
    coll: Collection<Document>,
    outbox: Collection<Document>,
}

/// Why a transaction body stopped: a driver error, or a domain outcome
/// (a stale version) that aborts it.
enum TxnError {
    Driver(MongoError),
    Domain(Error),
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

fn idempotency_field(order: &Order) -> Option<String> {
    order
        .idempotency
        .as_ref()
        .map(|i| format!("{}/{}", order.customer_id, i.key))
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
        let outbox = coll
            .client()
            .database(&coll.namespace().db)
            .collection(ORDER_OUTBOX);
        Self { coll, outbox }
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
    /// version-checked `update` of `order`) and the outbox inserts in one
    /// transaction, re-running it after transient errors.
    async fn write_with_outbox(
        &self,
        insert: Option<Document>,
        update: Option<(String, i64, Document)>,
        events: &[OutboxEntry],
    ) -> Result<()> {
        let docs = outbox_docs(events)?;
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
                    if e.contains_label(TRANSIENT_TRANSACTION_ERROR) && attempt < TXN_ATTEMPTS =>
                {
                    let _ = session.abort_transaction().await;
                }
                Err(e) => {
                    let _ = session.abort_transaction().await;
                    return Err(match e {
                        TxnError::Driver(e) if insert.is_some() => map_insert(e),
                        TxnError::Driver(e) => map_err(ENTITY, e),
                        TxnError::Domain(e) => e,
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
        self.write_with_outbox(Some(Self::insert_doc(&order)?), None, &events)
            .await?;
        Ok(order)
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
            .write_with_outbox(None, Some((order.id.to_string(), expected, set)), &events)
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
        let Ok(expected) = i64::try_from(order.version) else {
            return Err(self.missing_or_stale(order.id).await?);
        };
        order.version += 1;
        let result = self
            .coll
            .update_one(
                doc! { "_id": order.id.to_string(), "version": expected },
                doc! { "$set": Self::fields(&order)?, "$inc": { "version": 1_i64 } },
            )
            .await
            .map_err(mapper(ENTITY))?;
        if result.matched_count == 0 {
            return Err(self.missing_or_stale(order.id).await?);
        }
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

    /// Production order on the `{status, priority: -1, due_ms, _id}` index.
    /// The cursor is [`queue_key`] of the last order shown.
    ///
    /// "After the cursor" in this mixed-direction order is the union of
    /// three disjoint ranges, each coming after the previous one: same
    /// priority and due date with a greater id; same priority with a later
    /// due date; lower priority. They are queried one after the other until
    /// the page is full, rather than as one `$or`: every query is then an
    /// equality prefix plus one range on the index, which MongoDB answers
    /// with a bounded index scan in index order, and SecantusDB (whose
    /// planner never uses an index for `$or`, falling back to a collection
    /// scan) answers from the index too.
    async fn list_by_status(
        &self,
        status: &OrderStatus,
        page: &PageRequest,
    ) -> Result<Page<Order>> {
        let after: Option<(u8, i64, String)> =
            page.after.as_ref().map(|c| c.decode()).transpose()?;
        let status = status.as_str();
        let ranges = match after {
            None => vec![doc! { "status": status }],
            Some((priority, due_ms, id)) => {
                let priority = i32::from(priority);
                vec![
                    doc! { "status": status, "priority": priority, "due_ms": due_ms, "_id": { "$gt": id } },
                    doc! { "status": status, "priority": priority, "due_ms": { "$gt": due_ms } },
                    doc! { "status": status, "priority": { "$lt": priority } },
                ]
            }
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
}
