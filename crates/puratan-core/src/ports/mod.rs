//! Ports: the small traits through which core talks to the outside world.
//!
//! Each trait is object-safe (`Arc<dyn ProductRepo>`), async (via
//! `async-trait`), and speaks only domain types and [`crate::Error`]. Every
//! port has an in-memory implementation in [`crate::memory`], and one shared
//! conformance suite in the `puratan-testkit` crate that every
//! implementation must pass.

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
mod paging;
mod ratelimit;
mod repos;
mod session;

pub use audit::{AuditEvent, AuditLog};
pub use cache::{Cache, CacheStats};
pub use carts::CartRepo;
pub use catalogs::{CatalogRepo, CatalogSummary, CatalogVersion};
pub use events::{
    Acker, Delivery, EventBus, Exchange, ExchangeKind, Message, Subscriber, Subscription,
    topic_matches,
};
pub use file_repo::{
    Derivative, FileRecord, FileRepo, FileStatus, PreflightSummary, Processing, ProcessingState,
};
pub use files::{FileStore, validate_key};
pub use inbox::{InAppNotification, InboxRepo, MAX_MESSAGE_ID_LEN, check_processed_key};
pub use jobs::{JobFilter, JobRepo, check_follow_target, job_queue_key, job_queue_order};
pub use notify::{Notification, NotificationKind, Notifier};
pub use paging::{Cursor, Page, PageRequest};
pub use ratelimit::{Quota, RateLimitDecision, RateLimitStore};
pub use repos::{
    OrderRepo, OrderSearch, ProductFilter, ProductRepo, QueueFilter, Reservations, SearchText,
    UserRepo, queue_key,
};
pub use session::{Session, SessionStore};
