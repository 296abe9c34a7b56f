//! Faults on real processes and a real broker: RabbitMQ killed while
//! orders are submitted (events, live updates), and the server killed in
//! the middle of checkouts.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use puratan_core::ports::{EventBus, Exchange, Subscription};
use puratan_server::adapters::rabbitmq::{RabbitBus, RabbitConfig};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use super::broker::PrivateBroker;
use super::live_client::LiveClient;
use super::{Server, TOKEN, create_user, login, rabbit_replica_env};

const POSTER: &str = "poster-a3";
/// Posters per order (the catalog's minimum).
const PER_ORDER: u64 = 10;

/// A signed quote for [`PER_ORDER`] A3 posters: the checkout body.
async fn poster_checkout_body(client: &reqwest::Client, base: &str) -> Value {
    let request = json!({"product": POSTER, "quantity": PER_ORDER, "paper": "silk-170", "color": "4/0",
                         "turnaround": "standard", "region": "DE"});
    let q: Value = client
        .post(format!("{base}/api/v1/quotes"))
        .json(&request)
        .send()
        .await
        .expect("quote")
        .json()
        .await
        .expect("json");
    assert!(q["token"].is_string(), "quote: {q}");
    json!({
        "lines": [{"product_id": POSTER, "quantity": PER_ORDER, "quote_token": q["token"],
                   "options": {"paper": "silk-170", "color": "4/0", "turnaround": "standard", "region": "DE"}}],
        "shipping_address": {"name": "Ann", "line1": "Main St 1", "postal_code": "10115", "city": "Berlin", "country": "DE"},
        "expected_total": {"amount": q["quote"]["total"], "currency": q["quote"]["currency"]},
    })
}

/// `POST /api/v1/orders` with `key`: `Some((status, order id))` when the
/// server answered, `None` when the request failed on the wire.
async fn submit(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    key: &str,
    body: &Value,
) -> Option<(u16, String)> {
    let r = client
        .post(format!("{base}/api/v1/orders"))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body)
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .ok()?;
    let status = r.status().as_u16();
    let v: Value = r.json().await.ok()?;
    // The order id, or the error body to show in a failure.
    Some((
        status,
        v["id"]
            .as_str()
            .map_or_else(|| v.to_string(), str::to_owned),
    ))
}

/// Sets the poster's stock through the admin API.
async fn set_poster_stock(client: &reqwest::Client, base: &str, units: u64) {
    // The product view is flattened into the admin view.
    let p = admin_poster(client, base).await;
    let r = client
        .put(format!("{base}/api/v1/admin/products/{POSTER}"))
        .bearer_auth(TOKEN)
        .json(
            &json!({"sku": p["sku"], "name": p["name"], "description": p["description"],
                      "category": p["category"], "tags": p["tags"], "pricing_ref": p["pricing_ref"],
                      "specifications": p["specifications"], "templates": p["templates"],
                      "stock": units, "active": true, "version": p["version"]}),
        )
        .send()
        .await
        .expect("put product");
    assert!(r.status().is_success(), "set stock: {}", r.status());
}

