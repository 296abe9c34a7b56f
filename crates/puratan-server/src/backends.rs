//! Builds the [`App`] from configuration: the embedded default (SQLite +
//! in-process cache, limiter and bus + local disk) or the real services.

use std::sync::Arc;

use futures::FutureExt;
use puratan_core::memory::{MemoryCache, MemoryEventBus, MemoryRateLimiter, MemorySessionStore};
use puratan_core::ports::{
    AuditLog, Cache, CatalogRepo, EventBus, FileStore, OrderRepo, ProductRepo, RateLimitStore,
    SessionStore, UserRepo,
};

use puratan_core::auth::tokens::RefreshStore;

use crate::adapters::localfs::LocalFileStore;
use crate::adapters::mongo::MongoStore;
use crate::adapters::rabbitmq::RabbitBus;
use crate::adapters::redis::RedisBackend;
use crate::adapters::sqlite::{SqliteSessions, SqliteStore};
use crate::auth::AuthService;
use crate::config::{CacheBackend, Config, EventsBackend, QuotesConfig, StorageBackend};
use crate::metrics::Metrics;
use crate::pricing::{PricingService, QuoteSigner, SigningKey};
use crate::state::{App, AppInner, BusCounters, Probe, QueueLen};

type Repos = (
    Arc<dyn ProductRepo>,
    Arc<dyn UserRepo>,
    Arc<dyn OrderRepo>,
    Arc<dyn AuditLog>,
    Arc<dyn CatalogRepo>,
    Arc<dyn RefreshStore>,
);

/// Opens the storage backend and creates indexes/migrations (idempotent).
pub async fn storage(config: &Config) -> anyhow::Result<(Repos, Probe)> {
    Ok(open_storage(config).await?.0)
}

/// [`storage`], plus the SQLite store itself on the embedded default (its
/// security state table backs the in-process session store) or the
/// MongoDB store (for the upload store).
async fn open_storage(
    config: &Config,
) -> anyhow::Result<((Repos, Probe), Option<SqliteStore>, Option<MongoStore>)> {
    Ok(match config.storage {
        StorageBackend::Embedded => {
            let s = SqliteStore::open(&config.sqlite)?;
            let kept = s.clone();
            let probe_store = s.clone();
            let probe = Probe {
                name: "sqlite",
                ping: Box::new(move || {
                    let s = probe_store.clone();
                    async move { s.ping().await }.boxed()
                }),
            };
            let repos = (
                s.products(),
                s.users(),
                s.orders(),
                s.audit(),
                s.catalogs(),
                s.refresh_tokens(),
            );
            ((repos, probe), Some(kept), None)
        }
        StorageBackend::Mongodb => {
            let s = MongoStore::connect(&config.mongodb).await?;
            s.ensure_indexes().await?;
            let kept = s.clone();
            let probe_store = s.clone();
            let probe = Probe {
                name: "mongodb",
                ping: Box::new(move || {
                    let s = probe_store.clone();
                    async move { s.ping().await }.boxed()
                }),
            };
            let repos = (
                s.products(),
                s.users(),
                s.orders(),
                s.audit(),
                s.catalogs(),
                s.refresh_tokens(),
            );
            ((repos, probe), None, Some(kept))
        }
    })
}

