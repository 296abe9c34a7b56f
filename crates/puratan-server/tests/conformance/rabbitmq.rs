//! Conformance of the rabbitmq adapter, plus what only a broker can show.
//!
//! Needs RabbitMQ at `PURATAN_TEST_AMQP_URL` (default
//! amqp://guest:guest@127.0.0.1:5672/%2f; `scripts/services/rabbitmq.sh`
//! starts one). Without it the tests skip loudly, or fail when `CI=true`.
//! Queue names are unique per test and durable test queues expire after a
//! minute without consumers, so a long-lived broker does not fill up.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use lapin::options::{BasicAckOptions, BasicGetOptions};
use lapin::types::AMQPValue;
use puratan_core::ErrorKind;
use puratan_core::ports::{EventBus, Exchange, Message, Subscription};
use puratan_server::adapters::rabbitmq::topology::DEAD_LETTER_QUEUE;
use puratan_server::adapters::rabbitmq::{RabbitBus, RabbitConfig};
use puratan_testkit::service::{require, unique};

fn url() -> String {
    std::env::var("PURATAN_TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned())
}

fn config() -> RabbitConfig {
    RabbitConfig {
        queue_expires_ms: Some(60_000),
        ..RabbitConfig::new(url())
    }
}

/// A connected bus, or `None` (skip) without RabbitMQ.
async fn bus() -> Option<RabbitBus> {
    require("RabbitMQ", RabbitBus::connect(&config()).await)
}

mod events {
    use super::*;
    puratan_testkit::event_bus_suite!(super::bus().await.map(|b| Arc::new(b) as Arc<dyn EventBus>));
}

fn msg(kind: &str) -> Message {
    Message {
        id: unique("m"),
        kind: kind.to_owned(),
        payload: Bytes::from_static(br#"{"n":1}"#),
    }
}

fn durable(queue: &str, key: &str) -> Subscription {
    Subscription {
        queue: queue.to_owned(),
        exchange: Exchange::Direct,
        binding_key: key.to_owned(),
        transient: false,
    }
}

/// A plain AMQP channel for looking at queues behind the adapter's back.
async fn raw_channel() -> (lapin::Connection, lapin::Channel) {
    let conn = lapin::Connection::connect(&url(), lapin::ConnectionProperties::default())
        .await
        .expect("raw connect");
    let channel = conn.create_channel().await.expect("raw channel");
    (conn, channel)
}

/// Takes the message `id` out of `queue` with `basic.get`. Other messages
/// stay un-acked until the channel closes, which puts them back.
pub(crate) async fn take_from(
    channel: &lapin::Channel,
    queue: &str,
    id: &str,
    within: Duration,
) -> Option<lapin::message::BasicGetMessage> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        match channel
            .basic_get(queue, BasicGetOptions { no_ack: false })
            .await
            .expect("basic.get")
        {
            Some(m)
                if m.delivery
                    .properties
                    .message_id()
                    .as_ref()
                    .map(|s| s.as_str())
                    == Some(id) =>
            {
                m.delivery
                    .acker
                    .ack(BasicAckOptions::default())
                    .await
                    .expect("ack");
                return Some(m);
            }
            Some(_) => {}
            None => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    None
}

fn assert_published_properties(m: &lapin::message::BasicGetMessage, sent: &Message) {
    let p = &m.delivery.properties;
    assert_eq!(*p.delivery_mode(), Some(2), "persistent");
    assert_eq!(
        p.kind().as_ref().map(|s| s.as_str()),
        Some(sent.kind.as_str()),
        "kind → AMQP type"
    );
    assert_eq!(
        p.content_type().as_ref().map(|s| s.as_str()),
        Some("application/json")
    );
    assert_eq!(m.delivery.data, sent.payload.to_vec());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_are_persistent_and_rejects_are_dead_lettered() {
    let Some(bus) = bus().await else { return };
    let ns = unique("dl");
    let (queue, key) = (format!("{ns}.work"), format!("{ns}.job"));
    let mut sub = bus
        .subscribe(durable(&queue, &key))
        .await
        .expect("subscribe");

    let rejected = msg("job.failed");
    bus.publish(Exchange::Direct, &key, rejected.clone())
        .await
        .expect("publish");
    let d = tokio::time::timeout(Duration::from_secs(10), sub.next())
        .await
        .expect("in time")
        .expect("next");
    let d = d.expect("delivery");
    assert_eq!(d.message, rejected);
    assert!(!d.redelivered);
    d.nack(false).await.expect("reject");
    drop(sub);

    let (_conn, raw) = raw_channel().await;
    let dead = take_from(
        &raw,
        DEAD_LETTER_QUEUE,
        &rejected.id,
        Duration::from_secs(10),
    )
    .await
    .expect("rejected message is dead-lettered");
    assert_published_properties(&dead, &rejected);
    let headers = dead
        .delivery
        .properties
        .headers()
        .clone()
        .unwrap_or_default();
    let header = |name: &str| match headers.inner().get(name) {
        Some(AMQPValue::LongString(s)) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
        other => panic!("header {name}: {other:?}"),
    };
    assert_eq!(header("x-first-death-queue"), queue);
    assert_eq!(header("x-first-death-reason"), "rejected");

    // Without a consumer the message waits in the durable queue, persistent.
    let waiting = msg("job.queued");
    bus.publish(Exchange::Direct, &key, waiting.clone())
        .await
        .expect("publish");
    let got = take_from(&raw, &queue, &waiting.id, Duration::from_secs(10))
        .await
        .expect("message waits in its queue");
    assert_published_properties(&got, &waiting);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unroutable_messages_are_counted() {
    let Some(bus) = bus().await else { return };
    assert_eq!(bus.unroutable_count(), 0);
    bus.publish(Exchange::Direct, &unique("nobody.listens"), msg("lost"))
        .await
        .expect("still confirmed");
    assert_eq!(bus.unroutable_count(), 1);
    bus.publish(Exchange::Topic, &unique("nobody.listens"), msg("lost"))
        .await
        .expect("still confirmed");
    assert_eq!(bus.unroutable_count(), 2);

    // A routable message does not count.
    let ns = unique("u");
    let _sub = bus
        .subscribe(durable(&format!("{ns}.q"), &format!("{ns}.k")))
        .await
        .expect("subscribe");
    bus.publish(Exchange::Direct, &format!("{ns}.k"), msg("found"))
        .await
        .expect("publish");
    assert_eq!(bus.unroutable_count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_len_counts_waiting_messages() {
    let Some(bus) = bus().await else { return };
    let ns = unique("len");
    let (queue, key) = (format!("{ns}.q"), format!("{ns}.k"));
    drop(
        bus.subscribe(durable(&queue, &key))
            .await
            .expect("declare via subscribe"),
    );
    // The dropped subscriber's channel closes asynchronously; the queue
    // (durable) stays.
    for _ in 0..3 {
        bus.publish(Exchange::Direct, &key, msg("job"))
            .await
            .expect("publish");
    }
    assert_eq!(bus.queue_len(&queue).await.expect("len"), 3);
    let err = bus
        .queue_len(&unique("missing"))
        .await
        .expect_err("no such queue");
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err:?}");
    bus.ping()
        .await
        .expect("the failed passive declare did not hurt the connection");
    let mut again = bus
        .subscribe(durable(&queue, &key))
        .await
        .expect("resubscribe");
    let mut seen = HashSet::new();
    while seen.len() < 3 {
        let d = tokio::time::timeout(Duration::from_secs(10), again.next())
            .await
            .expect("in time")
            .expect("next");
        let d = d.expect("delivery");
        assert!(seen.insert(d.message.id.clone()), "each once");
        d.ack().await.expect("ack");
    }
    assert_eq!(
        bus.queue_len(&queue).await.expect("len"),
        0,
        "un-acked deliveries are not counted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_broker_is_unavailable_quickly() {
    let config = RabbitConfig {
        connect_timeout_ms: 1_000,
        ..RabbitConfig::new("amqp://guest:guest@127.0.0.1:1/%2f")
    };
    let started = Instant::now();
    let err = RabbitBus::connect(&config)
        .await
        .expect_err("nothing listens on port 1");
    assert!(
        matches!(
            err,
            puratan_core::Error::Unavailable {
                retryable: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_broker_times_out_instead_of_hanging() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let config = RabbitConfig {
        connect_timeout_ms: 500,
        ..RabbitConfig::new(format!("amqp://guest:guest@{addr}/%2f"))
    };
    let started = Instant::now();
    let err = RabbitBus::connect(&config)
        .await
        .expect_err("a silent server is not a broker");
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    hold.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_are_not_retryable() {
    // Only meaningful with a broker there.
    let Some(_bus) = bus().await else { return };
    let wrong = url().replacen("guest:guest@", "guest:not-the-password@", 1);
    if wrong == url() {
        eprintln!("PURATAN_TEST_AMQP_URL has no guest:guest credentials; skipping");
        return;
    }
    let err = RabbitBus::connect(&RabbitConfig::new(wrong))
        .await
        .expect_err("refused");
    assert!(
        matches!(
            err,
            puratan_core::Error::Unavailable {
                retryable: false,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!format!("{err:?}").contains("not-the-password"), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_url_is_invalid() {
    let err = RabbitBus::connect(&RabbitConfig::new("amqp://u:secret@host:notaport/"))
        .await
        .expect_err("bad url");
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err:?}");
    assert!(!err.to_string().contains("secret"), "{err}");
}
