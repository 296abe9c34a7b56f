//! [`CartRepo`] on the `carts` collection: `_id` is the customer id, the
//! cart is the body, `version` the optimistic-concurrency counter.

use async_trait::async_trait;
use chrono::Utc;
use mongodb::Collection;
use mongodb::bson::{Document, doc};
use puratan_core::domain::{Cart, UserId};
use puratan_core::ports::CartRepo;
use puratan_core::{Error, Result};

use super::error::mapper;
use super::{from_body, get_version, record_projection, to_body};

const ENTITY: &str = "cart";

#[derive(Debug, Clone)]
pub struct MongoCartRepo {
    coll: Collection<Document>,
}

impl MongoCartRepo {
    pub(crate) fn new(coll: Collection<Document>) -> Self {
        Self { coll }
    }
}

#[async_trait]
impl CartRepo for MongoCartRepo {
    async fn get(&self, customer: UserId) -> Result<Cart> {
        let found = self
            .coll
            .find_one(doc! { "_id": customer.to_string() })
            .projection(record_projection())
            .await
            .map_err(mapper(ENTITY))?;
        match found {
            None => Ok(Cart::empty(customer, Utc::now())),
            Some(d) => {
                let mut cart: Cart = from_body(ENTITY, &d)?;
                cart.version = get_version(ENTITY, &d)?;
                Ok(cart)
            }
        }
    }

    async fn put(&self, mut cart: Cart) -> Result<Cart> {
        let expected = i64::try_from(cart.version).map_err(|_| Error::stale(ENTITY))?;
        cart.version += 1;
        let id = cart.customer_id.to_string();
        if expected == 0 {
            // Nothing stored yet: a concurrent first write wins the _id.
            let d = doc! { "_id": id, "version": 1_i64, "doc": to_body(&cart)? };
            return match self.coll.insert_one(d).await.map_err(mapper(ENTITY)) {
                Ok(_) => Ok(cart),
                Err(Error::Conflict { .. }) => Err(Error::stale(ENTITY)),
                Err(e) => Err(e),
            };
        }
        let result = self
            .coll
            .update_one(
                doc! { "_id": id, "version": expected },
                doc! { "$set": { "doc": to_body(&cart)? }, "$inc": { "version": 1_i64 } },
            )
            .await
            .map_err(mapper(ENTITY))?;
        if result.matched_count == 0 {
            return Err(Error::stale(ENTITY));
        }
        Ok(cart)
    }
}
