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
//! The connection is not re-established automatically: when it is lost,
//! `publish`/`subscribe` fail with `Unavailable`, [`RabbitBus::ping`] says
//! so, and subscribers' `next` ends; the process (or its supervisor)
//! reconnects by building a new `RabbitBus`.

mod bus;
mod config;
mod error;
pub mod topology;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use lapin::options::{ConfirmSelectOptions, QueueDeclareOptions};
use lapin::types::{FieldTable, LongString};
use lapin::{Channel, Connection, ConnectionProperties};
use puratan_core::{Error, Result};

pub use config::RabbitConfig;

/// A connection to RabbitMQ implementing [`EventBus`](puratan_core::ports::EventBus).
/// Clones share the connection.
#[derive(Clone)]
pub struct RabbitBus {
    inner: Arc<Inner>,
}

struct Inner {
    connection: Connection,
    /// The confirm-mode publish channel; replaced if the broker closed it.
    publisher: tokio::sync::Mutex<Channel>,
    config: RabbitConfig,
    unroutable: AtomicU64,
}

impl RabbitBus {
    /// Connects, declares the topology and opens the publish channel, all
    /// within `connect_timeout_ms`.
    ///
    /// Fails with `Invalid` for a malformed URL, `Unavailable` when the
    /// broker cannot be reached in time (`retryable: false` when it refuses
    /// the credentials).
    pub async fn connect(config: &RabbitConfig) -> Result<Self> {
        let uri: lapin::uri::AMQPUri = config.url.parse().map_err(|e: String| {
            Error::invalid("rabbitmq.url", format!("{e} ({})", config.redacted_url()))
        })?;
        let timeout = config.connect_timeout();
        let setup = async {
            let properties =
                ConnectionProperties::default().with_connection_name(LongString::from("puratan"));
            let connection = Connection::connect_uri(uri, properties)
                .await
                .map_err(error::map)?;
            let channel = connection.create_channel().await.map_err(error::map)?;
            topology::declare(&channel).await?;
            channel
                .confirm_select(ConfirmSelectOptions::default())
                .await
                .map_err(error::map)?;
            Ok::<_, Error>((connection, channel))
        };
        let (connection, publisher) =
            tokio::time::timeout(timeout, setup).await.map_err(|_| {
                Error::unavailable(
                    error::BACKEND,
                    format!(
                        "no connection to {} within {timeout:?}",
                        config.redacted_url()
                    ),
                    true,
                )
            })??;
        Ok(Self {
            inner: Arc::new(Inner {
                connection,
                publisher: tokio::sync::Mutex::new(publisher),
                config: config.clone(),
                unroutable: AtomicU64::new(0),
            }),
        })
    }

    /// Whether the connection is up (no network round trip).
    pub async fn ping(&self) -> Result<()> {
        let status = self.inner.connection.status();
        if status.connected() {
            Ok(())
        } else {
            Err(Error::unavailable(
                error::BACKEND,
                format!("connection is {:?}", status.state()),
                true,
            ))
        }
    }

    /// Messages ready in `queue` (not counting un-acked ones), for metrics.
    /// `NotFound` if there is no such queue.
    pub async fn queue_len(&self, queue: &str) -> Result<u32> {
        // A passive declare of a missing queue closes its channel, so use a
        // throwaway one.
        let channel = self
            .inner
            .connection
            .create_channel()
            .await
            .map_err(error::map)?;
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

    /// The confirm-mode publish channel, re-opened if it was closed (a
    /// channel-level error closes it for good).
    async fn publisher(&self) -> Result<Channel> {
        let mut channel = self.inner.publisher.lock().await;
        if !channel.status().connected() {
            let fresh = self
                .inner
                .connection
                .create_channel()
                .await
                .map_err(error::map)?;
            fresh
                .confirm_select(ConfirmSelectOptions::default())
                .await
                .map_err(error::map)?;
            *channel = fresh;
        }
        Ok(channel.clone())
    }
}

impl std::fmt::Debug for RabbitBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RabbitBus")
            .field("url", &self.inner.config.redacted_url())
            .field("state", &self.inner.connection.status().state())
            .field("unroutable", &self.unroutable_count())
            .finish_non_exhaustive()
    }
}
