//! Local-disk [`FileStore`] on the `object_store` crate, so moving to S3,
//! GCS or Azure later is a configuration change, not a rewrite.

mod config;
mod error;

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::TryStreamExt;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, PutPayload};
use puratan_core::ports::{FileStore, validate_key};
use puratan_core::{Error, Result};

pub use config::LocalFsConfig;
use error::map;

#[derive(Debug, Clone)]
pub struct LocalFileStore {
    store: Arc<LocalFileSystem>,
}

impl LocalFileStore {
    pub fn open(config: &LocalFsConfig) -> Result<Self> {
        std::fs::create_dir_all(&config.root)
            .map_err(|e| Error::unavailable("file store", e, false))?;
        let store = LocalFileSystem::new_with_prefix(&config.root).map_err(map)?;
        Ok(Self {
            store: Arc::new(store),
        })
    }
}

fn path(key: &str) -> Result<Path> {
    validate_key(key)?;
    Path::parse(key).map_err(|_| Error::invalid("key", "not a valid storage key"))
}

#[async_trait]
impl FileStore for LocalFileStore {
    async fn put(&self, key: &str, data: Bytes) -> Result<()> {
        self.store
            .put(&path(key)?, PutPayload::from_bytes(data))
            .await
            .map_err(map)?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Bytes> {
        let got = self.store.get(&path(key)?).await.map_err(map)?;
        got.bytes().await.map_err(map)
    }

    async fn delete(&self, key: &str) -> Result<()> {
        match self.store.delete(&path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(map(e)),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>> {
        // object_store lists by whole path segments; our prefix is a string
        // prefix, so list the enclosing directory and filter.
        let dir = prefix.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        let dir = if dir.is_empty() {
            None
        } else {
            Some(Path::parse(dir).map_err(|_| Error::invalid("prefix", "not a valid prefix"))?)
        };
        let mut keys: Vec<String> = self
            .store
            .list(dir.as_ref())
            .map_ok(|meta| meta.location.to_string())
            .try_collect::<Vec<_>>()
            .await
            .map_err(map)?
            .into_iter()
            .filter(|k| k.starts_with(prefix))
            .collect();
        keys.sort();
        Ok(keys)
    }
}