/// The poster as `GET /api/v1/admin/products/{id}` shows it.
async fn admin_poster(client: &reqwest::Client, base: &str) -> Value {
    client
        .get(format!("{base}/api/v1/admin/products/{POSTER}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("get product")
        .json()
        .await
        .expect("json")
}

async fn poster_stock(client: &reqwest::Client, base: &str) -> u64 {
    admin_poster(client, base).await["stock"]
        .as_u64()
        .expect("stock-controlled")
}

/// Every order of the caller, through the paged list.
async fn my_orders(client: &reqwest::Client, base: &str, token: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{base}/api/v1/orders?limit=100");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page: Value = client
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("json");
        all.extend(page["items"].as_array().expect("items").iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return all,
        }
    }
}

/// What the deduping consumer saw.
#[derive(Default)]
struct Seen {
    /// order id → distinct message ids of its `order.created`
    by_order: HashMap<String, HashSet<String>>,
    /// deliveries, duplicates included
    deliveries: usize,
}

/// RabbitMQ is killed (SIGKILL) while customers keep ordering, and comes
/// back on the same data directory. Orders keep being accepted (the
/// events wait in the outbox), and a consumer that dedupes by message id
/// ends up with exactly one `order.created` per committed order — none
/// lost, none extra — although the relay, the server's subscriptions and
/// the consumer's own connection all had to reconnect.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_broker_crash_during_checkouts_loses_and_duplicates_no_event() {
    let broker_dir = tempfile::tempdir().expect("tmp");
    let Some(mut broker) = PrivateBroker::start_or_skip(broker_dir.path()).await else {
        return;
    };
    let url = broker.url();

    // The deduping consumer's durable queue exists before any order.
    let bus = RabbitBus::connect(&RabbitConfig::new(&url))
        .await
        .expect("bus");
    let mut sub = bus
        .subscribe(Subscription {
            queue: "fault-test.order-created".to_owned(),
            exchange: Exchange::Topic,
            binding_key: "order.created".to_owned(),
            transient: false,
        })
        .await
        .expect("subscribe");
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let collector = {
        let seen = seen.clone();
        tokio::spawn(async move {
            loop {
                match sub.next().await {
                    Ok(Some(d)) => {
                        let v: Value = serde_json::from_slice(&d.message.payload).expect("json");
                        let order = v["order_id"].as_str().expect("order_id").to_owned();
                        {
                            let mut s = seen.lock().await;
                            s.by_order
                                .entry(order)
                                .or_default()
                                .insert(d.message.id.clone());
                            s.deliveries += 1;
                        }
                        // An ack lost with the broker means a redelivery,
                        // which the set above absorbs.
                        let _ = d.ack().await;
                    }
                    Ok(None) => return,
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        })
    };

    let dir = tempfile::tempdir().expect("tmp");
    let env = rabbit_replica_env(
        dir.path(),
        &[
            ("PURATAN__RABBITMQ__URL", url.clone()),
            ("PURATAN__RATE_LIMITS__ENABLED", "false".to_owned()),
        ],
    );
    create_user(dir.path(), "fault@example.com", &env).await;
    let server = Server::start(dir.path(), &env).ready().await;
    let client = reqwest::Client::new();
    let token = login(&client, &server.base, "fault@example.com").await;
    set_poster_stock(&client, &server.base, 1_000_000).await;
    let body = poster_checkout_body(&client, &server.base).await;

    let broker_down = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let submitters: Vec<_> = (0..4)
        .map(|w| {
            let (client, base, token, body) = (
                client.clone(),
                server.base.clone(),
                token.clone(),
                body.clone(),
            );
            let (stop, broker_down) = (stop.clone(), broker_down.clone());
            tokio::spawn(async move {
                let (mut committed, mut during_outage) = (Vec::new(), 0);
                for i in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let down = broker_down.load(Ordering::Relaxed);
                    let key = format!("outage-{w}-{i}");
                    match submit(&client, &base, &token, &key, &body).await {
                        Some((201, id)) => {
                            committed.push(id);
                            during_outage += usize::from(down);
                        }
                        other => panic!("checkout {key} failed: {other:?}"),
                    }
                }
                (committed, during_outage)
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_millis(1500)).await;
    broker.kill();
    broker_down.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(3)).await;
    broker_down.store(false, Ordering::Relaxed);
    broker.restart().await.expect("broker restart");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::Relaxed);

    let (mut committed, mut during_outage) = (Vec::new(), 0);
    for s in submitters {
        let (c, d) = s.await.expect("submitter");
        committed.extend(c);
        during_outage += d;
    }
    assert!(
        during_outage > 0,
        "orders were accepted while the broker was down"
    );
    let committed: HashSet<String> = committed.into_iter().collect();

    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let s = seen.lock().await;
        if committed.iter().all(|id| s.by_order.contains_key(id)) {
            break;
        }
        let missing = committed
            .iter()
            .filter(|id| !s.by_order.contains_key(*id))
            .count();
        assert!(
            Instant::now() < deadline,
            "{missing} of {} committed orders never got their order.created",
            committed.len()
        );
        drop(s);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Late duplicates would show up here.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let s = seen.lock().await;
    let (by_order, deliveries) = (&s.by_order, s.deliveries);
    let extra: Vec<_> = by_order
        .keys()
        .filter(|id| !committed.contains(*id))
        .collect();
    assert!(
        extra.is_empty(),
        "events of orders never committed: {extra:?}"
    );
    for (order, ids) in by_order {
        assert_eq!(
            ids.len(),
            1,
            "order {order}: one order.created event, published once (message ids {ids:?})"
        );
    }
    eprintln!(
        "broker crash: {} orders committed ({during_outage} while the broker was down), \
         {deliveries} deliveries, {} after dedupe",
        committed.len(),
        by_order.len()
    );
    drop(s);
    collector.abort();

    let metrics = client
        .get(format!("{}/metrics", server.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let reconnects: u64 = metrics
        .lines()
        .find_map(|l| {
            l.split_once("events_reconnects ")
                .filter(|(name, _)| !name.starts_with('#'))
                .and_then(|(_, v)| v.trim().parse().ok())
        })
        .expect("events_reconnects metric");
    assert!(
        reconnects >= 1,
        "the server's bus reconnected by itself ({reconnects})"
    );
}

/// The server is killed (SIGKILL) while 16 clients are checking out.
/// After a restart on the same data directory, every client retries its
/// request with the same `Idempotency-Key`: each key ends up with exactly
/// one complete order, the ones acknowledged before the kill are returned
/// unchanged, and the stock went down by exactly the units ordered.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_server_killed_mid_checkout_leaves_no_half_written_order() {
    const STOCK: u64 = 100_000;
    let dir = tempfile::tempdir().expect("tmp");
    let env = [
        ("PURATAN_NEW_PASSWORD", super::TEST_PASSWORD.to_owned()),
        ("PURATAN__RATE_LIMITS__ENABLED", "false".to_owned()),
    ];
    create_user(dir.path(), "kill@example.com", &env).await;
    let server = Server::start(dir.path(), &env).ready().await;
    let client = reqwest::Client::new();
    let token = login(&client, &server.base, "kill@example.com").await;
    set_poster_stock(&client, &server.base, STOCK).await;
    let body = poster_checkout_body(&client, &server.base).await;

    let submitters: Vec<_> = (0..16)
        .map(|w| {
            let (client, base, token, body) = (
                client.clone(),
                server.base.clone(),
                token.clone(),
                body.clone(),
            );
            tokio::spawn(async move {
                // (key, order id if acknowledged)
                let mut tried: Vec<(String, Option<String>)> = Vec::new();
                for i in 0.. {
                    let key = format!("kill-{w}-{i}");
                    match submit(&client, &base, &token, &key, &body).await {
                        Some((201, id)) => tried.push((key, Some(id))),
                        Some(other) => panic!("checkout {key}: {other:?}"),
                        None => {
                            tried.push((key, None));
                            break;
                        }
                    }
                }
                tried
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    server.signal("-KILL");
    let _ = server.wait_exit(Duration::from_secs(10)).await;

    let mut tried = Vec::new();
    for s in submitters {
        tried.extend(s.await.expect("submitter"));
    }
    let acked = tried.iter().filter(|(_, id)| id.is_some()).count();
    assert!(
        acked >= 20,
        "the load was real: {acked} orders acknowledged"
    );

    let server = Server::start(dir.path(), &env).ready().await;
    let mut order_of_key = HashMap::new();
    for (key, acked_id) in &tried {
        let (status, id) = submit(&client, &server.base, &token, key, &body)
            .await
            .expect("retry answered");
        match acked_id {
            Some(first) => {
                assert_eq!(status, 200, "{key} is a replay");
                assert_eq!(&id, first, "{key} returns its acknowledged order");
            }
            None => assert!(status == 200 || status == 201, "{key}: {status}"),
        }
        order_of_key.insert(key.clone(), id);
    }

    let orders = my_orders(&client, &server.base, &token).await;
    let ids: HashSet<&str> = orders.iter().filter_map(|o| o["id"].as_str()).collect();
    let expected: HashSet<&str> = order_of_key.values().map(String::as_str).collect();
    assert_eq!(
        ids, expected,
        "exactly one order per idempotency key, nothing else"
    );
    for o in &orders {
        assert_eq!(o["lines"].as_array().map(Vec::len), Some(1), "{o}");
        assert!(
            o["history"].as_array().is_some_and(|h| !h.is_empty()),
            "{o}"
        );
    }
    assert_eq!(
        poster_stock(&client, &server.base).await,
        STOCK - PER_ORDER * orders.len() as u64,
        "each order took its units from the stock: nothing leaked, nothing oversold"
    );
    eprintln!(
        "server kill: {} keys tried, {acked} acknowledged before the kill, {} orders after retries",
        tried.len(),
        orders.len()
    );
}

/// A customer's WebSocket stays open through a broker crash, and once
/// RabbitMQ is back the replica's live hub has re-subscribed by itself:
/// an order placed then reaches the socket. (Events published while the
/// hub's transient queue did not exist are not replayed on the socket;
/// the order's REST view has them — docs/live.md.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn live_updates_resume_after_a_broker_crash() {
    let broker_dir = tempfile::tempdir().expect("tmp");
    let Some(mut broker) = PrivateBroker::start_or_skip(broker_dir.path()).await else {
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let env = rabbit_replica_env(dir.path(), &[("PURATAN__RABBITMQ__URL", broker.url())]);
    create_user(dir.path(), "live-crash@example.com", &env).await;
    let server = Server::start(dir.path(), &env).ready().await;
    let client = reqwest::Client::new();
    let token = login(&client, &server.base, "live-crash@example.com").await;
    set_poster_stock(&client, &server.base, 1_000).await;
    let body = poster_checkout_body(&client, &server.base).await;
    let mut live = LiveClient::connect(&client, &server.base, &token, "orders").await;

    // Reaches the socket of `order`'s `order.created` within `within`?
    async fn sees(live: &mut LiveClient, order: &str, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match live.next(left).await {
                Some(e) if e["event"] == "order.created" && e["data"]["order_id"] == order => {
                    return true;
                }
                Some(_) => continue,
                None => return false,
            }
        }
        false
    }

    let (_, before) = submit(&client, &server.base, &token, "live-before", &body)
        .await
        .expect("order before the crash");
    assert!(sees(&mut live, &before, Duration::from_secs(5)).await);

    broker.kill();
    let (status, _) = submit(&client, &server.base, &token, "live-during", &body)
        .await
        .expect("order while the broker is down");
    assert_eq!(status, 201, "checkouts do not need the broker");
    broker.restart().await.expect("broker restart");

    let deadline = Instant::now() + Duration::from_secs(30);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let (status, after) = submit(
            &client,
            &server.base,
            &token,
            &format!("live-after-{attempt}"),
            &body,
        )
        .await
        .expect("order after the restart");
        assert_eq!(status, 201);
        if sees(&mut live, &after, Duration::from_secs(1)).await {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no live update reached the socket within 30 s of the broker's restart"
        );
    }
    eprintln!("live updates resumed after the broker restart ({attempt} orders placed)");
}
