//! MongoDB adapter: [`ProductRepo`], [`UserRepo`], [`OrderRepo`] and
//! [`AuditLog`] on the official `mongodb` driver.
//!
//! # Documents
//! One collection per port (`products`, `users`, `orders`, `audit`). Each
//! document has an `_id`, real typed top-level fields for everything that
//! is queried, sorted or indexed, and the whole domain record serialised
//! (serde → BSON) under `doc`, so the record's shape stays faithful:
//!
//! | collection | top-level fields |
//! |------------|------------------|
//! | `products` | `_id` (slug), `sku`, `category`, `tags`, `active`, `stock` (i64 or null), `version` |
//! | `users`    | `_id` (UUID string), `email`, `version` |
//! | `orders`   | `_id` (UUID string), `customer_id` (UUID string), `status`, `priority` (i32), `due_ms` (i64 millis), `version`, `idempotency` (`<customer>/<key>`, checkout orders only) |
//! | `order_outbox` | `_id` (event id, UUIDv7), `order_id` (see `orders.rs`: the transactional outbox) |
//! | `coupon_redemptions` | `_id` (normalised coupon code), `used` (i64: orders that redeemed it; see `orders.rs`: checkout) |
//! | `jobs`     | `_id` (`<order id>.<line>.<run>`), `order_id`, `status`, `priority` (i32), `due_ms`, `submitted_ms` (i64 millis), `version` (see `jobs.rs`: atomic claim) |
//! | `notifications` | `_id` (UUIDv7 string), `user_id`, `unread` (bool) (see `inbox.rs`) |
//! | `processed_messages` | `_id` (ObjectId), `consumer`, `message_id`, `at` (BSON date): unique per (consumer, message id) |
//! | `audit`    | `_id` (ObjectId), `actor`, `at` (BSON date) |
//!
//! Records are read back from `doc`; `version` (and a product's `stock`)
//! are authoritative at the top level, because atomic operators (the
//! checkout's `$inc` of `stock`, [`OrderRepo::insert_checkout`]) change
//! only those. UUIDv7
//! strings sort like the ids themselves, so `_id` order is creation order.
//!
//! # Safety and concurrency
//! Every filter and update is built with `doc!` from typed domain values
//! (validated ids, SKUs, e-mails, decoded cursors); client input never
//! becomes a filter, so a value such as `{"$ne": null}` is a literal
//! string. Updates are optimistic: `update_one({_id, version: v}, {$set,
//! $inc: {version: 1}})`; no match means stale (if the document exists)
//! or not found. Every query path has an index ([`MongoStore::ensure_indexes`]).
//!
//! The code is plain official-driver code and runs against a real replica
//! set as well as against the SecantusDB test server (see
//! `scripts/services/mongo.sh`).

mod audit;
mod carts;
mod catalogs;
mod config;
mod error;
mod files;
mod inbox;
mod indexes;
mod jobs;
mod orders;
mod products;
mod refresh;
mod uploads;
mod users;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use mongodb::bson::{Bson, Document, doc};
use mongodb::options::ClientOptions;
use mongodb::{Client, Collection, Database};
use puratan_core::ports::{AuditLog, CatalogRepo, OrderRepo, ProductRepo, UserRepo};
use puratan_core::{Error, Result};

pub use audit::MongoAuditLog;
pub use catalogs::MongoCatalogRepo;
pub use config::MongoConfig;
pub use files::MongoFileRepo;
pub use inbox::MongoInboxRepo;
pub use jobs::MongoJobRepo;
pub use orders::MongoOrderRepo;
pub use products::MongoProductRepo;
pub use refresh::MongoRefreshStore;
pub use uploads::MongoUploadStore;
pub use users::MongoUserRepo;

/// Collection names.
pub(crate) const PRODUCTS: &str = "products";
pub(crate) const USERS: &str = "users";
pub(crate) const ORDERS: &str = "orders";
pub(crate) const ORDER_OUTBOX: &str = "order_outbox";
pub(crate) const COUPON_REDEMPTIONS: &str = "coupon_redemptions";
pub(crate) const JOBS: &str = "jobs";
pub(crate) const NOTIFICATIONS: &str = "notifications";
pub(crate) const PROCESSED_MESSAGES: &str = "processed_messages";
pub(crate) const CARTS: &str = "carts";
pub(crate) const AUDIT: &str = "audit";
pub(crate) const FILES: &str = "files";
pub(crate) const CATALOGS: &str = "catalogs";
pub(crate) const SETTINGS: &str = "settings";
pub(crate) const REFRESH_TOKENS: &str = "refresh_tokens";
pub(crate) const REFRESH_FAMILIES: &str = "refresh_families";

/// A connection to one MongoDB database, handing out the repositories.
/// Cheap to clone; all clones share one connection pool.
#[derive(Clone)]
pub struct MongoStore {
    client: Client,
    db: Database,
}

impl fmt::Debug for MongoStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The client's options would include credentials: print neither.
        f.debug_struct("MongoStore")
            .field("database", &self.db.name())
            .finish_non_exhaustive()
    }
}

