//! Idempotent consumers against a real broker (RabbitMQ) and a real store
//! (SQLite): the notification consumer that crashes before its ack gets
//! the message again and does not apply it twice; a message that keeps
//! failing, or cannot be parsed, ends in the dead-letter queue.
//!
//! Every test uses a queue and routing key of its own (`order.<unique>`),
//! so order events of other tests or servers on the same broker never
//! reach it. Without RabbitMQ the tests skip loudly, or fail when
//! `CI=true`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use lapin::options::{QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable};
use puratan_core::domain::{OrderId, User, UserId};
use puratan_core::memory::MemoryNotifier;
use puratan_core::ports::{
    EventBus, Exchange, InAppNotification, InboxRepo, Message, NotificationKind, Page, PageRequest,
    Subscription, UserRepo,
};
use puratan_server::adapters::rabbitmq::topology::{DEAD_LETTER_EXCHANGE, DEAD_LETTER_QUEUE};
use puratan_server::adapters::rabbitmq::{RabbitBus, RabbitConfig};
use puratan_server::adapters::sqlite::{SqliteConfig, SqliteStore};
use puratan_server::metrics::Metrics;
use puratan_server::notifications::{Applied, NotificationConsumer};
use puratan_testkit::service::{require, unique};

fn url() -> String {
    std::env::var("PURATAN_TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned())
}

async fn bus() -> Option<RabbitBus> {
    require(
        "RabbitMQ",
        RabbitBus::connect(&RabbitConfig {
            queue_expires_ms: Some(60_000),
            ..RabbitConfig::new(url())
        })
        .await,
    )
}

/// A fresh SQLite store (leaked temp dir) with one customer in it.
async fn store_with_customer() -> (SqliteStore, User) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("puratan.db");
    std::mem::forget(dir);
    let store = SqliteStore::open(&SqliteConfig {
        path,
        ..Default::default()
    })
    .expect("open");
    let user = store
        .users()
        .insert(puratan_testkit::fixtures::user(&format!(
            "{}@example.com",
            unique("c")
        )))
        .await
        .expect("user");
    (store, user)
}

/// A durable queue bound to its own routing key on the topic exchange.
fn subscription(ns: &str) -> (Subscription, String) {
    let key = format!("order.{ns}");
    (
        Subscription {
            queue: format!("{ns}.notifications"),
            exchange: Exchange::Topic,
            binding_key: key.clone(),
            transient: false,
        },
        key,
    )
}

/// `order.status_changed` packed → shipped for `customer`, as the outbox
/// writes it.
fn shipped(customer: UserId) -> Message {
    let id = uuid::Uuid::now_v7().to_string();
    let payload = serde_json::json!({
        "schema": "puratan.order.status_changed/v1",
        "event_id": id,
        "order_id": OrderId::new(),
        "customer_id": customer,
        "from": "packed",
        "to": "shipped",
        "transition": "ship",
        "actor": null,
        "reason": null,
        "version": 12,
        "at": Utc::now(),
    });
    Message {
        id,
        kind: "order.status_changed".into(),
        payload: Bytes::from(serde_json::to_vec(&payload).expect("json")),
    }
}

async fn next(sub: &mut Box<dyn puratan_core::ports::Subscriber>) -> puratan_core::ports::Delivery {
    tokio::time::timeout(Duration::from_secs(10), sub.next())
        .await
        .expect("a delivery within 10 s")
        .expect("next")
        .expect("subscription open")
}

