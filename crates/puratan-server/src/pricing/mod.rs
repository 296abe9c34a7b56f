//! The server side of pricing: the active catalog held in memory (so a
//! quote costs no database round trip), older versions on demand (quotes
//! are honoured against the version they were priced with), publishing new
//! versions, and quote signing.

pub mod token;

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwapOption;
use parking_lot::Mutex;
use puratan_core::ports::CatalogRepo;
use puratan_core::{Error, Result};
use puratan_pricing::Catalog;

pub use token::{QuoteSigner, SigningKey, Verification};

/// How many parsed older versions stay in memory.
const VERSION_CACHE: usize = 16;

pub struct PricingService {
    repo: Arc<dyn CatalogRepo>,
    active: ArcSwapOption<Catalog>,
    older: Mutex<HashMap<String, Arc<Catalog>>>,
    pub signer: QuoteSigner,
}

impl std::fmt::Debug for PricingService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PricingService")
            .field(
                "active",
                &self.active.load().as_ref().map(|c| c.version().to_owned()),
            )
            .field("signer", &self.signer)
            .finish_non_exhaustive()
    }
}

fn parse(document: &str) -> Result<Catalog> {
    Catalog::from_json(document)
        .map_err(|e| Error::invalid(e.field().unwrap_or("catalog").to_owned(), e.to_string()))
}

impl PricingService {
    pub async fn new(repo: Arc<dyn CatalogRepo>, signer: QuoteSigner) -> Result<Self> {
        let service = Self {
            repo,
            active: ArcSwapOption::empty(),
            older: Mutex::new(HashMap::new()),
            signer,
        };
        service.reload().await?;
        Ok(service)
    }

    /// Re-reads the active version from the repository (after this or
    /// another replica published or rolled back).
    pub async fn reload(&self) -> Result<()> {
        let active = match self.repo.active().await? {
            Some(v) if self.current().is_some_and(|c| c.version() == v.version) => return Ok(()),
            Some(v) => Some(Arc::new(parse(&v.document)?)),
            None => None,
        };
        self.active.store(active);
        Ok(())
    }

    /// The catalog new quotes use; `None` before any catalog was imported.
    pub fn current(&self) -> Option<Arc<Catalog>> {
        self.active.load_full()
    }

    /// A specific version (current or older).
    pub async fn version(&self, version: &str) -> Result<Arc<Catalog>> {
        if let Some(c) = self.current().filter(|c| c.version() == version) {
            return Ok(c);
        }
        if let Some(c) = self.older.lock().get(version) {
            return Ok(c.clone());
        }
        let stored = self.repo.get(version).await?;
        let parsed = Arc::new(parse(&stored.document)?);
        let mut older = self.older.lock();
        if older.len() >= VERSION_CACHE {
            older.clear();
        }
        older.insert(version.to_owned(), parsed.clone());
        Ok(parsed)
    }

    /// Stores `document` (already validated) as a version and activates it.
    pub async fn publish(&self, version: &str, document: &str) -> Result<()> {
        self.repo.put(version, document).await?;
        self.repo.activate(version).await?;
        self.reload().await
    }

    /// Makes an older stored version active again.
    pub async fn rollback(&self, version: &str) -> Result<()> {
        self.repo.activate(version).await?;
        self.reload().await
    }

    pub fn repo(&self) -> &Arc<dyn CatalogRepo> {
        &self.repo
    }
}
