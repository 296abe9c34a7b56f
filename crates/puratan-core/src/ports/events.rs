use async_trait::async_trait;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExchangeKind {
    Direct,
    Topic,
    Fanout,
}

/// The fixed exchange topology of Puratan (see ARCHITECTURE.md):
/// * `direct`  — order processing, user notifications, system alerts
///   (work queues: competing consumers).
/// * `topic`   — log aggregation, event broadcasting, status updates
///   (`order.status_changed.printing`, bindings like `order.*`).
/// * `fanout`  — cache invalidation, broadcast messages, announcements
///   (every bound queue gets every message).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Exchange {
    Direct,
    Topic,
    Fanout,
}

impl Exchange {
    pub const ALL: [Exchange; 3] = [Exchange::Direct, Exchange::Topic, Exchange::Fanout];

    pub fn name(self) -> &'static str {
        match self {
            Self::Direct => "puratan.direct",
            Self::Topic => "puratan.topic",
            Self::Fanout => "puratan.fanout",
        }
    }

    pub fn kind(self) -> ExchangeKind {
        match self {
            Self::Direct => ExchangeKind::Direct,
            Self::Topic => ExchangeKind::Topic,
            Self::Fanout => ExchangeKind::Fanout,
        }
    }

    /// AMQP routing semantics, shared by every in-process implementation.
    pub fn routes(self, binding_key: &str, routing_key: &str) -> bool {
        match self.kind() {
            ExchangeKind::Direct => binding_key == routing_key,
            ExchangeKind::Fanout => true,
            ExchangeKind::Topic => topic_matches(binding_key, routing_key),
        }
    }
}

/// AMQP topic matching: words split on `.`, `*` matches exactly one word,
/// `#` matches zero or more.
pub fn topic_matches(pattern: &str, key: &str) -> bool {
    fn go(p: &[&str], k: &[&str]) -> bool {
        match (p.first(), k.first()) {
            (None, None) => true,
            (Some(&"#"), _) => go(&p[1..], k) || (!k.is_empty() && go(p, &k[1..])),
            (Some(&"*"), Some(_)) => go(&p[1..], &k[1..]),
            (Some(pw), Some(kw)) if pw == kw => go(&p[1..], &k[1..]),
            _ => false,
        }
    }
    let p: Vec<&str> = pattern.split('.').collect();
    let k: Vec<&str> = key.split('.').collect();
    go(&p, &k)
}

/// A message on the bus. `id` is unique per logical event so consumers can
/// deduplicate redeliveries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: String,
    /// Event type, e.g. `catalog.changed`.
    pub kind: String,
    pub payload: Bytes,
}

impl Message {
    pub fn json(kind: impl Into<String>, payload: &impl Serialize) -> Self {
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            kind: kind.into(),
            payload: Bytes::from(serde_json::to_vec(payload).unwrap_or_default()),
        }
    }
}

/// A named, durable queue bound to an exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub queue: String,
    pub exchange: Exchange,
    pub binding_key: String,
    /// Exclusive, auto-deleted queue (per-replica fan-out consumers such as
    /// cache invalidation). Durable queues survive restarts.
    pub transient: bool,
}

/// At-least-once delivery: a message counts as handled only when acked.
/// A delivery that is nacked with `requeue`, or still un-acked when its
/// [`Subscriber`] is dropped, is delivered again with `redelivered = true`.
#[derive(Debug)]
pub struct Delivery {
    pub message: Message,
    pub redelivered: bool,
    pub acker: Box<dyn Acker>,
}

impl Delivery {
    pub async fn ack(self) -> Result<()> {
        self.acker.ack().await
    }
    pub async fn nack(self, requeue: bool) -> Result<()> {
        self.acker.nack(requeue).await
    }
}

#[async_trait]
pub trait Acker: Send + Sync + std::fmt::Debug {
    async fn ack(&self) -> Result<()>;
    /// `requeue = false` dead-letters the message.
    async fn nack(&self, requeue: bool) -> Result<()>;
}

#[async_trait]
pub trait Subscriber: Send {
    /// Waits for the next delivery; `Ok(None)` when the subscription ended
    /// for good (e.g. its bus was dropped). `Unavailable` when the broker
    /// cannot be reached right now: adapters that reconnect re-subscribe on
    /// a later call, so callers back off and call again.
    async fn next(&mut self) -> Result<Option<Delivery>>;
}

#[async_trait]
pub trait EventBus: Send + Sync + 'static {
    /// Publishes and returns once the broker has taken responsibility for
    /// the message (publisher confirm).
    async fn publish(&self, exchange: Exchange, routing_key: &str, message: Message) -> Result<()>;

    /// Publishes `batch` (routing key, message) in order and returns how
    /// many of them, from the start, the broker took responsibility for,
    /// plus the error that stopped the rest. Messages after the first
    /// failure may have been taken too: a caller that publishes them again
    /// creates duplicates, never gaps, and never reorders what it saw
    /// confirmed. Adapters override the default (one `publish` at a time)
    /// to keep many messages in flight.
    async fn publish_all(
        &self,
        exchange: Exchange,
        batch: Vec<(String, Message)>,
    ) -> (usize, Option<Error>) {
        let n = batch.len();
        for (i, (key, message)) in batch.into_iter().enumerate() {
            if let Err(e) = self.publish(exchange, &key, message).await {
                return (i, Some(e));
            }
        }
        (n, None)
    }

    async fn subscribe(&self, subscription: Subscription) -> Result<Box<dyn Subscriber>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_matching_follows_amqp() {
        assert!(topic_matches("order.*", "order.created"));
        assert!(!topic_matches("order.*", "user.created"));
        assert!(!topic_matches("order.*", "order.status_changed.printing"));
        assert!(topic_matches("order.#", "order.status_changed.printing"));
        assert!(topic_matches("#", "anything.at.all"));
        assert!(topic_matches("order.#", "order"));
        assert!(topic_matches("*.created", "user.created"));
    }
}
