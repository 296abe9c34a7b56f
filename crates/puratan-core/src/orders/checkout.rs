//! Checkout: verified cart lines → a submitted order, exactly once per
//! `Idempotency-Key`.
//!
//! 1. A known key returns its order (same request) or
//!    `IdempotencyKeyReused` (different request) — before anything else,
//!    so a retry still works after its quotes expired.
//! 2. Every line's quote must be valid, price exactly this line, and
//!    re-price to its signed total; the sum must equal the client's total.
//! 3. Products must be active.
//! 4. The order is created in the workflow's initial state and `submit`
//!    is fired through the engine; order + `order.created` +
//!    `order.status_changed` + the stock it takes + one redemption of each
//!    coupon its quotes applied are written in **one transaction**
//!    (`OrderRepo::insert_checkout`): a checkout that fails, or a process
//!    killed half-way, takes nothing. Too little stock is `OutOfStock`, a
//!    coupon at its `max_redemptions` is `CouponExhausted`.
//! 5. Losing a race on the same key (the unique key, or the last units)
//!    returns the winner.
//!
//! Coupon redemptions are never given back: cancelling or refunding an
//! order leaves the count as it is, so `max_redemptions` bounds how many
//! orders were placed with the coupon.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;

use super::error::OrderError;
use super::quote::{PricedQuote, QuoteCheck, check_line};
use super::{OrderService, events, idempotency, reservations};
use crate::domain::{
    CartLine, Idempotency, Money, Order, OrderId, OrderLine, Priority, ShippingAddress,
    StatusChange, UserId, validate_lines,
};
use crate::ports::Reservations;
use crate::workflow::{Actor, GuardContext};
use crate::{ConflictReason, Error};

/// Due date when no quote says when production is finished.
const DEFAULT_LEAD_DAYS: i64 = 7;

/// One checkout, its lines already verified by the caller.
#[derive(Debug, Clone)]
pub struct CheckoutRequest {
    pub customer: UserId,
    /// Who submits (the customer, or staff placing an order for them).
    pub actor: Actor,
    pub idempotency_key: String,
    pub lines: Vec<(CartLine, QuoteCheck)>,
    /// The total the client showed the customer.
    pub expected_total: Money,
    pub shipping_address: ShippingAddress,
    pub now: DateTime<Utc>,
}

/// The order, and whether it was created by an earlier request with the
/// same key (a replay).
#[derive(Debug, Clone)]
pub struct CheckoutOutcome {
    pub order: Order,
    pub replayed: bool,
}

impl OrderService {
    pub async fn checkout(&self, req: CheckoutRequest) -> Result<CheckoutOutcome, OrderError> {
        idempotency::validate_key(&req.idempotency_key)?;
        let address = req.shipping_address.clone().sanitize()?;
        let cart_lines: Vec<CartLine> = req.lines.iter().map(|(l, _)| l.clone()).collect();
        validate_lines(&cart_lines)?;
        let fingerprint = idempotency::fingerprint(&cart_lines, &req.expected_total, &address);

        if let Some(done) = self.replay(&req, &fingerprint).await? {
            return Ok(done);
        }
        if req.lines.is_empty() {
            return Err(OrderError::EmptyCart);
        }

        let priced = self.price(&req)?;
        let reserve = reservations::of(&cart_lines, &priced);
        let mut seen = std::collections::BTreeSet::new();
        for (i, (line, _)) in req.lines.iter().enumerate() {
            if !seen.insert(&line.product_id) {
                continue;
            }
            match self.products.get(&line.product_id).await {
                Ok(p) if p.active => {}
                Ok(_) | Err(Error::NotFound { .. }) => {
                    return Err(OrderError::ProductUnavailable {
                        line: i,
                        product_id: line.product_id.to_string(),
                    });
                }
                Err(e) => return Err(e.into()),
            }
        }

        let result = self
            .create(
                &req,
                &cart_lines,
                priced,
                address,
                fingerprint.clone(),
                reserve,
            )
            .await;
        match result {
            Ok(order) => Ok(CheckoutOutcome {
                order,
                replayed: false,
            }),
            // A concurrent request with this key may have won (the unique
            // key, or the last units or redemptions): then this is its
            // replay.
            Err(OrderError::Store(e @ Error::Conflict { .. })) => {
                match self.replay(&req, &fingerprint).await? {
                    Some(done) => Ok(done),
                    None => Err(exhausted(e)),
                }
            }
            // A product deleted between the check above and the write.
            Err(OrderError::Store(Error::NotFound { entity: "product" })) => {
                Err(self.unavailable_line(&req).await)
            }
            Err(e) => Err(e),
        }
    }

