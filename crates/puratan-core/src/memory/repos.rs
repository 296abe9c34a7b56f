use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use parking_lot::Mutex;

use crate::domain::{Email, Order, OrderId, OutboxEntry, Product, ProductId, Sku, User, UserId};
use crate::ports::{
    OrderRepo, OrderSearch, Page, PageRequest, ProductFilter, ProductRepo, QueueFilter, UserRepo,
    queue_key,
};
use crate::{Error, Result};

macro_rules! check_version {
    ($entity:literal, $stored:expr, $incoming:expr) => {{
        if $stored.version != $incoming.version {
            return Err(Error::stale($entity));
        }
        $incoming.version += 1;
    }};
}

#[derive(Debug, Default)]
pub struct MemoryProductRepo {
    rows: Mutex<BTreeMap<ProductId, Product>>,
}

impl MemoryProductRepo {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl ProductRepo for MemoryProductRepo {
    async fn insert(&self, mut product: Product) -> Result<Product> {
        let mut rows = self.rows.lock();
        if rows.contains_key(&product.id) {
            return Err(Error::duplicate("product", "id"));
        }
        if rows.values().any(|p| p.sku == product.sku) {
            return Err(Error::duplicate("product", "sku"));
        }
        product.version = 1;
        rows.insert(product.id.clone(), product.clone());
        Ok(product)
    }

    async fn get(&self, id: &ProductId) -> Result<Product> {
        self.rows
            .lock()
            .get(id)
            .cloned()
            .ok_or(Error::NotFound { entity: "product" })
    }

    async fn get_by_sku(&self, sku: &Sku) -> Result<Product> {
        let rows = self.rows.lock();
        rows.values()
            .find(|p| &p.sku == sku)
            .cloned()
            .ok_or(Error::NotFound { entity: "product" })
    }

    async fn update(&self, mut product: Product) -> Result<Product> {
        let mut rows = self.rows.lock();
        let stored = rows
            .get(&product.id)
            .ok_or(Error::NotFound { entity: "product" })?;
        check_version!("product", stored, product);
        if rows
            .values()
            .any(|p| p.sku == product.sku && p.id != product.id)
        {
            return Err(Error::duplicate("product", "sku"));
        }
        rows.insert(product.id.clone(), product.clone());
        Ok(product)
    }

    async fn delete(&self, id: &ProductId) -> Result<()> {
        self.rows
            .lock()
            .remove(id)
            .map(|_| ())
            .ok_or(Error::NotFound { entity: "product" })
    }

    async fn list(&self, filter: &ProductFilter, page: &PageRequest) -> Result<Page<Product>> {
        let after: Option<String> = page.after.as_ref().map(|c| c.decode()).transpose()?;
        let rows = self.rows.lock();
        let items: Vec<Product> = rows
            .values()
            .filter(|p| after.as_deref().is_none_or(|a| p.id.as_str() > a))
            .filter(|p| filter.matches(p))
            .take(page.size() + 1)
            .cloned()
            .collect();
        Ok(Page::from_overfetch(items, page.size(), |p| {
            p.id.to_string()
        }))
    }
}

#[derive(Debug, Default)]
pub struct MemoryUserRepo {
    rows: Mutex<BTreeMap<UserId, User>>,
}

impl MemoryUserRepo {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl UserRepo for MemoryUserRepo {
    async fn insert(&self, mut user: User) -> Result<User> {
        let mut rows = self.rows.lock();
        if rows.contains_key(&user.id) {
            return Err(Error::duplicate("user", "id"));
        }
        if rows.values().any(|u| u.email == user.email) {
            return Err(Error::duplicate("user", "email"));
        }
        user.version = 1;
        rows.insert(user.id, user.clone());
        Ok(user)
    }

    async fn get(&self, id: UserId) -> Result<User> {
        self.rows
            .lock()
            .get(&id)
            .cloned()
            .ok_or(Error::NotFound { entity: "user" })
    }

    async fn get_by_email(&self, email: &Email) -> Result<User> {
        let rows = self.rows.lock();
        rows.values()
            .find(|u| &u.email == email)
            .cloned()
            .ok_or(Error::NotFound { entity: "user" })
    }

    async fn get_by_identity(&self, issuer: &str, subject: &str) -> Result<User> {
        let rows = self.rows.lock();
        rows.values()
            .find(|u| {
                u.identities
                    .iter()
                    .any(|i| i.issuer == issuer && i.subject == subject)
            })
            .cloned()
            .ok_or(Error::NotFound { entity: "user" })
    }

