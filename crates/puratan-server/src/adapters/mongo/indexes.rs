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
//! | `products` | `_id` (built in) | get, update, delete, the checkout's stock `$inc` |
//! | `products` | `sku_unique` `{sku}` unique | get_by_sku, SKU uniqueness |
//! | `products` | `active_id` `{active, _id}` | list |
//! | `products` | `category_active_id` `{category, active, _id}` | list by category |
//! | `products` | `tags_active_id` `{tags, active, _id}` | list by tag |
//! | `products` | `category_tags_active_id` `{category, tags, active, _id}` | list by category and tag |
//! | `users`    | `email_unique` `{email}` unique | get_by_email, uniqueness |
//! | `users`    | `identities` `{identities}` (multikey) | get_by_identity |
//! | `orders`   | `customer_newest` `{customer_id, _id: -1}` | list_by_customer, search by customer |
//! | `orders`   | `status_queue` `{status, priority: -1, due_ms, _id}` | list_queue (status, priority and due bounds, cursor ranges) |
//! | `orders`   | `status_newest` `{status, _id: -1}` | search by status, newest first |
//! | `orders`   | `idempotency_unique` `{idempotency}` unique, sparse | get_by_idempotency_key, one order per key |
//! | `coupon_redemptions` | `_id` (built in) | the checkout's conditional `$inc`, coupon_redemptions |
//! | `jobs`     | `queue` `{status, priority: -1, due_ms, submitted_ms, _id}` | claim_next, list by status |
//! | `jobs`     | `order_queue` `{order_id, priority: -1, due_ms, submitted_ms, _id}` | list by order, follow_order |
//! | `notifications` | `user_newest` `{user_id, _id: -1}` | list |
//! | `notifications` | `user_unread` `{user_id, unread}` | unread_count |
//! | `processed_messages` | `consumer_message_unique` `{consumer, message_id}` unique | idempotent consumers: one effect per message |
//! | `files`    | `owner_newest` `{owner, _id: -1}` | list_by_owner |
//! | `files`    | `status_oldest` `{status, _id}` | pending_scan |
//! | `audit`    | `actor_recent` `{actor, at: -1, _id: -1}` | recent(actor) |
//! | `audit`    | `recent` `{at: -1, _id: -1}` | recent() |
//! | `refresh_families` | `subject` `{subject}` | revoke_subject |
//!
//! Every listing index is "equality fields, then the sort key", so MongoDB
//! reads a page in index order and stops at the limit. The product listing
//! indexes include `active`, and `list` always filters on it: SecantusDB
//! (the test server) uses an index only when it covers *every* predicate of
//! a query and otherwise scans the collection, so `{category, _id}` with
//! `active` as a residual filter would be a collection scan there. The
//! audit indexes end in `_id` so "newest first" with its tie-break comes
//! straight from the index. The staff order search's free text (a
//! case-insensitive substring of the shipping name, city or postal code)
//! can use no index on any backend; its other filters narrow it through
//! `status_newest` or `customer_newest`.

use mongodb::bson::{Document, doc};
use mongodb::options::IndexOptions;
use mongodb::{Database, IndexModel};
use puratan_core::Result;

use super::{
    AUDIT, CATALOGS, FILES, JOBS, NOTIFICATIONS, ORDERS, PROCESSED_MESSAGES, PRODUCTS,
    REFRESH_FAMILIES, USERS, error,
};

fn index(name: &str, keys: Document, unique: bool) -> IndexModel {
    let options = IndexOptions::builder()
        .name(name.to_owned())
        .unique(unique.then_some(true))
        .build();
    IndexModel::builder().keys(keys).options(options).build()
}

/// A unique index over documents that have the field (others are not
/// indexed, so any number of them may lack it).
fn unique_sparse(name: &str, keys: Document) -> IndexModel {
    let options = IndexOptions::builder()
        .name(name.to_owned())
        .unique(true)
        .sparse(true)
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
                index("active_id", doc! { "active": 1, "_id": 1 }, false),
                index(
                    "category_active_id",
                    doc! { "category": 1, "active": 1, "_id": 1 },
                    false,
                ),
                index(
                    "tags_active_id",
                    doc! { "tags": 1, "active": 1, "_id": 1 },
                    false,
                ),
                index(
                    "category_tags_active_id",
                    doc! { "category": 1, "tags": 1, "active": 1, "_id": 1 },
                    false,
                ),
            ],
        ),
        (
            USERS,
            vec![
                index("email_unique", doc! { "email": 1 }, true),
                index("identities", doc! { "identities": 1 }, false),
            ],
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
                index("status_newest", doc! { "status": 1, "_id": -1 }, false),
                unique_sparse("idempotency_unique", doc! { "idempotency": 1 }),
            ],
        ),
        (
            JOBS,
            vec![
                index(
                    "queue",
                    doc! { "status": 1, "priority": -1, "due_ms": 1, "submitted_ms": 1, "_id": 1 },
                    false,
                ),
                index(
                    "order_queue",
                    doc! { "order_id": 1, "priority": -1, "due_ms": 1, "submitted_ms": 1, "_id": 1 },
                    false,
                ),
            ],
        ),
        (
            NOTIFICATIONS,
            vec![
                index("user_newest", doc! { "user_id": 1, "_id": -1 }, false),
                index("user_unread", doc! { "user_id": 1, "unread": 1 }, false),
            ],
        ),
        (
            PROCESSED_MESSAGES,
            vec![index(
                "consumer_message_unique",
                doc! { "consumer": 1, "message_id": 1 },
                true,
            )],
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
        (
            FILES,
            vec![
                index("owner_newest", doc! { "owner": 1, "_id": -1 }, false),
                index("status_oldest", doc! { "status": 1, "_id": 1 }, false),
            ],
        ),
        (
            CATALOGS,
            vec![index("newest", doc! { "created_at": -1, "_id": -1 }, false)],
        ),
        (
            REFRESH_FAMILIES,
            vec![index("subject", doc! { "subject": 1 }, false)],
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
