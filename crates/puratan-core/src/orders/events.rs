//! The order events written to the outbox, as versioned JSON
//! (docs/events.md). Every payload names its `schema`
//! (`puratan.<event>/v<n>`); a new version is a new schema name, and
//! consumers ignore fields they do not know.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::{Money, Order, OrderId, OutboxEntry, UserId};
use crate::workflow::TransitionOutcome;

pub const ORDER_CREATED: &str = "order.created";
pub const ORDER_STATUS_CHANGED: &str = "order.status_changed";
pub const ORDER_UPDATED: &str = "order.updated";

/// `order.created` (`puratan.order.created/v1`).
#[derive(Debug, Serialize)]
pub struct OrderCreatedV1<'a> {
    pub schema: &'static str,
    pub event_id: &'a str,
    pub order_id: OrderId,
    pub customer_id: UserId,
    pub status: &'a str,
    pub total: &'a Money,
    pub lines: usize,
    pub at: DateTime<Utc>,
}

/// `order.status_changed` and the other events a transition emits
/// (`puratan.order.status_changed/v1`, `puratan.order.processed/v1`, …):
/// the same fields for all of them.
#[derive(Debug, Serialize)]
pub struct StatusChangedV1<'a> {
    pub schema: String,
    pub event_id: &'a str,
    pub order_id: OrderId,
    pub customer_id: UserId,
    pub from: &'a str,
    pub to: &'a str,
    pub transition: &'a str,
    /// The user who fired it; `null` for the system.
    pub actor: Option<UserId>,
    pub reason: Option<&'a str>,
    /// The order's version after this change.
    pub version: u64,
    pub at: DateTime<Utc>,
}

/// `order.updated` (`puratan.order.updated/v1`): the order changed
/// without a status change. A status change is announced by the
/// transition's own events instead, never by this one.
#[derive(Debug, Serialize)]
pub struct OrderUpdatedV1<'a> {
    pub schema: &'static str,
    pub event_id: &'a str,
    pub order_id: OrderId,
    pub customer_id: UserId,
    /// What changed, as dotted field names of the order (`priority`,
    /// `payment`, `proofs`, `shipment.events`, …; docs/events.md).
    pub changed: &'a [&'a str],
    /// The user who changed it; `null` for the system.
    pub actor: Option<UserId>,
    /// The order's version after this change.
    pub version: u64,
    pub at: DateTime<Utc>,
}

fn entry(
    order: OrderId,
    kind: &str,
    routing_key: String,
    id: String,
    payload: String,
    at: DateTime<Utc>,
) -> OutboxEntry {
    OutboxEntry {
        id,
        order_id: order,
        kind: kind.to_owned(),
        routing_key,
        payload,
        created_at: at,
    }
}

/// `order.created` for a new order (routing key `order.created`).
pub fn created(order: &Order, at: DateTime<Utc>) -> OutboxEntry {
    let id = uuid::Uuid::now_v7().to_string();
    let payload = serde_json::to_string(&OrderCreatedV1 {
        schema: "puratan.order.created/v1",
        event_id: &id,
        order_id: order.id,
        customer_id: order.customer_id,
        status: order.status.as_str(),
        total: &order.total,
        lines: order.lines.len(),
        at,
    })
    .unwrap_or_default();
    entry(
        order.id,
        ORDER_CREATED,
        ORDER_CREATED.to_owned(),
        id,
        payload,
        at,
    )
}

/// `order.updated` for a write of `order` that changes `changed` but not
/// its status (routing key `order.updated`), `version` being the order's
/// version once written. Write it with the change
/// (`OrderRepo::update_with_outbox`).
pub fn updated(
    order: &Order,
    changed: &[&str],
    actor: Option<UserId>,
    version: u64,
    at: DateTime<Utc>,
) -> OutboxEntry {
    let id = uuid::Uuid::now_v7().to_string();
    let payload = serde_json::to_string(&OrderUpdatedV1 {
        schema: "puratan.order.updated/v1",
        event_id: &id,
        order_id: order.id,
        customer_id: order.customer_id,
        changed,
        actor,
        version,
        at,
    })
    .unwrap_or_default();
    entry(
        order.id,
        ORDER_UPDATED,
        ORDER_UPDATED.to_owned(),
        id,
        payload,
        at,
    )
}

/// The events of a fired transition, `version` being the order's version
/// once written. `order.status_changed` is routed as
/// `order.status_changed.<to>`; other events by their name.
pub fn transition(order: &Order, outcome: &TransitionOutcome, version: u64) -> Vec<OutboxEntry> {
    let at = outcome.history_entry.at;
    outcome
        .events
        .iter()
        .map(|kind| {
            let id = uuid::Uuid::now_v7().to_string();
            let payload = serde_json::to_string(&StatusChangedV1 {
                schema: format!("puratan.{kind}/v1"),
                event_id: &id,
                order_id: order.id,
                customer_id: order.customer_id,
                from: outcome.from.as_str(),
                to: outcome.new_status.as_str(),
                transition: &outcome.transition,
                actor: outcome.history_entry.actor,
                reason: outcome.history_entry.reason.as_deref(),
                version,
                at,
            })
            .unwrap_or_default();
            let routing_key = if kind == ORDER_STATUS_CHANGED {
                format!("{kind}.{}", outcome.new_status)
            } else {
                kind.clone()
            };
            entry(order.id, kind, routing_key, id, payload, at)
        })
        .collect()
}
