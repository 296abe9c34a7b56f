//! System events (docs/events.md): what a replica tells operators and the
//! other replicas about itself, as versioned JSON
//! (`puratan.system.<name>/v1`, schemas under docs/events/).
//!
//! | kind | exchange | routing key |
//! |---|---|---|
//! | `system.health` | topic | `system.health` |
//! | `system.cache_updated` | fanout | — |
//! | `system.config_changed` | fanout | — |
//! | `system.error` | direct | `system.alerts` |
//!
//! Unlike order events they are not transactional: they describe this
//! process, not stored data, so they are published straight to the bus
//! ([`publish`]); a failure is logged and counted
//! (`system_events_total{outcome="failed"}`), never retried, never turned
//! into a failed request.

pub mod alerts;
pub mod config;
pub mod health;
pub mod payloads;

use puratan_core::ports::{Exchange, Message};
use serde::Serialize;

pub use alerts::AlertGate;
pub use config::SystemEventsConfig;
pub use payloads::{CacheUpdatedV1, ConfigChangedV1, ErrorV1, Header, HealthV1, ProbeV1, Source};

use crate::state::App;

pub const SYSTEM_HEALTH: &str = "system.health";
pub const SYSTEM_CACHE_UPDATED: &str = "system.cache_updated";
pub const SYSTEM_CONFIG_CHANGED: &str = "system.config_changed";
pub const SYSTEM_ERROR: &str = "system.error";
/// The direct-exchange routing key of `system.error`: bind a queue with
/// it to collect alerts.
pub const ALERTS_ROUTING_KEY: &str = "system.alerts";

/// What `pricing.catalog` changes name in `system.config_changed`.
pub const PRICING_CATALOG: &str = "pricing.catalog";

/// One system event ready to publish.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub exchange: Exchange,
    pub routing_key: &'static str,
    pub message: Message,
}

impl Outgoing {
    /// The event `kind` with `payload`; the message id is the payload's
    /// `event_id` so consumers deduplicate by either.
    fn new(kind: &'static str, event_id: &str, payload: &impl Serialize) -> Self {
        let (exchange, routing_key) = route(kind);
        Self {
            exchange,
            routing_key,
            message: Message {
                id: event_id.to_owned(),
                kind: kind.to_owned(),
                payload: serde_json::to_vec(payload).unwrap_or_default().into(),
            },
        }
    }

    pub fn health(payload: &HealthV1) -> Self {
        Self::new(SYSTEM_HEALTH, &payload.header.event_id, payload)
    }
    pub fn cache_updated(payload: &CacheUpdatedV1) -> Self {
        Self::new(SYSTEM_CACHE_UPDATED, &payload.header.event_id, payload)
    }
    pub fn config_changed(payload: &ConfigChangedV1) -> Self {
        Self::new(SYSTEM_CONFIG_CHANGED, &payload.header.event_id, payload)
    }
    pub fn error(payload: &ErrorV1) -> Self {
        Self::new(SYSTEM_ERROR, &payload.header.event_id, payload)
    }
}

/// Exchange and routing key of each kind (the table in the module docs).
/// Fanout ignores the key; it is the kind, for the broker's tracing.
fn route(kind: &'static str) -> (Exchange, &'static str) {
    match kind {
        SYSTEM_HEALTH => (Exchange::Topic, SYSTEM_HEALTH),
        SYSTEM_ERROR => (Exchange::Direct, ALERTS_ROUTING_KEY),
        other => (Exchange::Fanout, other),
    }
}

/// Publishes `event` and counts the outcome; the error is returned for
/// callers that log it with their own context.
pub async fn publish(app: &App, event: Outgoing) -> puratan_core::Result<()> {
    let kind = event.message.kind.clone();
    let result = app
        .events
        .publish(event.exchange, event.routing_key, event.message)
        .await;
    let outcome = match &result {
        Ok(()) => {
            app.metrics
                .events_published
                .with_label_values(&[event.exchange.name()])
                .inc();
            "published"
        }
        Err(_) => "failed",
    };
    app.metrics
        .system_events
        .with_label_values(&[&kind, outcome])
        .inc();
    result
}

/// `system.config_changed` for the active pricing catalog, when
/// `previous` → `version` is a change (re-activating the active version
/// is none). Logged, never failing the caller: the change is stored, and
/// this event only informs.
pub async fn pricing_catalog_changed(app: &App, previous: Option<String>, version: &str) {
    if previous.as_deref() == Some(version) {
        return;
    }
    let payload = ConfigChangedV1::new(&app.replica_id, PRICING_CATALOG, version, previous);
    if let Err(e) = publish(app, Outgoing::config_changed(&payload)).await {
        tracing::warn!(error = %e, version, "could not publish system.config_changed");
    }
}
