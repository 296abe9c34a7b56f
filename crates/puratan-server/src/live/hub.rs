//! The per-replica fan-out point: consumes order and file events from the
//! topic exchange and broadcasts them, pre-rendered, to this replica's
//! connections.

use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use puratan_core::ports::{Delivery, Exchange, Subscriber, Subscription};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

use crate::state::App;

/// Routing-key patterns the hub listens to.
pub const BINDINGS: [&str; 2] = ["order.#", "file.#"];

/// Who an event concerns (read from its payload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    Order {
        order_id: String,
        customer_id: String,
    },
    File {
        file_id: String,
        owner: String,
    },
}

/// One event as every connection sends it.
#[derive(Debug)]
pub struct LiveEvent {
    /// Message id (the outbox entry id for order events).
    pub id: String,
    pub kind: String,
    pub audience: Audience,
    /// `{"type":"event","event":…,"id":…,"data":{payload}}`, rendered once.
    pub frame: Utf8Bytes,
}

#[derive(Deserialize)]
struct Envelope {
    order_id: Option<String>,
    customer_id: Option<String>,
    file_id: Option<String>,
    owner: Option<String>,
}

#[derive(Serialize)]
struct Frame<'a> {
    r#type: &'static str,
    event: &'a str,
    id: &'a str,
    data: &'a RawValue,
}

impl LiveEvent {
    /// Parses a bus message; `None` for payloads that are not JSON objects
    /// naming an order and its customer or a file and its owner.
    pub fn from_message(id: &str, kind: &str, payload: &[u8]) -> Option<Self> {
        // Ids and kinds become SSE `id:`/`event:` lines: no line breaks.
        if !(is_token(id) && is_token(kind)) {
            return None;
        }
        let raw: &RawValue = serde_json::from_slice(payload).ok()?;
        let env: Envelope = serde_json::from_str(raw.get()).ok()?;
        let audience = match env {
            Envelope {
                order_id: Some(order_id),
                customer_id: Some(customer_id),
                ..
            } => Audience::Order {
                order_id,
                customer_id,
            },
            Envelope {
                file_id: Some(file_id),
                owner: Some(owner),
                ..
            } => Audience::File { file_id, owner },
            _ => return None,
        };
        let frame = serde_json::to_string(&Frame {
            r#type: "event",
            event: kind,
            id,
            data: raw,
        })
        .ok()?;
        Some(Self {
            id: id.to_owned(),
            kind: kind.to_owned(),
            audience,
            frame: frame.into(),
        })
    }
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b':'))
}

/// The broadcast side, held by the app; connections subscribe to it.
#[derive(Debug, Clone)]
pub struct Hub {
    tx: broadcast::Sender<Arc<LiveEvent>>,
    /// Flips to `true` at shutdown: connections close with 1001.
    closing: watch::Receiver<bool>,
    closing_tx: Arc<watch::Sender<bool>>,
}

