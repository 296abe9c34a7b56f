//! Server-side events: catalog invalidation through the fanout exchange.
//!
//! Every replica binds its own transient queue to `puratan.fanout`; a
//! catalog change is one `system.cache_updated` message
//! (`puratan.system.cache_updated/v1`, docs/events.md) that each replica
//! turns into cache deletions plus a bump of its listing generation.
//!
//! Before system events had schemas the message was `catalog.changed`
//! with the same two fields. The consumer still accepts that kind so a
//! rolling upgrade keeps invalidating: old replicas' messages reach new
//! ones. (New replicas' messages do not reach old ones, which ignore the
//! new kind; those catch up when their cache TTL expires.)

use std::sync::atomic::Ordering;
use std::time::Duration;

use puratan_core::ports::{Delivery, Exchange, Subscriber, Subscription};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::http::routes::products::product_key;
use crate::state::App;
use crate::system_events::{CacheUpdatedV1, Outgoing, SYSTEM_CACHE_UPDATED};

/// The kind of the invalidation message before `system.cache_updated`;
/// only consumed (see the module docs), never published.
pub const CATALOG_CHANGED: &str = "catalog.changed";

/// Queues whose depth `/metrics` reports.
pub const WATCHED_QUEUES: &[&str] = &["puratan.dead-letters", crate::notifications::QUEUE];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CatalogChanged {
    pub product_ids: Vec<String>,
    pub catalog_version: Option<String>,
}

/// Broadcasts `change` to every replica as `system.cache_updated`.
/// Awaited, not spawned: `puratan catalog import` is a short-lived process
/// that must not exit before the broker took the message.
pub async fn publish_cache_updated(app: &App, change: &CatalogChanged) -> puratan_core::Result<()> {
    let payload = CacheUpdatedV1::new(
        &app.replica_id,
        change.product_ids.clone(),
        change.catalog_version.clone(),
    );
    crate::system_events::publish(app, Outgoing::cache_updated(&payload)).await
}

/// Whether a fanout message of `kind` is an invalidation.
pub fn is_invalidation(kind: &str) -> bool {
    kind == SYSTEM_CACHE_UPDATED || kind == CATALOG_CHANGED
}

/// Applies a change to this replica's cache.
pub async fn invalidate(app: &App, change: &CatalogChanged) {
    for id in &change.product_ids {
        if let Err(e) = app.cache.delete(&product_key(id)).await {
            tracing::warn!(error = %e, product = %id, "could not evict product from cache");
        }
    }
    app.catalog_generation.fetch_add(1, Ordering::AcqRel);
    if change.catalog_version.is_some()
        && let Err(e) = app.pricing.reload().await
    {
        tracing::warn!(error = %e, "could not reload the active pricing catalog");
    }
}

/// Feeds `sub`'s deliveries to `handle`, one at a time, until `shutdown`
/// flips or the subscription ends for good — the loop of every consumer
/// in the server. While the broker is unreachable `next` fails; it is
/// asked again every second (the bus re-subscribes by itself).
pub async fn consume<Fut>(
    consumer: &'static str,
    mut sub: Box<dyn Subscriber>,
    mut shutdown: watch::Receiver<bool>,
    mut handle: impl FnMut(Delivery) -> Fut,
) where
    Fut: Future<Output = ()>,
{
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            next = sub.next() => match next {
                Ok(Some(delivery)) => handle(delivery).await,
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(consumer, error = %e, "consumer cannot reach the broker; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }
}

/// Subscribes this replica to invalidations. Resolves once subscribed, so
/// no change published after start-up is missed; the consumer then runs
/// until `shutdown` flips.
pub async fn start_invalidation_consumer(
    app: App,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let queue = format!("puratan.cache-invalidation.{}", app.replica_id);
    let sub = app
        .events
        .subscribe(Subscription {
            queue,
            exchange: Exchange::Fanout,
            binding_key: String::new(),
            transient: true,
        })
        .await?;
    Ok(tokio::spawn(consume(
        "cache-invalidation",
        sub,
        shutdown,
        move |delivery| {
            let app = app.clone();
            async move {
                // Other fanout kinds (system.config_changed, …) are not
                // for this consumer.
                if is_invalidation(&delivery.message.kind) {
                    match serde_json::from_slice::<CatalogChanged>(&delivery.message.payload) {
                        Ok(change) => invalidate(&app, &change).await,
                        Err(e) => {
                            tracing::warn!(error = %e, kind = %delivery.message.kind, "malformed invalidation message; dropping")
                        }
                    }
                }
                app.metrics
                    .events_consumed
                    .with_label_values(&["cache-invalidation"])
                    .inc();
                if let Err(e) = delivery.ack().await {
                    tracing::warn!(error = %e, "ack failed");
                }
            }
        },
    )))
}
