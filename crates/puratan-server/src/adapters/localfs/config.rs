use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LocalFsConfig {
    /// Directory holding every blob; created if missing.
    pub root: PathBuf,
}

impl Default for LocalFsConfig {
    fn default() -> Self {
        Self {
            root: PathBuf::from("data/files"),
        }
    }
}
