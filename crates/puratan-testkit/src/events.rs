//! Conformance suite for [`EventBus`].
//!
//! Real brokers are shared by concurrently running tests, so each test uses
//! its own queue names and routing keys, and receivers skip (and ack) any
//! message that is not one of theirs.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use puratan_core::ports::{Delivery, EventBus, Exchange, Message, Subscriber, Subscription};

use crate::service::unique;

type B = Arc<dyn EventBus>;

const WAIT: Duration = Duration::from_secs(10);

fn msg(kind: &str) -> Message {
    Message {
        id: unique("m"),
        kind: kind.to_owned(),
        payload: Bytes::from_static(b"{}"),
    }
}

async fn sub(
    bus: &B,
    queue: &str,
    exchange: Exchange,
    key: &str,
    transient: bool,
) -> Box<dyn Subscriber> {
    bus.subscribe(Subscription {
        queue: queue.to_owned(),
        exchange,
        binding_key: key.to_owned(),
        transient,
    })
    .await
    .expect("subscribe")
}

/// Next delivery whose id is in `wanted`; others are acked and skipped.
async fn next_of(s: &mut Box<dyn Subscriber>, wanted: &HashSet<String>) -> Option<Delivery> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let d = tokio::time::timeout_at(deadline, s.next())
            .await
            .ok()?
            .expect("next")?;
        if wanted.contains(&d.message.id) {
            return Some(d);
        }
        d.ack().await.expect("ack foreign");
    }
}

/// Asserts nothing from `unwanted` arrives within a short window.
async fn assert_quiet(s: &mut Box<dyn Subscriber>, unwanted: &HashSet<String>) {
    if let Some(d) = tokio::time::timeout(Duration::from_millis(500), next_of(s, unwanted))
        .await
        .ok()
        .flatten()
    {
        panic!("unexpected delivery {:?}", d.message.kind);
    }
}

pub async fn direct_routes_by_exact_key(bus: B) {
    let ns = unique("d");
    let mut a = sub(
        &bus,
        &format!("{ns}.a"),
        Exchange::Direct,
        &format!("{ns}.orders"),
        true,
    )
    .await;
    let mut b = sub(
        &bus,
        &format!("{ns}.b"),
        Exchange::Direct,
        &format!("{ns}.alerts"),
        true,
    )
    .await;
    let m = msg("order.process");
    bus.publish(Exchange::Direct, &format!("{ns}.orders"), m.clone())
        .await
        .expect("publish");
    let want = HashSet::from([m.id.clone()]);
    let d = next_of(&mut a, &want).await.expect("orders queue gets it");
    assert_eq!(d.message, m);
    d.ack().await.expect("ack");
    assert_quiet(&mut b, &want).await;
}

pub async fn topic_routes_by_pattern(bus: B) {
    let ns = unique("t");
    let mut orders = sub(
        &bus,
        &format!("{ns}.orders"),
        Exchange::Topic,
        &format!("{ns}.order.*"),
        true,
    )
    .await;
    let mut all = sub(
        &bus,
        &format!("{ns}.all"),
        Exchange::Topic,
        &format!("{ns}.#"),
        true,
    )
    .await;
    let user = msg("user.created");
    let order = msg("order.created");
    let deep = msg("order.status_changed.printing");
    bus.publish(Exchange::Topic, &format!("{ns}.user.created"), user.clone())
        .await
        .expect("pub");
    bus.publish(
        Exchange::Topic,
        &format!("{ns}.order.created"),
        order.clone(),
    )
    .await
    .expect("pub");
    bus.publish(
        Exchange::Topic,
        &format!("{ns}.order.status_changed.printing"),
        deep.clone(),
    )
    .await
    .expect("pub");

    let ids = HashSet::from([user.id.clone(), order.id.clone(), deep.id.clone()]);
    // Messages from one publisher arrive in order, so the first one `order.*`
    // sees must be order.created (user.created was published before it).
    let first = next_of(&mut orders, &ids)
        .await
        .expect("order.* gets order.created");
    assert_eq!(
        first.message.id, order.id,
        "order.* must not get user.created"
    );
    first.ack().await.expect("ack");
    assert_quiet(&mut orders, &ids).await;

    let mut got = Vec::new();
    for _ in 0..3 {
        let d = next_of(&mut all, &ids).await.expect("# gets everything");
        got.push(d.message.id.clone());
        d.ack().await.expect("ack");
    }
    assert_eq!(got, vec![user.id, order.id, deep.id]);
}

