//! Orders under load, three parts (pick with an argument; default all):
//!
//! * `checkout` — `POST /api/v1/orders` per second through the HTTP API
//!   on an in-process server, from a tokio load loop (reqwest, keep-alive,
//!   `ORDERS_CONCURRENCY` requests in flight, each with a fresh
//!   `Idempotency-Key`; the signed quotes are made beforehand), with
//!   p50/p99 latency. On the embedded default and, when reachable, on
//!   MongoDB (`PURATAN_BENCH_MONGO_URI`, default the test server of
//!   `scripts/services/mongo.sh`) + RabbitMQ (`PURATAN_BENCH_AMQP_URL`,
//!   default guest@127.0.0.1:5672) + Redis (127.0.0.1:6379).
//! * `claim` — `JobRepo::claim_next` per second until the queue is empty
//!   (`CLAIM_JOBS` jobs, 1 and 8 concurrent claimers) on memory, SQLite
//!   and MongoDB.
//! * `relay` — outbox entries per second through
//!   `outbox_relay::relay_once` (publisher confirms on RabbitMQ), with a
//!   consumer draining the bound queue, after `RELAY_ORDERS` orders were
//!   stored with their `order.created` outbox entry.
//!
//! `cargo bench -p puratan-server --bench orders [-- checkout|claim|relay]`

#![allow(clippy::print_stdout)] // prints the results tables

#[path = "server_bench_support.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use puratan_core::domain::{Job, JobId, JobStatus, Money, OrderId, OrderLine, ProductId, UserId};
use puratan_core::ports::{Exchange, JobRepo, Subscription};
use puratan_server::config::{CacheBackend, Config, EventsBackend, StorageBackend};
use serde_json::json;
use support::{ms, percentile};

const MONGO_DEFAULT: &str = "mongodb://127.0.0.1:27018/?retryWrites=false";
const AMQP_DEFAULT: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .map_or(default, |v| v.parse().unwrap_or_else(|_| panic!("{name}")))
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wants = |part: &str| args.is_empty() || args.iter().any(|a| a == part);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let services = services().await;
        if services.is_none() {
            eprintln!("MongoDB or RabbitMQ not reachable: services rows skipped");
        }
        if wants("checkout") {
            checkout(services.as_ref()).await;
        }
        if wants("claim") {
            claim(services.as_ref()).await;
        }
        if wants("relay") {
            relay(services.as_ref()).await;
        }
    });
}

struct Services {
    mongo: String,
    amqp: String,
}

async fn services() -> Option<Services> {
    let mongo = std::env::var("PURATAN_BENCH_MONGO_URI").unwrap_or_else(|_| MONGO_DEFAULT.into());
    let amqp = std::env::var("PURATAN_BENCH_AMQP_URL").unwrap_or_else(|_| AMQP_DEFAULT.into());
    let host = |uri: &str| {
        uri.split("://")
            .nth(1)
            .and_then(|r| r.rsplit('@').next())
            .and_then(|r| r.split(['/', '?']).next())
            .unwrap_or("")
            .to_owned()
    };
    let ok = support::reachable(&host(&mongo)).await && support::reachable(&host(&amqp)).await;
    ok.then_some(Services { mongo, amqp })
}