impl MongoStore {
    /// Parses the configuration and creates the client. No operation waits
    /// longer than `connect_timeout_ms` for a reachable server: it fails
    /// with `Unavailable { retryable: true }` instead. A malformed URI or
    /// database name is `Invalid`. Use [`ping`](Self::ping) to check
    /// reachability.
    pub async fn connect(config: &MongoConfig) -> Result<MongoStore> {
        let invalid = |reason: String| Error::invalid("mongo", reason);
        validate_database_name(&config.database).map_err(|r| invalid(r.to_owned()))?;
        let mut options = ClientOptions::parse(config.uri.as_str())
            .await
            .map_err(|e| {
                // The driver's message may quote the URI: never echo a password.
                let mut msg = e.to_string().replace(&config.uri, &config.redacted_uri());
                if let Some(password) = config::password(&config.uri).filter(|p| !p.is_empty()) {
                    msg = msg.replace(password, "***");
                }
                match error::map_err("mongo", e) {
                    unavailable @ Error::Unavailable { .. } => unavailable,
                    _ => invalid(format!(
                        "bad connection string {}: {msg}",
                        config.redacted_uri()
                    )),
                }
            })?;
        let timeout = Duration::from_millis(config.connect_timeout_ms.max(1));
        options.connect_timeout = Some(timeout);
        options.server_selection_timeout = Some(timeout);
        options.app_name.get_or_insert_with(|| "puratan".to_owned());
        let client = Client::with_options(options).map_err(error::mapper("mongo"))?;
        let db = client.database(&config.database);
        Ok(MongoStore { client, db })
    }

    /// Round-trips a `ping` to the server (readiness probe).
    pub async fn ping(&self) -> Result<()> {
        self.client
            .database("admin")
            .run_command(doc! { "ping": 1 })
            .await
            .map(|_| ())
            .map_err(error::mapper("mongo"))
    }

    /// Creates every index the repositories rely on (see [`indexes`]).
    /// Idempotent; run by `puratan migrate` and at start-up.
    pub async fn ensure_indexes(&self) -> Result<()> {
        indexes::ensure(&self.db).await
    }

    /// The database this store works in.
    pub fn database_name(&self) -> &str {
        self.db.name()
    }

    pub fn products(&self) -> Arc<dyn ProductRepo> {
        Arc::new(MongoProductRepo::new(self.collection(PRODUCTS)))
    }

    pub fn users(&self) -> Arc<dyn UserRepo> {
        Arc::new(MongoUserRepo::new(self.collection(USERS)))
    }

    pub fn orders(&self) -> Arc<dyn OrderRepo> {
        Arc::new(MongoOrderRepo::new(self.collection(ORDERS)))
    }

    pub fn refresh_tokens(&self) -> Arc<dyn puratan_core::auth::tokens::RefreshStore> {
        Arc::new(MongoRefreshStore::new(
            self.collection(REFRESH_TOKENS),
            self.collection(REFRESH_FAMILIES),
        ))
    }

    pub fn file_records(&self) -> Arc<dyn puratan_core::ports::FileRepo> {
        Arc::new(MongoFileRepo::new(self.collection(FILES)))
    }

    pub fn audit(&self) -> Arc<dyn AuditLog> {
        Arc::new(MongoAuditLog::new(self.collection(AUDIT)))
    }

    pub fn carts(&self) -> Arc<dyn puratan_core::ports::CartRepo> {
        Arc::new(carts::MongoCartRepo::new(self.collection(CARTS)))
    }

    pub fn jobs(&self) -> Arc<dyn puratan_core::ports::JobRepo> {
        Arc::new(MongoJobRepo::new(self.collection(JOBS)))
    }

    pub fn inbox(&self) -> Arc<dyn puratan_core::ports::InboxRepo> {
        Arc::new(MongoInboxRepo::new(self.collection(NOTIFICATIONS)))
    }

    pub fn catalogs(&self) -> Arc<dyn CatalogRepo> {
        Arc::new(MongoCatalogRepo::new(
            self.collection(CATALOGS),
            self.collection(SETTINGS),
        ))
    }

    fn collection(&self, name: &str) -> Collection<Document> {
        self.db.collection(name)
    }
}

/// MongoDB's rules for database names, checked up front so a typo fails at
/// start-up with a clear message rather than at the first write.
fn validate_database_name(name: &str) -> std::result::Result<(), &'static str> {
    if name.is_empty() || name.len() > 63 {
        return Err("database name must be 1-63 bytes");
    }
    if name.chars().any(|c| {
        matches!(
            c,
            '/' | '\\' | '.' | ' ' | '"' | '$' | '*' | '<' | '>' | ':' | '|' | '?' | '\0'
        )
    }) {
        return Err("database name must not contain /\\. \"$*<>:|? or NUL");
    }
    Ok(())
}

// ---- helpers shared by the repositories ----------------------------------