pub async fn fanout_reaches_every_queue(bus: B) {
    let ns = unique("f");
    let mut subs = Vec::new();
    for i in 0..3 {
        // The binding key is ignored by fanout exchanges.
        subs.push(
            sub(
                &bus,
                &format!("{ns}.{i}"),
                Exchange::Fanout,
                "ignored",
                true,
            )
            .await,
        );
    }
    let m = msg("cache.invalidate");
    bus.publish(Exchange::Fanout, "whatever", m.clone())
        .await
        .expect("publish");
    let want = HashSet::from([m.id.clone()]);
    for s in &mut subs {
        let d = next_of(s, &want).await.expect("every bound queue gets it");
        d.ack().await.expect("ack");
    }
}

pub async fn unacked_message_is_redelivered(bus: B) {
    let ns = unique("r");
    let queue = format!("{ns}.work");
    let key = format!("{ns}.job");
    let mut s = sub(&bus, &queue, Exchange::Direct, &key, false).await;
    let m = msg("job");
    bus.publish(Exchange::Direct, &key, m.clone())
        .await
        .expect("publish");
    let want = HashSet::from([m.id.clone()]);
    let first = next_of(&mut s, &want).await.expect("delivered");
    assert!(!first.redelivered);
    // The consumer "crashes" before acking.
    drop(first);
    drop(s);
    let mut again = sub(&bus, &queue, Exchange::Direct, &key, false).await;
    let second = next_of(&mut again, &want)
        .await
        .expect("redelivered after consumer loss");
    assert!(
        second.redelivered,
        "redelivery is flagged so consumers can dedupe"
    );
    assert_eq!(second.message, m);
    second.ack().await.expect("ack");
    drop(again);
    let mut third = sub(&bus, &queue, Exchange::Direct, &key, false).await;
    assert_quiet(&mut third, &want).await;
}

pub async fn nack_requeue_redelivers(bus: B) {
    let ns = unique("n");
    let key = format!("{ns}.job");
    let mut s = sub(&bus, &format!("{ns}.q"), Exchange::Direct, &key, true).await;
    let m = msg("job");
    bus.publish(Exchange::Direct, &key, m.clone())
        .await
        .expect("publish");
    let want = HashSet::from([m.id.clone()]);
    let d = next_of(&mut s, &want).await.expect("delivered");
    d.nack(true).await.expect("nack");
    let d = next_of(&mut s, &want).await.expect("requeued");
    assert!(d.redelivered);
    d.nack(false).await.expect("dead-letter");
    assert_quiet(&mut s, &want).await;
}

pub async fn competing_consumers_share_work(bus: B) {
    let ns = unique("c");
    let queue = format!("{ns}.work");
    let key = format!("{ns}.job");
    let mut a = sub(&bus, &queue, Exchange::Direct, &key, true).await;
    let mut b = sub(&bus, &queue, Exchange::Direct, &key, true).await;
    let msgs: Vec<Message> = (0..10).map(|_| msg("job")).collect();
    let want: HashSet<String> = msgs.iter().map(|m| m.id.clone()).collect();
    for m in &msgs {
        bus.publish(Exchange::Direct, &key, m.clone())
            .await
            .expect("publish");
    }
    let mut seen = Vec::new();
    // Alternate between consumers; each message must be seen exactly once.
    while seen.len() < 10 {
        let d = tokio::select! {
            d = next_of(&mut a, &want) => d,
            d = next_of(&mut b, &want) => d,
        };
        let d = d.expect("delivery");
        seen.push(d.message.id.clone());
        d.ack().await.expect("ack");
    }
    let unique_ids: HashSet<_> = seen.iter().cloned().collect();
    assert_eq!(unique_ids, want, "each message once");
    assert_eq!(seen.len(), 10);
}
