use std::collections::HashMap;

use async_trait::async_trait;
use chrono::Utc;
use parking_lot::Mutex;

use crate::domain::{Cart, UserId};
use crate::ports::CartRepo;
use crate::{Error, Result};

/// [`CartRepo`] in a map.
#[derive(Debug, Default)]
pub struct MemoryCartRepo {
    carts: Mutex<HashMap<UserId, Cart>>,
}

impl MemoryCartRepo {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl CartRepo for MemoryCartRepo {
    async fn get(&self, customer: UserId) -> Result<Cart> {
        Ok(self
            .carts
            .lock()
            .get(&customer)
            .cloned()
            .unwrap_or_else(|| Cart::empty(customer, Utc::now())))
    }

    async fn put(&self, mut cart: Cart) -> Result<Cart> {
        let mut carts = self.carts.lock();
        let stored = carts.get(&cart.customer_id).map_or(0, |c| c.version);
        if stored != cart.version {
            return Err(Error::stale("cart"));
        }
        cart.version += 1;
        carts.insert(cart.customer_id, cart.clone());
        Ok(cart)
    }
}
