use async_trait::async_trait;

use crate::Result;
use crate::domain::{Cart, UserId};

/// Customers' carts, one per customer.
///
/// * `get` never fails for a customer without a stored cart: it returns an
///   empty one with `version = 0`.
/// * `put` stores the whole cart if the stored version is `cart.version`
///   (0 = nothing stored yet) and returns it with the version bumped;
///   otherwise `Conflict { StaleVersion }` — two tabs editing one cart
///   never lose each other's lines silently.
#[async_trait]
pub trait CartRepo: Send + Sync + 'static {
    async fn get(&self, customer: UserId) -> Result<Cart>;
    async fn put(&self, cart: Cart) -> Result<Cart>;
}
