use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Where the embedded database lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SqliteConfig {
    /// Database file; created with its directory if missing.
    pub path: PathBuf,
    /// Read connections besides the single writer (WAL lets them run in
    /// parallel with writes).
    pub readers: usize,
    /// How long a statement waits for a lock before failing `Unavailable`.
    pub busy_timeout_ms: u64,
}

impl Default for SqliteConfig {
    fn default() -> Self {
        Self {
            path: PathBuf::from("data/puratan.db"),
            readers: 4,
            busy_timeout_ms: 5_000,
        }
    }
}