/// Serialises a domain record for the `doc` sub-document.
pub(crate) fn to_body<T: serde::Serialize>(record: &T) -> Result<Document> {
    mongodb::bson::to_document(record).map_err(error::codec)
}

/// Reads the domain record back from the `doc` sub-document.
pub(crate) fn from_body<T: serde::de::DeserializeOwned>(
    entity: &'static str,
    stored: &Document,
) -> Result<T> {
    let body = stored
        .get_document("doc")
        .map_err(|_| error::corrupt(entity, "no `doc`"))?;
    mongodb::bson::from_document(body.clone()).map_err(error::codec)
}

/// A counter (`version`, `stock`) as stored: `u64` in the domain, `i64` in
/// BSON. Values beyond `i64::MAX` cannot be stored.
pub(crate) fn to_i64(field: &'static str, n: u64) -> Result<i64> {
    i64::try_from(n).map_err(|_| Error::invalid(field, "too large"))
}

/// Reads a non-negative integer field (Int32 or Int64); `Ok(None)` when it
/// is null or missing.
pub(crate) fn get_u64(entity: &'static str, stored: &Document, field: &str) -> Result<Option<u64>> {
    let n = match stored.get(field) {
        None | Some(Bson::Null) => return Ok(None),
        Some(Bson::Int64(n)) => *n,
        Some(Bson::Int32(n)) => i64::from(*n),
        Some(_) => return Err(error::corrupt(entity, field)),
    };
    u64::try_from(n)
        .map(Some)
        .map_err(|_| error::corrupt(entity, field))
}

/// The stored `version`, which must be present.
pub(crate) fn get_version(entity: &'static str, stored: &Document) -> Result<u64> {
    get_u64(entity, stored, "version")?.ok_or_else(|| error::corrupt(entity, "no `version`"))
}

/// Projection for reading records: the body plus authoritative counters.
pub(crate) fn record_projection() -> Document {
    doc! { "doc": 1, "version": 1, "stock": 1 }
}

/// At most `limit` stored records matching `query`, in `sort` order,
/// projected to what `from_body` and `get_version` read.
pub(crate) async fn find_records(
    coll: &mongodb::Collection<Document>,
    entity: &'static str,
    query: Document,
    sort: Document,
    limit: usize,
) -> puratan_core::Result<Vec<Document>> {
    use futures::TryStreamExt as _;
    coll.find(query)
        .sort(sort)
        .limit(i64::try_from(limit).unwrap_or(i64::MAX))
        .projection(record_projection())
        .await
        .map_err(error::mapper(entity))?
        .try_collect()
        .await
        .map_err(error::mapper(entity))
}

/// `limit` for a page query that over-fetches by one.
pub(crate) fn overfetch_limit(size: usize) -> i64 {
    i64::try_from(size.saturating_add(1)).unwrap_or(i64::MAX)
}

/// Commits a transaction, retrying while its outcome is unknown
/// (`UnknownTransactionCommitResult`, as the driver specification advises).
pub(crate) async fn commit(
    session: &mut mongodb::ClientSession,
) -> std::result::Result<(), mongodb::error::Error> {
    let mut attempts = 0;
    loop {
        match session.commit_transaction().await {
            Err(e)
                if e.contains_label(mongodb::error::UNKNOWN_TRANSACTION_COMMIT_RESULT)
                    && attempts < 5 =>
            {
                attempts += 1;
            }
            other => return other,
        }
    }
}

/// Replaces the fields `set()` of the record `id` if it is still at
/// `version`, bumping the stored version: the optimistic-concurrency
/// write every repository shares. `NotFound` / `StaleVersion` when
/// nothing matched; a version beyond `i64` cannot be stored, so it is
/// judged the same way before `set` is built.
pub(crate) async fn update_versioned(
    coll: &Collection<Document>,
    entity: &'static str,
    id: &str,
    version: u64,
    set: impl FnOnce() -> Result<Document>,
) -> Result<()> {
    let Ok(expected) = i64::try_from(version) else {
        return Err(missing_or_stale(coll, id, entity).await?);
    };
    let set = set()?;
    let result = coll
        .update_one(
            doc! { "_id": id, "version": expected },
            doc! { "$set": set, "$inc": { "version": 1_i64 } },
        )
        .await
        .map_err(error::mapper(entity))?;
    if result.matched_count == 0 {
        return Err(missing_or_stale(coll, id, entity).await?);
    }
    Ok(())
}

/// Why a version-checked update matched nothing: the record is gone
/// (`NotFound`) or someone else updated it first (`StaleVersion`).
pub(crate) async fn missing_or_stale(
    coll: &Collection<Document>,
    id: &str,
    entity: &'static str,
) -> Result<puratan_core::Error> {
    let found = coll
        .find_one(doc! { "_id": id })
        .projection(doc! { "_id": 1 })
        .await
        .map_err(error::mapper(entity))?;
    Ok(match found {
        Some(_) => puratan_core::Error::stale(entity),
        None => puratan_core::Error::NotFound { entity },
    })
}
