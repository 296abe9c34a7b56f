//! The job message: what a worker is asked to do with one file.
//!
//! Jobs travel on the **direct** exchange with routing key
//! [`ROUTING_KEY`] into the durable queue [`QUEUE`]: every worker (inside
//! `puratan serve` or a `puratan worker` process) consumes from the same
//! queue, so jobs are spread over them (competing consumers) and scale by
//! starting more workers. A job names the file, not its bytes; the worker
//! reads the original from the file store.

use serde::{Deserialize, Serialize};

/// Versioned schema id of the job payload.
pub const SCHEMA: &str = "puratan.file_job/v1";
pub const ROUTING_KEY: &str = "files.process";
pub const QUEUE: &str = "puratan.files.process";

/// Largest accepted job payload; anything bigger is poison.
pub const MAX_JOB_BYTES: usize = 16 * 1024;

/// The product a file was ordered for: what preflight compares page sizes
/// and bleed against.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderedSize {
    pub trim_width_mm: f64,
    pub trim_height_mm: f64,
    pub bleed_mm: f64,
}

impl OrderedSize {
    /// Sizes from 1 mm to 10 m, bleed 0–50 mm, finite.
    pub fn is_valid(&self) -> bool {
        let in_range = |v: f64, lo: f64, hi: f64| v.is_finite() && (lo..=hi).contains(&v);
        in_range(self.trim_width_mm, 1.0, 10_000.0)
            && in_range(self.trim_height_mm, 1.0, 10_000.0)
            && in_range(self.bleed_mm, 0.0, 50.0)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileJob {
    pub schema: String,
    pub file_id: String,
    /// Run preflight (with `profile`, default: `processing.default_profile`).
    pub preflight: bool,
    /// Make the thumbnail and page previews.
    pub previews: bool,
    pub profile: Option<String>,
    pub ordered: Option<OrderedSize>,
    /// Who asked (`intake`, or a staff user id for a re-run).
    pub requested_by: String,
}

impl FileJob {
    /// The full job the intake queues for a new file.
    pub fn intake(file_id: &str) -> Self {
        Self {
            schema: SCHEMA.to_owned(),
            file_id: file_id.to_owned(),
            preflight: true,
            previews: true,
            profile: None,
            ordered: None,
            requested_by: "intake".to_owned(),
        }
    }

    /// Decodes a job payload; anything else is poison (`None`).
    pub fn decode(payload: &[u8]) -> Option<Self> {
        if payload.len() > MAX_JOB_BYTES {
            return None;
        }
        let job: Self = serde_json::from_slice(payload).ok()?;
        let id_ok = !job.file_id.is_empty()
            && job.file_id.len() <= 64
            && job.file_id.bytes().all(|b| b.is_ascii_alphanumeric());
        let ordered_ok = job.ordered.is_none_or(|o| o.is_valid());
        (job.schema == SCHEMA && id_ok && ordered_ok).then_some(job)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_round_trip_and_poison_is_refused() {
        let job = FileJob::intake("0192abcd");
        let bytes = serde_json::to_vec(&job).unwrap();
        assert_eq!(FileJob::decode(&bytes), Some(job.clone()));
        for bad in [
            b"not json".to_vec(),
            br#"{"schema":"puratan.file_job/v2","file_id":"a","preflight":true,"previews":true,"profile":null,"ordered":null,"requested_by":"x"}"#.to_vec(),
            br#"{"schema":"puratan.file_job/v1","file_id":"../etc","preflight":true,"previews":true,"profile":null,"ordered":null,"requested_by":"x"}"#.to_vec(),
            br#"{"schema":"puratan.file_job/v1","file_id":"a","preflight":true,"previews":true,"profile":null,"ordered":{"trim_width_mm":-1,"trim_height_mm":5,"bleed_mm":3},"requested_by":"x"}"#.to_vec(),
            vec![b' '; MAX_JOB_BYTES + 1],
        ] {
            assert_eq!(FileJob::decode(&bad), None, "{}", String::from_utf8_lossy(&bad[..bad.len().min(80)]));
        }
    }
}
