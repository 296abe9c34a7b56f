//! The metadata of stored artwork files (the intake step after a tus upload
//! finishes). The bytes live in the [`FileStore`](super::FileStore),
//! content-addressed (`originals/<sha256>`, `quarantine/<sha256>`); a
//! record names them by digest, so two uploads of the same bytes are two
//! records and one blob.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Page, PageRequest};
use crate::Result;
use crate::domain::UserId;

/// Where a file stands in the intake pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum FileStatus {
    /// Detected, allowed, scanned clean (or no scanner configured); the
    /// bytes are under `originals/<sha256>`.
    Ready,
    /// The scanner gave no verdict yet (down or failing); a background task
    /// scans again. The bytes are under `originals/<sha256>` but must not
    /// be served or processed.
    PendingScan,
    /// A signature matched: the bytes are under `quarantine/<sha256>`,
    /// never served or processed.
    Quarantined { signature: String },
    /// Detection or the allow list refused the file (`code` is the stable
    /// error code, e.g. `file_type_mismatch`); no bytes are kept.
    Rejected { code: String },
}

impl FileStatus {
    /// The status name (`ready`, `pending_scan`, `quarantined`, `rejected`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Ready => "ready",
            Self::PendingScan => "pending_scan",
            Self::Quarantined { .. } => "quarantined",
            Self::Rejected { .. } => "rejected",
        }
    }
}

/// One stored (or refused) file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    /// Unique, time-ordered (UUIDv7, simple form).
    pub id: String,
    pub owner: UserId,
    /// Lowercase hex SHA-256 of the bytes.
    pub sha256: String,
    pub size: u64,
    /// Detected format (`pdf`, `png`, …); empty when detection failed.
    pub format: String,
    /// The client's name for it, sanitised; only a hint.
    pub filename: String,
    pub status: FileStatus,
    pub created_at: DateTime<Utc>,
    /// Optimistic-concurrency version, bumped by every update.
    pub version: u64,
}

/// Where file records live.
#[async_trait]
pub trait FileRepo: Send + Sync + 'static {
    /// Stores a new record (`version` is set to 1). Duplicate id: conflict.
    async fn insert(&self, file: FileRecord) -> Result<FileRecord>;
    /// `NotFound` when there is no record with `id`.
    async fn get(&self, id: &str) -> Result<FileRecord>;
    /// Replaces the record if its stored version is `file.version`
    /// (otherwise `StaleVersion` conflict); returns it with the version
    /// bumped.
    async fn update(&self, file: FileRecord) -> Result<FileRecord>;
    /// An owner's files, newest first.
    async fn list_by_owner(&self, owner: UserId, page: &PageRequest) -> Result<Page<FileRecord>>;
    /// Up to `limit` records in `pending_scan`, oldest first.
    async fn pending_scan(&self, limit: usize) -> Result<Vec<FileRecord>>;
}
