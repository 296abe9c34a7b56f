use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Result;

/// A stored pricing-catalog version: the validated JSON document, verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogVersion {
    pub version: String,
    pub document: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogSummary {
    pub version: String,
    pub created_at: DateTime<Utc>,
    pub active: bool,
}

/// Versions of the pricing catalog. Versions are immutable: quotes record
/// the version they were priced with and are honoured against it until
/// they expire, so old versions are kept.
#[async_trait]
pub trait CatalogRepo: Send + Sync + 'static {
    /// Stores a new version. Storing the same version with the same
    /// document again is a no-op; with a different document it is
    /// `Conflict { Duplicate { field: "version" } }`.
    async fn put(&self, version: &str, document: &str) -> Result<()>;
    async fn get(&self, version: &str) -> Result<CatalogVersion>;
    /// All versions, newest first (at most `limit`).
    async fn list(&self, limit: usize) -> Result<Vec<CatalogSummary>>;
    /// Makes `version` the one new quotes use. `NotFound` if never stored.
    async fn activate(&self, version: &str) -> Result<()>;
    async fn active(&self) -> Result<Option<CatalogVersion>>;
}
