use std::collections::BTreeMap;

use async_trait::async_trait;
use bytes::Bytes;
use parking_lot::Mutex;

use crate::ports::{FileStore, validate_key};
use crate::{Error, Result};

#[derive(Debug, Default)]
pub struct MemoryFileStore {
    blobs: Mutex<BTreeMap<String, Bytes>>,
}

impl MemoryFileStore {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl FileStore for MemoryFileStore {
    async fn put(&self, key: &str, data: Bytes) -> Result<()> {
        validate_key(key)?;
        self.blobs.lock().insert(key.to_owned(), data);
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Bytes> {
        validate_key(key)?;
        self.blobs
            .lock()
            .get(key)
            .cloned()
            .ok_or(Error::NotFound { entity: "file" })
    }

    async fn delete(&self, key: &str) -> Result<()> {
        validate_key(key)?;
        self.blobs.lock().remove(key);
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let blobs = self.blobs.lock();
        Ok(blobs
            .range(prefix.to_owned()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, _)| k.clone())
            .collect())
    }
}