/// The acceptance test: a consumer applies an event and crashes
/// before acking; the broker redelivers it (redelivered = true) to a new
/// consumer, which recognises it: one notification, one e-mail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_before_ack_redelivers_and_does_not_double_apply() {
    let Some(bus) = bus().await else { return };
    let (store, user) = store_with_customer().await;
    let (inbox, notifier) = (store.inbox(), Arc::new(MemoryNotifier::new()));
    let consumer = |metrics: Metrics| {
        NotificationConsumer::new(store.users(), inbox.clone(), notifier.clone(), metrics, 5)
    };
    let ns = unique("crash");
    let (sub, key) = subscription(&ns);
    let mut first = bus.subscribe(sub.clone()).await.expect("subscribe");
    let event = shipped(user.id);
    bus.publish(Exchange::Topic, &key, event.clone())
        .await
        .expect("publish");

    // Consumer 1 applies the event, then "crashes": no ack, its channel goes.
    let d = next(&mut first).await;
    assert_eq!(d.message, event);
    assert!(!d.redelivered);
    let applied = consumer(Metrics::new())
        .apply(&d.message)
        .await
        .expect("applied");
    assert_eq!(
        applied,
        Applied::Notified {
            in_app: true,
            emailed: true
        }
    );
    drop(d);
    drop(first);

    // Consumer 2 gets it again and settles it without a second effect.
    let metrics = Metrics::new();
    let second = consumer(metrics.clone());
    let mut sub2 = bus.subscribe(sub.clone()).await.expect("resubscribe");
    let d = next(&mut sub2).await;
    assert_eq!(d.message.id, event.id);
    assert!(d.redelivered, "the broker says it was delivered before");
    assert_eq!(
        second.apply(&d.message).await.expect("recognised"),
        Applied::Duplicate
    );
    second.handle(d).await; // applies (duplicate again) and acks
    assert_eq!(
        metrics
            .events_consumed
            .with_label_values(&["notifications"])
            .get(),
        1
    );

    let page = inbox
        .list(user.id, &PageRequest::first(10))
        .await
        .expect("list");
    assert_eq!(page.items.len(), 1, "exactly one notification");
    assert_eq!(page.items[0].kind, "order.shipped");
    let mails: Vec<_> = notifier
        .sent()
        .into_iter()
        .filter(|m| m.kind == NotificationKind::OrderUpdate)
        .collect();
    assert_eq!(mails.len(), 1, "exactly one e-mail");
    assert_eq!(mails[0].to, user.email);

    // Acked: nothing comes again, even to a fresh consumer.
    drop(sub2);
    let mut sub3 = bus.subscribe(sub).await.expect("resubscribe");
    assert!(
        tokio::time::timeout(Duration::from_millis(500), sub3.next())
            .await
            .is_err(),
        "the acked message is gone"
    );
}

/// An inbox whose store is down: every write fails (retryable).
#[derive(Debug, Default)]
struct DownInbox {
    writes: AtomicUsize,
}

impl DownInbox {
    fn down(&self) -> puratan_core::Error {
        self.writes.fetch_add(1, Ordering::SeqCst);
        puratan_core::Error::unavailable("test", "store is down", true)
    }
}

#[async_trait]
impl InboxRepo for DownInbox {
    async fn deliver(&self, _: &str, _: &str, _: InAppNotification) -> puratan_core::Result<bool> {
        Err(self.down())
    }
    async fn mark_processed(&self, _: &str, _: &str) -> puratan_core::Result<bool> {
        Err(self.down())
    }
    async fn processed(&self, _: &str, _: &str) -> puratan_core::Result<bool> {
        Err(self.down())
    }
    async fn list(
        &self,
        _: UserId,
        _: &PageRequest,
    ) -> puratan_core::Result<Page<InAppNotification>> {
        Err(self.down())
    }
    async fn mark_read(
        &self,
        _: UserId,
        _: uuid::Uuid,
        _: DateTime<Utc>,
    ) -> puratan_core::Result<InAppNotification> {
        Err(self.down())
    }
    async fn unread_count(&self, _: UserId) -> puratan_core::Result<u64> {
        Err(self.down())
    }
}

