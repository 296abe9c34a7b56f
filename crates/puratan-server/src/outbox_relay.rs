//! The outbox relay: publishes the order events that
//! `OrderRepo::{insert,update}_with_outbox` wrote with their order change
//! (the transactional outbox), then marks them sent.
//!
//! * Events go to the topic exchange under their routing key
//!   (`order.created`, `order.status_changed.<to>`, …); the message id is
//!   the outbox entry id, so a consumer dedupes redeliveries by it.
//! * At least once: an entry is marked sent only after the bus confirmed
//!   it (publisher confirms on RabbitMQ). A crash between publish and
//!   mark, or two replicas relaying at once, publishes it again.
//! * Order: entries are taken oldest first and a batch stops at the first
//!   failed publish, so one order's events are never published out of
//!   order by one relay. The broker being down just leaves them pending;
//!   the relay retries every [`POLL`].

use std::time::Duration;

use puratan_core::ports::{Exchange, Message};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::state::App;

/// Entries per batch.
pub const BATCH: usize = 100;
/// Pause between polls when the outbox is empty (or the bus failed).
pub const POLL: Duration = Duration::from_millis(100);

/// Publishes one batch; returns how many entries were published.
pub async fn relay_once(app: &App) -> puratan_core::Result<usize> {
    let pending = app.orders.outbox_pending(BATCH).await?;
    let mut sent = Vec::with_capacity(pending.len());
    for e in pending {
        let message = Message {
            id: e.id.clone(),
            kind: e.kind,
            payload: e.payload.into_bytes().into(),
        };
        match app
            .events
            .publish(Exchange::Topic, &e.routing_key, message)
            .await
        {
            Ok(()) => sent.push(e.id),
            Err(err) => {
                tracing::warn!(error = %err, event = %e.id, "outbox relay: publish failed; retrying later");
                break;
            }
        }
    }
    if !sent.is_empty() {
        app.orders.outbox_mark_sent(&sent).await?;
        app.metrics
            .events_published
            .with_label_values(&[Exchange::Topic.name()])
            .inc_by(sent.len() as u64);
    }
    Ok(sent.len())
}

/// Runs the relay until `shutdown` flips, then makes one last pass.
pub fn start(app: App, mut shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let full = match relay_once(&app).await {
                Ok(n) => n == BATCH,
                Err(e) => {
                    tracing::warn!(error = %e, "outbox relay: store unavailable; retrying");
                    false
                }
            };
            if full {
                continue;
            }
            tokio::select! {
                _ = shutdown.changed() => break,
                _ = tokio::time::sleep(POLL) => {}
            }
        }
        if let Err(e) = relay_once(&app).await {
            tracing::warn!(error = %e, "outbox relay: last pass failed; entries stay pending");
        }
    })
}
