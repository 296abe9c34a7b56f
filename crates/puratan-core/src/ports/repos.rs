use async_trait::async_trait;

use chrono::{DateTime, Utc};

use super::{Cursor, Page, PageRequest};
use crate::Result;
use crate::domain::{
    Category, Email, Order, OrderId, OrderStatus, OutboxEntry, Priority, Product, ProductId, Sku,
    Tag, User, UserId, text,
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

/// What a checkout takes from shared counters, written in the order's
/// transaction by [`OrderRepo::insert_checkout`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reservations {
    /// Units to take per product, each product at most once. A
    /// stock-controlled product loses them (never below zero); a product
    /// without stock control is left alone.
    pub stock: Vec<(ProductId, u64)>,
    /// One redemption per coupon — each normalised (lower-cased) code at
    /// most once, whatever the number of lines using it — with the
    /// coupon's cap (`max_redemptions`; `None` = unlimited).
    pub coupons: Vec<(String, Option<u64>)>,
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
/// * **Checkout**: [`insert_checkout`](Self::insert_checkout) writes the
///   order, its events, the stock it takes and the coupon redemptions it
///   counts in one transaction. Redemption counters are keyed by the
///   normalised coupon code and only ever grow: cancelling or refunding
///   an order does not give its redemption back (a cap bounds how many
///   orders were *placed* with the coupon).
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
    /// The checkout write, all or nothing: `insert` (a duplicate id or
    /// idempotency key is `Conflict { Duplicate }`), `events` in the
    /// outbox, every `reservations.stock` decrement and one redemption of
    /// every `reservations.coupons` code, in one transaction. A product
    /// with fewer units left than asked is `Conflict { entity: "product",
    /// reason: Exhausted { key: <product id> } }`; a coupon whose count
    /// has reached its cap is `Conflict { entity: "coupon", reason:
    /// Exhausted { key: <code> } }`; an unknown product is `NotFound`.
    /// On any error nothing is stored. Concurrent checkouts never take
    /// more units than there are nor count more redemptions than the cap.
    async fn insert_checkout(
        &self,
        order: Order,
        events: Vec<OutboxEntry>,
        reservations: Reservations,
    ) -> Result<Order>;
    /// How many orders redeemed the coupon with this normalised code
    /// (0 when none did).
    async fn coupon_redemptions(&self, code: &str) -> Result<u64>;
    /// The customer's order submitted with this `Idempotency-Key`.
    async fn get_by_idempotency_key(&self, customer: UserId, key: &str) -> Result<Order>;
    /// Up to `limit` unsent outbox entries, oldest first.
    async fn outbox_pending(&self, limit: usize) -> Result<Vec<OutboxEntry>>;
    /// Marks entries as published.
    async fn outbox_mark_sent(&self, ids: &[String]) -> Result<()>;
    /// A customer's orders, newest first.
    async fn list_by_customer(&self, customer: UserId, page: &PageRequest) -> Result<Page<Order>>;
    /// The production queue: orders matching `filter` (see
    /// [`QueueFilter::matches`]) in production order — priority
    /// descending, then due date ascending, then id (submission order)
    /// ascending. The cursor is [`queue_key`] of the last order shown.
    /// The store filters while it reads, so every page is full unless it
    /// is the last.
    async fn list_queue(&self, filter: &QueueFilter, page: &PageRequest) -> Result<Page<Order>>;
    /// Staff order search: orders matching `search` (see
    /// [`OrderSearch::matches`]), newest first; the cursor is the id of
    /// the last order shown, or of the last order examined.
    ///
    /// Bounded work: free text ([`OrderSearch::free_text`]) is checked
    /// row by row, so one request examines at most
    /// [`OrderSearch::scan_limit`] orders (default
    /// [`OrderSearch::MAX_SCANNED`], 10 000) of those matching the other
    /// filters, newest first. When that limit is reached before the page
    /// is full the page is returned as it is — possibly short or empty —
    /// with `next` set to the id of the last order examined, so following
    /// `next` continues exactly where the scan stopped; callers page
    /// until `next` is `None`. Exactly [`OrderSearch::page_from_rows`].
    async fn search(&self, search: &OrderSearch, page: &PageRequest) -> Result<Page<Order>>;
}

/// Which orders [`OrderRepo::list_queue`] shows: one workflow state,
/// optionally a priority range and a due-date window. Dates compare at
/// millisecond precision (as the queue sorts); the window is half-open,
/// `due_after <= due < due_before`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueFilter {
    pub status: OrderStatus,
    /// Lowest priority shown (inclusive).
    pub min_priority: Option<Priority>,
    /// Highest priority shown (inclusive).
    pub max_priority: Option<Priority>,
    /// Due at or after this instant.
    pub due_after: Option<DateTime<Utc>>,
    /// Due strictly before this instant.
    pub due_before: Option<DateTime<Utc>>,
}

