//! The broker-side topology: Puratan's three exchanges, the dead-letter
//! exchange and queue, and how subscription queues are declared.
//!
//! Every declaration is idempotent (re-declaring with the same properties
//! is a no-op), so every replica declares everything at connect.

use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{Channel, ExchangeKind};
use puratan_core::Result;
use puratan_core::ports::{self, Exchange, Subscription};

use super::RabbitConfig;
use super::error::map;

/// Where messages rejected without requeue go (fanout: one queue gets all).
pub const DEAD_LETTER_EXCHANGE: &str = "puratan.dlx";
/// Durable queue bound to [`DEAD_LETTER_EXCHANGE`]; nobody consumes it
/// automatically: it is for operators (inspect, replay, purge).
pub const DEAD_LETTER_QUEUE: &str = "puratan.dead-letters";

fn kind(exchange: Exchange) -> ExchangeKind {
    match exchange.kind() {
        ports::ExchangeKind::Direct => ExchangeKind::Direct,
        ports::ExchangeKind::Topic => ExchangeKind::Topic,
        ports::ExchangeKind::Fanout => ExchangeKind::Fanout,
    }
}

const DURABLE_EXCHANGE: ExchangeDeclareOptions = ExchangeDeclareOptions {
    passive: false,
    durable: true,
    auto_delete: false,
    internal: false,
    nowait: false,
};

/// Declares the exchanges `puratan.direct`, `puratan.topic`,
/// `puratan.fanout` and `puratan.dlx`, and the dead-letter queue.
pub(crate) async fn declare(channel: &Channel) -> Result<()> {
    for exchange in Exchange::ALL {
        channel
            .exchange_declare(
                exchange.name(),
                kind(exchange),
                DURABLE_EXCHANGE,
                FieldTable::default(),
            )
            .await
            .map_err(map)?;
    }
    channel
        .exchange_declare(
            DEAD_LETTER_EXCHANGE,
            ExchangeKind::Fanout,
            DURABLE_EXCHANGE,
            FieldTable::default(),
        )
        .await
        .map_err(map)?;
    channel
        .queue_declare(
            DEAD_LETTER_QUEUE,
            QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .map_err(map)?;
    channel
        .queue_bind(
            DEAD_LETTER_QUEUE,
            DEAD_LETTER_EXCHANGE,
            "",
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(map)?;
    Ok(())
}

/// Durable queues survive broker restarts; transient ones are exclusive to
/// this connection and deleted with their last consumer.
pub(crate) fn queue_options(sub: &Subscription) -> QueueDeclareOptions {
    QueueDeclareOptions {
        durable: !sub.transient,
        exclusive: sub.transient,
        auto_delete: sub.transient,
        ..QueueDeclareOptions::default()
    }
}

/// Every queue dead-letters rejected messages to [`DEAD_LETTER_EXCHANGE`]
/// (the port promises `nack(false)` dead-letters); durable ones also get
/// `x-expires` when configured.
pub(crate) fn queue_arguments(sub: &Subscription, config: &RabbitConfig) -> FieldTable {
    let mut args = FieldTable::default();
    args.insert(
        ShortString::from("x-dead-letter-exchange"),
        AMQPValue::LongString(LongString::from(DEAD_LETTER_EXCHANGE)),
    );
    if let (false, Some(ms)) = (sub.transient, config.queue_expires_ms) {
        let ms = i64::try_from(ms.max(1)).unwrap_or(i64::MAX);
        args.insert(ShortString::from("x-expires"), AMQPValue::LongLongInt(ms));
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(transient: bool) -> Subscription {
        Subscription {
            queue: "q".into(),
            exchange: Exchange::Topic,
            binding_key: "order.*".into(),
            transient,
        }
    }

    #[test]
    fn durable_queues_dead_letter_and_expire() {
        let cfg = RabbitConfig {
            queue_expires_ms: Some(60_000),
            ..RabbitConfig::default()
        };
        let args = queue_arguments(&sub(false), &cfg);
        let inner = args.inner();
        assert_eq!(
            inner.get("x-dead-letter-exchange"),
            Some(&AMQPValue::LongString(LongString::from(
                DEAD_LETTER_EXCHANGE
            )))
        );
        assert_eq!(
            inner.get("x-expires"),
            Some(&AMQPValue::LongLongInt(60_000))
        );
        let opts = queue_options(&sub(false));
        assert!(opts.durable && !opts.exclusive && !opts.auto_delete);
    }

    #[test]
    fn transient_queues_are_exclusive_and_never_expire_by_timer() {
        let cfg = RabbitConfig {
            queue_expires_ms: Some(60_000),
            ..RabbitConfig::default()
        };
        let args = queue_arguments(&sub(true), &cfg);
        assert!(args.inner().get("x-expires").is_none());
        assert!(args.inner().contains_key("x-dead-letter-exchange"));
        let opts = queue_options(&sub(true));
        assert!(!opts.durable && opts.exclusive && opts.auto_delete);
    }
}
