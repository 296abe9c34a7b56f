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
    /// What the processing pipeline (preflight, previews) made of the file;
    /// `None` until it is queued (refused and quarantined files never are).
    #[serde(default)]
    pub processing: Option<Processing>,
}

/// Where a file stands in the processing pipeline.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ProcessingState {
    /// A job is on the queue.
    #[default]
    Queued,
    /// A worker took the job.
    Running,
    /// Every step ran; see the preflight summary and derivatives.
    Done,
    /// The job failed for good (`code` is stable: `processing_limit` when
    /// the file exceeded a resource limit, `processing_crashed` when the
    /// isolated worker died, `unreadable_file` …).
    Failed { code: String },
}

impl ProcessingState {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed { .. } => "failed",
        }
    }
}

/// The outcome of the last preflight of a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreflightSummary {
    /// The profile's name (`gwg2015_sheetfed`).
    pub profile: String,
    /// `pass`, `warnings` or `fail`.
    pub verdict: String,
    pub errors: u32,
    pub warnings: u32,
    /// The full JSON report in the file store (`derivatives/<sha256>`).
    pub report_key: String,
    pub at: DateTime<Utc>,
}

impl PreflightSummary {
    /// What the workflow guard `files_passed_preflight` asks: no errors.
    pub fn passed(&self) -> bool {
        self.errors == 0 && self.verdict != "fail"
    }
}

/// A file made from the original (preview, thumbnail, converted file),
/// stored content-addressed under `derivatives/<sha256 of its bytes>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Derivative {
    /// `thumbnail`, `page-1`, …: unique within the file.
    pub name: String,
    pub key: String,
    pub mime: String,
    pub width: u32,
    pub height: u32,
    pub size: u64,
    /// For a print-ready file converted to CMYK: the total area coverage
    /// (C+M+Y+K, 99.9th percentile) in percent, rounded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ink_coverage_percent: Option<u16>,
}

/// The processing pipeline's record of one file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Processing {
    #[serde(flatten)]
    pub state: ProcessingState,
    /// Jobs started for the file (a redelivered job counts again).
    pub attempts: u32,
    /// Page count (1 for raster images) once known.
    pub pages: Option<u32>,
    pub preflight: Option<PreflightSummary>,
    #[serde(default)]
    pub derivatives: Vec<Derivative>,
    pub updated_at: Option<DateTime<Utc>>,
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