impl Hub {
    pub fn new(buffer: usize) -> Self {
        let (tx, _) = broadcast::channel(buffer.max(1));
        let (closing_tx, closing) = watch::channel(false);
        Self {
            tx,
            closing,
            closing_tx: Arc::new(closing_tx),
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LiveEvent>> {
        self.tx.subscribe()
    }

    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.clone()
    }

    /// Hands an event to every connection of this replica; returns how
    /// many receivers there were.
    pub fn publish(&self, event: LiveEvent) -> usize {
        self.tx.send(Arc::new(event)).unwrap_or(0)
    }

    pub fn connections(&self) -> usize {
        self.tx.receiver_count()
    }
}

/// Subscribes this replica's transient queues (so no event published after
/// start-up is missed), then forwards deliveries to the hub until
/// `shutdown` flips; then tells the connections to close.
pub async fn start(
    app: App,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<JoinHandle<()>> {
    let mut subscribers = Vec::new();
    for (i, binding) in BINDINGS.iter().enumerate() {
        subscribers.push(
            app.events
                .subscribe(Subscription {
                    queue: format!("puratan.live.{}.{i}", app.replica_id),
                    exchange: Exchange::Topic,
                    binding_key: (*binding).to_owned(),
                    transient: true,
                })
                .await?,
        );
    }
    Ok(tokio::spawn(async move {
        let mut tasks = Vec::new();
        for sub in subscribers {
            tasks.push(tokio::spawn(forward(app.clone(), sub, shutdown.clone())));
        }
        let _ = shutdown.changed().await;
        for t in tasks {
            let _ = t.await;
        }
        let _ = app.live.closing_tx.send(true);
    }))
}

async fn forward(app: App, sub: Box<dyn Subscriber>, shutdown: watch::Receiver<bool>) {
    crate::events::consume("live-hub", sub, shutdown, move |delivery| {
        let app = app.clone();
        async move { deliver(&app, delivery).await }
    })
    .await;
}

async fn deliver(app: &App, delivery: Delivery) {
    let m = &delivery.message;
    match LiveEvent::from_message(&m.id, &m.kind, &m.payload) {
        Some(event) => {
            app.live.publish(event);
        }
        None => tracing::debug!(kind = %m.kind, "live hub: event without an audience; skipped"),
    }
    app.metrics
        .events_consumed
        .with_label_values(&["live"])
        .inc();
    // Live updates are ephemeral: a lost one is repaired by the client
    // re-reading state, so ack at once (no redelivery storms).
    if let Err(e) = delivery.ack().await {
        tracing::warn!(error = %e, "live hub: ack failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_events_carry_their_audience_and_a_ready_frame() {
        let payload = br#"{"schema":"puratan.order.status_changed/v1","order_id":"o1","customer_id":"u1","to":"cancelled"}"#;
        let e = LiveEvent::from_message("m1", "order.status_changed", payload).expect("event");
        assert_eq!(
            e.audience,
            Audience::Order {
                order_id: "o1".into(),
                customer_id: "u1".into()
            }
        );
        let frame: serde_json::Value = serde_json::from_str(e.frame.as_str()).expect("json");
        assert_eq!(frame["type"], "event");
        assert_eq!(frame["event"], "order.status_changed");
        assert_eq!(frame["id"], "m1");
        assert_eq!(frame["data"]["to"], "cancelled");
    }

    #[test]
    fn file_events_and_junk() {
        let e = LiveEvent::from_message("m", "file.processed", br#"{"file_id":"f","owner":"u"}"#)
            .expect("event");
        assert_eq!(
            e.audience,
            Audience::File {
                file_id: "f".into(),
                owner: "u".into()
            }
        );
        for junk in [
            &b"not json"[..],
            b"[1,2]",
            br#"{"order_id":"o"}"#,
            br#"{"customer_id":"c"}"#,
            b"",
        ] {
            assert!(LiveEvent::from_message("m", "x", junk).is_none());
        }
        let ok = br#"{"file_id":"f","owner":"u"}"#;
        for (id, kind) in [("m\nx", "k"), ("m", "k\r"), ("", "k"), ("m", "")] {
            assert!(
                LiveEvent::from_message(id, kind, ok).is_none(),
                "{id:?} {kind:?}"
            );
        }
        assert!(LiveEvent::from_message("m", "x", b"{}").is_none());
    }

    #[test]
    fn the_hub_fans_out_one_frame_to_every_receiver() {
        let hub = Hub::new(8);
        let mut a = hub.subscribe();
        let mut b = hub.subscribe();
        let e = LiveEvent::from_message("m", "file.processed", br#"{"file_id":"f","owner":"u"}"#)
            .expect("event");
        assert_eq!(hub.publish(e), 2);
        let (x, y) = (a.try_recv().expect("a"), b.try_recv().expect("b"));
        assert!(Arc::ptr_eq(&x, &y), "one rendering shared by both");
    }
}
