//! Preflight profiles: which checks run, their thresholds and how severe a
//! violation is. Shops define their own in the server configuration (TOML or
//! JSON; every field optional, missing fields take the GWG2015 sheet-fed
//! default), e.g.
//!
//! ```toml
//! id = "newsprint"
//! image_ppi_error = 100.0
//! image_ppi_warning = 150.0
//! rgb = "off"
//! ```

use serde::{Deserialize, Serialize};

use super::report::Severity;

/// How a check reports a violation (or `off` to skip it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Off,
    Info,
    Warning,
    Error,
}

impl Level {
    /// The finding severity, `None` when the check is off.
    pub fn severity(self) -> Option<Severity> {
        match self {
            Level::Off => None,
            Level::Info => Some(Severity::Info),
            Level::Warning => Some(Severity::Warning),
            Level::Error => Some(Severity::Error),
        }
    }
}

/// Thresholds and severities of one preflight profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Profile {
    /// Stable id, echoed in the report.
    pub id: String,
    /// Human-readable name.
    pub name: String,
    /// Colour and greyscale images below this effective ppi are errors.
    pub image_ppi_error: f64,
    /// … and below this one warnings.
    pub image_ppi_warning: f64,
    /// 1-bit (line art) images and stencil masks below this ppi are errors.
    pub bitmap_ppi_error: f64,
    /// … and below this one warnings.
    pub bitmap_ppi_warning: f64,
    /// Images whose width or height is at most this many pixels are ignored
    /// (rules, dots, gradients stretched from a few pixels).
    pub image_ignore_max_px: u32,
    /// Bleed the product needs beyond the trim on every side, in mm (the
    /// order's intent may override it).
    pub required_bleed_mm: f64,
    /// How far the trim size may differ from the ordered size, in mm.
    pub size_tolerance_mm: f64,
    pub page_size: Level,
    pub bleed: Level,
    /// A TrimBox missing while the page size shows the bleed was included.
    pub trim_box_missing: Level,
    pub fonts_not_embedded: Level,
    pub image_resolution: Level,
    pub rgb: Level,
    pub spot_colours: Level,
    pub transparency: Level,
    pub output_intent_missing: Level,
    pub encrypted: Level,
    /// Page count differs from the ordered page count.
    pub page_count: Level,
    /// Raster uploads: aspect ratio differs from the ordered size (the image
    /// will be cropped or get margins).
    pub raster_aspect: Level,
    /// Raster uploads: transparent pixels (alpha channel).
    pub raster_alpha: Level,
    /// Raster uploads: no embedded ICC profile.
    pub raster_no_icc: Level,
    /// Relative aspect-ratio difference tolerated for raster uploads (0.02 = 2 %).
    pub raster_aspect_tolerance: f64,
    /// Total area coverage (C + M + Y + K ink) of CMYK images and vector
    /// colours above [`Profile::tac_limit_percent`].
    pub total_area_coverage: Level,
    /// Highest total ink coverage the press accepts, in percent (0–400).
    pub tac_limit_percent: f64,
}

impl Default for Profile {
    fn default() -> Self {
        Self::gwg2015_sheetfed()
    }
}

impl Profile {
    /// Ghent Workgroup GWG2015 sheet-fed offset (CMYK + spot): colour and
    /// grey images error below 149 ppi, warning below 224 ppi; 1-bit images
    /// error below 550 ppi, warning below 800 ppi; images of 16 px or less
    /// ignored; 3 mm bleed; total area coverage (C + M + Y + K) at most
    /// 320 %.
    pub fn gwg2015_sheetfed() -> Self {
        Self {
            id: "gwg2015_sheetfed".into(),
            name: "GWG2015 sheet-fed offset".into(),
            image_ppi_error: 149.0,
            image_ppi_warning: 224.0,
            bitmap_ppi_error: 550.0,
            bitmap_ppi_warning: 800.0,
            image_ignore_max_px: 16,
            required_bleed_mm: 3.0,
            size_tolerance_mm: 1.0,
            page_size: Level::Error,
            bleed: Level::Error,
            trim_box_missing: Level::Info,
            fonts_not_embedded: Level::Error,
            image_resolution: Level::Error,
            rgb: Level::Warning,
            spot_colours: Level::Info,
            transparency: Level::Warning,
            output_intent_missing: Level::Info,
            encrypted: Level::Warning,
            page_count: Level::Error,
            raster_aspect: Level::Warning,
            raster_alpha: Level::Warning,
            raster_no_icc: Level::Info,
            raster_aspect_tolerance: 0.02,
            total_area_coverage: Level::Error,
            tac_limit_percent: 320.0,
        }
    }
}
