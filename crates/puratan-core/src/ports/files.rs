use async_trait::async_trait;
use bytes::Bytes;

use crate::Result;

/// Blob storage by key (`originals/ab/abcdef…`). Keys are relative,
/// `/`-separated, without `..`; implementations must reject anything else.
#[async_trait]
pub trait FileStore: Send + Sync + 'static {
    async fn put(&self, key: &str, data: Bytes) -> Result<()>;
    async fn get(&self, key: &str) -> Result<Bytes>;
    async fn delete(&self, key: &str) -> Result<()>;
    /// Keys under `prefix`, sorted.
    async fn list(&self, prefix: &str) -> Result<Vec<String>>;
}

/// Shared key validation for every FileStore.
pub fn validate_key(key: &str) -> Result<()> {
    let ok = !key.is_empty()
        && key.len() <= 512
        && !key.starts_with('/')
        && key
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(crate::Error::invalid("key", "not a valid storage key"))
    }
}
