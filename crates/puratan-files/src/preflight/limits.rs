//! Resource limits for preflighting untrusted files.
//!
//! Every loop over hostile data in [`crate::preflight`] is bounded by one of
//! these numbers; exceeding one fails the run with
//! [`FilesError::PreflightLimit`](crate::FilesError::PreflightLimit) naming
//! the limit, so the customer learns *why* the file could not be checked.
//! Serde-deserialisable so the server can take them from its configuration
//! (every field optional, defaults below).

use serde::{Deserialize, Serialize};

/// Bounds on work and memory for one preflight run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest input accepted at all, in bytes.
    pub max_input_bytes: usize,
    /// Largest size one PDF stream may decompress to (object streams while
    /// loading, content streams while interpreting), in bytes. A 1 MB flate
    /// bomb would otherwise inflate to about 1 GB.
    pub max_stream_bytes: usize,
    /// Sum of all decompressed content-stream bytes of one document.
    pub max_total_content_bytes: usize,
    /// Most pages in one document.
    pub max_pages: usize,
    /// Most indirect objects in one document.
    pub max_objects: usize,
    /// Most content-stream operators interpreted in one document (page
    /// contents, Form XObjects drawn as often as they are drawn,
    /// annotation appearances).
    pub max_operators: u64,
    /// Deepest nesting of Form XObjects (a form drawing a form …). Cycles are
    /// detected separately and never followed.
    pub max_form_depth: usize,
    /// Deepest `q` nesting; deeper saves are counted but not stored.
    pub max_graphics_state_depth: usize,
    /// Most placements of images (and most fonts) listed in one report;
    /// the rest are counted, not listed.
    pub max_report_items: usize,
    /// Most findings with the same check id; the rest are summarised.
    pub max_findings_per_check: usize,
    /// Largest raster image width or height in pixels.
    pub max_image_dimension: u32,
    /// Largest allocation an image decoder may make, in bytes
    /// (`image::Limits::max_alloc`).
    pub max_image_alloc: u64,
    /// Largest image (width × height) whose samples are decoded to measure
    /// its total area coverage; larger ones are skipped, not refused.
    pub max_tac_image_pixels: u64,
    /// Pixels decoded for total area coverage in one document; images
    /// beyond this budget are skipped, not refused.
    pub max_tac_total_pixels: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_input_bytes: 1 << 30,
            max_stream_bytes: 64 << 20,
            max_total_content_bytes: 512 << 20,
            max_pages: 10_000,
            max_objects: 2_000_000,
            max_operators: 50_000_000,
            max_form_depth: 100,
            max_graphics_state_depth: 256,
            max_report_items: 5_000,
            max_findings_per_check: 50,
            max_image_dimension: 100_000,
            max_image_alloc: 512 << 20,
            max_tac_image_pixels: 50_000_000,
            max_tac_total_pixels: 400_000_000,
        }
    }
}