/// A private queue bound to the dead-letter exchange (fanout), so the
/// test sees every dead letter without taking them from the shared
/// `puratan.dead-letters` queue that other tests read.
async fn dead_letter_tap() -> (lapin::Connection, lapin::Channel, String) {
    let conn = lapin::Connection::connect(&url(), lapin::ConnectionProperties::default())
        .await
        .expect("raw connect");
    let channel = conn.create_channel().await.expect("channel");
    let name = unique("dlq-tap");
    channel
        .queue_declare(
            &name,
            QueueDeclareOptions {
                exclusive: true,
                auto_delete: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .expect("declare tap");
    channel
        .queue_bind(
            &name,
            DEAD_LETTER_EXCHANGE,
            "",
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("bind tap");
    (conn, channel, name)
}

fn death_queue(m: &lapin::message::BasicGetMessage) -> String {
    let headers = m.delivery.properties.headers().clone().unwrap_or_default();
    match headers.inner().get("x-first-death-queue") {
        Some(AMQPValue::LongString(s)) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
        other => panic!("x-first-death-queue: {other:?}"),
    }
}

/// Removes our dead letters from the shared queue again (best effort).
async fn tidy_shared_dead_letters(ids: &[&str]) {
    let Ok(conn) = lapin::Connection::connect(&url(), lapin::ConnectionProperties::default()).await
    else {
        return;
    };
    if let Ok(channel) = conn.create_channel().await {
        for id in ids {
            let _ =
                crate::rabbitmq::take_from(&channel, DEAD_LETTER_QUEUE, id, Duration::from_secs(2))
                    .await;
        }
    }
    let _ = conn.close(200, "done").await;
}

/// A message whose handling fails on the store every time is requeued
/// until `max_attempts`, then dead-lettered; a malformed one at once.
/// Both are counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_messages_end_in_the_dead_letter_queue() {
    const MAX_ATTEMPTS: u32 = 3;
    let Some(bus) = bus().await else { return };
    let (store, user) = store_with_customer().await;
    let down = Arc::new(DownInbox::default());
    let metrics = Metrics::new();
    let consumer = Arc::new(NotificationConsumer::new(
        store.users() as Arc<dyn UserRepo>,
        down.clone(),
        Arc::new(MemoryNotifier::new()),
        metrics.clone(),
        MAX_ATTEMPTS,
    ));
    let (_tap_conn, tap, tap_queue) = dead_letter_tap().await;
    let ns = unique("poison");
    let (sub, key) = subscription(&ns);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let running = consumer.spawn(
        bus.subscribe(sub.clone()).await.expect("subscribe"),
        stop_rx,
    );

    let failing = shipped(user.id);
    let malformed = Message {
        id: uuid::Uuid::now_v7().to_string(),
        kind: "order.status_changed".into(),
        payload: Bytes::from_static(b"{\"order_id\": 42"),
    };
    for m in [&failing, &malformed] {
        bus.publish(Exchange::Topic, &key, m.clone())
            .await
            .expect("publish");
    }

    let dead = crate::rabbitmq::take_from(&tap, &tap_queue, &malformed.id, Duration::from_secs(10))
        .await
        .expect("the malformed message is dead-lettered");
    assert_eq!(death_queue(&dead), sub.queue);
    let dead = crate::rabbitmq::take_from(&tap, &tap_queue, &failing.id, Duration::from_secs(20))
        .await
        .expect("the failing message is dead-lettered after its attempts");
    assert_eq!(death_queue(&dead), sub.queue);
    assert_eq!(dead.delivery.data, failing.payload.to_vec());
    assert_eq!(
        down.writes.load(Ordering::SeqCst),
        MAX_ATTEMPTS as usize,
        "tried exactly max_attempts times"
    );
    assert_eq!(
        metrics
            .events_dead_lettered
            .with_label_values(&["notifications"])
            .get(),
        2
    );
    assert_eq!(
        metrics
            .events_consumed
            .with_label_values(&["notifications"])
            .get(),
        0
    );
    let _ = stop_tx.send(true);
    let _ = running.await;
    assert_eq!(
        bus.queue_len(&sub.queue).await.expect("len"),
        0,
        "nothing left in the consumer's queue"
    );
    tidy_shared_dead_letters(&[&failing.id, &malformed.id]).await;
}