impl QueueFilter {
    /// Every order in `status`.
    pub fn status(status: OrderStatus) -> Self {
        Self {
            status,
            min_priority: None,
            max_priority: None,
            due_after: None,
            due_before: None,
        }
    }

    /// The priority range as numbers, inclusive (`0..=100` when open).
    pub fn priority_bounds(&self) -> (u8, u8) {
        (
            self.min_priority.map_or(Priority::MIN.get(), Priority::get),
            self.max_priority.map_or(Priority::MAX.get(), Priority::get),
        )
    }

    /// The due window in epoch milliseconds, `lo <= due_ms < hi`
    /// (`i64::MIN` / `i64::MAX` when open).
    pub fn due_bounds_ms(&self) -> (i64, i64) {
        (
            self.due_after.map_or(i64::MIN, |t| t.timestamp_millis()),
            self.due_before.map_or(i64::MAX, |t| t.timestamp_millis()),
        )
    }

    /// Whether the filter can match anything at all.
    pub fn is_satisfiable(&self) -> bool {
        let (pl, ph) = self.priority_bounds();
        let (dl, dh) = self.due_bounds_ms();
        pl <= ph && dl < dh
    }

    /// The reference semantics every backend implements.
    pub fn matches(&self, o: &Order) -> bool {
        let (pl, ph) = self.priority_bounds();
        let (dl, dh) = self.due_bounds_ms();
        let due = o.due_at.timestamp_millis();
        o.status == self.status && (pl..=ph).contains(&o.priority.get()) && dl <= due && due < dh
    }
}

/// What the free text `q` of the staff order search looks for; build it
/// with [`SearchText::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchText {
    /// `q` was a complete order id: exactly that order.
    Id(OrderId),
    /// Lower-cased, normalised text: orders whose id starts with it (only
    /// when it could be an id prefix, see [`SearchText::id_prefix`]) or
    /// whose shipping name, city or postal code contains it, ignoring case.
    Text(String),
}

impl SearchText {
    /// Longest accepted `q`, in characters.
    pub const MAX_CHARS: usize = 100;
    /// Shortest text that is also tried as an id prefix (a single digit
    /// would otherwise match every order of the same decade).
    pub const MIN_ID_PREFIX: usize = 4;

    /// Validates and normalises `q`: NFC, no control characters, 1–100
    /// characters after trimming; `Ok(None)` for blank input. Everything
    /// else is literal text — `.*`, `$where` or `{"$ne": 1}` only match
    /// orders that contain those characters.
    pub fn parse(raw: &str) -> Result<Option<Self>> {
        // Refuse huge input before normalising it.
        if raw.len() > Self::MAX_CHARS * 4 {
            return Err(crate::Error::invalid(
                "q",
                format!("must be at most {} characters", Self::MAX_CHARS),
            ));
        }
        if raw.trim().is_empty() {
            return Ok(None);
        }
        let cleaned = text::clean("q", raw, Self::MAX_CHARS, false)?;
        if cleaned.len() == 36
            && let Ok(id) = OrderId::parse(&cleaned)
        {
            return Ok(Some(Self::Id(id)));
        }
        Ok(Some(Self::Text(cleaned.to_lowercase())))
    }

    /// The text as an id prefix, if it could be one: at least
    /// [`MIN_ID_PREFIX`](Self::MIN_ID_PREFIX) characters of `0-9`, `a-f`
    /// and `-` (ids are stored lower-case).
    pub fn id_prefix(&self) -> Option<&str> {
        match self {
            Self::Text(t)
                if t.len() >= Self::MIN_ID_PREFIX
                    && t.len() <= 36
                    && t.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') =>
            {
                Some(t)
            }
            _ => None,
        }
    }

    /// The reference semantics every backend implements.
    pub fn matches(&self, o: &Order) -> bool {
        match self {
            Self::Id(id) => o.id == *id,
            Self::Text(t) => {
                self.id_prefix()
                    .is_some_and(|p| o.id.to_string().starts_with(p))
                    || o.shipping_address.as_ref().is_some_and(|a| {
                        [&a.name, &a.city, &a.postal_code]
                            .iter()
                            .any(|f| f.to_lowercase().contains(t.as_str()))
                    })
            }
        }
    }
}

