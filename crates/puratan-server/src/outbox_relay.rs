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
//! * Order: entries are taken oldest first and published as one batch
//!   (all in flight, confirms collected in order); only the confirmed
//!   prefix is marked sent, so after a failure the rest is published
//!   again from the first unconfirmed entry — duplicates, never gaps, and
//!   one order's events are never published out of order by one relay. The broker being down just leaves them pending;
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
    let ids: Vec<String> = pending.iter().map(|e| e.id.clone()).collect();
    let batch = pending
        .into_iter()
        .map(|e| {
            let message = Message {
                id: e.id,
                kind: e.kind,
                payload: e.payload.into_bytes().into(),
            };
            (e.routing_key, message)
        })
        .collect();
    let (confirmed, failed) = app.events.publish_all(Exchange::Topic, batch).await;
    match failed {
        // The bus itself reports losing and regaining the broker; one line
        // per poll while it is down would drown the log.
        Some(err) if err.kind() == puratan_core::ErrorKind::Unavailable => {
            tracing::debug!(error = %err, event = ?ids.get(confirmed), "outbox relay: broker unavailable; retrying later");
        }
        Some(err) => {
            tracing::warn!(error = %err, event = ?ids.get(confirmed), "outbox relay: publish failed; retrying later");
        }
        None => {}
    }
    let sent = &ids[..confirmed.min(ids.len())];
    if !sent.is_empty() {
        app.orders.outbox_mark_sent(sent).await?;
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
