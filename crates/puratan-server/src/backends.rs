//! Builds the [`App`] from configuration: the embedded default (SQLite +
//! in-process cache, limiter and bus + local disk) or the real services.

use std::sync::Arc;

use futures::FutureExt;
use puratan_core::memory::{MemoryCache, MemoryEventBus, MemoryRateLimiter, MemorySessionStore};
use puratan_core::ports::{
    AuditLog, Cache, EventBus, OrderRepo, ProductRepo, RateLimitStore, SessionStore, UserRepo,
};

use crate::adapters::localfs::LocalFileStore;
use crate::adapters::mongo::MongoStore;
use crate::adapters::rabbitmq::RabbitBus;
use crate::adapters::redis::RedisBackend;
use crate::adapters::sqlite::SqliteStore;
use crate::config::{CacheBackend, Config, EventsBackend, StorageBackend};
use crate::metrics::Metrics;
use crate::state::{App, AppInner, Probe, QueueLen};

type Repos = (
    Arc<dyn ProductRepo>,
    Arc<dyn UserRepo>,
    Arc<dyn OrderRepo>,
    Arc<dyn AuditLog>,
);

/// Opens the storage backend and creates indexes/migrations (idempotent).
pub async fn storage(config: &Config) -> anyhow::Result<(Repos, Probe)> {
    Ok(match config.storage {
        StorageBackend::Embedded => {
            let s = SqliteStore::open(&config.sqlite)?;
            let probe_store = s.clone();
            let probe = Probe {
                name: "sqlite",
                ping: Box::new(move || {
                    let s = probe_store.clone();
                    async move { s.ping().await }.boxed()
                }),
            };
            ((s.products(), s.users(), s.orders(), s.audit()), probe)
        }
        StorageBackend::Mongodb => {
            let s = MongoStore::connect(&config.mongodb).await?;
            s.ensure_indexes().await?;
            let probe_store = s.clone();
            let probe = Probe {
                name: "mongodb",
                ping: Box::new(move || {
                    let s = probe_store.clone();
                    async move { s.ping().await }.boxed()
                }),
            };
            ((s.products(), s.users(), s.orders(), s.audit()), probe)
        }
    })
}

pub async fn build(config: Config) -> anyhow::Result<App> {
    let mut probes = Vec::new();
    let ((products, users, orders, audit), probe) = storage(&config).await?;
    probes.push(probe);

    let (cache, sessions, rate_limiter): (
        Arc<dyn Cache>,
        Arc<dyn SessionStore>,
        Arc<dyn RateLimitStore>,
    ) = match config.cache {
        CacheBackend::Memory => (
            Arc::new(MemoryCache::default()),
            Arc::new(MemorySessionStore::new()),
            Arc::new(MemoryRateLimiter::new()),
        ),
        CacheBackend::Redis => {
            let r = RedisBackend::connect(&config.redis).await?;
            let pr = r.clone();
            probes.push(Probe {
                name: "redis",
                ping: Box::new(move || {
                    let r = pr.clone();
                    async move { r.ping().await }.boxed()
                }),
            });
            (r.cache(), r.sessions(), r.rate_limiter())
        }
    };

    let (events, queue_len): (Arc<dyn EventBus>, Option<QueueLen>) = match config.events {
        EventsBackend::Memory => {
            let bus = MemoryEventBus::new();
            let b = bus.clone();
            let ql: QueueLen = Arc::new(move |q: String| {
                let n = b.queue_len(&q) as u64;
                async move { Some(n) }.boxed()
            });
            (Arc::new(bus), Some(ql))
        }
        EventsBackend::Rabbitmq => {
            let bus = RabbitBus::connect(&config.rabbitmq).await?;
            let pb = bus.clone();
            probes.push(Probe {
                name: "rabbitmq",
                ping: Box::new(move || {
                    let b = pb.clone();
                    async move { b.ping().await }.boxed()
                }),
            });
            let qb = bus.clone();
            let ql: QueueLen = Arc::new(move |q: String| {
                let b = qb.clone();
                async move { b.queue_len(&q).await.ok().map(u64::from) }.boxed()
            });
            (Arc::new(bus), Some(ql))
        }
    };

    let files = Arc::new(LocalFileStore::open(&config.files)?);

    Ok(App(Arc::new(AppInner {
        config,
        products,
        users,
        orders,
        audit,
        cache,
        sessions,
        rate_limiter,
        local_limiter: MemoryRateLimiter::new(),
        events,
        files,
        metrics: Metrics::new(),
        probes,
        queue_len,
        catalog_generation: Default::default(),
        last_fallback_warning: Default::default(),
        replica_id: uuid::Uuid::now_v7().simple().to_string(),
    })))
}
