use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use parking_lot::Mutex;

use super::Expiring;
use crate::Result;
use crate::ports::{Cache, CacheStats};

/// A bounded in-process cache. When full, expired entries go first, then
/// arbitrary ones: it is a cache, losing an entry only costs a reload.
#[derive(Debug)]
pub struct MemoryCache {
    entries: Mutex<HashMap<String, Expiring<Bytes>>>,
    capacity: usize,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl MemoryCache {
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }
}

impl Default for MemoryCache {
    fn default() -> Self {
        Self::new(10_000)
    }
}

#[async_trait]
impl Cache for MemoryCache {
    async fn get(&self, key: &str) -> Result<Option<Bytes>> {
        let now = Instant::now();
        let found = {
            let mut entries = self.entries.lock();
            match entries.get(key) {
                Some(e) if e.live(now) => Some(e.value.clone()),
                Some(_) => {
                    entries.remove(key);
                    None
                }
                None => None,
            }
        };
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        Ok(found)
    }

    async fn set(&self, key: &str, value: Bytes, ttl: Duration) -> Result<()> {
        let mut entries = self.entries.lock();
        if entries.len() >= self.capacity && !entries.contains_key(key) {
            let now = Instant::now();
            entries.retain(|_, e| e.live(now));
            if entries.len() >= self.capacity
                && let Some(victim) = entries.keys().next().cloned()
            {
                entries.remove(&victim);
            }
        }
        entries.insert(key.to_owned(), Expiring::new(value, ttl));
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.entries.lock().remove(key);
        Ok(())
    }

    fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }
}
