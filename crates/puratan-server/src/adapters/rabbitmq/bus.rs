//! [`EventBus`] over AMQP 0-9-1.

use std::sync::atomic::Ordering;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt as _;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicPublishOptions, BasicQosOptions,
    BasicRejectOptions, QueueBindOptions,
};
use lapin::publisher_confirm::{Confirmation, PublisherConfirm};
use lapin::types::{FieldTable, ShortString};
use lapin::{BasicProperties, Channel, Consumer};
use puratan_core::ports::{Acker, Delivery, EventBus, Exchange, Message, Subscriber, Subscription};
use puratan_core::{Error, Result};

use super::error::{self, map};
use super::{RabbitBus, link, topology};

/// How long `publish` waits for the broker's confirm before giving up.
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(30);

/// AMQP short strings (names, keys, ids, types) hold at most 255 bytes.
fn short(field: &str, value: &str) -> Result<ShortString> {
    if value.len() > 255 {
        return Err(Error::invalid(
            field,
            "longer than 255 bytes (an AMQP short string)",
        ));
    }
    Ok(ShortString::from(value))
}

/// A message handed to the broker, its confirm still to come.
struct InFlight {
    confirm: PublisherConfirm,
    exchange: Exchange,
    routing_key: String,
    kind: String,
}

impl RabbitBus {
    /// Sends one persistent, `mandatory` message on the confirm channel.
    async fn send(
        &self,
        channel: &Channel,
        exchange: Exchange,
        routing_key: &str,
        message: Message,
    ) -> Result<InFlight> {
        let routing = short("routing_key", routing_key)?;
        let properties = BasicProperties::default()
            .with_message_id(short("message.id", &message.id)?)
            .with_type(short("message.kind", &message.kind)?)
            .with_content_type(ShortString::from("application/json"))
            .with_delivery_mode(2); // persistent
        let confirm = channel
            .basic_publish(
                exchange.name(),
                routing.as_str(),
                BasicPublishOptions {
                    mandatory: true,
                    immediate: false,
                },
                &message.payload,
                properties,
            )
            .await
            .map_err(map)?;
        Ok(InFlight {
            confirm,
            exchange,
            routing_key: routing_key.to_owned(),
            kind: message.kind,
        })
    }

    /// Waits for the broker's confirm of a sent message.
    async fn settle(&self, sent: InFlight) -> Result<()> {
        let confirmation = tokio::time::timeout(CONFIRM_TIMEOUT, sent.confirm)
            .await
            .map_err(|_| {
                Error::unavailable(
                    error::BACKEND,
                    format!("no publisher confirm within {CONFIRM_TIMEOUT:?}"),
                    true,
                )
            })?
            .map_err(map)?;
        match confirmation {
            // `mandatory` and no queue bound: the broker returns the message
            // and then acks it (it has nowhere to go, which is not an error
            // of the publisher: e.g. nobody subscribed to this event yet).
            Confirmation::Ack(Some(returned)) => {
                self.inner.unroutable.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    exchange = sent.exchange.name(),
                    routing_key = %sent.routing_key,
                    kind = %sent.kind,
                    reply = %returned.reply_text,
                    "published message was unroutable"
                );
                Ok(())
            }
            Confirmation::Ack(None) | Confirmation::NotRequested => Ok(()),
            Confirmation::Nack(_) => Err(error::nacked(&sent.routing_key)),
        }
    }
}

#[async_trait]
impl EventBus for RabbitBus {
    async fn publish(&self, exchange: Exchange, routing_key: &str, message: Message) -> Result<()> {
        let channel = self.inner.links.current().await?.publisher;
        let sent = self.send(&channel, exchange, routing_key, message).await?;
        self.settle(sent).await
    }