pub async fn build(config: Config) -> anyhow::Result<App> {
    let mut probes = Vec::new();
    let (((products, users, orders, audit, catalogs, refresh_store), probe), sqlite, mongo) =
        open_storage(&config).await?;
    probes.push(probe);
    // tus upload state, next to the rest of the data.
    let upload_store: Arc<dyn puratan_files::tus::UploadStore> = match (&sqlite, &mongo) {
        (Some(db), _) => db.uploads(),
        (None, Some(db)) => db.uploads().await?,
        (None, None) => Arc::new(puratan_files::tus::MemoryUploadStore::new()),
    };
    let file_records: Arc<dyn puratan_core::ports::FileRepo> = match (&sqlite, &mongo) {
        (Some(db), _) => db.file_records(),
        (None, Some(db)) => db.file_records(),
        (None, None) => Arc::new(puratan_core::memory::MemoryFileRepo::new()),
    };
    let inbox: Arc<dyn puratan_core::ports::InboxRepo> = match (&sqlite, &mongo) {
        (Some(db), _) => db.inbox(),
        (None, Some(db)) => db.inbox(),
        (None, None) => Arc::new(puratan_core::memory::MemoryInboxRepo::new()),
    };
    let carts: Arc<dyn puratan_core::ports::CartRepo> = match (&sqlite, &mongo) {
        (Some(db), _) => db.carts(),
        (None, Some(db)) => db.carts(),
        (None, None) => Arc::new(puratan_core::memory::MemoryCartRepo::new()),
    };
    let jobs: Arc<dyn puratan_core::ports::JobRepo> = match (&sqlite, &mongo) {
        (Some(db), _) => db.jobs(),
        (None, Some(db)) => db.jobs(),
        (None, None) => Arc::new(puratan_core::memory::MemoryJobRepo::new()),
    };
    // One workflow for the order service and the production hooks.
    let engine = puratan_core::workflow::Engine::builtin()?;
    // An order entering the production queue gets its jobs (production.rs).
    let orders = crate::production::JobsOnQueue::wrap(orders, jobs.clone(), engine.clone());
    let scanner: Option<Arc<dyn puratan_files::scan::Scanner>> = match &config.uploads.scanner {
        Some(c) => Some(Arc::new(
            crate::adapters::clamav::ClamavScanner::new(c.clone())
                .map_err(|e| anyhow::anyhow!("invalid configuration: uploads.scanner: {e}"))?,
        )),
        None => None,
    };

    let (cache, sessions, rate_limiter): (
        Arc<dyn Cache>,
        Arc<dyn SessionStore>,
        Arc<dyn RateLimitStore>,
    ) = match config.cache {
        CacheBackend::Memory => {
            // Sessions and the denylist must survive a restart: on the
            // embedded default they persist in the SQLite file.
            let sessions: Arc<dyn SessionStore> = match sqlite {
                Some(db) => Arc::new(SqliteSessions::open(db).await?),
                None => Arc::new(MemorySessionStore::new()),
            };
            (
                Arc::new(MemoryCache::default()),
                sessions,
                Arc::new(MemoryRateLimiter::new()),
            )
        }
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

    // File records are read on every file, preview and order-guard
    // request. They are cached only in a *shared* cache: separate
    // `puratan worker` processes update them, and a per-process cache
    // would show each process its own stale copy (SQLite reads are local
    // and cheap anyway). See puratan_core::cached.
    let file_records: Arc<dyn puratan_core::ports::FileRepo> = match config.cache {
        CacheBackend::Redis => Arc::new(puratan_core::cached::CachedFileRepo::new(
            file_records,
            cache.clone(),
            FILE_RECORD_TTL,
        )),
        CacheBackend::Memory => file_records,
    };

    let mut bus_counters: Option<Arc<dyn Fn() -> BusCounters + Send + Sync>> = None;
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
            let ub = bus.clone();
            bus_counters = Some(Arc::new(move || BusCounters {
                unroutable: ub.unroutable_count(),
                reconnects: ub.reconnect_count(),
            }));
            let qb = bus.clone();
            let ql: QueueLen = Arc::new(move |q: String| {
                let b = qb.clone();
                async move { b.queue_len(&q).await.ok().map(u64::from) }.boxed()
            });
            (Arc::new(bus), Some(ql))
        }
    };

    let users = crate::profile_cache::EvictingUsers::wrap(users, cache.clone());
    let files: Arc<dyn FileStore> = Arc::new(LocalFileStore::open(&config.files)?);
    let uploads = crate::http::routes::uploads::UploadService::new(
        &config.uploads,
        upload_store,
        files.clone(),
        scanner,
    );
    let signer = quote_signer(&config.quotes, files.as_ref()).await?;
    let pricing = PricingService::new(catalogs, signer).await?;
    let (notifier, outbox) = crate::adapters::notify::build(&config.notify)?;
    let auth = AuthService::new(
        config.auth.clone(),
        puratan_core::accounts::AccountPorts {
            users: users.clone(),
            sessions: sessions.clone(),
            refresh_store,
            audit: audit.clone(),
            events: events.clone(),
            rate_limiter: rate_limiter.clone(),
            notifier,
        },
        crate::auth::keys::access_tokens(&config.auth, files.as_ref()).await?,
        crate::auth::keys::keyring(&config.protect, files.as_ref()).await?,
    )?;

    let order_service =
        puratan_core::orders::OrderService::new(orders.clone(), products.clone(), engine);
    let live = crate::live::Hub::new(config.live.buffer);
    Ok(App(Arc::new(AppInner {
        order_service,
        config,
        products,
        users,
        orders,
        jobs,
        audit,
        cache,
        sessions,
        rate_limiter,
        local_limiter: MemoryRateLimiter::new(),
        events,
        files,
        file_records,
        pricing,
        metrics: Metrics::new(),
        probes,
        queue_len,
        bus_counters,
        catalog_generation: Default::default(),
        last_fallback_warning: Default::default(),
        alert_gate: Default::default(),
        replica_id: uuid::Uuid::now_v7().simple().to_string(),
        auth,
        uploads,
        live,
        carts,
        outbox,
        inbox,
    })))
}

/// How long a cached file record may be served (writes through this
/// process replace it at once; see puratan_core::cached).
const FILE_RECORD_TTL: std::time::Duration = std::time::Duration::from_secs(300);

/// The configured quote-signing keys, or a generated one kept in the file
/// store (so a single embedded server keeps verifying its quotes across
/// restarts).
async fn quote_signer(config: &QuotesConfig, files: &dyn FileStore) -> anyhow::Result<QuoteSigner> {
    if config.keys.is_empty() {
        let secret = crate::secrets::load_or_generate(files, "quote-signing-key", 32).await?;
        let key = SigningKey::new("local", secret).map_err(anyhow::Error::msg)?;
        return Ok(QuoteSigner::new(key, Vec::new()));
    }
    let mut keys = Vec::new();
    for (i, k) in config.keys.iter().enumerate() {
        let secret =
            crate::secrets::decode_configured(&format!("quotes.keys[{i}].secret"), &k.secret)?;
        keys.push(
            SigningKey::new(k.id.clone(), secret)
                .map_err(|e| anyhow::anyhow!("invalid configuration: quotes.keys[{i}]: {e}"))?,
        );
    }
    let active_id = config
        .active_key
        .clone()
        .unwrap_or_else(|| keys[0].id.clone());
    let active = keys
        .iter()
        .find(|k| k.id == active_id)
        .cloned()
        .ok_or_else(|| {
            anyhow::anyhow!("invalid configuration: quotes.active_key: no key with id {active_id}")
        })?;
    Ok(QuoteSigner::new(active, keys))
}
