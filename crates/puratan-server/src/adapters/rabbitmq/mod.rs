//! RabbitMQ adapter: the [`EventBus`](puratan_core::ports::EventBus) of a
//! multi-replica deployment.
//!
//! One [`RabbitBus`] holds one AMQP connection with
//! * one publish channel in confirm mode: `publish` returns once the broker
//!   has taken the (persistent, `mandatory`) message, fails on a nack, and
//!   counts messages that no queue was bound to receive
//!   ([`RabbitBus::unroutable_count`]);
//! * one channel per subscriber, with `basic.qos(prefetch)`; dropping the
//!   subscriber closes its channel, so the broker redelivers whatever it
//!   left un-acked.
//!
//! The topology (see [`topology`]) is declared at connect. Rejected
//! messages (`nack(false)`) are dead-lettered to `puratan.dlx` →
//! `puratan.dead-letters`.
//!
//! The connection is re-established when it is lost (broker restart,
//! network drop; see [`link`]): `publish` fails with `Unavailable` while
//! the broker is unreachable (the outbox keeps the event until it is
//! back), and a subscriber's `next` returns `Unavailable` until it could
//! re-subscribe, then goes on delivering. Durable queues keep what was
//! published meanwhile; deliveries that were in flight come again with
//! `redelivered` set, so consumers dedupe them. Transient queues die with
//! their connection: what was published to them during the outage is
//! lost (they carry live fan-out, never work).

mod bus;
mod config;
mod error;
mod link;
pub mod topology;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use lapin::options::QueueDeclareOptions;
use lapin::types::FieldTable;
use puratan_core::Result;

pub use config::RabbitConfig;
use link::Links;

/// A connection to RabbitMQ implementing [`EventBus`](puratan_core::ports::EventBus).
/// Clones share the connection.
#[derive(Clone)]
pub struct RabbitBus {
    inner: Arc<Inner>,
}

struct Inner {
    links: Links,
    unroutable: AtomicU64,
}

impl RabbitBus {
    /// Connects, declares the topology and opens the publish channel, all
    /// within `connect_timeout_ms`.
    ///
    /// Fails with `Invalid` for a malformed URL, `Unavailable` when the
    /// broker cannot be reached in time (`retryable: false` when it refuses
    /// the credentials). Later losses of the connection are repaired by
    /// the bus itself.
    pub async fn connect(config: &RabbitConfig) -> Result<Self> {
        Ok(Self {
            inner: Arc::new(Inner {
                links: Links::open(config).await?,
                unroutable: AtomicU64::new(0),
            }),
        })
    }

    /// Whether the broker is reachable: the current connection is up, or a
    /// new one could be opened.
    pub async fn ping(&self) -> Result<()> {
        self.inner.links.current().await.map(drop)
    }

    /// Messages ready in `queue` (not counting un-acked ones), for metrics.
    /// `NotFound` if there is no such queue.
    pub async fn queue_len(&self, queue: &str) -> Result<u32> {
        // A passive declare of a missing queue closes its channel, so use a
        // throwaway one.
        let link = self.inner.links.current().await?;
        let channel = link.connection.create_channel().await.map_err(error::map)?;
        let declared = channel
            .queue_declare(
                queue,
                QueueDeclareOptions {
                    passive: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .map_err(error::map);
        if channel.status().connected() {
            let _ = channel.close(200, "done").await;
        }
        Ok(declared?.message_count())
    }

    /// Published messages the broker returned because no queue was bound
    /// to receive them, since this bus was connected.
    pub fn unroutable_count(&self) -> u64 {
        self.inner.unroutable.load(Ordering::Relaxed)
    }

    /// How often the connection was re-established since [`connect`](Self::connect).
    pub fn reconnect_count(&self) -> u64 {
        self.inner.links.reconnects.load(Ordering::Relaxed)
    }
}

impl std::fmt::Debug for RabbitBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RabbitBus")
            .field("url", &self.inner.links.config().redacted_url())
            .field("unroutable", &self.unroutable_count())
            .field("reconnects", &self.reconnect_count())
            .finish_non_exhaustive()
    }
}
