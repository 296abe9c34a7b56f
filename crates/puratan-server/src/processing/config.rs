//! The `[processing]` section: the file-processing workers.
//!
//! ```toml
//! [processing]
//! workers = 1                 # in-process workers of `puratan serve` (0: only `puratan worker` processes)
//! isolation = "process"       # "process": each job in a child process with limits; "thread": in-process
//! memory_limit_mb = 2048      # address-space limit of the child process
//! cpu_secs = 60               # CPU-time limit of the child process
//! timeout_secs = 120          # wall-clock limit of one job
//! max_attempts = 3            # deliveries of one job before it is failed for good
//! default_profile = "gwg2015_sheetfed"
//! thumbnail_edge = 400        # longest edge of the storefront thumbnail, px
//! page_preview_edge = 1200    # longest edge of a proofing-screen page preview, px
//! page_previews = 4           # pages rendered as previews (the first N)
//!
//! [processing.profiles.my_shop]   # extra preflight profiles (see puratan_files::preflight::Profile)
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How a job's parsing is isolated from the process that runs the worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Isolation {
    /// A child process (`puratan process-file`) with an address-space and
    /// CPU-time limit: a stack overflow, an abort or an allocation spike in
    /// a decoder fails that job only.
    #[default]
    Process,
    /// A blocking thread with `catch_unwind`: catches panics, not stack
    /// overflows or aborts. For tests and single-binary embedding.
    Thread,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProcessingConfig {
    /// Workers inside `puratan serve`; 0 leaves the queue to `puratan
    /// worker` processes (needs a shared broker: `events = "rabbitmq"`).
    pub workers: usize,
    pub isolation: Isolation,
    /// The executable run as `<exe> process-file …`; default: this one.
    pub worker_exe: Option<std::path::PathBuf>,
    pub memory_limit_mb: u64,
    pub cpu_secs: u64,
    pub timeout_secs: u64,
    pub max_attempts: u32,
    pub default_profile: String,
    pub thumbnail_edge: u32,
    pub page_preview_edge: u32,
    pub page_previews: u32,
    /// Shop-defined preflight profiles by name (in addition to the
    /// built-in ones).
    pub profiles: BTreeMap<String, puratan_files::preflight::Profile>,
}

impl Default for ProcessingConfig {
    fn default() -> Self {
        Self {
            workers: 1,
            isolation: Isolation::Process,
            worker_exe: None,
            memory_limit_mb: 2048,
            cpu_secs: 60,
            timeout_secs: 120,
            max_attempts: 3,
            default_profile: "gwg2015_sheetfed".to_owned(),
            thumbnail_edge: 400,
            page_preview_edge: 1200,
            page_previews: 4,
            profiles: BTreeMap::new(),
        }
    }
}

impl ProcessingConfig {
    /// The first invalid key and why (`config.rs` reports it).
    pub fn validate(&self) -> Result<(), (&'static str, &'static str)> {
        if self.workers > 64 {
            return Err(("processing.workers", "must be at most 64"));
        }
        if !(64..=65_536).contains(&self.memory_limit_mb) {
            return Err(("processing.memory_limit_mb", "must be between 64 and 65536"));
        }
        if !(1..=3600).contains(&self.cpu_secs) {
            return Err(("processing.cpu_secs", "must be between 1 and 3600"));
        }
        if !(1..=3600).contains(&self.timeout_secs) {
            return Err(("processing.timeout_secs", "must be between 1 and 3600"));
        }
        if !(1..=20).contains(&self.max_attempts) {
            return Err(("processing.max_attempts", "must be between 1 and 20"));
        }
        if !(16..=2048).contains(&self.thumbnail_edge) {
            return Err(("processing.thumbnail_edge", "must be between 16 and 2048"));
        }
        if !(64..=8192).contains(&self.page_preview_edge) {
            return Err((
                "processing.page_preview_edge",
                "must be between 64 and 8192",
            ));
        }
        if self.page_previews > 50 {
            return Err(("processing.page_previews", "must be at most 50"));
        }
        if self.profile(&self.default_profile).is_none() {
            return Err((
                "processing.default_profile",
                "names no built-in or configured profile",
            ));
        }
        if self.profiles.keys().any(|k| !valid_profile_name(k)) {
            return Err((
                "processing.profiles",
                "profile names use 1-64 characters from a-z, 0-9 and '_'",
            ));
        }
        Ok(())
    }

    /// A configured profile, else a built-in one, by name.
    pub fn profile(&self, name: &str) -> Option<puratan_files::preflight::Profile> {
        match self.profiles.get(name) {
            // The table key is the profile's id in reports, whatever the
            // table says (a missing `id` would default to the built-in's).
            Some(p) => Some(puratan_files::preflight::Profile {
                id: name.to_owned(),
                ..p.clone()
            }),
            None => builtin_profile(name),
        }
    }
}

/// The profiles that ship with the library, by id.
pub fn builtin_profile(name: &str) -> Option<puratan_files::preflight::Profile> {
    let gwg = puratan_files::preflight::Profile::gwg2015_sheetfed();
    (name == gwg.id).then_some(gwg)
}

pub fn valid_profile_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}
