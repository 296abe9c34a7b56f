//! The bus's connection to the broker, re-established when it is lost.
//!
//! A [`Link`] is one AMQP connection plus its confirm-mode publish
//! channel. [`Links::current`] hands out the live one, or opens a new one
//! (declaring the topology again) when the broker closed it, the network
//! dropped it or the broker restarted. While the broker stays unreachable,
//! attempts are spaced by [`RETRY_PAUSE`], so a burst of publishes fails
//! fast instead of queueing one connect timeout each.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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
    /// Whether a caller is connecting right now.
    connecting: AtomicBool,
}

/// Clears [`Links::connecting`] when the attempt ends or is dropped.
struct ConnectingGuard<'a>(&'a AtomicBool);

impl Drop for ConnectingGuard<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
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
            connecting: AtomicBool::new(false),
        })
    }

    /// The live link, reconnecting if it was lost. The publish channel is
    /// re-opened if only it was closed (a channel-level error closes a
    /// channel for good).
    ///
    /// One caller connects at a time, without holding the lock: the others
    /// fail fast with `Unavailable` meanwhile instead of queueing behind a
    /// connect timeout. A connect that is cancelled (its caller timed out)
    /// still counts as a failed attempt, so the [`RETRY_PAUSE`] holds.
    pub(crate) async fn current(&self) -> Result<Link> {
        let had_link = {
            let mut state = self.state.lock().await;
            if let Some(link) = state.link.as_mut().filter(|l| l.usable()) {
                if !link.publisher.status().connected() {
                    link.publisher = self.bounded(publish_channel(&link.connection)).await?;
                }
                return Ok(link.clone());
            }
            if let Some((at, why)) = &state.failed
                && at.elapsed() < RETRY_PAUSE
            {
                return Err(Error::unavailable(error::BACKEND, why.clone(), true));
            }
            if self.connecting.swap(true, Ordering::AcqRel) {
                return Err(Error::unavailable(
                    error::BACKEND,
                    "reconnecting to RabbitMQ",
                    true,
                ));
            }
            // Until this attempt ends (or is dropped), others back off.
            state.failed = Some((Instant::now(), "reconnecting to RabbitMQ".to_owned()));
            state.link.take().is_some()
        };
        let _connecting = ConnectingGuard(&self.connecting);
        let result = connect(&self.uri, &self.config).await;
        let mut state = self.state.lock().await;
        match result {
            Ok(link) => {
                self.reconnects.fetch_add(1, Ordering::Relaxed);
                tracing::info!(url = %self.config.redacted_url(), had_link, "reconnected to RabbitMQ");
                state.failed = None;
                state.link = Some(link.clone());
                Ok(link)
            }
            Err(e) => {
                if had_link {
                    tracing::warn!(error = %e, "lost the RabbitMQ connection; reconnecting");
                }
                state.failed = Some((Instant::now(), e.to_string()));
                Err(e)
            }
        }
    }

    /// `fut` within the connect timeout (a half-open connection must not
    /// hold the lock until lapin notices it is dead).
    async fn bounded<T>(&self, fut: impl Future<Output = Result<T>>) -> Result<T> {
        let timeout = self.config.connect_timeout();
        tokio::time::timeout(timeout, fut).await.map_err(|_| {
            Error::unavailable(
                error::BACKEND,
                format!("no answer from RabbitMQ within {timeout:?}"),
                true,
            )
        })?
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