    /// `ProductUnavailable` for the first line whose product is gone or
    /// no longer sold (the first line if they are all back).
    async fn unavailable_line(&self, req: &CheckoutRequest) -> OrderError {
        let unavailable = |i: usize| OrderError::ProductUnavailable {
            line: i,
            product_id: req.lines[i].0.product_id.to_string(),
        };
        for (i, (line, _)) in req.lines.iter().enumerate() {
            match self.products.get(&line.product_id).await {
                Ok(p) if p.active => {}
                Ok(_) | Err(Error::NotFound { .. }) => return unavailable(i),
                Err(e) => return e.into(),
            }
        }
        unavailable(0)
    }

    /// The order an earlier request with this key created, if any.
    async fn replay(
        &self,
        req: &CheckoutRequest,
        fingerprint: &str,
    ) -> Result<Option<CheckoutOutcome>, OrderError> {
        match self
            .orders
            .get_by_idempotency_key(req.customer, &req.idempotency_key)
            .await
        {
            Ok(order) => {
                let same = order
                    .idempotency
                    .as_ref()
                    .is_some_and(|i| i.fingerprint == fingerprint);
                if same {
                    Ok(Some(CheckoutOutcome {
                        order,
                        replayed: true,
                    }))
                } else {
                    Err(OrderError::IdempotencyKeyReused)
                }
            }
            Err(Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Every line's verified price, and the total against the client's.
    fn price(&self, req: &CheckoutRequest) -> Result<Vec<PricedQuote>, OrderError> {
        let mut priced = Vec::with_capacity(req.lines.len());
        let currency = req.expected_total.currency;
        let mut total = Decimal::ZERO;
        for (i, (line, check)) in req.lines.iter().enumerate() {
            let q = check_line(i, line, check, req.now)?;
            if q.signed_total.currency != currency {
                return Err(OrderError::QuoteMismatch {
                    line: i,
                    reason: format!(
                        "the quote is in {}, the order in {currency}",
                        q.signed_total.currency
                    ),
                });
            }
            total = total
                .checked_add(q.signed_total.amount)
                .ok_or_else(|| Error::invalid("lines", "the total is out of range"))?;
            priced.push(q);
        }
        let actual = Money::new(total, currency);
        if actual.amount != req.expected_total.amount {
            return Err(OrderError::TotalMismatch {
                expected: req.expected_total,
                actual,
            });
        }
        Ok(priced)
    }

    /// Builds the order in the initial state, fires `submit`, and writes
    /// it with its events and reservations in one transaction.
    async fn create(
        &self,
        req: &CheckoutRequest,
        cart_lines: &[CartLine],
        priced: Vec<PricedQuote>,
        address: ShippingAddress,
        fingerprint: String,
        reserve: Reservations,
    ) -> Result<Order, OrderError> {
        let now = req.now;
        let lines: Vec<OrderLine> = cart_lines
            .iter()
            .zip(&priced)
            .map(|(l, q)| OrderLine {
                product_id: l.product_id.clone(),
                quantity: l.quantity,
                description: format!("{} × {}", l.quantity, l.product_id),
                amount: q.signed_total,
                options: l.options.clone(),
                quote_id: Some(q.quote_id.clone()),
                quote_token: Some(l.quote_token.clone()),
                file_ids: l.file_ids.clone(),
            })
            .collect();
        let due_at = priced
            .iter()
            .filter_map(|q| q.ready_at)
            .max()
            .unwrap_or(now + Duration::days(DEFAULT_LEAD_DAYS));
        let initial = self.engine.workflow().initial().clone();
        let mut order = Order {
            id: OrderId::new(),
            customer_id: req.customer,
            status: initial.clone(),
            priority: Priority::NORMAL,
            due_at,
            submitted_at: now,
            lines,
            total: req.expected_total,
            history: vec![StatusChange {
                from: None,
                to: initial,
                actor: req.actor.user_id,
                at: now,
                reason: None,
            }],
            version: 0,
            shipping_address: Some(address),
            idempotency: Some(Idempotency {
                key: req.idempotency_key.clone(),
                fingerprint,
            }),
            payment: None,
            proofs: Vec::new(),
            shipment: None,
        };
        let outcome =
            self.engine
                .fire(&order, "submit", &req.actor, &GuardContext::default(), now)?;
        outcome.apply_to(&mut order);
        let mut outbox = vec![events::created(&order, now)];
        outbox.extend(events::transition(&order, &outcome, 1));
        Ok(self.orders.insert_checkout(order, outbox, reserve).await?)
    }
}

/// The checkout error of a store conflict: too little stock or a coupon
/// at its cap have their own errors.
fn exhausted(e: Error) -> OrderError {
    match e {
        Error::Conflict {
            entity: "product",
            reason: ConflictReason::Exhausted { key },
        } => OrderError::OutOfStock { product_id: key },
        Error::Conflict {
            entity: "coupon",
            reason: ConflictReason::Exhausted { key },
        } => OrderError::CouponExhausted { code: key },
        other => OrderError::Store(other),
    }
}
