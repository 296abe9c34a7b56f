//! Read-through caching decorators over repository ports.
//!
//! [`CachedFileRepo`] keeps file records (size, format, pages, owner,
//! processing state…) in the [`Cache`] port: the file routes, the preview
//! route and the order hook read a record on every request, the record
//! changes only a handful of times in its life.
//!
//! Consistency rules:
//! * Writes go to the store first, then replace the cached copy; a failed
//!   cache write drops the key, so the cache never holds a version older
//!   than one this process wrote.
//! * A version conflict on `update` means some other writer (another
//!   replica) moved on: the cached copy is evicted, so the caller's re-read
//!   — every retry loop re-reads — sees the store.
//! * Lists and scans bypass the cache (they are not hot and must be
//!   complete).
//! * The cache being down never fails a read: the store answers.
//!
//! With a per-process cache and several replicas, a record read on replica
//! B can be up to `ttl` old after replica A changed it; version checks keep
//! that from ever losing a write. With Redis the cache is shared.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;

use crate::Result;
use crate::domain::UserId;
use crate::ports::{Cache, FileRecord, FileRepo, Page, PageRequest};

/// A [`FileRepo`] that caches single-record reads.
pub struct CachedFileRepo {
    inner: Arc<dyn FileRepo>,
    cache: Arc<dyn Cache>,
    ttl: Duration,
}

impl std::fmt::Debug for CachedFileRepo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedFileRepo")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl CachedFileRepo {
    pub fn new(inner: Arc<dyn FileRepo>, cache: Arc<dyn Cache>, ttl: Duration) -> Self {
        Self { inner, cache, ttl }
    }

    fn key(id: &str) -> String {
        format!("file-record:{id}")
    }

    async fn remember(&self, record: &FileRecord) {
        let key = Self::key(&record.id);
        let stored = match serde_json::to_vec(record) {
            Ok(bytes) => self.cache.set(&key, Bytes::from(bytes), self.ttl).await,
            Err(e) => Err(crate::Error::unavailable("cache", e.to_string(), false)),
        };
        if stored.is_err() {
            self.forget(&record.id).await;
        }
    }

    async fn forget(&self, id: &str) {
        let _ = self.cache.delete(&Self::key(id)).await;
    }
}

#[async_trait]
impl FileRepo for CachedFileRepo {
    async fn insert(&self, file: FileRecord) -> Result<FileRecord> {
        let stored = self.inner.insert(file).await?;
        self.remember(&stored).await;
        Ok(stored)
    }

    async fn get(&self, id: &str) -> Result<FileRecord> {
        if let Ok(Some(bytes)) = self.cache.get(&Self::key(id)).await
            && let Ok(record) = serde_json::from_slice::<FileRecord>(&bytes)
            && record.id == id
        {
            return Ok(record);
        }
        let record = self.inner.get(id).await?;
        self.remember(&record).await;
        Ok(record)
    }

    async fn update(&self, file: FileRecord) -> Result<FileRecord> {
        let id = file.id.clone();
        match self.inner.update(file).await {
            Ok(stored) => {
                self.remember(&stored).await;
                Ok(stored)
            }
            Err(e) => {
                self.forget(&id).await;
                Err(e)
            }
        }
    }

    async fn list_by_owner(&self, owner: UserId, page: &PageRequest) -> Result<Page<FileRecord>> {
        self.inner.list_by_owner(owner, page).await
    }

    async fn pending_scan(&self, limit: usize) -> Result<Vec<FileRecord>> {
        self.inner.pending_scan(limit).await
    }
}
