//! The `[uploads]` section: limits of the tus endpoint (`/files/`).
//!
//! ```toml
//! [uploads]
//! max_size = 2147483648           # largest file (Tus-Max-Size), bytes
//! max_chunk = 33554432            # largest PATCH / creation body, bytes
//! per_user_quota = 10737418240    # bytes one user may have stored
//! expiry_secs = 86400             # an upload must finish within this
//! cleanup_interval_secs = 300     # how often expired uploads are removed
//! max_chunks = 10000              # most PATCH requests per upload
//! scan_retry_secs = 60            # how often pending_scan files are rescanned
//!
//! [uploads.scanner]               # optional: clamd (see adapters/clamav)
//! address = "tcp://127.0.0.1:3310"
//! ```
//!
//! Without `[uploads.scanner]` finished files are stored `ready` but not
//! scanned (see `crate::intake`).
//!
//! A request body is held in memory while it is checked (size, checksum)
//! and written, so `max_chunk` bounds the memory one request can use;
//! clients upload larger files in several `PATCH` requests.

use serde::{Deserialize, Serialize};

use puratan_files::tus::TusConfig;

/// Upper bound for `uploads.max_chunk`: bodies are buffered in memory.
pub const MAX_CHUNK_LIMIT: u64 = 256 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UploadsConfig {
    /// Largest accepted `Upload-Length` (announced as `Tus-Max-Size`).
    pub max_size: u64,
    /// Largest `PATCH` (or creation-with-upload) body; larger bodies get
    /// 413 before they are read.
    pub max_chunk: u64,
    /// Bytes one user may have stored at once: the declared lengths of all
    /// their uploads, finished or not, until they are removed.
    pub per_user_quota: u64,
    /// Seconds from creation until an unfinished upload expires
    /// (`Upload-Expires`); expired uploads are removed by the cleanup task.
    pub expiry_secs: u64,
    /// Seconds between two runs of the cleanup task.
    pub cleanup_interval_secs: u64,
    /// Most chunks (successful `PATCH` requests) one upload may have.
    pub max_chunks: usize,
    /// Seconds between two rescans of files whose scan found the scanner
    /// down (`pending_scan`).
    pub scan_retry_secs: u64,
    /// The virus scanner (clamd) the intake uses; none: files are not
    /// scanned.
    pub scanner: Option<crate::adapters::clamav::ClamavConfig>,
}

impl Default for UploadsConfig {
    fn default() -> Self {
        Self {
            max_size: 2 * 1024 * 1024 * 1024,
            max_chunk: 32 * 1024 * 1024,
            per_user_quota: 10 * 1024 * 1024 * 1024,
            expiry_secs: 24 * 60 * 60,
            cleanup_interval_secs: 300,
            max_chunks: 10_000,
            scan_retry_secs: 60,
            scanner: None,
        }
    }
}

impl UploadsConfig {
    /// The first invalid key and why (`config.rs` reports it).
    pub fn validate(&self) -> Result<(), (&'static str, &'static str)> {
        // Stored as signed 64-bit integers by the databases.
        const I64_MAX: u64 = i64::MAX as u64;
        if self.max_size == 0 || self.max_size > I64_MAX {
            return Err(("uploads.max_size", "must be between 1 and 2^63-1 bytes"));
        }
        if self.max_chunk < 1024 || self.max_chunk > MAX_CHUNK_LIMIT {
            return Err((
                "uploads.max_chunk",
                "must be between 1024 bytes and 256 MiB (bodies are buffered in memory)",
            ));
        }
        if self.per_user_quota == 0 || self.per_user_quota > I64_MAX {
            return Err((
                "uploads.per_user_quota",
                "must be between 1 and 2^63-1 bytes (a very large value effectively disables it)",
            ));
        }
        if self.expiry_secs == 0 || self.expiry_secs > 366 * 24 * 60 * 60 {
            return Err((
                "uploads.expiry_secs",
                "must be between 1 second and one year",
            ));
        }
        if self.cleanup_interval_secs == 0 {
            return Err(("uploads.cleanup_interval_secs", "must be greater than 0"));
        }
        if self.scan_retry_secs == 0 {
            return Err(("uploads.scan_retry_secs", "must be greater than 0"));
        }
        if self.max_chunks == 0 {
            return Err(("uploads.max_chunks", "must be greater than 0"));
        }
        Ok(())
    }

    /// The tus protocol configuration, mounted at `/files/`.
    pub fn tus_config(&self) -> TusConfig {
        TusConfig {
            base_path: "/files/".to_owned(),
            max_size: self.max_size,
            user_quota: Some(self.per_user_quota),
            expiry: chrono::Duration::seconds(i64::try_from(self.expiry_secs).unwrap_or(i64::MAX)),
            max_chunks: self.max_chunks,
            ..TusConfig::default()
        }
    }

    /// `max_chunk` as a body limit.
    pub fn body_limit(&self) -> usize {
        usize::try_from(self.max_chunk).unwrap_or(usize::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_name_the_key() {
        UploadsConfig::default().validate().expect("defaults");
        let bad = |f: fn(&mut UploadsConfig)| {
            let mut c = UploadsConfig::default();
            f(&mut c);
            c.validate().expect_err("invalid").0
        };
        assert_eq!(bad(|c| c.max_size = 0), "uploads.max_size");
        assert_eq!(bad(|c| c.max_chunk = 1 << 40), "uploads.max_chunk");
        assert_eq!(bad(|c| c.per_user_quota = 0), "uploads.per_user_quota");
        assert_eq!(bad(|c| c.expiry_secs = 0), "uploads.expiry_secs");
        assert_eq!(
            bad(|c| c.cleanup_interval_secs = 0),
            "uploads.cleanup_interval_secs"
        );
        assert_eq!(bad(|c| c.max_chunks = 0), "uploads.max_chunks");
    }
}