fn unique(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

/// Points `c` at the services; returns the MongoDB database name.
fn on_services(c: &mut Config, s: &Services, redis: bool) -> String {
    let db = unique("bench");
    c.storage = StorageBackend::Mongodb;
    c.mongodb.uri = s.mongo.clone();
    c.mongodb.database = db.clone();
    c.events = EventsBackend::Rabbitmq;
    c.rabbitmq.url = s.amqp.clone();
    if redis {
        c.cache = CacheBackend::Redis;
        c.redis.key_prefix = db.clone();
    }
    db
}

async fn drop_db(s: &Services, db: &str) {
    if let Ok(client) = mongodb::Client::with_uri_str(&s.mongo).await {
        let _ = client.database(db).drop().await;
    }
}

// ---------------------------------------------------------------- checkout

async fn checkout(services: Option<&Services>) {
    let secs = env_num("ORDERS_SECS", 10);
    let levels: Vec<usize> = std::env::var("ORDERS_CONCURRENCY")
        .unwrap_or_else(|_| "16,64".into())
        .split(',')
        .map(|s| s.trim().parse().expect("ORDERS_CONCURRENCY"))
        .collect();
    println!("\n## checkout (POST /api/v1/orders, {secs} s per row after 2 s warm-up)\n");
    println!("| backend | in flight | orders | orders/s | p50 | p99 | max | errors |");
    println!("|---|---|---|---|---|---|---|---|");
    for &c in &levels {
        let server = support::spawn(|_| {}).await;
        checkout_row("embedded (SQLite, in-process bus)", &server, c, secs).await;
        server.running.shutdown().await.expect("shutdown");
    }
    if let Some(s) = services {
        let redis = support::reachable("127.0.0.1:6379").await;
        let label = if redis {
            "MongoDB (SecantusDB) + RabbitMQ + Redis"
        } else {
            "MongoDB (SecantusDB) + RabbitMQ"
        };
        for &c in &levels {
            let mut db = String::new();
            let server = support::spawn(|cfg| db = on_services(cfg, s, redis)).await;
            checkout_row(label, &server, c, secs).await;
            server.running.shutdown().await.expect("shutdown");
            drop_db(s, &db).await;
        }
    }
}

async fn checkout_row(label: &str, server: &support::Server, concurrency: usize, secs: usize) {
    // A few customers; bodies serialised once (quotes are reusable until
    // they expire).
    let mut customers = Vec::new();
    for i in 0..4 {
        customers.push(server.customer(&format!("bench{i}@example.com")).await);
    }
    let mut bodies = Vec::new();
    for _ in 0..32 {
        let (line, total, cur) = server.card_line().await;
        bodies.push(bytes::Bytes::from(
            support::checkout_body(&line, &total, &cur).to_string(),
        ));
    }
    let customers = Arc::new(customers);
    let bodies = Arc::new(bodies);
    let url = server.url("/api/v1/orders");
    let errors = Arc::new(AtomicUsize::new(0));
    let run = |d: Duration, tag: &'static str| {
        let start = Instant::now();
        let deadline = start + d;
        let tasks: Vec<_> = (0..concurrency)
            .map(|w| {
                let (client, url, customers, bodies, errors) = (
                    server.client.clone(),
                    url.clone(),
                    customers.clone(),
                    bodies.clone(),
                    errors.clone(),
                );
                tokio::spawn(async move {
                    let mut lat = Vec::new();
                    let mut i = 0usize;
                    while Instant::now() < deadline {
                        let t = Instant::now();
                        let r = client
                            .post(&url)
                            .bearer_auth(&customers[(w + i) % customers.len()])
                            .header("content-type", "application/json")
                            .header("idempotency-key", format!("{tag}-{w}-{i}"))
                            .body(bodies[(w * 7 + i) % bodies.len()].clone())
                            .send()
                            .await;
                        let ok = match r {
                            Ok(r) => {
                                let ok = r.status() == 201;
                                if !ok && errors.load(Ordering::Relaxed) < 3 {
                                    eprintln!(
                                        "{}: {}",
                                        r.status(),
                                        r.text().await.unwrap_or_default()
                                    );
                                } else {
                                    let _ = r.bytes().await;
                                }
                                ok
                            }
                            Err(e) => {
                                eprintln!("request: {e}");
                                false
                            }
                        };
                        if ok {
                            lat.push(t.elapsed());
                        } else {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                        i += 1;
                    }
                    lat
                })
            })
            .collect();
        async move {
            let mut all = Vec::new();
            for t in tasks {
                all.extend(t.await.expect("worker"));
            }
            (all, start.elapsed())
        }
    };
    let _ = run(Duration::from_secs(2), "warm").await;
    errors.store(0, Ordering::Relaxed);
    let (mut lat, elapsed) = run(Duration::from_secs(secs as u64), "bench").await;
    lat.sort();
    println!(
        "| {label} | {concurrency} | {} | **{:.0}** | {:.1} ms | {:.1} ms | {:.1} ms | {} |",
        lat.len(),
        lat.len() as f64 / elapsed.as_secs_f64(),
        ms(percentile(&lat, 50.0)),
        ms(percentile(&lat, 99.0)),
        ms(lat.last().copied().unwrap_or_default()),
        errors.load(Ordering::Relaxed)
    );
}

// ------------------------------------------------------------------- claim

fn jobs(n: usize) -> Vec<Job> {
    let now = Utc::now();
    (0..n)
        .map(|i| {
            let order_id = OrderId::new();
            Job {
                id: JobId::new(order_id, 0, 0),
                order_id,
                line: 0,
                product_id: ProductId::parse("business-card").expect("id"),
                quantity: 500,
                description: "500 × business-card".into(),
                priority: puratan_core::domain::Priority::new((i % 5) as u8 + 1).expect("priority"),
                due_at: now + chrono::Duration::hours((i % 97) as i64),
                submitted_at: now,
                status: JobStatus::Queued,
                claimed_by: None,
                claimed_at: None,
                done_at: None,
                run: 0,
                qc: None,
                order_version: 0,
                version: 0,
            }
        })
        .collect()
}

async fn claim(services: Option<&Services>) {
    let n = env_num("CLAIM_JOBS", 10_000);
    let n_mongo = env_num("CLAIM_JOBS_MONGO", n);
    println!("\n## claim_next (until the queue is empty)\n");
    println!("| store | jobs | claimers | time | claims/s |");
    println!("|---|---|---|---|---|");
    for claimers in [1, 8] {
        let repo: Arc<dyn JobRepo> = Arc::new(puratan_core::memory::MemoryJobRepo::new());
        claim_row("memory", repo, n, claimers).await;
    }
    for claimers in [1, 8] {
        let dir = tempfile::tempdir().expect("tmp");
        let mut c = Config::default();
        c.sqlite.path = dir.path().join("jobs.db");
        c.files.root = dir.path().join("files");
        let app = puratan_server::backends::build(c).await.expect("app");
        claim_row("SQLite (file, WAL)", app.jobs.clone(), n, claimers).await;
    }
    if let Some(s) = services {
        for claimers in [1, 8] {
            let dir = tempfile::tempdir().expect("tmp");
            let mut c = Config::default();
            c.files.root = dir.path().join("files");
            let db = on_services(&mut c, s, false);
            c.events = EventsBackend::Memory;
            let app = puratan_server::backends::build(c).await.expect("app");
            claim_row("MongoDB (SecantusDB)", app.jobs.clone(), n_mongo, claimers).await;
            drop(app);
            drop_db(s, &db).await;
        }
    }
}

async fn claim_row(label: &str, repo: Arc<dyn JobRepo>, n: usize, claimers: usize) {
    for chunk in jobs(n).chunks(500) {
        repo.create(chunk.to_vec()).await.expect("create");
    }
    let claimed = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = (0..claimers)
        .map(|_| {
            let (repo, claimed) = (repo.clone(), claimed.clone());
            tokio::spawn(async move {
                let op = UserId::new();
                while repo
                    .claim_next(op, Utc::now())
                    .await
                    .expect("claim")
                    .is_some()
                {
                    claimed.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("claimer");
    }
    let elapsed = start.elapsed();
    let claimed = claimed.load(Ordering::Relaxed);
    assert_eq!(claimed, n, "every job claimed exactly once");
    println!(
        "| {label} | {n} | {claimers} | {:.2} s | **{:.0}** |",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64()
    );
}

// ------------------------------------------------------------------- relay

async fn relay(services: Option<&Services>) {
    let k = env_num("RELAY_ORDERS", 5_000);
    let k_mongo = env_num("RELAY_ORDERS_MONGO", k);
    println!(
        "\n## outbox relay (relay_once until empty, batches of {})\n",
        puratan_server::outbox_relay::BATCH
    );
    println!("| store + bus | events | time | events/s | consumer got |");
    println!("|---|---|---|---|---|");
    {
        let dir = tempfile::tempdir().expect("tmp");
        let mut c = Config::default();
        c.sqlite.path = dir.path().join("relay.db");
        c.files.root = dir.path().join("files");
        relay_row("SQLite + in-process bus", c, k).await;
    }
    if let Some(s) = services {
        let dir = tempfile::tempdir().expect("tmp");
        let mut c = Config::default();
        c.sqlite.path = dir.path().join("relay.db");
        c.files.root = dir.path().join("files");
        c.events = EventsBackend::Rabbitmq;
        c.rabbitmq.url = s.amqp.clone();
        relay_row("SQLite + RabbitMQ (confirms)", c, k).await;

        let mut c = Config::default();
        c.files.root = dir.path().join("files2");
        let db = on_services(&mut c, s, false);
        relay_row("MongoDB (SecantusDB) + RabbitMQ (confirms)", c, k_mongo).await;
        drop_db(s, &db).await;
    }
}

async fn relay_row(label: &str, config: Config, k: usize) {
    let app = puratan_server::backends::build(config).await.expect("app");
    // A consumer on the topic exchange, as the live hub is: the broker
    // routes every event to a queue.
    let mut sub = app
        .events
        .subscribe(Subscription {
            queue: unique("bench.relay"),
            exchange: Exchange::Topic,
            binding_key: "order.#".into(),
            transient: true,
        })
        .await
        .expect("subscribe");
    let got = Arc::new(AtomicUsize::new(0));
    let consumer = {
        let got = got.clone();
        tokio::spawn(async move {
            while let Ok(Some(d)) = sub.next().await {
                got.fetch_add(1, Ordering::Relaxed);
                let _ = d.ack().await;
            }
        })
    };
    let customer = UserId::new();
    let eur = puratan_core::domain::Currency::parse("EUR").expect("currency");
    let total = Money::new(rust_decimal::Decimal::new(4413, 2), eur);
    for _ in 0..k {
        let mut o = puratan_testkit::fixtures::order(
            customer,
            "submitted",
            3,
            Utc::now() + chrono::Duration::days(3),
        );
        o.lines = vec![OrderLine {
            product_id: ProductId::parse("business-card").expect("id"),
            quantity: 500,
            description: "500 × business-card".into(),
            amount: total,
            options: json!({}),
            quote_id: None,
            quote_token: None,
            file_ids: vec![],
        }];
        let event = puratan_core::orders::events::created(&o, Utc::now());
        app.orders
            .insert_with_outbox(o, vec![event])
            .await
            .expect("insert");
    }
    let start = Instant::now();
    let mut sent = 0;
    loop {
        let n = puratan_server::outbox_relay::relay_once(&app)
            .await
            .expect("relay");
        if n == 0 {
            break;
        }
        sent += n;
    }
    let elapsed = start.elapsed();
    assert_eq!(sent, k);
    // Give the consumer a moment to see the tail (not timed).
    let wait = Instant::now();
    while got.load(Ordering::Relaxed) < k && wait.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    consumer.abort();
    println!(
        "| {label} | {k} | {:.2} s | **{:.0}** | {} |",
        elapsed.as_secs_f64(),
        k as f64 / elapsed.as_secs_f64(),
        got.load(Ordering::Relaxed)
    );
}
