//! Every conformance suite against the in-memory implementations in core.

use std::sync::Arc;

use puratan_core::auth::tokens::{MemoryRefreshStore, RefreshStore};
use puratan_core::memory::*;
use puratan_core::ports::*;

mod products {
    use super::*;
    puratan_testkit::product_repo_suite!(Some(
        Arc::new(MemoryProductRepo::new()) as Arc<dyn ProductRepo>
    ));
}
mod users {
    use super::*;
    puratan_testkit::user_repo_suite!(Some(Arc::new(MemoryUserRepo::new()) as Arc<dyn UserRepo>));
}
mod orders {
    use super::*;
    puratan_testkit::order_repo_suite!(
        Some(Arc::new(MemoryOrderRepo::new()) as Arc<dyn OrderRepo>)
    );
}
mod orders_checkout {
    use super::*;
    /// An order store whose checkouts take stock from the product store.
    fn stores() -> Option<puratan_testkit::checkout::Stores> {
        let products = Arc::new(MemoryProductRepo::new());
        let orders = Arc::new(MemoryOrderRepo::with_products(products.clone()));
        Some((orders, products))
    }
    puratan_testkit::order_checkout_suite!(stores());
}
mod carts {
    use super::*;
    puratan_testkit::cart_repo_suite!(Some(Arc::new(MemoryCartRepo::new()) as Arc<dyn CartRepo>));
}
mod jobs {
    use super::*;
    puratan_testkit::job_repo_suite!(Some(Arc::new(MemoryJobRepo::new()) as Arc<dyn JobRepo>));
}
mod inbox {
    use super::*;
    puratan_testkit::inbox_repo_suite!(
        Some(Arc::new(MemoryInboxRepo::new()) as Arc<dyn InboxRepo>)
    );
}
mod cache {
    use super::*;
    puratan_testkit::cache_suite!(Some(Arc::new(MemoryCache::default()) as Arc<dyn Cache>));
}
mod session {
    use super::*;
    puratan_testkit::session_suite!(Some(
        Arc::new(MemorySessionStore::new()) as Arc<dyn SessionStore>
    ));
}
mod ratelimit {
    use super::*;
    puratan_testkit::rate_limit_suite!(Some(
        Arc::new(MemoryRateLimiter::new()) as Arc<dyn RateLimitStore>
    ));
}
mod events {
    use super::*;
    puratan_testkit::event_bus_suite!(Some(Arc::new(MemoryEventBus::new()) as Arc<dyn EventBus>));
}
mod audit {
    use super::*;
    puratan_testkit::audit_log_suite!(Some(
        Arc::new(MemoryAuditLog::default()) as Arc<dyn AuditLog>
    ));
}
mod files {
    use super::*;
    puratan_testkit::file_store_suite!(
        Some(Arc::new(MemoryFileStore::new()) as Arc<dyn FileStore>)
    );
}
mod catalogs {
    use super::*;
    puratan_testkit::catalog_repo_suite!(Some(
        Arc::new(MemoryCatalogRepo::new()) as Arc<dyn CatalogRepo>
    ));
}
mod refresh {
    use super::*;
    puratan_testkit::refresh_store_suite!(Some(
        Arc::new(MemoryRefreshStore::new()) as Arc<dyn RefreshStore>
    ));
}
mod scanner {
    use super::*;
    use puratan_files::scan::Scanner;
    puratan_testkit::scanner_suite!(Some(
        Arc::new(puratan_testkit::scanner::memory_scanner()) as Arc<dyn Scanner>
    ));
}
mod file_repo {
    use super::*;
    puratan_testkit::file_repo_suite!(Some(Arc::new(MemoryFileRepo::new()) as Arc<dyn FileRepo>));
}
