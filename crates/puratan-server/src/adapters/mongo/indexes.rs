//! The indexes every query of this adapter relies on.
//!
//! Each index has an explicit name: [`super::error::duplicate_field`]
//! derives the domain field of a duplicate-key error from it, and a fixed
//! name makes `createIndexes` idempotent (re-creating an identical index is
//! a no-op; a changed definition under the same name fails loudly instead
//! of silently building a second index).
//!
//! | collection | index | serves |
//! |------------|-------|--------|
//! | `products` | `_id` (built in) | get, delete, unfiltered list |
//! | `products` | `sku_unique` `{sku}` unique | get_by_sku, SKU uniqueness |
//! | `products` | `category_id` `{category, _id}` | list by category |
//! | `products` | `tags_id` `{tags, _id}` | list by tag |
//! | `users`    | `email_unique` `{email}` unique | get_by_email, uniqueness |
//! | `orders`   | `customer_newest` `{customer_id, _id: -1}` | list_by_customer |
//! | `orders`   | `status_queue` `{status, priority: -1, due_ms, _id}` | list_by_status |
//! | `audit`    | `actor_recent` `{actor, at: -1, _id: -1}` | recent(actor) |
//! | `audit`    | `recent` `{at: -1, _id: -1}` | recent() |
//!
//! The audit indexes end in `_id` so "newest first" with its tie-break is
//! read straight from the index, without an in-memory sort.

use mongodb::bson::{Document, doc};
use mongodb::options::IndexOptions;
use mongodb::{Database, IndexModel};
use puratan_core::Result;

use super::{AUDIT, ORDERS, PRODUCTS, USERS, error};

fn index(name: &str, keys: Document, unique: bool) -> IndexModel {
    let options = IndexOptions::builder()
        .name(name.to_owned())
        .unique(unique.then_some(true))
        .build();
    IndexModel::builder().keys(keys).options(options).build()
}

/// Every index, per collection.
pub(crate) fn all() -> Vec<(&'static str, Vec<IndexModel>)> {
    vec![
        (
            PRODUCTS,
            vec![
                index("sku_unique", doc! { "sku": 1 }, true),
                index("category_id", doc! { "category": 1, "_id": 1 }, false),
                index("tags_id", doc! { "tags": 1, "_id": 1 }, false),
            ],
        ),
        (
            USERS,
            vec![index("email_unique", doc! { "email": 1 }, true)],
        ),
        (
            ORDERS,
            vec![
                index(
                    "customer_newest",
                    doc! { "customer_id": 1, "_id": -1 },
                    false,
                ),
                index(
                    "status_queue",
                    doc! { "status": 1, "priority": -1, "due_ms": 1, "_id": 1 },
                    false,
                ),
            ],
        ),
        (
            AUDIT,
            vec![
                index(
                    "actor_recent",
                    doc! { "actor": 1, "at": -1, "_id": -1 },
                    false,
                ),
                index("recent", doc! { "at": -1, "_id": -1 }, false),
            ],
        ),
    ]
}

/// Creates every index (and with it every collection). Idempotent.
pub(crate) async fn ensure(db: &Database) -> Result<()> {
    for (collection, models) in all() {
        db.collection::<Document>(collection)
            .create_indexes(models)
            .await
            .map_err(error::mapper("index"))?;
    }
    Ok(())
}
