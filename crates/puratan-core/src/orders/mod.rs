//! The orders service: checkout and workflow transitions over the ports.
//!
//! * [`OrderService::checkout`] (checkout.rs) turns verified cart lines
//!   into a submitted order, once per `Idempotency-Key` per customer:
//!   quotes must be valid and re-price to what was signed, the total must
//!   match the client's, and the order is created in the workflow's
//!   initial state and submitted through the
//!   [`Engine`](crate::workflow::Engine). The order, its events, the stock
//!   it takes (never oversold) and one redemption of each coupon its
//!   quotes applied (never beyond the coupon's `max_redemptions`) are
//!   written in one transaction (`OrderRepo::insert_checkout`).
//! * [`OrderService::transition`] (transition.rs) fires any workflow
//!   transition with optimistic concurrency.
//!
//! Every order change is written together with its events
//! (`order.created`, `order.status_changed`, …; events.rs, docs/events.md)
//! through `OrderRepo::{insert,update}_with_outbox` — the transactional
//! outbox; a relay in the server publishes them.
//!
//! Verifying quote signatures and re-pricing happen in the server (keys
//! and catalogs live there); it passes a [`QuoteCheck`] per line.
//! Failures are [`OrderError`]s with stable codes.

mod checkout;
mod error;
pub mod events;
mod idempotency;
mod quote;
mod reservations;
mod transition;

#[cfg(test)]
mod tests;

use std::sync::Arc;

pub use checkout::{CheckoutOutcome, CheckoutRequest};
pub use error::OrderError;
pub use idempotency::{MAX_KEY_LEN, fingerprint, validate_key};
pub use quote::{PricedQuote, QuoteCheck, QuoteCoupon, check_line};
pub use transition::TransitionRequest;

use crate::ports::{OrderRepo, ProductRepo};
use crate::workflow::Engine;

/// Checkout and transitions over an order store, a product store and a
/// workflow. Cheap to clone.
#[derive(Clone)]
pub struct OrderService {
    orders: Arc<dyn OrderRepo>,
    products: Arc<dyn ProductRepo>,
    engine: Arc<Engine>,
}

impl std::fmt::Debug for OrderService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrderService")
            .field("workflow", &self.engine.workflow().name())
            .finish_non_exhaustive()
    }
}

impl OrderService {
    pub fn new(orders: Arc<dyn OrderRepo>, products: Arc<dyn ProductRepo>, engine: Engine) -> Self {
        Self {
            orders,
            products,
            engine: Arc::new(engine),
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn orders(&self) -> &Arc<dyn OrderRepo> {
        &self.orders
    }
}