    async fn update(&self, mut user: User) -> Result<User> {
        let mut rows = self.rows.lock();
        let stored = rows
            .get(&user.id)
            .ok_or(Error::NotFound { entity: "user" })?;
        check_version!("user", stored, user);
        if rows
            .values()
            .any(|u| u.email == user.email && u.id != user.id)
        {
            return Err(Error::duplicate("user", "email"));
        }
        rows.insert(user.id, user.clone());
        Ok(user)
    }

    async fn list(&self, page: &PageRequest) -> Result<Page<User>> {
        let after: Option<UserId> = page.after.as_ref().map(|c| c.decode()).transpose()?;
        let rows = self.rows.lock();
        let items: Vec<User> = rows
            .values()
            .filter(|u| after.is_none_or(|a| u.id > a))
            .take(page.size() + 1)
            .cloned()
            .collect();
        Ok(Page::from_overfetch(items, page.size(), |u| u.id))
    }
}

/// Orders, their outbox and the coupon redemption counters. Checkout
/// ([`OrderRepo::insert_checkout`]) also takes stock from the product store
/// it shares ([`MemoryOrderRepo::with_products`]; `new` gets a store of its
/// own): it holds the order lock, then the product lock, for the whole
/// write, so it is all or nothing like a database transaction.
#[derive(Debug, Default)]
pub struct MemoryOrderRepo {
    state: Mutex<OrderState>,
    products: std::sync::Arc<MemoryProductRepo>,
}

#[derive(Debug, Default)]
struct OrderState {
    rows: HashMap<OrderId, Order>,
    /// (customer, idempotency key) → order.
    keys: HashMap<(UserId, String), OrderId>,
    /// Unsent outbox entries in write order.
    outbox: Vec<OutboxEntry>,
    /// Normalised coupon code → orders that redeemed it.
    coupons: HashMap<String, u64>,
}

impl OrderState {
    /// Whether `order` can be inserted (unique id and idempotency key).
    fn check_insert(&self, order: &Order) -> Result<()> {
        if self.rows.contains_key(&order.id) {
            return Err(Error::duplicate("order", "id"));
        }
        if let Some(i) = &order.idempotency
            && self.keys.contains_key(&(order.customer_id, i.key.clone()))
        {
            return Err(Error::duplicate("order", "idempotency_key"));
        }
        Ok(())
    }

    fn insert(&mut self, mut order: Order) -> Result<Order> {
        self.check_insert(&order)?;
        let key = order
            .idempotency
            .as_ref()
            .map(|i| (order.customer_id, i.key.clone()));
        order.version = 1;
        if let Some(k) = key {
            self.keys.insert(k, order.id);
        }
        self.rows.insert(order.id, order.clone());
        Ok(order)
    }

    fn update(&mut self, mut order: Order) -> Result<Order> {
        let stored = self
            .rows
            .get(&order.id)
            .ok_or(Error::NotFound { entity: "order" })?;
        check_version!("order", stored, order);
        // The idempotency key is fixed at submission.
        order.idempotency = stored.idempotency.clone();
        self.rows.insert(order.id, order.clone());
        Ok(order)
    }
}

impl MemoryOrderRepo {
    pub fn new() -> Self {
        Self::default()
    }

    /// An order store whose checkouts take stock from `products`.
    pub fn with_products(products: std::sync::Arc<MemoryProductRepo>) -> Self {
        Self {
            state: Mutex::default(),
            products,
        }
    }
}

#[async_trait]
impl OrderRepo for MemoryOrderRepo {
    async fn insert(&self, order: Order) -> Result<Order> {
        self.state.lock().insert(order)
    }

    async fn get(&self, id: OrderId) -> Result<Order> {
        self.state
            .lock()
            .rows
            .get(&id)
            .cloned()
            .ok_or(Error::NotFound { entity: "order" })
    }

    async fn update(&self, order: Order) -> Result<Order> {
        self.state.lock().update(order)
    }

    async fn insert_with_outbox(&self, order: Order, events: Vec<OutboxEntry>) -> Result<Order> {
        let mut state = self.state.lock();
        let order = state.insert(order)?;
        state.outbox.extend(events);
        Ok(order)
    }

    async fn update_with_outbox(&self, order: Order, events: Vec<OutboxEntry>) -> Result<Order> {
        let mut state = self.state.lock();
        let order = state.update(order)?;
        state.outbox.extend(events);
        Ok(order)
    }

