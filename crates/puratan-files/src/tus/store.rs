//! Upload state: the [`UploadStore`] port and its in-memory implementation.
//!
//! Chunk *data* goes through core's `FileStore`; this store only keeps the
//! small per-upload record. Every state change that can race (creation
//! under a quota, appending a chunk at an offset) is a single atomic
//! operation of the store, so an implementation over a database does it in
//! one conditional write (`WHERE offset = ?`).

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parking_lot::Mutex;

use crate::error::FilesError;

/// Decoded `Upload-Metadata`: key and value (`None` for a key without value).
pub type Metadata = Vec<(String, Option<Vec<u8>>)>;

/// One stored piece of an upload (one successful PATCH or creation body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub offset: u64,
    pub len: u64,
    /// The `FileStore` key holding the bytes.
    pub key: String,
}

/// The state of one tus upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub id: String,
    /// The authenticated user that created it; nobody else can see it.
    pub owner: String,
    /// Declared total size (`Upload-Length`).
    pub length: u64,
    /// Bytes received so far.
    pub offset: u64,
    /// Decoded `Upload-Metadata` pairs (value `None` for a key without value).
    pub metadata: Metadata,
    /// `Upload-Metadata` exactly as received, echoed on `HEAD`.
    pub metadata_header: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Stored pieces in offset order; contiguous from 0 to `offset`.
    pub chunks: Vec<Chunk>,
    /// Counter making chunk keys unique even for racing writes.
    pub next_seq: u64,
    /// SHA-256 of the whole file, set when the upload completes.
    pub sha256: Option<[u8; 32]>,
}

impl Upload {
    pub fn is_complete(&self) -> bool {
        self.offset == self.length
    }

    /// The value of a metadata key as UTF-8, if present and valid.
    pub fn metadata_str(&self, key: &str) -> Option<&str> {
        self.metadata
            .iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.as_deref())
            .and_then(|v| std::str::from_utf8(v).ok())
    }
}

/// Where upload state lives.
#[async_trait]
pub trait UploadStore: Send + Sync + 'static {
    /// Creates `upload` if no upload with its id exists and, when `quota`
    /// is set, the owner's reserved bytes (the lengths of all their stored
    /// uploads) plus `upload.length` stay within it. Atomic.
    async fn create(&self, upload: Upload, quota: Option<u64>) -> Result<(), FilesError>;

    async fn get(&self, id: &str) -> Result<Option<Upload>, FilesError>;

    /// Returns a sequence number never returned before for this upload.
    async fn next_seq(&self, id: &str) -> Result<u64, FilesError>;

    /// Appends `chunk` if the upload's offset is still `chunk.offset`
    /// (compare-and-set) and it has fewer than `max_chunks` chunks; returns
    /// the updated upload. `OffsetMismatch` when another request won.
    async fn append(&self, id: &str, chunk: Chunk, max_chunks: usize)
    -> Result<Upload, FilesError>;

    /// Records the whole-file digest of a completed upload.
    async fn set_sha256(&self, id: &str, digest: [u8; 32]) -> Result<(), FilesError>;

    /// Removes the record; returns it if it existed.
    async fn remove(&self, id: &str) -> Result<Option<Upload>, FilesError>;

    /// Up to `limit` *unfinished* uploads with `expires_at <= now`.
    /// Finished uploads never expire here: they are the customer's artwork
    /// and leave only through the pipeline that processes them.
    async fn expired(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Upload>, FilesError>;

    /// Bytes reserved by `owner` (sum of declared lengths).
    async fn reserved_bytes(&self, owner: &str) -> Result<u64, FilesError>;
}

/// In-memory [`UploadStore`] (tests, the embedded single-process server).
#[derive(Debug, Default)]
pub struct MemoryUploadStore {
    uploads: Mutex<HashMap<String, Upload>>,
}

impl MemoryUploadStore {
    pub fn new() -> Self {
        Self::default()
    }
}

fn reserved(map: &HashMap<String, Upload>, owner: &str) -> u64 {
    map.values()
        .filter(|u| u.owner == owner)
        .fold(0u64, |acc, u| acc.saturating_add(u.length))
}

#[async_trait]
impl UploadStore for MemoryUploadStore {
    async fn create(&self, upload: Upload, quota: Option<u64>) -> Result<(), FilesError> {
        let mut map = self.uploads.lock();
        if map.contains_key(&upload.id) {
            return Err(FilesError::DuplicateUpload);
        }
        if let Some(quota) = quota {
            let used = reserved(&map, &upload.owner);
            if used.saturating_add(upload.length) > quota {
                return Err(FilesError::QuotaExceeded {
                    used,
                    quota,
                    requested: upload.length,
                });
            }
        }
        map.insert(upload.id.clone(), upload);
        Ok(())
    }

    async fn get(&self, id: &str) -> Result<Option<Upload>, FilesError> {
        Ok(self.uploads.lock().get(id).cloned())
    }

    async fn next_seq(&self, id: &str) -> Result<u64, FilesError> {
        let mut map = self.uploads.lock();
        let u = map.get_mut(id).ok_or(FilesError::UploadNotFound)?;
        u.next_seq += 1;
        Ok(u.next_seq)
    }

    async fn append(
        &self,
        id: &str,
        chunk: Chunk,
        max_chunks: usize,
    ) -> Result<Upload, FilesError> {
        let mut map = self.uploads.lock();
        let u = map.get_mut(id).ok_or(FilesError::UploadNotFound)?;
        if u.offset != chunk.offset {
            return Err(FilesError::OffsetMismatch {
                expected: u.offset,
                got: chunk.offset,
            });
        }
        let end = chunk.offset.saturating_add(chunk.len);
        if end > u.length {
            return Err(FilesError::TooLarge {
                reason: "the chunk goes beyond the declared Upload-Length",
            });
        }
        if u.chunks.len() >= max_chunks {
            return Err(FilesError::TooManyChunks { max: max_chunks });
        }
        u.offset = end;
        u.chunks.push(chunk);
        Ok(u.clone())
    }

    async fn set_sha256(&self, id: &str, digest: [u8; 32]) -> Result<(), FilesError> {
        let mut map = self.uploads.lock();
        let u = map.get_mut(id).ok_or(FilesError::UploadNotFound)?;
        u.sha256 = Some(digest);
        Ok(())
    }

    async fn remove(&self, id: &str) -> Result<Option<Upload>, FilesError> {
        Ok(self.uploads.lock().remove(id))
    }

    async fn expired(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Upload>, FilesError> {
        Ok(self
            .uploads
            .lock()
            .values()
            .filter(|u| u.expires_at <= now && !u.is_complete())
            .take(limit)
            .cloned()
            .collect())
    }

    async fn reserved_bytes(&self, owner: &str) -> Result<u64, FilesError> {
        Ok(reserved(&self.uploads.lock(), owner))
    }
}
