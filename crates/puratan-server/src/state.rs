//! The application: every port, chosen by configuration, behind `Arc<dyn …>`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::future::BoxFuture;
use puratan_core::memory::MemoryRateLimiter;
use puratan_core::ports::{
    AuditLog, Cache, EventBus, FileStore, OrderRepo, ProductRepo, RateLimitStore, SessionStore,
    UserRepo,
};

use crate::config::Config;
use crate::metrics::Metrics;
use crate::pricing::PricingService;

/// Counters an event bus keeps about its broker connection.
#[derive(Debug, Clone, Copy, Default)]
pub struct BusCounters {
    /// Published messages no queue was bound to receive (RabbitMQ's
    /// `mandatory` returns).
    pub unroutable: u64,
    /// Times the connection was re-established.
    pub reconnects: u64,
}

/// A backend `/readyz` pings.
pub struct Probe {
    pub name: &'static str,
    pub ping: Box<dyn Fn() -> BoxFuture<'static, puratan_core::Result<()>> + Send + Sync>,
}

impl std::fmt::Debug for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Probe").field("name", &self.name).finish()
    }
}

/// Reads the length of a named queue (for the `queue_messages` metric).
pub type QueueLen = Arc<dyn Fn(String) -> BoxFuture<'static, Option<u64>> + Send + Sync>;

#[derive(Clone, Debug)]
pub struct App(pub Arc<AppInner>);

impl std::ops::Deref for App {
    type Target = AppInner;
    fn deref(&self) -> &AppInner {
        &self.0
    }
}

pub struct AppInner {
    pub config: Config,
    pub products: Arc<dyn ProductRepo>,
    pub users: Arc<dyn UserRepo>,
    pub orders: Arc<dyn OrderRepo>,
    /// Production jobs (one per order line and run) and the claim queue.
    pub jobs: Arc<dyn puratan_core::ports::JobRepo>,
    pub audit: Arc<dyn AuditLog>,
    pub cache: Arc<dyn Cache>,
    pub sessions: Arc<dyn SessionStore>,
    /// Shared limiter (Redis when configured).
    pub rate_limiter: Arc<dyn RateLimitStore>,
    /// Per-process limiter used when the shared one is unreachable.
    pub local_limiter: MemoryRateLimiter,
    pub events: Arc<dyn EventBus>,
    pub files: Arc<dyn FileStore>,
    /// Records of stored artwork files (the upload intake).
    pub file_records: Arc<dyn puratan_core::ports::FileRepo>,
    /// Active pricing catalog (in memory), versions and quote signing.
    pub pricing: PricingService,
    pub metrics: Metrics,
    pub probes: Vec<Probe>,
    pub queue_len: Option<QueueLen>,
    /// The broker connection's counters, read at scrape time for the
    /// `events_unroutable` and `events_reconnects` metrics.
    pub bus_counters: Option<Arc<dyn Fn() -> BusCounters + Send + Sync>>,
    /// Bumped by every catalog invalidation; part of list cache keys, so
    /// stale listings become unreachable at once on every replica.
    pub catalog_generation: AtomicU64,
    /// Unix seconds of the last "rate-limit store unavailable" warning.
    pub last_fallback_warning: AtomicU64,
    /// This replica's `system.error` rate limit (system_events/alerts.rs).
    pub alert_gate: crate::system_events::AlertGate,
    /// Unique per process, for per-replica queues.
    pub replica_id: String,
    /// Accounts, tokens, sessions.
    pub auth: crate::auth::AuthService,
    /// The tus endpoint (`/files/`) and its upload store.
    pub uploads: crate::http::routes::uploads::UploadService,
    /// Checkout and order transitions (core's orders service over the
    /// order and product stores and the default workflow).
    pub order_service: puratan_core::orders::OrderService,
    /// Customers' carts.
    pub carts: Arc<dyn puratan_core::ports::CartRepo>,
    /// This replica's live-update fan-out (WebSocket / SSE).
    pub live: crate::live::Hub,
    /// Set when `notify.backend = "memory"`: what would have been mailed.
    pub outbox: Option<Arc<puratan_core::memory::MemoryNotifier>>,
    /// In-app notifications and the processed message ids of idempotent
    /// consumers (notifications.rs).
    pub inbox: Arc<dyn puratan_core::ports::InboxRepo>,
}

impl std::fmt::Debug for AppInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppInner")
            .field("replica_id", &self.replica_id)
            .field("probes", &self.probes)
            .finish_non_exhaustive()
    }
}

impl AppInner {
    pub fn generation(&self) -> u64 {
        self.catalog_generation.load(Ordering::Acquire)
    }
}
