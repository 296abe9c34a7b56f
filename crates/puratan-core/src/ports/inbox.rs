//! In-app notifications (each user's inbox) and the processed-message
//! record that makes event consumers idempotent.
//!
//! A consumer of at-least-once events (docs/events.md) applies a message
//! with [`InboxRepo::deliver`]: the notification and the pair
//! `(consumer, message id)` are stored **in one transaction**, the pair
//! under a unique key. A redelivered message (the consumer crashed before
//! acking, the relay published twice) finds its pair and stores nothing,
//! so it never applies twice — even when two deliveries race.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Page, PageRequest};
use crate::Result;
use crate::domain::{OrderId, UserId};

/// Longest accepted message id or consumer name (both are AMQP short
/// strings at most, so 255 bytes).
pub const MAX_MESSAGE_ID_LEN: usize = 255;

/// One notification in a user's inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InAppNotification {
    /// Unique and time-ordered (UUIDv7): newest first is id descending.
    pub id: Uuid,
    pub user_id: UserId,
    /// What happened, stable for clients (`order.created`,
    /// `order.shipped`, `order.cancelled`, …; docs/notifications.md).
    pub kind: String,
    pub title: String,
    pub body: String,
    #[serde(default)]
    pub order_id: Option<OrderId>,
    pub created_at: DateTime<Utc>,
    /// When the user marked it read; `None` while unread.
    #[serde(default)]
    pub read_at: Option<DateTime<Utc>>,
}

/// The inbox store.
///
/// * [`deliver`](Self::deliver) and [`mark_processed`](Self::mark_processed)
///   are idempotent per `(consumer, message_id)`: the first call stores
///   and returns `true`; every later (or concurrent, losing) call stores
///   nothing and returns `false`. An empty or over-long id or consumer is
///   `Invalid`.
/// * [`list`](Self::list) pages a user's notifications newest first (id
///   descending); cursors are opaque.
/// * [`mark_read`](Self::mark_read) sets `read_at` once (marking a read
///   notification again keeps the first time); another user's or an
///   unknown id is `NotFound`.
#[async_trait]
pub trait InboxRepo: Send + Sync + 'static {
    /// Stores `notification` and records `message_id` as processed by
    /// `consumer`, atomically. `false` (nothing stored) when that message
    /// was already processed by that consumer.
    async fn deliver(
        &self,
        message_id: &str,
        consumer: &str,
        notification: InAppNotification,
    ) -> Result<bool>;
    /// Records `message_id` as processed by `consumer` without storing a
    /// notification (the user turned in-app notifications off, but the
    /// consumer's other effect must still happen once).
    async fn mark_processed(&self, message_id: &str, consumer: &str) -> Result<bool>;
    /// Whether `consumer` already processed `message_id`.
    async fn processed(&self, consumer: &str, message_id: &str) -> Result<bool>;
    async fn list(&self, user: UserId, page: &PageRequest) -> Result<Page<InAppNotification>>;
    async fn mark_read(
        &self,
        user: UserId,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<InAppNotification>;
    async fn unread_count(&self, user: UserId) -> Result<u64>;
}

/// Checks a `(consumer, message id)` pair before it is stored.
pub fn check_processed_key(consumer: &str, message_id: &str) -> Result<()> {
    for (field, v) in [("consumer", consumer), ("message_id", message_id)] {
        if v.is_empty() || v.len() > MAX_MESSAGE_ID_LEN {
            return Err(crate::Error::invalid(field, "must be 1-255 bytes"));
        }
    }
    Ok(())
}
