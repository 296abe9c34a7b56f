//! Moving an order through the workflow: fire the transition with the
//! engine, then write the order and the transition's events in one
//! transaction, version-checked.

use chrono::{DateTime, Utc};

use super::error::OrderError;
use super::{OrderService, events};
use crate::domain::{Order, OrderId};
use crate::workflow::{Actor, GuardContext};

/// One transition request.
#[derive(Debug, Clone)]
pub struct TransitionRequest {
    pub order_id: OrderId,
    pub transition: String,
    pub actor: Actor,
    /// Facts for the guards, and the reason.
    pub context: GuardContext,
    /// The version the caller saw; `None` re-reads and retries on a
    /// concurrent change (for system actors), `Some` fails with
    /// `Conflict { StaleVersion }` when the order changed since.
    pub expected_version: Option<u64>,
    pub now: DateTime<Utc>,
}

/// How often a transition without `expected_version` re-reads after
/// losing a race.
const ATTEMPTS: usize = 100;

impl OrderService {
    pub async fn transition(&self, req: TransitionRequest) -> Result<Order, OrderError> {
        let mut last = None;
        for _ in 0..ATTEMPTS {
            let order = self.orders.get(req.order_id).await?;
            if let Some(v) = req.expected_version
                && v != order.version
            {
                return Err(crate::Error::stale("order").into());
            }
            match self.fire_and_write(order, &req).await {
                Err(OrderError::Store(e))
                    if req.expected_version.is_none() && e.kind() == crate::ErrorKind::Conflict =>
                {
                    last = Some(e);
                }
                other => return other,
            }
        }
        Err(last.unwrap_or_else(|| crate::Error::stale("order")).into())
    }

    async fn fire_and_write(
        &self,
        mut order: Order,
        req: &TransitionRequest,
    ) -> Result<Order, OrderError> {
        let outcome =
            self.engine
                .fire(&order, &req.transition, &req.actor, &req.context, req.now)?;
        outcome.apply_to(&mut order);
        let outbox = events::transition(&order, &outcome, order.version + 1);
        Ok(self.orders.update_with_outbox(order, outbox).await?)
    }
}