    /// Sends the whole batch, then collects the confirms in order: one
    /// round trip for the batch instead of one per message.
    async fn publish_all(
        &self,
        exchange: Exchange,
        batch: Vec<(String, Message)>,
    ) -> (usize, Option<Error>) {
        let channel = match self.inner.links.current().await {
            Ok(link) => link.publisher,
            Err(e) => return (0, Some(e)),
        };
        let mut in_flight = Vec::with_capacity(batch.len());
        let mut failed = None;
        for (key, message) in batch {
            match self.send(&channel, exchange, &key, message).await {
                Ok(sent) => in_flight.push(sent),
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        let mut confirmed = 0;
        for sent in in_flight {
            if let Err(e) = self.settle(sent).await {
                return (confirmed, Some(e));
            }
            confirmed += 1;
        }
        (confirmed, failed)
    }

    async fn subscribe(&self, sub: Subscription) -> Result<Box<dyn Subscriber>> {
        short("queue", &sub.queue)?;
        short("binding_key", &sub.binding_key)?;
        let mut attempt = 1;
        let live = loop {
            match self.consume(&sub).await {
                Ok(live) => break live,
                // A channel can be closed under us (e.g. while the broker
                // tears down another of our channels); a fresh one works.
                Err(
                    e @ Error::Unavailable {
                        retryable: true, ..
                    },
                ) if attempt < SUBSCRIBE_ATTEMPTS => {
                    tracing::debug!(error = %e, queue = %sub.queue, attempt, "subscribe failed; retrying");
                    attempt += 1;
                    tokio::time::sleep(link::RETRY_PAUSE).await;
                }
                Err(e) => return Err(e),
            }
        };
        Ok(Box::new(RabbitSubscriber {
            bus: self.clone(),
            sub,
            live: Some(live),
        }))
    }
}

/// Tries of a `subscribe` before its error is returned.
const SUBSCRIBE_ATTEMPTS: u32 = 3;

/// A consuming channel.
struct Live {
    channel: Channel,
    consumer: Consumer,
}

impl RabbitBus {
    /// Opens a channel, declares and binds the queue, starts consuming.
    async fn consume(&self, sub: &Subscription) -> Result<Live> {
        let link = self.inner.links.current().await?;
        let config = self.inner.links.config();
        let channel = link.connection.create_channel().await.map_err(map)?;
        let opened = async {
            channel
                .basic_qos(config.prefetch, BasicQosOptions::default())
                .await?;
            channel
                .queue_declare(
                    &sub.queue,
                    topology::queue_options(sub),
                    topology::queue_arguments(sub, config),
                )
                .await?;
            channel
                .queue_bind(
                    &sub.queue,
                    sub.exchange.name(),
                    &sub.binding_key,
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await?;
            // An empty tag lets the broker pick a unique one.
            channel
                .basic_consume(
                    &sub.queue,
                    "",
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await
        }
        .await;
        match opened {
            Ok(consumer) => Ok(Live { channel, consumer }),
            Err(e) => {
                close(channel);
                Err(map(e))
            }
        }
    }
}

/// Closes a channel in the background (if a runtime is there to do it).
fn close(channel: Channel) {
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(async move {
            if channel.status().connected() {
                let _ = channel.close(200, "subscriber done").await;
            }
        });
    }
}

/// A subscription that outlives its channel: when the channel or the
/// connection is lost, the next `next` re-declares, re-binds and consumes
/// again on the bus's (re-established) connection.
struct RabbitSubscriber {
    bus: RabbitBus,
    sub: Subscription,
    /// `None` after the channel was lost, until re-subscribed.
    live: Option<Live>,
}

#[async_trait]
impl Subscriber for RabbitSubscriber {
    /// Never `Ok(None)`: a lost subscription is re-established, and while
    /// that fails `next` returns `Unavailable` (callers back off and call
    /// again).
    async fn next(&mut self) -> Result<Option<Delivery>> {
        let live = match &mut self.live {
            Some(live) => live,
            None => {
                let live = self.bus.consume(&self.sub).await?;
                tracing::info!(queue = %self.sub.queue, "re-subscribed");
                self.live.insert(live)
            }
        };
        let lost = match live.consumer.next().await {
            Some(Ok(d)) => {
                let text = |s: &Option<ShortString>| {
                    s.as_ref()
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_default()
                };
                let message = Message {
                    id: text(d.properties.message_id()),
                    kind: text(d.properties.kind()),
                    payload: Bytes::from(d.data),
                };
                return Ok(Some(Delivery {
                    message,
                    redelivered: d.redelivered,
                    acker: Box::new(RabbitAcker(d.acker)),
                }));
            }
            Some(Err(e)) => map(e),
            None => Error::unavailable(
                error::BACKEND,
                format!("the subscription to {:?} ended", self.sub.queue),
                true,
            ),
        };
        tracing::warn!(queue = %self.sub.queue, error = %lost, "subscription lost; re-subscribing");
        if let Some(live) = self.live.take() {
            close(live.channel);
        }
        Err(lost)
    }
}

impl Drop for RabbitSubscriber {
    fn drop(&mut self) {
        // Closing the channel makes the broker requeue every delivery this
        // subscriber left un-acked (redelivered = true). lapin also closes a
        // channel when its last handle goes, but only after the consumer's
        // cancel round trip; closing explicitly is immediate.
        if let Some(live) = self.live.take() {
            close(live.channel);
        }
    }
}

impl std::fmt::Debug for RabbitSubscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RabbitSubscriber")
            .field("queue", &self.sub.queue)
            .field("channel", &self.live.as_ref().map(|l| l.channel.id()))
            .finish()
    }
}

/// Settles one delivery on the channel it came from. After its subscriber
/// was dropped the channel is gone and the broker has already requeued the
/// delivery, so settling fails with `Unavailable`.
#[derive(Debug)]
struct RabbitAcker(lapin::acker::Acker);

#[async_trait]
impl Acker for RabbitAcker {
    async fn ack(&self) -> Result<()> {
        self.0.ack(BasicAckOptions::default()).await.map_err(map)
    }

    async fn nack(&self, requeue: bool) -> Result<()> {
        if requeue {
            self.0
                .nack(BasicNackOptions {
                    multiple: false,
                    requeue: true,
                })
                .await
                .map_err(map)
        } else {
            // Rejected without requeue → the queue's dead-letter exchange.
            self.0
                .reject(BasicRejectOptions { requeue: false })
                .await
                .map_err(map)
        }
    }
}
