//! The bus's connection to the broker, re-established when it is lost.
//!
//! A [`Link`] is one AMQP connection plus its confirm-mode publish
//! channel. [`Links::current`] hands out the live one, or opens a new one
//! (declaring the topology again) when the broker closed it, the network
//! dropped it or the broker restarted. While the broker stays unreachable,
//! attempts are spaced by [`RETRY_PAUSE`], so a burst of publishes fails
//! fast instead of queueing one connect timeout each.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use lapin::options::ConfirmSelectOptions;
use lapin::types::LongString;
use lapin::uri::AMQPUri;
use lapin::{Channel, Connection, ConnectionProperties};
use puratan_core::{Error, Result};
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::error::{self, map};
use super::{RabbitConfig, topology};

/// Minimum time between two connection attempts while the broker is
/// unreachable.
pub(crate) const RETRY_PAUSE: Duration = Duration::from_millis(250);

/// One connection and its publish channel.
#[derive(Clone)]
pub(crate) struct Link {
    pub(crate) connection: Arc<Connection>,
    pub(crate) publisher: Channel,
}

impl Link {
    fn usable(&self) -> bool {
        self.connection.status().connected()
    }
}

struct State {
    link: Option<Link>,
    /// When the last attempt failed, and why (returned again until
    /// [`RETRY_PAUSE`] has passed).
    failed: Option<(Instant, String)>,
}

pub(crate) struct Links {
    uri: AMQPUri,
    config: RabbitConfig,
    state: Mutex<State>,
    /// Connections opened after the first one.
    pub(crate) reconnects: AtomicU64,
}

impl Links {
    /// Opens the first connection; fails like [`super::RabbitBus::connect`].
    pub(crate) async fn open(config: &RabbitConfig) -> Result<Self> {
        let uri: AMQPUri = config.url.parse().map_err(|e: String| {
            Error::invalid("rabbitmq.url", format!("{e} ({})", config.redacted_url()))
        })?;
        let link = connect(&uri, config).await?;
        Ok(Self {
            uri,
            config: config.clone(),
            state: Mutex::new(State {
                link: Some(link),
                failed: None,
            }),
            reconnects: AtomicU64::new(0),
        })
    }

    /// The live link, reconnecting if it was lost. The publish channel is
    /// re-opened if only it was closed (a channel-level error closes a
    /// channel for good).
    pub(crate) async fn current(&self) -> Result<Link> {
        let mut state = self.state.lock().await;
        if let Some(link) = state.link.as_mut().filter(|l| l.usable()) {
            if !link.publisher.status().connected() {
                link.publisher = publish_channel(&link.connection).await?;
            }
            return Ok(link.clone());
        }
        if let Some((at, why)) = &state.failed
            && at.elapsed() < RETRY_PAUSE
        {
            return Err(Error::unavailable(error::BACKEND, why.clone(), true));
        }
        let had_link = state.link.take().is_some();
        match connect(&self.uri, &self.config).await {
            Ok(link) => {
                if had_link || state.failed.is_some() {
                    self.reconnects.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(url = %self.config.redacted_url(), "reconnected to RabbitMQ");
                }
                state.failed = None;
                state.link = Some(link.clone());
                Ok(link)
            }
            Err(e) => {
                if state.failed.is_none() {
                    tracing::warn!(error = %e, "lost the RabbitMQ connection; reconnecting");
                }
                state.failed = Some((Instant::now(), e.to_string()));
                Err(e)
            }
        }
    }

    pub(crate) fn config(&self) -> &RabbitConfig {
        &self.config
    }
}

/// Connects, declares the topology and opens the publish channel, all
/// within `connect_timeout_ms`.
async fn connect(uri: &AMQPUri, config: &RabbitConfig) -> Result<Link> {
    let timeout = config.connect_timeout();
    let setup = async {
        let properties =
            ConnectionProperties::default().with_connection_name(LongString::from("puratan"));
        let connection = Connection::connect_uri(uri.clone(), properties)
            .await
            .map_err(map)?;
        let channel = connection.create_channel().await.map_err(map)?;
        topology::declare(&channel).await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(map)?;
        Ok::<_, Error>(Link {
            connection: Arc::new(connection),
            publisher: channel,
        })
    };
    tokio::time::timeout(timeout, setup).await.map_err(|_| {
        Error::unavailable(
            error::BACKEND,
            format!(
                "no connection to {} within {timeout:?}",
                config.redacted_url()
            ),
            true,
        )
    })?
}

async fn publish_channel(connection: &Connection) -> Result<Channel> {
    let channel = connection.create_channel().await.map_err(map)?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .map_err(map)?;
    Ok(channel)
}