    async fn insert_checkout(
        &self,
        order: Order,
        events: Vec<OutboxEntry>,
        reservations: crate::ports::Reservations,
    ) -> Result<Order> {
        // Check everything, then change everything, under both locks.
        let mut state = self.state.lock();
        state.check_insert(&order)?;
        let mut products = self.products.rows.lock();
        for (id, quantity) in &reservations.stock {
            let p = products
                .get(id)
                .ok_or(Error::NotFound { entity: "product" })?;
            if p.stock.is_some_and(|left| left < *quantity) {
                return Err(Error::exhausted("product", id.as_str()));
            }
        }
        for (code, cap) in &reservations.coupons {
            let used = state.coupons.get(code).copied().unwrap_or(0);
            if cap.is_some_and(|cap| used >= cap) {
                return Err(Error::exhausted("coupon", code.as_str()));
            }
        }
        let order = state.insert(order)?;
        for (id, quantity) in &reservations.stock {
            if let Some(p) = products.get_mut(id)
                && let Some(left) = p.stock
            {
                p.stock = Some(left - quantity);
                p.version += 1;
            }
        }
        for (code, _) in reservations.coupons {
            *state.coupons.entry(code).or_default() += 1;
        }
        state.outbox.extend(events);
        Ok(order)
    }

    async fn coupon_redemptions(&self, code: &str) -> Result<u64> {
        Ok(self.state.lock().coupons.get(code).copied().unwrap_or(0))
    }

    async fn get_by_idempotency_key(&self, customer: UserId, key: &str) -> Result<Order> {
        let state = self.state.lock();
        state
            .keys
            .get(&(customer, key.to_owned()))
            .and_then(|id| state.rows.get(id))
            .cloned()
            .ok_or(Error::NotFound { entity: "order" })
    }

    async fn outbox_pending(&self, limit: usize) -> Result<Vec<OutboxEntry>> {
        Ok(self
            .state
            .lock()
            .outbox
            .iter()
            .take(limit)
            .cloned()
            .collect())
    }

    async fn outbox_mark_sent(&self, ids: &[String]) -> Result<()> {
        self.state.lock().outbox.retain(|e| !ids.contains(&e.id));
        Ok(())
    }

    async fn list_by_customer(&self, customer: UserId, page: &PageRequest) -> Result<Page<Order>> {
        let before: Option<OrderId> = page.after.as_ref().map(|c| c.decode()).transpose()?;
        let state = self.state.lock();
        let mut items: Vec<&Order> = state
            .rows
            .values()
            .filter(|o| o.customer_id == customer && before.is_none_or(|b| o.id < b))
            .collect();
        items.sort_by_key(|o| std::cmp::Reverse(o.id));
        let items = items.into_iter().take(page.size() + 1).cloned().collect();
        Ok(Page::from_overfetch(items, page.size(), |o| o.id))
    }

    async fn list_queue(&self, filter: &QueueFilter, page: &PageRequest) -> Result<Page<Order>> {
        let after: Option<(u8, i64, String)> =
            page.after.as_ref().map(|c| c.decode()).transpose()?;
        let state = self.state.lock();
        // Production order: priority desc, due asc, id asc.
        let sort = |k: &(u8, i64, String)| (std::cmp::Reverse(k.0), k.1, k.2.clone());
        let mut items: Vec<&Order> = state
            .rows
            .values()
            .filter(|o| filter.matches(o))
            .filter(|o| after.as_ref().is_none_or(|a| sort(&queue_key(o)) > sort(a)))
            .collect();
        items.sort_by_key(|o| sort(&queue_key(o)));
        let items = items.into_iter().take(page.size() + 1).cloned().collect();
        Ok(Page::from_overfetch(items, page.size(), queue_key))
    }

    async fn search(&self, search: &OrderSearch, page: &PageRequest) -> Result<Page<Order>> {
        let before: Option<OrderId> = page.after.as_ref().map(|c| c.decode()).transpose()?;
        let state = self.state.lock();
        let mut rows: Vec<&Order> = state
            .rows
            .values()
            .filter(|o| before.is_none_or(|b| o.id < b) && search.matches_without_text(o))
            .collect();
        rows.sort_by_key(|o| std::cmp::Reverse(o.id));
        search.page_from_rows(rows.into_iter().map(|o| Ok(o.clone())), page.size())
    }
}
