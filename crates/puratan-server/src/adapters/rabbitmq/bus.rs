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
use lapin::publisher_confirm::Confirmation;
use lapin::types::{FieldTable, ShortString};
use lapin::{BasicProperties, Channel, Consumer};
use puratan_core::ports::{Acker, Delivery, EventBus, Exchange, Message, Subscriber, Subscription};
use puratan_core::{Error, Result};

use super::error::{self, map};
use super::{RabbitBus, topology};

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

#[async_trait]
impl EventBus for RabbitBus {
    async fn publish(&self, exchange: Exchange, routing_key: &str, message: Message) -> Result<()> {
        let routing = short("routing_key", routing_key)?;
        let properties = BasicProperties::default()
            .with_message_id(short("message.id", &message.id)?)
            .with_type(short("message.kind", &message.kind)?)
            .with_content_type(ShortString::from("application/json"))
            .with_delivery_mode(2); // persistent
        let channel = self.publisher().await?;
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
        let confirmation = tokio::time::timeout(CONFIRM_TIMEOUT, confirm)
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
                    exchange = exchange.name(),
                    routing_key,
                    kind = %message.kind,
                    reply = %returned.reply_text,
                    "published message was unroutable"
                );
                Ok(())
            }
            Confirmation::Ack(None) | Confirmation::NotRequested => Ok(()),
            Confirmation::Nack(_) => Err(error::nacked(routing_key)),
        }
    }

    async fn subscribe(&self, sub: Subscription) -> Result<Box<dyn Subscriber>> {
        short("queue", &sub.queue)?;
        short("binding_key", &sub.binding_key)?;
        let config = &self.inner.config;
        let channel = self.inner.connection.create_channel().await.map_err(map)?;
        channel
            .basic_qos(config.prefetch, BasicQosOptions::default())
            .await
            .map_err(map)?;
        channel
            .queue_declare(
                &sub.queue,
                topology::queue_options(&sub),
                topology::queue_arguments(&sub, config),
            )
            .await
            .map_err(map)?;
        channel
            .queue_bind(
                &sub.queue,
                sub.exchange.name(),
                &sub.binding_key,
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(map)?;
        // An empty tag lets the broker pick a unique one.
        let consumer = channel
            .basic_consume(
                &sub.queue,
                "",
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(map)?;
        Ok(Box::new(RabbitSubscriber {
            channel: Some(channel),
            consumer,
            queue: sub.queue,
        }))
    }
}

struct RabbitSubscriber {
    /// `Some` until dropped.
    channel: Option<Channel>,
    consumer: Consumer,
    queue: String,
}

#[async_trait]
impl Subscriber for RabbitSubscriber {
    async fn next(&mut self) -> Result<Option<Delivery>> {
        match self.consumer.next().await {
            None => Ok(None),
            Some(Err(e)) => Err(map(e)),
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
                Ok(Some(Delivery {
                    message,
                    redelivered: d.redelivered,
                    acker: Box::new(RabbitAcker(d.acker)),
                }))
            }
        }
    }
}

impl Drop for RabbitSubscriber {
    fn drop(&mut self) {
        // Closing the channel makes the broker requeue every delivery this
        // subscriber left un-acked (redelivered = true). lapin also closes a
        // channel when its last handle goes, but only after the consumer's
        // cancel round trip; closing explicitly is immediate.
        let Some(channel) = self.channel.take() else {
            return;
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if channel.status().connected() {
                    let _ = channel.close(200, "subscriber dropped").await;
                }
            });
        }
    }
}

impl std::fmt::Debug for RabbitSubscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RabbitSubscriber")
            .field("queue", &self.queue)
            .field("channel", &self.channel.as_ref().map(Channel::id))
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
