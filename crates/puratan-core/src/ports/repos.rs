use async_trait::async_trait;

use super::{Page, PageRequest};
use crate::Result;
use crate::domain::{
    Category, Email, Order, OrderId, OrderStatus, OutboxEntry, Product, ProductId, Sku, Tag, User,
    UserId,
};

/// Optimistic concurrency, the same for every repository:
/// * `insert` stores a record whose `version` is ignored and returns it
///   with `version = 1`.
/// * `update` succeeds only if the stored version equals the record's
///   `version` (the one the caller read); it returns the record with the
///   version incremented. Otherwise it fails with
///   `Conflict { reason: StaleVersion }` and changes nothing.
/// * unique fields (e-mail, SKU) clash with `Conflict { reason: Duplicate }`.
#[async_trait]
pub trait ProductRepo: Send + Sync + 'static {
    async fn insert(&self, product: Product) -> Result<Product>;
    async fn get(&self, id: &ProductId) -> Result<Product>;
    async fn get_by_sku(&self, sku: &Sku) -> Result<Product>;
    async fn update(&self, product: Product) -> Result<Product>;
    async fn delete(&self, id: &ProductId) -> Result<()>;
    /// Products ordered by id.
    async fn list(&self, filter: &ProductFilter, page: &PageRequest) -> Result<Page<Product>>;
    /// Atomically takes `quantity` units from stock; `Conflict { State }`
    /// when fewer are left (never oversells), a no-op for products without
    /// stock control. Returns the units left.
    async fn reserve_stock(&self, id: &ProductId, quantity: u64) -> Result<Option<u64>>;
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductFilter {
    pub category: Option<Category>,
    pub tag: Option<Tag>,
    /// Include inactive products (admin views).
    pub include_inactive: bool,
}

impl ProductFilter {
    pub fn matches(&self, p: &Product) -> bool {
        (self.include_inactive || p.active)
            && self.category.as_ref().is_none_or(|c| &p.category == c)
            && self.tag.as_ref().is_none_or(|t| p.tags.contains(t))
    }
}

#[async_trait]
pub trait UserRepo: Send + Sync + 'static {
    async fn insert(&self, user: User) -> Result<User>;
    async fn get(&self, id: UserId) -> Result<User>;
    async fn get_by_email(&self, email: &Email) -> Result<User>;
    /// The account an external identity (OIDC issuer + subject) is linked to.
    async fn get_by_identity(&self, issuer: &str, subject: &str) -> Result<User>;
    async fn update(&self, user: User) -> Result<User>;
    /// Users ordered by id (creation time).
    async fn list(&self, page: &PageRequest) -> Result<Page<User>>;
}

/// Orders, with optimistic concurrency like every repository, plus:
///
/// * **Idempotency**: `(customer_id, idempotency.key)` is unique; a second
///   order with the same key for the same customer fails with
///   `Conflict { Duplicate { field: "idempotency_key" } }` and changes
///   nothing ([`get_by_idempotency_key`](Self::get_by_idempotency_key)
///   finds the first).
/// * **Transactional outbox**: `insert_with_outbox` / `update_with_outbox`
///   write the order and its events atomically (one SQLite transaction,
///   one MongoDB multi-document transaction): either both are stored or
///   neither. [`outbox_pending`](Self::outbox_pending) returns unsent
///   entries oldest first (per order in write order);
///   [`outbox_mark_sent`](Self::outbox_mark_sent) removes them from the
///   pending set (unknown ids are ignored, so marking twice is harmless).
#[async_trait]
pub trait OrderRepo: Send + Sync + 'static {
    async fn insert(&self, order: Order) -> Result<Order>;
    async fn get(&self, id: OrderId) -> Result<Order>;
    async fn update(&self, order: Order) -> Result<Order>;
    /// `insert`, plus `events` in the outbox, in one transaction.
    async fn insert_with_outbox(&self, order: Order, events: Vec<OutboxEntry>) -> Result<Order>;
    /// `update` (version-checked), plus `events` in the outbox, in one
    /// transaction: a stale version stores neither.
    async fn update_with_outbox(&self, order: Order, events: Vec<OutboxEntry>) -> Result<Order>;
    /// The customer's order submitted with this `Idempotency-Key`.
    async fn get_by_idempotency_key(&self, customer: UserId, key: &str) -> Result<Order>;
    /// Up to `limit` unsent outbox entries, oldest first.
    async fn outbox_pending(&self, limit: usize) -> Result<Vec<OutboxEntry>>;
    /// Marks entries as published.
    async fn outbox_mark_sent(&self, ids: &[String]) -> Result<()>;
    /// A customer's orders, newest first.
    async fn list_by_customer(&self, customer: UserId, page: &PageRequest) -> Result<Page<Order>>;
    /// Orders in `status` in production order: priority descending, then
    /// due date ascending, then id (submission order) ascending.
    async fn list_by_status(&self, status: &OrderStatus, page: &PageRequest)
    -> Result<Page<Order>>;
}

/// Sort key of the production queue; shared so every backend pages alike.
pub fn queue_key(o: &Order) -> (u8, i64, String) {
    (
        o.priority.get(),
        o.due_at.timestamp_millis(),
        o.id.to_string(),
    )
}
