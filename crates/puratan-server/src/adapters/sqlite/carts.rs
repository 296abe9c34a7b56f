//! [`CartRepo`] on the `carts` table (migration 10): the cart as a JSON
//! `doc`, keyed by customer id, with its version.

use async_trait::async_trait;
use chrono::Utc;
use puratan_core::domain::{Cart, UserId};
use puratan_core::ports::CartRepo;
use puratan_core::{Error, Result};
use rusqlite::{OptionalExtension, params};

use super::{SqliteStore, decode, encode, map};

const E: &str = "cart";

#[derive(Debug)]
pub(super) struct SqliteCarts(pub(super) SqliteStore);

#[async_trait]
impl CartRepo for SqliteCarts {
    async fn get(&self, customer: UserId) -> Result<Cart> {
        self.0
            .read(move |c| {
                let row = c
                    .query_row(
                        "SELECT doc, version FROM carts WHERE id = ?1",
                        [customer.to_string()],
                        |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
                    )
                    .optional()
                    .map_err(|e| map(E, e))?;
                match row {
                    None => Ok(Cart::empty(customer, Utc::now())),
                    Some((doc, version)) => {
                        let mut cart: Cart = decode(&doc)?;
                        cart.version = u64::try_from(version).unwrap_or_default();
                        Ok(cart)
                    }
                }
            })
            .await
    }

    async fn put(&self, mut cart: Cart) -> Result<Cart> {
        self.0
            .write(move |c| {
                let expected = i64::try_from(cart.version).map_err(|_| Error::stale(E))?;
                cart.version += 1;
                let doc = encode(&cart)?;
                let id = cart.customer_id.to_string();
                let changed = if expected == 0 {
                    // Version 0: nothing stored yet; a concurrent first
                    // write makes this one stale.
                    c.execute(
                        "INSERT INTO carts (id, version, doc) VALUES (?1, 1, ?2) ON CONFLICT (id) DO NOTHING",
                        params![id, doc],
                    )
                } else {
                    c.execute(
                        "UPDATE carts SET version = version + 1, doc = ?1 WHERE id = ?2 AND version = ?3",
                        params![doc, id, expected],
                    )
                }
                .map_err(|e| map(E, e))?;
                if changed == 0 {
                    return Err(Error::stale(E));
                }
                Ok(cart)
            })
            .await
    }
}
