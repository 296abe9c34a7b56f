//! Conformance of the redis adapter, plus what only a shared Redis can show.
//!
//! Needs Redis at `PURATAN_TEST_REDIS_URL` (default redis://127.0.0.1:6379;
//! `scripts/services/redis.sh` starts one). Without it the tests skip
//! loudly, or fail when `CI=true`. Every backend gets its own key prefix.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use puratan_core::ErrorKind;
use puratan_core::ports::{Quota, RateLimitStore};
use puratan_server::adapters::redis::{RedisBackend, RedisConfig};
use puratan_testkit::service::{require, unique};

fn url() -> String {
    std::env::var("PURATAN_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A backend with a fresh key prefix, or `None` (skip) without Redis.
async fn backend() -> Option<RedisBackend> {
    backend_with_prefix(&unique("t")).await
}

async fn backend_with_prefix(prefix: &str) -> Option<RedisBackend> {
    let config = RedisConfig::new(url()).with_key_prefix(prefix);
    require("Redis", RedisBackend::connect(&config).await)
}

/// A plain client for looking at what the adapter stored.
async fn raw() -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(url()).expect("redis url");
    client
        .get_multiplexed_async_connection()
        .await
        .expect("raw connection")
}

mod cache {
    puratan_testkit::cache_suite!(super::backend().await.map(|b| b.cache()));
}

mod session {
    puratan_testkit::session_suite!(super::backend().await.map(|b| b.sessions()));
}

mod ratelimit {
    puratan_testkit::rate_limit_suite!(super::backend().await.map(|b| b.rate_limiter()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_share_one_rate_limit_budget() {
    let prefix = unique("t");
    let Some(a) = backend_with_prefix(&prefix).await else {
        return;
    };
    let Some(b) = backend_with_prefix(&prefix).await else {
        return;
    };
    let (a, b) = (a.rate_limiter(), b.rate_limiter());
    let q = Quota {
        limit: 6,
        period: Duration::from_secs(60),
    };
    // Alternating replicas draw from one budget: the remaining count goes
    // down across both.
    for i in 0..6u32 {
        let rl = if i % 2 == 0 { &a } else { &b };
        let d = rl.check("login:198.51.100.7", q).await.expect("check");
        assert!(d.allowed, "request {i}");
        assert_eq!(d.remaining, 5 - i);
    }
    assert!(
        !a.check("login:198.51.100.7", q)
            .await
            .expect("check")
            .allowed
    );
    assert!(
        !b.check("login:198.51.100.7", q)
            .await
            .expect("check")
            .allowed
    );

    // And under concurrency from both replicas at once, exactly the limit.
    let q = Quota {
        limit: 20,
        period: Duration::from_secs(60),
    };
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let rl: Arc<dyn RateLimitStore> = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move { rl.check("burst", q).await })
        })
        .collect();
    let mut allowed = 0;
    for t in tasks {
        allowed += usize::from(t.await.expect("join").expect("check").allowed);
    }
    assert_eq!(allowed, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_redis_is_unavailable_quickly() {
    // Nothing listens on port 1: connection refused.
    let config = RedisConfig {
        connect_timeout_ms: 500,
        ..RedisConfig::new("redis://127.0.0.1:1")
    };
    let started = Instant::now();
    let err = RedisBackend::connect(&config)
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
async fn silent_redis_times_out_instead_of_hanging() {
    // A socket that accepts connections and never answers (a hung server).
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
    let config = RedisConfig {
        connect_timeout_ms: 400,
        ..RedisConfig::new(format!("redis://{addr}"))
    };
    let started = Instant::now();
    let err = RedisBackend::connect(&config)
        .await
        .expect_err("a silent server is not a Redis");
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    hold.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_url_is_invalid() {
    let err = RedisBackend::connect(&RedisConfig::new("http://:pw@nowhere"))
        .await
        .expect_err("not redis");
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err:?}");
    assert!(!err.to_string().contains("pw"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_namespaced_and_expire() {
    let prefix = unique("t");
    let Some(b) = backend_with_prefix(&prefix).await else {
        return;
    };
    b.ping().await.expect("ping");
    b.cache()
        .set(
            "product:abc",
            Bytes::from_static(b"{}"),
            Duration::from_secs(30),
        )
        .await
        .expect("set");
    let rl = b.rate_limiter();
    rl.check("ip:1", Quota::per_minute(10))
        .await
        .expect("check");
    let mut raw = raw().await;
    let mut keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}:*"))
        .query_async(&mut raw)
        .await
        .expect("KEYS");
    keys.sort();
    assert_eq!(
        keys,
        [
            format!("{prefix}:cache:product:abc"),
            format!("{prefix}:ratelimit:ip:1")
        ]
    );
    for key in &keys {
        let ttl: i64 = redis::cmd("PTTL")
            .arg(key)
            .query_async(&mut raw)
            .await
            .expect("PTTL");
        assert!(ttl > 0 && ttl <= 30_000, "{key} has TTL {ttl} ms");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_stats_are_per_process() {
    let prefix = unique("t");
    let Some(a) = backend_with_prefix(&prefix).await else {
        return;
    };
    let Some(b) = backend_with_prefix(&prefix).await else {
        return;
    };
    a.cache()
        .set("k", Bytes::from_static(b"v"), Duration::from_secs(30))
        .await
        .expect("set");
    assert!(
        b.cache().get("k").await.expect("get").is_some(),
        "replicas share entries"
    );
    assert!(a.cache().get("missing").await.expect("get").is_none());
    assert_eq!((a.cache().stats().hits, a.cache().stats().misses), (0, 1));
    assert_eq!((b.cache().stats().hits, b.cache().stats().misses), (1, 0));
    // A zero TTL stores nothing (and removes an older value).
    a.cache()
        .set("k", Bytes::from_static(b"w"), Duration::ZERO)
        .await
        .expect("set");
    assert!(b.cache().get("k").await.expect("get").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_index_is_pruned_and_expires() {
    use chrono::Utc;
    use puratan_core::domain::UserId;
    use puratan_core::ports::Session;

    let prefix = unique("t");
    let Some(b) = backend_with_prefix(&prefix).await else {
        return;
    };
    let store = b.sessions();
    let user = UserId::new();
    let session = |ttl_hint: &str| Session {
        id: unique(ttl_hint),
        user_id: user,
        device: "test".into(),
        ip: "192.0.2.1".into(),
        created_at: Utc::now(),
        last_seen: Utc::now(),
    };
    let (short, long) = (session("short"), session("long"));
    store
        .put_session(&short, Duration::from_millis(200))
        .await
        .expect("put");
    store
        .put_session(&long, Duration::from_secs(5))
        .await
        .expect("put");
    let index = format!("{prefix}:user-sessions:{user}");
    let mut raw = raw().await;
    let ttl: i64 = redis::cmd("PTTL")
        .arg(&index)
        .query_async(&mut raw)
        .await
        .expect("PTTL");
    assert!(
        ttl > 1_000 && ttl <= 5_000,
        "index lives as long as its longest session: {ttl} ms"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    let listed: Vec<String> = store
        .list_sessions(user)
        .await
        .expect("list")
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(listed, vec![long.id.clone()]);
    let members: Vec<String> = redis::cmd("ZRANGE")
        .arg(&index)
        .arg(0)
        .arg(-1)
        .query_async(&mut raw)
        .await
        .expect("ZRANGE");
    assert_eq!(members, vec![long.id.clone()], "expired members are pruned");
    store.delete_session(&long.id).await.expect("delete");
    let exists: bool = redis::cmd("EXISTS")
        .arg(&index)
        .query_async(&mut raw)
        .await
        .expect("EXISTS");
    assert!(
        !exists,
        "deleting the last session empties (removes) the index"
    );
}

/// A throwaway redis-server of this test's own, on a free port, so it can
/// be stopped without disturbing the shared one. `None` when the binary is
/// not installed.
struct OwnRedis {
    child: tokio::process::Child,
}

impl OwnRedis {
    async fn start(port: u16) -> Option<Self> {
        let child = tokio::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn();
        let Ok(child) = child else {
            eprintln!("redis-server is not installed; skipping");
            return None;
        };
        let this = Self { child };
        let deadline = Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "own redis-server did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Some(this)
    }

    async fn stop(mut self) {
        self.child.kill().await.expect("kill own redis-server");
    }
}

async fn free_port() -> u16 {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    l.local_addr().expect("addr").port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_connection_fails_fast_and_recovers() {
    // Only where a Redis is expected at all (skips like the other tests).
    let Some(_shared) = backend().await else {
        return;
    };
    let port = free_port().await;
    let Some(server) = OwnRedis::start(port).await else {
        return;
    };
    let config = RedisConfig {
        connect_timeout_ms: 500,
        ..RedisConfig::new(format!("redis://127.0.0.1:{port}")).with_key_prefix(unique("t"))
    };
    let b = RedisBackend::connect(&config).await.expect("connect");
    let cache = b.cache();
    cache
        .set("k", Bytes::from_static(b"v"), Duration::from_secs(30))
        .await
        .expect("set");

    server.stop().await;
    let started = Instant::now();
    let err = cache.get("k").await.expect_err("server is gone");
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err:?}");
    let err = b.ping().await.expect_err("server is gone");
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err:?}");
    let err = b
        .rate_limiter()
        .check("k", Quota::per_minute(1))
        .await
        .expect_err("server is gone");
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "failing took {:?}",
        started.elapsed()
    );

    // Back again (empty: it keeps nothing on disk): the same backend
    // reconnects by itself, and the Lua script is reloaded on demand.
    let Some(server) = OwnRedis::start(port).await else {
        return;
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while b.ping().await.is_err() {
        assert!(Instant::now() < deadline, "no reconnect");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(cache.get("k").await.expect("get"), None);
    assert!(
        b.rate_limiter()
            .check("k", Quota::per_minute(1))
            .await
            .expect("check")
            .allowed
    );
    server.stop().await;
}

/// File records cached in Redis (what `backends::build` wires with
/// `cache = "redis"`) keep the `FileRepo` contract.
mod cached_file_records {
    use std::sync::Arc;
    use std::time::Duration;

    use puratan_core::cached::CachedFileRepo;
    use puratan_core::memory::MemoryFileRepo;
    use puratan_core::ports::FileRepo;

    puratan_testkit::file_repo_suite!(super::backend().await.map(|b| {
        Arc::new(CachedFileRepo::new(
            Arc::new(MemoryFileRepo::new()),
            b.cache(),
            Duration::from_secs(60),
        )) as Arc<dyn FileRepo>
    }));
}
