//! [`OrderRepo`] on the `orders` collection.

use async_trait::async_trait;
use futures::TryStreamExt as _;
use mongodb::Collection;
use mongodb::bson::{Document, doc};
use puratan_core::domain::{Order, OrderId, OrderStatus, UserId};
use puratan_core::ports::{OrderRepo, Page, PageRequest, queue_key};
use puratan_core::{Error, Result};

use super::error::mapper;
use super::{from_body, get_version, record_projection, to_body};

const ENTITY: &str = "order";

/// Orders keyed by the string form of their UUIDv7 id (submission order).
#[derive(Debug, Clone)]
pub struct MongoOrderRepo {
    coll: Collection<Document>,
}

impl MongoOrderRepo {
    pub(crate) fn new(coll: Collection<Document>) -> Self {
        Self { coll }
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
        let docs: Vec<Document> = self
            .coll
            .find(query)
            .sort(sort)
            .limit(i64::try_from(limit).unwrap_or(i64::MAX))
            .projection(record_projection())
            .await
            .map_err(mapper(ENTITY))?
            .try_collect()
            .await
            .map_err(mapper(ENTITY))?;
        docs.iter().map(Self::read).collect()
    }

    async fn missing_or_stale(&self, id: OrderId) -> Result<Error> {
        let found = self
            .coll
            .find_one(doc! { "_id": id.to_string() })
            .projection(doc! { "_id": 1 })
            .await
            .map_err(mapper(ENTITY))?;
        Ok(match found {
            Some(_) => Error::stale(ENTITY),
            None => Error::NotFound { entity: ENTITY },
        })
    }
}

#[async_trait]
impl OrderRepo for MongoOrderRepo {
    async fn insert(&self, mut order: Order) -> Result<Order> {
        order.version = 1;
        let mut d = doc! { "_id": order.id.to_string(), "version": 1_i64 };
        d.extend(Self::fields(&order)?);
        self.coll.insert_one(d).await.map_err(mapper(ENTITY))?;
        Ok(order)
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