/// The staff order search ([`OrderRepo::search`]): every field that is
/// set must match. The creation time of an order is the timestamp of its
/// id (a UUIDv7, millisecond precision); the window is half-open,
/// `created_after <= created < created_before`, and is applied as a range
/// of ids ([`OrderSearch::id_bounds`]), so it needs no extra column.
/// Resolving an e-mail address to a customer is the caller's job.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderSearch {
    pub text: Option<SearchText>,
    pub customer: Option<UserId>,
    pub status: Option<OrderStatus>,
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    /// Orders examined per request for free text; `None` is
    /// [`MAX_SCANNED`](Self::MAX_SCANNED). See [`scan_limit`](Self::scan_limit).
    pub max_scanned: Option<usize>,
}

impl OrderSearch {
    /// The default and largest number of orders one search request
    /// examines for free text ([`OrderRepo::search`]).
    pub const MAX_SCANNED: usize = 10_000;

    /// How many orders one request examines for free text:
    /// `max_scanned` clamped to `1..=MAX_SCANNED`.
    pub fn scan_limit(&self) -> usize {
        self.max_scanned
            .unwrap_or(Self::MAX_SCANNED)
            .clamp(1, Self::MAX_SCANNED)
    }

    /// The free text checked row by row (`SearchText::Text`); an exact
    /// id is a key condition like the other filters.
    pub fn free_text(&self) -> Option<&SearchText> {
        self.text
            .as_ref()
            .filter(|t| matches!(t, SearchText::Text(_)))
    }

    /// Every filter except [`free_text`](Self::free_text): the orders a
    /// store selects by index and then examines.
    pub fn matches_without_text(&self, o: &Order) -> bool {
        let id = o.id.to_string();
        let (lo, hi) = self.id_bounds();
        self.customer.is_none_or(|c| o.customer_id == c)
            && self.status.as_ref().is_none_or(|s| &o.status == s)
            && lo.is_none_or(|lo| id >= lo)
            && hi.is_none_or(|hi| id < hi)
            && match &self.text {
                Some(SearchText::Id(want)) => o.id == *want,
                _ => true,
            }
    }

    /// The reference paging of [`OrderRepo::search`]: `rows` are the
    /// orders after the cursor that match
    /// [`matches_without_text`](Self::matches_without_text), newest
    /// first. Reads until the page is full plus one (to know whether
    /// more follow) or, with free text, until
    /// [`scan_limit`](Self::scan_limit) rows were examined; in that case
    /// the page (maybe short or empty) continues after the last row
    /// examined.
    pub fn page_from_rows(
        &self,
        rows: impl IntoIterator<Item = Result<Order>>,
        size: usize,
    ) -> Result<Page<Order>> {
        let text = self.free_text();
        let cap = text.map(|_| self.scan_limit());
        let mut items = Vec::with_capacity(size + 1);
        for (n, row) in rows.into_iter().enumerate() {
            let o = row?;
            let examined = n + 1;
            let last = o.id;
            if text.is_none_or(|t| t.matches(&o)) {
                items.push(o);
            }
            if items.len() > size {
                break;
            }
            if cap.is_some_and(|c| examined >= c) {
                return Ok(Page {
                    items,
                    next: Some(Cursor::encode(&last)),
                });
            }
        }
        Ok(Page::from_overfetch(items, size, |o| o.id))
    }

    /// The smallest id string created at `t` or later: the UUIDv7
    /// timestamp (48 bits of epoch milliseconds, clamped) as the first
    /// twelve hex digits, hyphenated as ids are. Every canonical id of a
    /// later instant compares greater, every one of an earlier instant
    /// smaller.
    pub fn id_floor(t: DateTime<Utc>) -> String {
        let ms = t.timestamp_millis().clamp(0, (1_i64 << 48) - 1);
        format!("{:08x}-{:04x}-", ms >> 16, ms & 0xffff)
    }

    /// The creation window as id bounds: `lo <= id` and `id < hi`.
    pub fn id_bounds(&self) -> (Option<String>, Option<String>) {
        (
            self.created_after.map(Self::id_floor),
            self.created_before.map(Self::id_floor),
        )
    }

    /// The reference semantics every backend implements.
    pub fn matches(&self, o: &Order) -> bool {
        self.matches_without_text(o) && self.free_text().is_none_or(|t| t.matches(o))
    }
}

/// Sort key of the production queue; shared so every backend pages alike.
pub fn queue_key(o: &Order) -> (u8, i64, String) {
    (
        o.priority.get(),
        o.due_at.timestamp_millis(),
        o.id.to_string(),
    )
}
