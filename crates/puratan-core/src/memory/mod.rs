//! In-memory implementations of every port.
//!
//! They are real implementations — same semantics, same conformance suite —
//! just without durability. The embedded server default uses the cache,
//! rate limiter and event bus from here; tests and integrators can use all
//! of them.

mod audit;
mod cache;
mod carts;
mod catalogs;
mod events;
mod file_repo;
mod files;
mod inbox;
mod jobs;
mod notify;
mod ratelimit;
mod repos;
mod session;

pub use audit::MemoryAuditLog;
pub use cache::MemoryCache;
pub use carts::MemoryCartRepo;
pub use catalogs::MemoryCatalogRepo;
pub use events::MemoryEventBus;
pub use file_repo::MemoryFileRepo;
pub use files::MemoryFileStore;
pub use inbox::MemoryInboxRepo;
pub use jobs::MemoryJobRepo;
pub use notify::MemoryNotifier;
pub use ratelimit::MemoryRateLimiter;
pub use repos::{MemoryOrderRepo, MemoryProductRepo, MemoryUserRepo};
pub use session::MemorySessionStore;

use std::time::{Duration, Instant};

/// An entry that disappears after its TTL.
#[derive(Debug, Clone)]
struct Expiring<T> {
    value: T,
    expires: Instant,
}

impl<T> Expiring<T> {
    fn new(value: T, ttl: Duration) -> Self {
        Self {
            value,
            expires: Instant::now() + ttl,
        }
    }
    fn live(&self, now: Instant) -> bool {
        now < self.expires
    }
}
